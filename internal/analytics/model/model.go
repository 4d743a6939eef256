package model

import (
	"sort"
	"time"

	"vigie"
	"vigie/internal/analytics"
)

const day = 24 * time.Hour

// before returns the events strictly before t, from a time-sorted slice.
// Every model calls it on its history first: the backtest already passes
// only past events, but a model must not depend on its caller for that.
func before(h []analytics.Event, t time.Time) []analytics.Event {
	return h[:since(h, t)]
}

// since returns the index of the first event at or after t.
func since(h []analytics.Event, t time.Time) int {
	return sort.Search(len(h), func(i int) bool { return !h[i].Time.Before(t) })
}

// countCells counts events per cell.
func countCells(h []analytics.Event, n int) []float64 {
	c := make([]float64, n)
	for _, e := range h {
		c[e.Cell]++
	}
	return c
}

// days is the number of days (fractional) from a to b.
func days(a, b time.Time) float64 { return b.Sub(a).Hours() / 24 }

func param(name, value, why string) analytics.Param {
	return analytics.Param{Name: name, Value: value, Why: why}
}

// checkCells refuses cells that are not on the grid (Reasons' cells come
// from the caller).
func checkCells(cells []int, g *analytics.Grid) error {
	for _, c := range cells {
		if c < 0 || c >= g.Len() {
			return vigie.Invalidf("model.Reasons", "Cell %d is not on the grid.", c)
		}
	}
	return nil
}
