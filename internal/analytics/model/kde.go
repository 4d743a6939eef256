package model

import (
	"fmt"
	"math"

	"vigie/internal/analytics"
)

// KDE is a Gaussian kernel density estimate of the events of the last Weeks
// weeks (all history when 0), evaluated at each cell's centre: score(c) =
// Σ exp(−d²/2h²) over events within 3h, d the distance from the event to
// the centre, h the Bandwidth in metres. Events are exact points (not binned
// into cells first), so the estimate does not depend on the grid's origin
// beyond where the centres fall.
type KDE struct {
	Weeks     int
	Bandwidth float64 // metres
}

// DefaultKDE is the setting chosen on 2017–2018 weeks only (see Tune and
// docs/analytics.md).
var DefaultKDE = KDE{Weeks: 104, Bandwidth: 100}

func (k KDE) Name() string {
	w := "all"
	if k.Weeks > 0 {
		w = fmt.Sprintf("%dw", k.Weeks)
	}
	return fmt.Sprintf("kde-%s-%gm", w, k.Bandwidth)
}

func (k KDE) window(h []analytics.Event, p analytics.Period) ([]analytics.Event, error) {
	h = before(h, p.Start)
	if k.Weeks > 0 {
		h = h[since(h, p.Start.AddDate(0, 0, -7*k.Weeks)):]
	}
	if len(h) == 0 || !(k.Bandwidth > 0) {
		return nil, analytics.ErrTooLittleHistory
	}
	return h, nil
}

func (k KDE) Forecast(history []analytics.Event, p analytics.Period, g *analytics.Grid) ([]float64, error) {
	h, err := k.window(history, p)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, g.Len())
	inv := -1 / (2 * k.Bandwidth * k.Bandwidth)
	for _, e := range h {
		g.Near(e.X, e.Y, 3*k.Bandwidth, func(c int, d2 float64) { scores[c] += math.Exp(d2 * inv) })
	}
	return scores, nil
}

// Reasons: the events within two bandwidths of the cell in the window, and
// where the cell's density ranks.
func (k KDE) Reasons(history []analytics.Event, p analytics.Period, g *analytics.Grid, cells []int) ([][]analytics.Reason, error) {
	if err := checkCells(cells, g); err != nil {
		return nil, err
	}
	scores, err := k.Forecast(history, p, g)
	if err != nil {
		return nil, err
	}
	h, _ := k.window(history, p)
	top := analytics.TopShare(scores)
	out := make([][]analytics.Reason, len(cells))
	for i, c := range cells {
		cx, cy := g.Center(c)
		r2 := 4 * k.Bandwidth * k.Bandwidth
		n := 0
		for _, e := range h {
			if (e.X-cx)*(e.X-cx)+(e.Y-cy)*(e.Y-cy) <= r2 {
				n++
			}
		}
		out[i] = []analytics.Reason{{Kind: analytics.ReasonDensity, Events: float64(n), Radius: 2 * k.Bandwidth, Days: 7 * k.Weeks, Top: top[c]}}
	}
	return out, nil
}

func (k KDE) Card() analytics.Card {
	return analytics.Card{
		Name:  k.Name(),
		Title: "Kernel density",
		Method: "A Gaussian kernel density of past events, evaluated at each cell's centre: " +
			"places near many past events score high, even if the cell itself had few.",
		Params: []analytics.Param{
			param("window", fmt.Sprintf("%d weeks", k.Weeks), "chosen on 2017–2018 weeks only"),
			param("bandwidth", fmt.Sprintf("%g m", k.Bandwidth), "chosen on 2017–2018 weeks only, among 50–300 m"),
		},
		Data: "Recorded events (time and place) of the window before the period.",
		Limits: []string{
			"Smooths across streets and barriers: a hot spot spills onto quiet neighbouring cells.",
			"Cannot anticipate a new hot spot far from past events.",
		},
	}
}
