package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"vigie/internal/analytics"
)

// gironde builds a Gironde-sized département: a 100 × 100 km square of
// WGS84 around Bordeaux (projected to Lambert-93, ~160,000 cells of 250 m)
// and three years of 50,000 events a year, clustered as offences are:
// 45 % around the city centre, 35 % in thirty towns, 20 % scattered, with
// near repeats.
func gironde(tb testing.TB) ([]analytics.Event, *analytics.Grid) {
	tb.Helper()
	const lon0, lat0 = -0.58, 44.84
	const kmLon, kmLat = 78.93, 111.2 // km per degree at 44.85° N
	dLon, dLat := 50/kmLon, 50/kmLat
	b := analytics.Boundary{Polygons: []analytics.Polygon{{Outer: analytics.Ring{
		{lon0 - dLon, lat0 - dLat}, {lon0 + dLon, lat0 - dLat}, {lon0 + dLon, lat0 + dLat}, {lon0 - dLon, lat0 + dLat}, {lon0 - dLon, lat0 - dLat},
	}}}}
	g, err := analytics.NewGrid(b, analytics.ProjectionFor(b), 250)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(33, 33))
	towns := make([][2]float64, 30)
	for i := range towns {
		towns[i] = [2]float64{(r.Float64() - 0.5) * 90, (r.Float64() - 0.5) * 90}
	}
	start := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC)
	var evs []analytics.Event
	for range 150000 {
		var x, y float64 // km from the centre
		switch u := r.Float64(); {
		case u < 0.45:
			x, y = r.NormFloat64()*5, r.NormFloat64()*5
		case u < 0.8:
			t := towns[r.IntN(len(towns))]
			x, y = t[0]+r.NormFloat64()*1.5, t[1]+r.NormFloat64()*1.5
		default:
			x, y = (r.Float64()-0.5)*100, (r.Float64()-0.5)*100
		}
		tm := start.Add(time.Duration(r.Float64() * 3 * 365 * float64(day)))
		evs = append(evs, analytics.Event{Time: tm, Lon: lon0 + x/kmLon, Lat: lat0 + y/kmLat})
		if r.Float64() < 0.15 {
			evs = append(evs, analytics.Event{Time: tm.Add(time.Duration(r.IntN(14*24)) * time.Hour),
				Lon: lon0 + (x+r.NormFloat64()*0.1)/kmLon, Lat: lat0 + (y+r.NormFloat64()*0.1)/kmLat})
		}
	}
	slices.SortStableFunc(evs, func(a, b analytics.Event) int { return a.Time.Compare(b.Time) })
	return g.Place(evs, analytics.Skipped{}), g
}

// BenchmarkGirondeForecast is one weekly forecast for the whole
// département, per model, from three years of history. Target: under 1 s.
func BenchmarkGirondeForecast(b *testing.B) {
	events, g := gironde(b)
	last := events[len(events)-1].Time
	s := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, time.UTC)
	p := analytics.Period{Start: s, End: s.AddDate(0, 0, 7)}
	b.Logf("cells %d (%.0f km²), events %d, projection %s", g.Len(), g.Area(), len(events), g.Proj.Name())
	for _, m := range All() {
		b.Run(m.Name(), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				scores, err := m.Forecast(events, p, g)
				if err != nil {
					b.Fatal(err)
				}
				if len(scores) != g.Len() || math.IsNaN(scores[0]) {
					b.Fatal("bad forecast")
				}
			}
			// CPU seconds per forecast (all threads): wall time depends on
			// what else the machine runs.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the CPU time used by the process so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestGirondeGrid: the synthetic département has the size the benchmark
// claims.
func TestGirondeGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 160,000 cells")
	}
	events, g := gironde(t)
	if n := g.Len(); n < 155000 || n > 165000 {
		t.Errorf("cells = %d, want about 160,000", n)
	}
	if len(events) < 160000 {
		t.Errorf("events = %d, want about 172,000", len(events))
	}
}
