package analytics

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
	// Regions, if set, are parts of the grid where the forecasts are also
	// scored on their own (see Backtest).
	Regions []Region
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
	Regions  []RegionResult
}

// RegionResult is a backtest scored inside one region only.
type RegionResult struct {
	Name     string
	Cells    int
	Weeks    int // weeks with events in the region
	Methods  []Method
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
	// Repeat is the mean share (0..1) of the cells flagged at KeyCoverage
	// one week that were flagged the week before too, over consecutive
	// scored weeks: how often the same places are sent patrols (feedback
	// loop, fatigue). NaN with fewer than two consecutive weeks.
	Repeat float64
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
// placed on g. With cfg.Regions, the same forecasts are also scored inside
// each region as if it were the whole area (its own top 5 %), to check that
// a ranking of models holds in every part of the city.
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
	for _, r := range cfg.Regions {
		if len(r.Cells) == 0 || slices.ContainsFunc(r.Cells, func(c int) bool { return c < 0 || c >= n }) {
			return nil, vigie.Invalidf(op, "Region %q has no cell or a cell outside the grid.", r.Name)
		}
	}
	res := &Result{Cells: n, Coverages: cfg.Coverages}
	res.Periods = make([]Period, cfg.Weeks)
	for w := range cfg.Weeks {
		res.Periods[w] = Period{cfg.From.AddDate(0, 0, 7*w), cfg.From.AddDate(0, 0, 7*(w+1))}
	}
	// Scope 0 is the whole grid, then one per region.
	scopes := len(cfg.Regions) + 1
	type score struct {
		hr, pei []float64
		flagged []int32 // top cells at KeyCoverage, whole grid only
		auc     float64
		skipped bool
		empty   bool
	}
	// weeks[w][scope][model]
	weeks := make([][][]score, cfg.Weeks)
	errs := make([]error, cfg.Weeks)
	// Weeks are independent (each forecast sees only the events before its
	// week), so they run on as many workers as there are CPUs; the sums are
	// made afterwards in week order, so the result does not depend on the
	// scheduling.
	var (
		mu   sync.Mutex
		done int
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), cfg.Weeks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := make([]float64, n)
			evs := make([]*evaluator, scopes)
			sub := make([][]float64, scopes) // actual counts per region
			subScores := make([][]float64, scopes)
			evs[0] = newEvaluator(n)
			for r, reg := range cfg.Regions {
				evs[r+1] = newEvaluator(len(reg.Cells))
				sub[r+1] = make([]float64, len(reg.Cells))
				subScores[r+1] = make([]float64, len(reg.Cells))
			}
			for {
				w := int(next.Add(1)) - 1
				if w >= cfg.Weeks {
					return
				}
				p := res.Periods[w]
				lo, hi := since(events, p.Start), since(events, p.End)
				weeks[w] = make([][]score, scopes)
				clear(counts)
				for _, e := range events[lo:hi] {
					counts[e.Cell]++
				}
				for sc := range scopes {
					weeks[w][sc] = make([]score, len(cfg.Models))
					actual := counts
					if sc > 0 {
						for k, c := range cfg.Regions[sc-1].Cells {
							sub[sc][k] = counts[c]
						}
						actual = sub[sc]
					}
					var total float64
					for _, v := range actual {
						total += v
					}
					if total == 0 {
						for i := range cfg.Models {
							weeks[w][sc][i].empty = true
						}
					} else {
						evs[sc].setActual(actual)
					}
				}
				for i, m := range cfg.Models {
					if weeks[w][0][i].empty {
						continue
					}
					scores, err := m.Forecast(events[:lo:lo], p, g)
					if err != nil {
						if vigie.KindOf(err) == vigie.KindInvalid {
							for sc := range scopes {
								weeks[w][sc][i].skipped = true
							}
							continue
						}
						errs[w] = err
						break
					}
					if len(scores) != n {
						errs[w] = vigie.E(vigie.KindInternal, op, "", fmt.Errorf("model %s returned %d scores for %d cells", m.Name(), len(scores), n))
						break
					}
					for sc := range scopes {
						if weeks[w][sc][i].empty {
							continue
						}
						s := scores
						if sc > 0 {
							for k, c := range cfg.Regions[sc-1].Cells {
								subScores[sc][k] = scores[c]
							}
							s = subScores[sc]
						}
						hr, pei, auc := evs[sc].score(s, cfg.Coverages)
						weeks[w][sc][i] = score{hr: hr, pei: pei, auc: auc}
						if sc == 0 {
							weeks[w][sc][i].flagged = topCells(scores, int(math.Round(KeyCoverage*float64(n))))
						}
					}
				}
				if cfg.Progress != nil {
					mu.Lock()
					done++
					cfg.Progress(done, cfg.Weeks)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	summarise := func(sc int) (methods []Method, scoredWeeks, empty int, baseline string) {
		methods = make([]Method, len(cfg.Models))
		for i, m := range cfg.Models {
			mt := &methods[i]
			*mt = Method{Name: m.Name(), Weekly: make([]float64, cfg.Weeks)}
			hr, pei := make([]float64, len(cfg.Coverages)), make([]float64, len(cfg.Coverages))
			var auc float64
			scored := 0
			for w := range cfg.Weeks {
				s := weeks[w][sc][i]
				mt.Weekly[w] = math.NaN()
				switch {
				case s.empty:
				case s.skipped:
					mt.Skipped++
				default:
					for k := range cfg.Coverages {
						hr[k] += s.hr[k]
						pei[k] += s.pei[k]
					}
					auc += s.auc
					scored++
					mt.Weekly[w] = 100 * s.hr[key]
				}
			}
			mt.HitRate = make([]float64, len(cfg.Coverages))
			mt.PAI = make([]float64, len(cfg.Coverages))
			mt.PEI = make([]float64, len(cfg.Coverages))
			if scored == 0 {
				for k := range cfg.Coverages {
					mt.HitRate[k], mt.PAI[k], mt.PEI[k] = math.NaN(), math.NaN(), math.NaN()
				}
				mt.AUC = math.NaN()
				continue
			}
			for k, c := range cfg.Coverages {
				mt.HitRate[k] = 100 * hr[k] / float64(scored)
				mt.PAI[k] = mt.HitRate[k] / 100 / c
				mt.PEI[k] = pei[k] / float64(scored)
			}
			mt.AUC = auc / float64(scored)
			mt.WeeklySD = pair(mt.Weekly, make([]float64, len(mt.Weekly)), "").SD
			mt.Repeat = math.NaN()
			if sc == 0 {
				var sum float64
				pairs := 0
				for w := 1; w < cfg.Weeks; w++ {
					a, b := weeks[w-1][0][i].flagged, weeks[w][0][i].flagged
					if len(a) == 0 || len(b) == 0 {
						continue
					}
					sum += overlap(a, b)
					pairs++
				}
				if pairs > 0 {
					mt.Repeat = sum / float64(pairs)
				}
			}
		}
		for w := range cfg.Weeks {
			if weeks[w][sc][0].empty {
				empty++
			}
		}
		baseline = bestBaseline(cfg.Models, methods, key)
		if baseline != "" {
			base := methods[slices.IndexFunc(methods, func(m Method) bool { return m.Name == baseline })]
			for i := range methods {
				methods[i].Paired = pair(methods[i].Weekly, base.Weekly, base.Name)
			}
		}
		return methods, cfg.Weeks - empty, empty, baseline
	}
	res.Methods, res.Weeks, res.Empty, res.Baseline = summarise(0)
	for r, reg := range cfg.Regions {
		rr := RegionResult{Name: reg.Name, Cells: len(reg.Cells)}
		rr.Methods, rr.Weeks, _, rr.Baseline = summarise(r + 1)
		res.Regions = append(res.Regions, rr)
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

// topCells returns the k highest-scoring cells, sorted by cell number; ties
// go to the lower cell number so that the choice is deterministic (flat
// scores then give the same cells every week, which is what a map would
// show).
func topCells(scores []float64, k int) []int32 {
	if k <= 0 {
		return nil
	}
	idx := make([]int32, len(scores))
	for i := range idx {
		idx[i] = int32(i)
	}
	key := func(i int32) float64 {
		if math.IsNaN(scores[i]) {
			return math.Inf(-1)
		}
		return scores[i]
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		switch ka, kb := key(a), key(b); {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return 0
	})
	top := idx[:min(k, len(idx))]
	slices.Sort(top)
	return slices.Clip(top)
}

// overlap is the share of b's cells that are also in a (both sorted).
func overlap(a, b []int32) float64 {
	i, j, n := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(n) / float64(len(b))
}
