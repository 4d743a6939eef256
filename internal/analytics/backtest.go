package analytics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"vigie"
)

// DefaultCoverages are the shares of the area at which forecasts are scored.
var DefaultCoverages = []float64{0.005, 0.01, 0.02, 0.05, 0.10, 0.20}

// KeyCoverage is the share of the area at which models are compared week by
// week (the 5 % hit rate).
const KeyCoverage = 0.05

// Config is a backtest's settings.
type Config struct {
	Models    []Model
	From      time.Time // start of the first weekly period
	Weeks     int
	Coverages []float64 // shares of the area in (0, 1]; must include KeyCoverage
	// Progress, if set, is called after each period.
	Progress func(done, total int)
}

// Result is the outcome of a backtest.
type Result struct {
	Cells     int
	Weeks     int // periods scored (periods without events are left out)
	Empty     int // periods without any event, not scored
	Periods   []Period
	Coverages []float64
	Methods   []Method
	// Baseline is the count baseline with the best mean hit rate at
	// KeyCoverage, against which every method is paired.
	Baseline string
}

// Method is one model's scores, averaged over the scored weeks (each week
// counts the same, whatever its number of events).
type Method struct {
	Name    string
	HitRate []float64 // percent, per coverage
	PAI     []float64 // hit rate / share of area, per coverage
	PEI     []float64 // hits / best possible hits with as many cells, per coverage
	AUC     float64   // area under the hit-rate curve, 0..1 (0.5 is chance)
	Skipped int       // periods the model could not forecast
	// Weekly is the hit rate (percent) at KeyCoverage per period, NaN when
	// the period was skipped or empty.
	Weekly []float64
	// WeeklySD is the standard deviation of Weekly: the week-to-week noise.
	WeeklySD float64
	Paired   Paired
}

// Paired is a week-by-week comparison of a method's hit rate at
// KeyCoverage against the baseline: over weeks both forecast.
type Paired struct {
	Against  string
	N        int
	MeanDiff float64 // points of hit rate, method − baseline
	SD       float64 // sample standard deviation of the differences
	T        float64 // paired t statistic, MeanDiff / (SD/√N)
}

// Backtest runs rolling-origin forecasts: for each weekly period from
// cfg.From, each model forecasts from the events strictly before the period
// and is scored on the events inside it. events must be sorted by time and
// placed on g.
func Backtest(events []Event, g *Grid, cfg Config) (*Result, error) {
	const op = "analytics.Backtest"
	if cfg.Weeks <= 0 {
		return nil, vigie.Invalidf(op, "The number of weeks must be positive.")
	}
	if len(cfg.Models) == 0 {
		return nil, vigie.Invalidf(op, "No model to backtest.")
	}
	if cfg.Coverages == nil {
		cfg.Coverages = DefaultCoverages
	}
	key := slices.Index(cfg.Coverages, KeyCoverage)
	if key < 0 {
		return nil, vigie.Invalidf(op, "The coverages must include %g.", KeyCoverage)
	}
	for _, p := range cfg.Coverages {
		if !(p > 0 && p <= 1) {
			return nil, vigie.Invalidf(op, "A coverage must be a share in (0, 1], not %g.", p)
		}
	}
	n := g.Len()
	res := &Result{Cells: n, Coverages: cfg.Coverages}
	type sums struct{ hr, pei []float64 }
	acc := make([]sums, len(cfg.Models))
	res.Methods = make([]Method, len(cfg.Models))
	for i, m := range cfg.Models {
		acc[i] = sums{make([]float64, len(cfg.Coverages)), make([]float64, len(cfg.Coverages))}
		res.Methods[i] = Method{Name: m.Name(), Weekly: make([]float64, cfg.Weeks)}
	}
	aucSum := make([]float64, len(cfg.Models))
	scored := make([]int, len(cfg.Models))
	counts := make([]float64, n)
	ev := newEvaluator(n)
	for w := 0; w < cfg.Weeks; w++ {
		p := Period{cfg.From.AddDate(0, 0, 7*w), cfg.From.AddDate(0, 0, 7*(w+1))}
		res.Periods = append(res.Periods, p)
		lo, hi := since(events, p.Start), since(events, p.End)
		clear(counts)
		for _, e := range events[lo:hi] {
			counts[e.Cell]++
		}
		if hi == lo {
			res.Empty++
		} else {
			ev.setActual(counts)
		}
		for i, m := range cfg.Models {
			res.Methods[i].Weekly[w] = math.NaN()
			if hi == lo {
				continue
			}
			scores, err := m.Forecast(events[:lo:lo], p, g)
			if err != nil {
				if vigie.KindOf(err) == vigie.KindInvalid {
					res.Methods[i].Skipped++
					continue
				}
				return nil, err
			}
			if len(scores) != n {
				return nil, vigie.E(vigie.KindInternal, op, "", fmt.Errorf("model %s returned %d scores for %d cells", m.Name(), len(scores), n))
			}
			hr, pei, auc := ev.score(scores, cfg.Coverages)
			for k := range cfg.Coverages {
				acc[i].hr[k] += hr[k]
				acc[i].pei[k] += pei[k]
			}
			aucSum[i] += auc
			scored[i]++
			res.Methods[i].Weekly[w] = 100 * hr[key]
		}
		if cfg.Progress != nil {
			cfg.Progress(w+1, cfg.Weeks)
		}
	}
	res.Weeks = cfg.Weeks - res.Empty
	for i := range res.Methods {
		m := &res.Methods[i]
		m.HitRate = make([]float64, len(cfg.Coverages))
		m.PAI = make([]float64, len(cfg.Coverages))
		m.PEI = make([]float64, len(cfg.Coverages))
		if scored[i] == 0 {
			for k := range cfg.Coverages {
				m.HitRate[k], m.PAI[k], m.PEI[k] = math.NaN(), math.NaN(), math.NaN()
			}
			m.AUC = math.NaN()
			continue
		}
		for k, c := range cfg.Coverages {
			m.HitRate[k] = 100 * acc[i].hr[k] / float64(scored[i])
			m.PAI[k] = m.HitRate[k] / 100 / c
			m.PEI[k] = acc[i].pei[k] / float64(scored[i])
		}
		m.AUC = aucSum[i] / float64(scored[i])
		m.WeeklySD = pair(m.Weekly, make([]float64, len(m.Weekly)), "").SD
	}
	res.Baseline = bestBaseline(cfg.Models, res.Methods, key)
	if res.Baseline != "" {
		base := res.Methods[slices.IndexFunc(res.Methods, func(m Method) bool { return m.Name == res.Baseline })]
		for i := range res.Methods {
			res.Methods[i].Paired = pair(res.Methods[i].Weekly, base.Weekly, base.Name)
		}
	}
	return res, nil
}

// bestBaseline is the count model with the highest mean hit rate at the key
// coverage.
func bestBaseline(models []Model, methods []Method, key int) string {
	best, name := math.Inf(-1), ""
	for i, m := range models {
		if _, ok := m.(Counts); ok && methods[i].HitRate[key] > best {
			best, name = methods[i].HitRate[key], methods[i].Name
		}
	}
	return name
}

// pair compares two weekly series over the weeks both have.
func pair(a, b []float64, against string) Paired {
	var d []float64
	for i := range a {
		if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
			d = append(d, a[i]-b[i])
		}
	}
	p := Paired{Against: against, N: len(d)}
	if len(d) == 0 {
		return p
	}
	var sum float64
	for _, x := range d {
		sum += x
	}
	p.MeanDiff = sum / float64(len(d))
	if len(d) > 1 {
		var ss float64
		for _, x := range d {
			ss += (x - p.MeanDiff) * (x - p.MeanDiff)
		}
		p.SD = math.Sqrt(ss / float64(len(d)-1))
		if p.SD > 0 {
			p.T = p.MeanDiff / (p.SD / math.Sqrt(float64(len(d))))
		}
	}
	return p
}
