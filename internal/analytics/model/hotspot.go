package model

import (
	"fmt"
	"math"

	"vigie/internal/analytics"
)

// Prospective is prospective hotspotting (Bowers, Johnson & Pease 2004): the
// near-repeat effect says that after an offence, the same and nearby places
// are at raised risk for a few weeks. Each event of the last Weeks weeks
// within Radius metres of a cell's centre adds
//
//	1/(1 + d) × 1/(1 + t)
//
// where d is the distance from the event's cell to the cell, in cells
// (centre to centre), and t the event's age in whole weeks at the start of
// the period. The original used 1/d and 1/t with d, t ≥ 1 counted from 1,
// which is the same weighting.
type Prospective struct {
	Weeks  int
	Radius float64 // metres
}

// DefaultProspective is the setting chosen on 2017–2018 weeks only.
var DefaultProspective = Prospective{Weeks: 16, Radius: 250}

// PublishedProspective is the setting of Bowers, Johnson & Pease (2004)
// for burglary, and of the reference figures in the data's README.
var PublishedProspective = Prospective{Weeks: 8, Radius: 400}

func (m Prospective) Name() string { return fmt.Sprintf("prospective-%dw-%gm", m.Weeks, m.Radius) }

func (m Prospective) window(h []analytics.Event, p analytics.Period) ([]analytics.Event, error) {
	h = before(h, p.Start)
	if m.Weeks <= 0 || !(m.Radius >= 0) {
		return nil, analytics.ErrTooLittleHistory
	}
	h = h[since(h, p.Start.AddDate(0, 0, -7*m.Weeks)):]
	if len(h) == 0 {
		return nil, analytics.ErrTooLittleHistory
	}
	return h, nil
}

func (m Prospective) Forecast(history []analytics.Event, p analytics.Period, g *analytics.Grid) ([]float64, error) {
	h, err := m.window(history, p)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, g.Len())
	for _, e := range h {
		age := math.Floor(days(e.Time, p.Start) / 7)
		wt := 1 / (1 + age)
		ex, ey := g.Center(e.Cell)
		// Distances between centres: the event's cell centre, not the
		// event, as in the original cell-based weighting.
		g.Near(ex, ey, m.Radius, func(c int, d2 float64) {
			scores[c] += wt / (1 + math.Sqrt(d2)/g.Size)
		})
	}
	return scores, nil
}

// Reasons: the events within the radius in the window, and the rank of the
// cell's score.
func (m Prospective) Reasons(history []analytics.Event, p analytics.Period, g *analytics.Grid, cells []int) ([][]analytics.Reason, error) {
	if err := checkCells(cells, g); err != nil {
		return nil, err
	}
	scores, err := m.Forecast(history, p, g)
	if err != nil {
		return nil, err
	}
	h, _ := m.window(history, p)
	top := analytics.TopShare(scores)
	out := make([][]analytics.Reason, len(cells))
	for i, c := range cells {
		cx, cy := g.Center(c)
		n := 0
		for _, e := range h {
			ex, ey := g.Center(e.Cell)
			if (ex-cx)*(ex-cx)+(ey-cy)*(ey-cy) <= m.Radius*m.Radius {
				n++
			}
		}
		out[i] = []analytics.Reason{{Kind: analytics.ReasonNearRepeat, Events: float64(n), Radius: m.Radius, Days: 7 * m.Weeks, Top: top[c]}}
	}
	return out, nil
}

func (m Prospective) Card() analytics.Card {
	return analytics.Card{
		Name:  m.Name(),
		Title: "Prospective hotspotting (near-repeat)",
		Method: "Recent events raise the risk of the same and nearby places for a few weeks " +
			"(Bowers, Johnson & Pease 2004): each event adds a weight that falls with distance and age.",
		Params: []analytics.Param{
			param("window", fmt.Sprintf("%d weeks", m.Weeks), "chosen on 2017–2018 weeks only, among 4–16 weeks and 250–600 m (published: 8 weeks, 400 m)"),
			param("radius", fmt.Sprintf("%g m", m.Radius), "chosen on 2017–2018 weeks only"),
		},
		Data: "Recorded events (time and place) of the window before the period.",
		Limits: []string{
			"Built for burglary, where near repeats are strong; weaker for offences that do not repeat nearby.",
			"Ignores long-term levels: a chronic hot spot with a quiet month scores low.",
		},
	}
}
