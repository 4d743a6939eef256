package analytics

import (
	"math"
	"slices"
	"time"
)

// Horizon is how far ahead a risk map looks.
type Horizon string

const (
	HorizonShift Horizon = "shift" // the next 8 hours
	HorizonDay   Horizon = "day"
	HorizonWeek  Horizon = "week"
)

// Duration of the horizon; unknown horizons count as a day.
func (h Horizon) Duration() time.Duration {
	switch h {
	case HorizonShift:
		return 8 * time.Hour
	case HorizonWeek:
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// Valid reports whether h is a known horizon.
func (h Horizon) Valid() bool { return h == HorizonShift || h == HorizonDay || h == HorizonWeek }

// Thresholds of a risk map.
const (
	FlagShare     = 0.05 // flagged cells: the top 5 % of the area (the rule's key coverage)
	MinTargets    = 30   // fewer target events than this: too little history
	MinSpanDays   = 28   // a shorter history: too little history
	StabilityWeek = 8    // weeks looked back to say how often cells are flagged
	NearRadius    = 300  // metres: "within 300 m"
	NearDays      = 14   // days: "in the last 14 days"
	SourceDays    = 7    // days of calls and plate-reader signals shown as reasons
)

// ForecastOptions are the choices of a risk map.
type ForecastOptions struct {
	Horizon Horizon
	Now     time.Time
	// IncludePolice keeps police-initiative categories in the targets.
	IncludePolice bool
}

// Forecast is a risk map's content: scores per cell, flagged cells and
// their reasons, and the stability of the flags.
type Forecast struct {
	Model   string
	Period  Period
	Scores  []float64
	Mean    float64 // mean score over the cells
	Top     []float64
	Flagged []FlaggedCell
	// TooLittle is set (with Why) when the history cannot carry a forecast;
	// the map then shows no cells.
	TooLittle bool
	Why       string
	Targets   int // target events in the history
	Excluded  int // police-initiative events left out of the targets
	// Stability: Repeat is the mean share of one week's flagged cells that
	// were flagged the week before, over the last StabilityWeek weeks (NaN
	// when it cannot be computed); Weeks the number of weeks compared.
	Repeat float64
	Weeks  int
	// Recent holds the events of the last SourceDays days by source, for
	// the map's layers.
	Recent map[Source][]Record
}

// FlaggedCell is one flagged cell.
type FlaggedCell struct {
	Rank     int
	Cell     int
	Commune  string
	Score    float64
	Relative float64 // score / mean score
	Reasons  []Reason
	// WeeksFlagged is how many of the last StabilityWeek weeks' forecasts
	// also flagged the cell.
	WeeksFlagged int
}

// targetEvents turns the offences of recs into placed events, leaving out
// police-initiative categories unless asked; it returns the events and how
// many were excluded.
func targetEvents(recs []Record, g *Grid, includePolice bool) ([]Event, int) {
	var ev, police []Event
	for _, r := range recs {
		if r.Source != SourceOffence {
			continue
		}
		e := Event{Time: r.Start, Lon: r.Lon, Lat: r.Lat, Cell: -1}
		if !includePolice && PoliceInitiative[r.Category] {
			police = append(police, e)
			continue
		}
		ev = append(ev, e)
	}
	slices.SortStableFunc(ev, func(a, b Event) int { return a.Time.Compare(b.Time) })
	// Excluded counts only events of the territory, like the targets.
	return g.Place(ev, Skipped{}), len(g.Place(police, Skipped{}))
}

// ForecastArea scores every cell of the area for the horizon starting at
// opts.Now with model m, from the stored records of the département (sorted
// by time), and explains the flagged cells.
func ForecastArea(a *Area, m Model, recs []Record, opts ForecastOptions) *Forecast {
	g := a.Grid
	start := opts.Now.UTC().Truncate(time.Hour)
	f := &Forecast{Model: m.Name(), Period: Period{Start: start, End: start.Add(opts.Horizon.Duration())}, Repeat: math.NaN()}
	past := recs[:sinceRecords(recs, start)]
	events, excluded := targetEvents(past, g, opts.IncludePolice)
	f.Targets, f.Excluded = len(events), excluded
	f.Recent = map[Source][]Record{}
	from := start.AddDate(0, 0, -SourceDays)
	for _, r := range past[sinceRecords(past, from):] {
		f.Recent[r.Source] = append(f.Recent[r.Source], r)
	}
	switch {
	case len(events) < MinTargets:
		f.TooLittle, f.Why = true, "Too few recorded offences in this territory to forecast"
		return f
	case start.Sub(events[0].Time) < MinSpanDays*24*time.Hour:
		f.TooLittle, f.Why = true, "The recorded history is shorter than four weeks"
		return f
	}
	scores, err := m.Forecast(events, f.Period, g)
	if err != nil {
		f.TooLittle, f.Why = true, "The model cannot forecast this period from the history"
		return f
	}
	f.Scores = scores
	var sum float64
	for _, s := range scores {
		sum += s
	}
	f.Mean = sum / float64(len(scores))
	f.Top = TopShare(scores)
	k := int(math.Ceil(FlagShare * float64(len(scores))))
	var cells []int
	for _, c := range topCells(scores, k) {
		if scores[c] > 0 {
			cells = append(cells, int(c))
		}
	}
	slices.SortStableFunc(cells, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return a - b
	})

	// Stability: the same forecast made at the start of each of the last
	// weeks, from the history known then.
	flaggedAt := make([][]int32, 0, StabilityWeek+1)
	for w := StabilityWeek; w >= 1; w-- {
		ws := start.AddDate(0, 0, -7*w)
		h := events[:since(events, ws)]
		s, err := m.Forecast(h, Period{Start: ws, End: ws.Add(opts.Horizon.Duration())}, g)
		if err != nil {
			continue
		}
		flaggedAt = append(flaggedAt, positive(topCells(s, k), s))
	}
	now := positive(topCells(scores, k), scores)
	counts := map[int]int{}
	for _, fl := range flaggedAt {
		for _, c := range fl {
			counts[int(c)]++
		}
	}
	series := append(flaggedAt, now)
	var rsum float64
	for i := 1; i < len(series); i++ {
		if len(series[i]) == 0 {
			continue
		}
		rsum += overlap(series[i-1], series[i])
		f.Weeks++
	}
	if f.Weeks > 0 {
		f.Repeat = rsum / float64(f.Weeks)
	}

	var modelReasons [][]Reason
	if ex, ok := m.(Explainer); ok {
		modelReasons, _ = ex.Reasons(events, f.Period, g, cells)
	}
	near := events[since(events, start.AddDate(0, 0, -NearDays)):]
	for i, c := range cells {
		fc := FlaggedCell{Rank: i + 1, Cell: c, Commune: a.CellCommune[c], Score: scores[c], WeeksFlagged: counts[c]}
		if f.Mean > 0 {
			fc.Relative = scores[c] / f.Mean
		}
		cx, cy := g.Center(c)
		n := 0
		for _, e := range near {
			if (e.X-cx)*(e.X-cx)+(e.Y-cy)*(e.Y-cy) <= NearRadius*NearRadius {
				n++
			}
		}
		if n > 0 {
			fc.Reasons = append(fc.Reasons, Reason{Kind: ReasonNearRepeat, Events: float64(n), Radius: NearRadius, Days: NearDays})
		}
		if i < len(modelReasons) {
			fc.Reasons = append(fc.Reasons, modelReasons[i]...)
		}
		for _, src := range []Source{SourceCall, SourceLAPI} {
			n := 0
			for _, r := range f.Recent[src] {
				x, y := g.Proj.Forward(r.Lon, r.Lat)
				if g.CellAt(x, y) == c {
					n++
				}
			}
			if n > 0 {
				fc.Reasons = append(fc.Reasons, Reason{Kind: ReasonSource, Source: string(src), Events: float64(n), Days: SourceDays})
			}
		}
		f.Flagged = append(f.Flagged, fc)
	}
	return f
}

// positive keeps the cells of top whose score is above zero: a map never
// flags a cell where nothing is expected.
func positive(top []int32, scores []float64) []int32 {
	out := top[:0]
	for _, c := range top {
		if scores[c] > 0 {
			out = append(out, c)
		}
	}
	return out
}

// sinceRecords returns the index of the first record starting at or after t.
func sinceRecords(recs []Record, t time.Time) int {
	lo, hi := 0, len(recs)
	for lo < hi {
		m := (lo + hi) / 2
		if recs[m].Start.Before(t) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Capture measures a past plan or forecast: the share of the target events
// of [from, to) that fell in cells (hit rate, percent) and the share of the
// area those cells make (percent). The events are placed on g.
func Capture(recs []Record, g *Grid, cells []int, from, to time.Time) (events, hits int, hitRate, areaShare float64) {
	in := make(map[int]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	for _, r := range recs[sinceRecords(recs, from):sinceRecords(recs, to)] {
		if r.Source != SourceOffence || PoliceInitiative[r.Category] {
			continue
		}
		x, y := g.Proj.Forward(r.Lon, r.Lat)
		c := g.CellAt(x, y)
		if c < 0 {
			continue
		}
		events++
		if in[c] {
			hits++
		}
	}
	if events > 0 {
		hitRate = 100 * float64(hits) / float64(events)
	}
	if g.Len() > 0 {
		areaShare = 100 * float64(len(in)) / float64(g.Len())
	}
	return events, hits, hitRate, areaShare
}

// HorizonAware is a model whose ranking of cells depends on the length of
// the period it forecasts (ETAS: the offspring of recent events weigh more
// over a shift than over a week). Models without it rank cells the same for
// a shift, a day and a week: only the period changes.
type HorizonAware interface {
	HorizonAware() bool
}

// RanksByHorizon reports whether m's ranking changes with the horizon.
func RanksByHorizon(m Model) bool {
	h, ok := m.(HorizonAware)
	return ok && h.HorizonAware()
}
