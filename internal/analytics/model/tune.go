package model

import (
	"time"

	"vigie"
	"vigie/internal/analytics"
)

// Candidates are the settings Tune chooses among, per model family. They
// are few on purpose: each is a published or physically meaningful value,
// and every extra candidate is one more chance to fit noise.
func Candidates() map[string][]analytics.Model {
	c := map[string][]analytics.Model{}
	for _, w := range []int{52, 104, 0} {
		for _, h := range []float64{50, 100, 150, 200, 300} {
			c["kde"] = append(c["kde"], KDE{Weeks: w, Bandwidth: h})
		}
	}
	for _, w := range []int{4, 8, 12, 16} {
		for _, r := range []float64{250, 400, 600} {
			c["prospective"] = append(c["prospective"], Prospective{Weeks: w, Radius: r})
		}
	}
	for _, w := range []int{4, 12, 26} {
		c["vigie"] = append(c["vigie"], Vigie{TrainWeeks: w, Lambda: 1})
	}
	for _, h := range []float64{0, 125, 250} {
		e := DefaultETAS
		e.BgBandwidth = h
		c["etas"] = append(c["etas"], e)
	}
	return c
}

// Tuned is the outcome of Tune for one family.
type Tuned struct {
	Family string
	Best   analytics.Model
	Result *analytics.Result // every candidate's figures on the tuning weeks
}

// Tune backtests each family's candidates on the weeks [from, from+weeks)
// and keeps, per family, the one with the best mean hit rate at 5 %. Run it
// on weeks before the evaluation period (2017–2018 for a 2019 evaluation):
// the evaluation then says how the chosen settings do on data they were not
// chosen on.
func Tune(events []analytics.Event, g *analytics.Grid, candidates map[string][]analytics.Model, from time.Time, weeks int) ([]Tuned, error) {
	var out []Tuned
	for _, fam := range []string{"kde", "prospective", "etas", "vigie"} {
		cs := candidates[fam]
		if len(cs) == 0 {
			continue
		}
		res, err := analytics.Backtest(events, g, analytics.Config{Models: cs, From: from, Weeks: weeks})
		if err != nil {
			return nil, err
		}
		best, bi := -1.0, -1
		for i, m := range res.Methods {
			if h := m.HitRate[keyIndex(res.Coverages)]; m.Skipped == 0 && h > best {
				best, bi = h, i
			}
		}
		if bi < 0 {
			return nil, vigie.Invalidf("model.Tune", "No %s setting could forecast every tuning week.", fam)
		}
		out = append(out, Tuned{Family: fam, Best: cs[bi], Result: res})
	}
	return out, nil
}

func keyIndex(cov []float64) int {
	for i, c := range cov {
		if c == analytics.KeyCoverage {
			return i
		}
	}
	return 0
}
