package analytics

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Rule is the shipping rule: a model is offered to users only when it beats
// the best count baseline on the hit rate at KeyCoverage (5 % of the area)
// by more than the week-to-week noise, in a paired comparison on real data.
//
// "More than the noise" is made precise in three ways, all required:
//   - the weekly differences (model − baseline, in points) pass a one-sided
//     paired t test at level Alpha: the mean gain exceeds its standard error
//     (sd of the differences / √weeks) by the t critical value;
//   - they also pass a one-sided Wilcoxon signed-rank test at level Alpha,
//     which does not assume the differences are normal (a few big weeks
//     cannot carry the decision);
//   - the mean gain is at least MinGain points: on Chicago, shifting the
//     grid by a fraction of a cell moves the baseline by about half a point,
//     so a smaller gain is not worth the complexity even when "significant".
//
// And at least MinWeeks weeks must have been paired. The best count baseline
// itself is always offered: when nothing beats it, it is what users get.
type Rule struct {
	Alpha    float64 // one-sided significance level of both tests
	MinGain  float64 // minimum mean gain in points of HR@5 %
	MinWeeks int     // minimum number of paired weeks
}

// DefaultRule is the rule the command and the risk map apply.
var DefaultRule = Rule{Alpha: 0.05, MinGain: 0.5, MinWeeks: 20}

// Decision is the rule applied to one method of a backtest.
type Decision struct {
	Name     string
	Offered  bool
	Baseline bool    // the best count baseline itself
	Gain     float64 // mean weekly difference of HR@5 %, points
	SD       float64 // sd of the weekly differences
	Weeks    int     // paired weeks
	T        float64 // paired t statistic
	PT       float64 // one-sided p-value of the paired t test
	PW       float64 // one-sided p-value of the Wilcoxon signed-rank test
	Why      string  // one sentence, English (the UI translates)
}

// Decide applies the rule to every method of a backtest, in order.
func (r Rule) Decide(res *Result) []Decision {
	out := make([]Decision, 0, len(res.Methods))
	bi := slices.IndexFunc(res.Methods, func(m Method) bool { return m.Name == res.Baseline })
	for _, m := range res.Methods {
		d := Decision{Name: m.Name}
		switch {
		case bi < 0:
			d.Why = "No count baseline was backtested: nothing can be offered."
		case m.Name == res.Baseline:
			d.Offered, d.Baseline = true, true
			d.Why = "Best count baseline: offered when no model beats it."
		default:
			diffs := pairedDiffs(m.Weekly, res.Methods[bi].Weekly)
			p := m.Paired
			d.Gain, d.SD, d.Weeks, d.T = p.MeanDiff, p.SD, p.N, p.T
			d.PT, d.PW = tTestOneSided(p), wilcoxonOneSided(diffs)
			switch {
			case d.Weeks < r.MinWeeks:
				d.Why = fmt.Sprintf("Only %d weeks could be compared (at least %d needed).", d.Weeks, r.MinWeeks)
			case d.Gain <= 0:
				d.Why = fmt.Sprintf("Does not beat %s: %+.1f points a week on average.", res.Baseline, d.Gain)
			case d.PT >= r.Alpha || d.PW >= r.Alpha:
				d.Why = fmt.Sprintf("Gain of %+.1f points is within the week-to-week noise (sd %.1f, p = %.2g).", d.Gain, d.SD, max(d.PT, d.PW))
			case d.Gain < r.MinGain:
				d.Why = fmt.Sprintf("Gain of %+.2f points is real but below %.1f point, less than a grid shift changes.", d.Gain, r.MinGain)
			default:
				d.Offered = true
				d.Why = fmt.Sprintf("Beats %s by %+.1f points a week (sd %.1f, p = %.2g).", res.Baseline, d.Gain, d.SD, max(d.PT, d.PW))
			}
		}
		out = append(out, d)
	}
	return out
}

// Offered is the name of the method to offer: the offered model with the
// largest gain, or the best count baseline when no model passes the rule.
func Offered(ds []Decision) string {
	best, name := math.Inf(-1), ""
	for _, d := range ds {
		if d.Offered && !d.Baseline && d.Gain > best {
			best, name = d.Gain, d.Name
		}
	}
	if name != "" {
		return name
	}
	for _, d := range ds {
		if d.Baseline {
			return d.Name
		}
	}
	return ""
}

func pairedDiffs(a, b []float64) []float64 {
	var d []float64
	for i := range a {
		if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
			d = append(d, a[i]-b[i])
		}
	}
	return d
}

// tTestOneSided is P(T ≥ t) under the null of no gain, T ~ Student(n−1).
func tTestOneSided(p Paired) float64 {
	if p.N < 2 {
		return 1
	}
	if p.SD == 0 {
		if p.MeanDiff > 0 {
			return 0
		}
		return 1
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(p.N - 1)}.Survival(p.T)
}

// wilcoxonOneSided is the one-sided p-value of the signed-rank test that the
// differences are centred above zero: zeros dropped, ties given their mean
// rank, normal approximation with tie and continuity corrections (fine from
// about 20 pairs, which the rule requires).
func wilcoxonOneSided(d []float64) float64 {
	var nz []float64
	for _, x := range d {
		if x != 0 {
			nz = append(nz, x)
		}
	}
	n := len(nz)
	if n == 0 {
		return 1
	}
	slices.SortFunc(nz, func(a, b float64) int {
		if math.Abs(a) < math.Abs(b) {
			return -1
		}
		if math.Abs(a) > math.Abs(b) {
			return 1
		}
		return 0
	})
	var wPlus, ties float64
	for i := 0; i < n; {
		j := i
		for j < n && math.Abs(nz[j]) == math.Abs(nz[i]) {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if nz[k] > 0 {
				wPlus += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - ties/48)
	if sd == 0 {
		return 1
	}
	z := (wPlus - mean - 0.5) / sd
	return distuv.UnitNormal.Survival(z)
}

func studentQuantile(p float64, df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(p)
}

// Verdict is the decision as a fixed word the UI translates: "baseline",
// "offered", "few-weeks" (also when no baseline was backtested), "no-gain",
// "noise" or "small-gain".
func (d Decision) Verdict(r Rule) string {
	switch {
	case d.Baseline:
		return "baseline"
	case d.Offered:
		return "offered"
	case d.Weeks < r.MinWeeks:
		return "few-weeks"
	case d.Gain <= 0:
		return "no-gain"
	case d.PT >= r.Alpha || d.PW >= r.Alpha:
		return "noise"
	}
	return "small-gain"
}

// Word is the verdict under DefaultRule (for templates).
func (d Decision) Word() string { return d.Verdict(DefaultRule) }
