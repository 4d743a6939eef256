package analytics

import (
	"math"
	"os"
	"testing"
	"time"
)

// loadChicago reads the real Chicago data in testdata and places it on a
// 250 m grid.
func loadChicago(tb testing.TB) ([]Event, *Grid, Skipped) {
	tb.Helper()
	f, err := os.Open("testdata/chicago_police_districts.kml")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, err := ReadBoundary(f)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := NewGrid(b, ProjectionFor(b), 250)
	if err != nil {
		tb.Fatal(err)
	}
	ef, err := os.Open("testdata/chicago_aggravated_assaults.csv.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer ef.Close()
	events, skipped, err := ReadEvents(ef, Columns{})
	if err != nil {
		tb.Fatal(err)
	}
	return g.Place(events, skipped), g, skipped
}

// TestChicagoAnchor reproduces the measured anchor of
// testdata (see docs/analytics.md): 52 weekly forecasts of 2019.
func TestChicagoAnchor(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 148,636 events")
	}
	events, g, skipped := loadChicago(t)
	t.Logf("cells %d (%.1f km²), events %d, skipped %v, projection %s", g.Len(), g.Area(), len(events), skipped, g.Proj.Name())
	if got := g.Len(); math.Abs(float64(got-9741)) > 30 {
		t.Errorf("cells = %d, want 9,741 ± 30", got)
	}
	res, err := Backtest(events, g, Config{
		Models: []Model{Counts{}, Counts{Weeks: 52}, Counts{Weeks: 4}},
		From:   time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
		Weeks:  52,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Weeks != 52 {
		t.Errorf("weeks = %d, want 52", res.Weeks)
	}
	const k5 = 3 // index of 5 % in DefaultCoverages
	for _, m := range res.Methods {
		t.Logf("%-11s HR %.2f PAI %.2f PEI %.3f AUC %.3f sd %.2f paired %+v", m.Name, m.HitRate, m.PAI, m.PEI, m.AUC, m.WeeklySD, m.Paired)
	}
	want := map[string]float64{"counts-all": 31.0, "counts-52w": 30.0, "counts-4w": 19.7}
	for _, m := range res.Methods {
		if got := m.HitRate[k5]; math.Abs(got-want[m.Name]) > 0.5 {
			t.Errorf("%s HR@5%% = %.2f, want %.1f ± 0.5", m.Name, got, want[m.Name])
		}
	}
	all := res.Methods[0]
	if got := all.PAI[k5]; math.Abs(got-6.20) > 0.05 {
		t.Errorf("counts-all PAI@5%% = %.3f, want 6.20 ± 0.05", got)
	}
	if res.Baseline != "counts-all" {
		t.Errorf("baseline = %q, want counts-all", res.Baseline)
	}
}

// BenchmarkChicagoBacktest is the whole run of the command: read 148,636
// events and the boundary, lay the grid, and backtest the three count
// baselines over 52 weeks.
func BenchmarkChicagoBacktest(b *testing.B) {
	for b.Loop() {
		events, g, _ := loadChicago(b)
		_, err := Backtest(events, g, Config{
			Models: []Model{Counts{}, Counts{Weeks: 52}, Counts{Weeks: 4}},
			From:   time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
			Weeks:  52,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
