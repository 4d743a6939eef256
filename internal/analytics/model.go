package analytics

import (
	"fmt"
	"sort"
	"time"

	"vigie"
)

// Period is a forecast period, [Start, End).
type Period struct{ Start, End time.Time }

// Model scores every cell of a grid for a period: higher means more events
// expected. history holds only events strictly before p.Start, sorted by
// time and placed on g (Cell ≥ 0); a model must not look further. It
// returns one score per cell (len g.Len()), or an error of kind Invalid when
// the history is too short to forecast (ErrTooLittleHistory), which the
// backtest counts as a skipped period and the map shows as such.
//
// Models are plain values, safe to call from several goroutines at once.
type Model interface {
	Name() string
	Forecast(history []Event, p Period, g *Grid) ([]float64, error)
}

// ErrTooLittleHistory is returned by a model that cannot forecast yet.
var ErrTooLittleHistory = &vigie.Error{Kind: vigie.KindInvalid, Msg: "Too little history to forecast this period."}

// Counts is the count baseline: each cell's score is the number of events
// in it over the Weeks weeks before the period, or over all history when
// Weeks is 0. Ranking places by their past counts is very hard to beat; every
// other model is judged against the best of these.
type Counts struct {
	Weeks int
}

func (c Counts) Name() string {
	if c.Weeks <= 0 {
		return "counts-all"
	}
	return fmt.Sprintf("counts-%dw", c.Weeks)
}

func (c Counts) Forecast(history []Event, p Period, g *Grid) ([]float64, error) {
	if len(history) == 0 {
		return nil, ErrTooLittleHistory
	}
	history = history[:since(history, p.Start)] // never look at the period itself
	if len(history) == 0 {
		return nil, ErrTooLittleHistory
	}
	if c.Weeks > 0 {
		from := p.Start.AddDate(0, 0, -7*c.Weeks)
		history = history[since(history, from):]
	}
	scores := make([]float64, g.Len())
	for _, e := range history {
		scores[e.Cell]++
	}
	return scores, nil
}

// since returns the index of the first event at or after t in a time-sorted
// slice.
func since(events []Event, t time.Time) int {
	return sort.Search(len(events), func(i int) bool { return !events[i].Time.Before(t) })
}

// Reasons: the cell's own count over the window, and where it ranks.
func (c Counts) Reasons(history []Event, p Period, g *Grid, cells []int) ([][]Reason, error) {
	scores, err := c.Forecast(history, p, g)
	if err != nil {
		return nil, err
	}
	top := TopShare(scores)
	kind := ReasonLongTerm
	if c.Weeks > 0 {
		kind = ReasonRecent
	}
	out := make([][]Reason, len(cells))
	for i, cell := range cells {
		if cell < 0 || cell >= len(scores) {
			return nil, vigie.Invalidf("analytics.Counts.Reasons", "Cell %d is not on the grid.", cell)
		}
		out[i] = []Reason{{Kind: kind, Events: scores[cell], Days: 7 * c.Weeks, Top: top[cell]}}
	}
	return out, nil
}
