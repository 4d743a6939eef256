package analytics

import (
	"cmp"
	"slices"
	"strconv"
)

// Card is a model card: what a model reads, how it is set, how it fared in
// the last backtest and what it cannot do. A Go value the UI renders; the
// same facts are in docs/analytics.md.
type Card struct {
	Name    string
	Title   string   // short human name
	Method  string   // how it scores cells, one paragraph
	Params  []Param  // settings and how they were chosen
	Data    string   // what it reads
	Limits  []string // known limits
	Metrics *CardMetrics
}

// Param is one setting of a model.
type Param struct {
	Name, Value, Why string
}

// CardMetrics are a model's figures from a backtest, and the shipping rule's
// decision on them.
type CardMetrics struct {
	From, To  string // the backtest's first and last day
	Weeks     int
	Cells     int
	CellSize  float64
	Coverages []float64
	HitRate   []float64 // percent per coverage
	PAI, PEI  []float64
	AUC       float64
	WeeklySD  float64
	Decision  Decision
}

// Carded is a model that describes itself.
type Carded interface {
	Card() Card
}

// Cards returns the card of each model of a backtest, with its figures and
// decision filled in. Models that do not describe themselves get a card
// with their name and figures only.
func Cards(models []Model, res *Result, g *Grid, ds []Decision) []Card {
	var out []Card
	for i, m := range models {
		c := Card{Name: m.Name()}
		if cm, ok := m.(Carded); ok {
			c = cm.Card()
		}
		if res != nil && i < len(res.Methods) {
			mt := res.Methods[i]
			cm := &CardMetrics{
				Weeks: res.Weeks, Cells: res.Cells, Coverages: res.Coverages,
				HitRate: mt.HitRate, PAI: mt.PAI, PEI: mt.PEI, AUC: mt.AUC, WeeklySD: mt.WeeklySD,
			}
			if g != nil {
				cm.CellSize = g.Size
			}
			if len(res.Periods) > 0 {
				cm.From = res.Periods[0].Start.Format("2006-01-02")
				cm.To = res.Periods[len(res.Periods)-1].End.AddDate(0, 0, -1).Format("2006-01-02")
			}
			if i < len(ds) {
				cm.Decision = ds[i]
			}
			c.Metrics = cm
		}
		out = append(out, c)
	}
	return out
}

// Card describes the count baseline.
func (c Counts) Card() Card {
	window := "all history"
	if c.Weeks > 0 {
		window = "the last " + strconv.Itoa(c.Weeks) + " weeks"
	}
	return Card{
		Name:   c.Name(),
		Title:  "Past counts",
		Method: "Each cell's score is the number of events recorded in it over " + window + " before the period. The yardstick every other model must beat.",
		Data:   "Recorded events (time and place) before the period.",
		Limits: []string{
			"Cannot anticipate a new hot spot: a cell without past events scores zero.",
			"Reproduces where events were recorded, which is also where police looked (feedback loop): categories recorded on police initiative are excluded from targets.",
		},
	}
}

// sortDesc sorts idx by values, highest first.
func sortDesc(idx []int, values []float64) {
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(values[b], values[a]) })
}

// at returns xs at the index of KeyCoverage in Coverages (0 when absent).
func (m *CardMetrics) at(xs []float64) float64 {
	for i, c := range m.Coverages {
		if c == KeyCoverage && i < len(xs) {
			return xs[i]
		}
	}
	return 0
}

// HR5 is the hit rate at KeyCoverage, percent.
func (m *CardMetrics) HR5() float64 { return m.at(m.HitRate) }

// PAI5 is the PAI at KeyCoverage.
func (m *CardMetrics) PAI5() float64 { return m.at(m.PAI) }
