package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"vigie/internal/analytics"
)

// corridorCity builds a second, synthetic city whose spatial structure
// differs from Chicago's grid of blocks: a 30 × 20 km rectangle (about the
// area of Chicago, ~9,600 cells of 250 m) near Lyon, with four years
// (2020–2023) of events drawn from a known process:
//
//   - 55 % along 6 straight corridors (roads) of random direction and
//     length 8–20 km: uniform along the road, N(0, 120 m) across it; each
//     corridor's weight drifts as 1 + 0.6·sin(2π·t/3 years + phase), so the
//     busy roads change slowly;
//   - 30 % at 150 micro hot spots (N(0, 60 m)) that each live only part of
//     the time: born uniformly over the four years, alive for an
//     exponential time of mean one year (new hot spots appear, old ones
//     fade: what counting all history is slow to see);
//   - 15 % uniform over the rectangle;
//   - and near repeats: every event (parents and offspring alike) has
//     Poisson(0.3) offspring, 0–14 days later (exponential, mean 4 days),
//     N(0, 100 m) away: a self-exciting process with θ = 0.3.
//
// About 20,000 background events a year (~28,500 with offspring). Seeded:
// the same city every run.
func corridorCity(tb testing.TB) ([]analytics.Event, *analytics.Grid) {
	tb.Helper()
	const lon0, lat0 = 4.85, 45.76
	const kmLon, kmLat = 77.8, 111.1 // km per degree at 45.76° N
	w, h := 15.0, 10.0               // half sizes, km
	b := analytics.Boundary{Polygons: []analytics.Polygon{{Outer: analytics.Ring{
		{lon0 - w/kmLon, lat0 - h/kmLat}, {lon0 + w/kmLon, lat0 - h/kmLat}, {lon0 + w/kmLon, lat0 + h/kmLat},
		{lon0 - w/kmLon, lat0 + h/kmLat}, {lon0 - w/kmLon, lat0 - h/kmLat},
	}}}}
	g, err := analytics.NewGrid(b, analytics.ProjectionFor(b), 250)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2026, 11))
	start := time.Date(2020, 1, 6, 0, 0, 0, 0, time.UTC)
	const years = 4.0
	type road struct{ x, y, dx, dy, l, phase float64 }
	roads := make([]road, 6)
	for i := range roads {
		a := r.Float64() * math.Pi
		roads[i] = road{x: (r.Float64() - 0.5) * 20, y: (r.Float64() - 0.5) * 12, dx: math.Cos(a), dy: math.Sin(a),
			l: 8 + 12*r.Float64(), phase: r.Float64() * 2 * math.Pi}
	}
	type spot struct{ x, y, born, dies float64 } // times in years
	spots := make([]spot, 150)
	for i := range spots {
		born := r.Float64() * years
		spots[i] = spot{x: (r.Float64() - 0.5) * 2 * w, y: (r.Float64() - 0.5) * 2 * h, born: born, dies: born + r.ExpFloat64()}
	}
	inside := func(x, y float64) bool { return math.Abs(x) < w && math.Abs(y) < h }
	var evs []analytics.Event
	add := func(t float64, x, y float64) {
		evs = append(evs, analytics.Event{Time: start.Add(time.Duration(t * 365 * 24 * float64(time.Hour))), Lon: lon0 + x/kmLon, Lat: lat0 + y/kmLat})
	}
	type ev struct{ t, x, y float64 }
	var queue []ev
	for len(queue) < int(years*20000) {
		t := r.Float64() * years
		var x, y float64
		switch u := r.Float64(); {
		case u < 0.55:
			// Pick a road in proportion to its weight at t (rejection).
			for {
				rd := roads[r.IntN(len(roads))]
				if r.Float64()*1.6 > 1+0.6*math.Sin(2*math.Pi*t/3+rd.phase) {
					continue
				}
				s, o := (r.Float64()-0.5)*rd.l, r.NormFloat64()*0.12
				x, y = rd.x+s*rd.dx-o*rd.dy, rd.y+s*rd.dy+o*rd.dx
				break
			}
		case u < 0.85:
			var alive []int
			for i, s := range spots {
				if s.born <= t && t < s.dies {
					alive = append(alive, i)
				}
			}
			if len(alive) == 0 {
				continue
			}
			s := spots[alive[r.IntN(len(alive))]]
			x, y = s.x+r.NormFloat64()*0.06, s.y+r.NormFloat64()*0.06
		default:
			x, y = (r.Float64()-0.5)*2*w, (r.Float64()-0.5)*2*h
		}
		if inside(x, y) {
			queue = append(queue, ev{t, x, y})
		}
	}
	// Near repeats, generation after generation (θ = 0.3 < 1: it ends).
	for len(queue) > 0 {
		e := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		add(e.t, e.x, e.y)
		// Poisson(0.3) offspring by inversion.
		n, p := 0, math.Exp(-0.3)
		for u, c := r.Float64(), p; u > c; c += p {
			n++
			p *= 0.3 / float64(n)
		}
		for range n {
			dt := min(r.ExpFloat64()*4, 14) / 365
			x, y := e.x+r.NormFloat64()*0.1, e.y+r.NormFloat64()*0.1
			if t := e.t + dt; t < years && inside(x, y) {
				queue = append(queue, ev{t, x, y})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
	return g.Place(evs, analytics.Skipped{}), g
}

// TestCorridorCityRanking backtests every model on the synthetic corridor
// city (52 weekly forecasts of its last year) and logs the figures, the
// ranking and the rule's decision, to compare with Chicago's
// (docs/analytics.md, "Generalisation"). It checks what the process
// guarantees: every model ranks far better than chance (its hit rate at
// 5 % of the area is well above 5 %), and the count baseline is paired with
// every model over all 52 weeks.
func TestCorridorCityRanking(t *testing.T) {
	if testing.Short() {
		t.Skip("backtests every model on 110,000 events")
	}
	events, g := corridorCity(t)
	t.Logf("corridor city: %d cells (%.0f km²), %d events", g.Len(), g.Area(), len(events))
	begin := time.Now()
	res, err := analytics.Backtest(events, g, analytics.Config{Models: All(), From: time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC), Weeks: 52})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backtest of %d models, %d weeks: %s", len(res.Methods), res.Weeks, time.Since(begin).Round(time.Second))
	ds := analytics.DefaultRule.Decide(res)
	order := slices.Clone(res.Methods)
	slices.SortStableFunc(order, func(a, b analytics.Method) int { return -cmpFloat(a.HitRate[3], b.HitRate[3]) })
	for i, m := range res.Methods {
		d := ds[i]
		t.Logf("%-22s HR@1 %5.1f HR@5 %5.1f HR@20 %5.1f PAI@5 %5.2f AUC %.3f sd %4.1f | gain %+5.2f sd %.2f t %+6.1f p %.3g %s",
			m.Name, m.HitRate[1], m.HitRate[3], m.HitRate[5], m.PAI[3], m.AUC, m.WeeklySD, d.Gain, d.SD, d.T, max(d.PT, d.PW), d.Word())
		if m.HitRate[3] < 10 {
			t.Errorf("%s: HR@5 %.1f, hardly better than chance (5)", m.Name, m.HitRate[3])
		}
		if !d.Baseline && d.Weeks != res.Weeks {
			t.Errorf("%s: %d paired weeks of %d", m.Name, d.Weeks, res.Weeks)
		}
	}
	var names []string
	for _, m := range order {
		names = append(names, m.Name)
	}
	t.Logf("ranking by HR@5: %v; baseline %s; offered %s", names, res.Baseline, analytics.Offered(ds))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestHorizonChangesOnlyETAS: on the corridor city, ETAS flags different
// cells for the next shift than for the next week (recent offences weigh
// more over a short period), while the other models flag the same ones
// whatever the horizon; analytics.RanksByHorizon says which is which, and
// the risk page words it from that.
func TestHorizonChangesOnlyETAS(t *testing.T) {
	if testing.Short() {
		t.Skip("fits ETAS on a year of 28,000 events")
	}
	events, g := corridorCity(t)
	s := time.Date(2023, 6, 5, 0, 0, 0, 0, time.UTC)
	shift, week := analytics.Period{Start: s, End: s.Add(8 * time.Hour)}, analytics.Period{Start: s, End: s.AddDate(0, 0, 7)}
	k := int(math.Ceil(0.05 * float64(g.Len())))
	for _, m := range All() {
		a, err := m.Forecast(events, shift, g)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Forecast(events, week, g)
		if err != nil {
			t.Fatal(err)
		}
		ta, tb := topK(a, k), topK(b, k)
		differ := 0
		in := map[int]bool{}
		for _, c := range tb {
			in[c] = true
		}
		for _, c := range ta {
			if !in[c] {
				differ++
			}
		}
		t.Logf("%-22s %d of %d flagged cells differ between shift and week", m.Name(), differ, k)
		if aware := analytics.RanksByHorizon(m); aware != (differ > 0) {
			t.Errorf("%s: RanksByHorizon %v, but %d flagged cells differ", m.Name(), aware, differ)
		}
	}
}

// topK is the k highest-scoring cells, ties broken by cell number.
func topK(scores []float64, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return -cmpFloat(scores[a], scores[b]) })
	return idx[:k]
}
