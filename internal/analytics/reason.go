package analytics

import (
	"fmt"
	"strings"
)

// ReasonKind says what made a cell score high.
type ReasonKind string

const (
	ReasonNearRepeat ReasonKind = "near-repeat" // recent events nearby (near-repeat)
	ReasonLongTerm   ReasonKind = "long-term"   // the cell's own long-term level
	ReasonRecent     ReasonKind = "recent"      // the cell's own recent events
	ReasonNeighbours ReasonKind = "neighbours"  // the adjacent cells' long-term level
	ReasonDensity    ReasonKind = "density"     // smoothed density of past events
	ReasonBackground ReasonKind = "background"  // self-exciting model: steady rate
	ReasonTriggered  ReasonKind = "triggered"   // self-exciting model: aftershocks of recent events
	ReasonSource     ReasonKind = "source"      // another source's signal
)

// Reason is one structured explanation of why a cell is flagged, with the
// values a sentence needs. The risk map words it (String is the English
// sentence, which the UI's messages file translates).
type Reason struct {
	Kind   ReasonKind
	Events float64 // events counted (expected events for background/triggered)
	Radius float64 // metres around the cell's centre; 0 means the cell itself
	Days   int     // window in days before the period; 0 means all history
	// Top is the share of cells, in percent, whose level is at least this
	// cell's (2 means "top 2 %"); 0 when not ranked.
	Top    float64
	Source string // the source's name, for ReasonSource
	// Share is the part of the cell's score this reason accounts for (0..1)
	// when the model is additive; 0 otherwise.
	Share float64
}

func (r Reason) String() string {
	var b strings.Builder
	switch r.Kind {
	case ReasonBackground:
		fmt.Fprintf(&b, "steady level of %.1f events a week", r.Events)
	case ReasonTriggered:
		fmt.Fprintf(&b, "%.1f events expected as follow-ups of recent nearby events", r.Events)
	case ReasonLongTerm:
		fmt.Fprintf(&b, "long-term level %s (%.0f events since records began)", level(r.Top), r.Events)
	case ReasonNeighbours:
		fmt.Fprintf(&b, "surrounding cells' long-term level %s", level(r.Top))
	case ReasonSource:
		fmt.Fprintf(&b, "%.0f %s %s", r.Events, r.Source, window(r.Radius, r.Days))
	default:
		fmt.Fprintf(&b, "%.0f events %s", r.Events, window(r.Radius, r.Days))
		if r.Top > 0 {
			fmt.Fprintf(&b, "; level %s", level(r.Top))
		}
	}
	return b.String()
}

func level(top float64) string {
	switch {
	case top <= 0:
		return "unranked"
	case top <= 10:
		return fmt.Sprintf("high (top %.3g %%)", top)
	case top <= 50:
		return fmt.Sprintf("above median (top %.0f %%)", top)
	default:
		return "low"
	}
}

func window(radius float64, days int) string {
	where := "in the cell"
	if radius > 0 {
		where = fmt.Sprintf("within %.0f m", radius)
	}
	if days == 0 {
		return where + " over all history"
	}
	return fmt.Sprintf("%s in the last %d days", where, days)
}

// Explainer is a model that can say why cells are flagged. cells are the
// cells to explain; the result has one slice of reasons per cell, most
// important first. Like Forecast, it uses only events before p.Start.
type Explainer interface {
	Reasons(history []Event, p Period, g *Grid, cells []int) ([][]Reason, error)
}

// TopShare returns, for each cell, the share of cells (percent) whose
// value is at least the cell's: the "top x %" of a level.
func TopShare(values []float64) []float64 {
	n := len(values)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sortDesc(idx, values)
	out := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j < n && values[idx[j]] == values[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			out[idx[k]] = 100 * float64(j) / float64(n)
		}
		i = j
	}
	return out
}
