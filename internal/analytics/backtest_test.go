package analytics

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestTiesSplitFractionally works a ten-cell example by hand.
//
//	cell    0  1  2  3  4  5  6  7  8  9
//	score   5  3  3  3  1  0  0  0  0  0
//	events  2  1  0  3  0  0  0  0  0  1    (7 events)
//
// At 20 % (2 cells): cell 0 (2 events) plus one of the three tied cells
// 1-3, i.e. 1/3 of their 4 events: 10/3 hits, HR 10/21, PAI 10/21/0.2; the
// best two cells hold 3+2 = 5, so PEI* = 2/3. At 5 % (half a cell): half of
// cell 0, 1 hit against a best of 1.5. At 50 %: cells 0-4, 6 hits; best 7.
// The curve's breakpoints (0,0) (1,2) (4,6) (5,6) (10,7) give an area of
// 51.5 / 70.
func TestTiesSplitFractionally(t *testing.T) {
	ev := newEvaluator(10)
	ev.setActual([]float64{2, 1, 0, 3, 0, 0, 0, 0, 0, 1})
	hr, pei, auc := ev.score([]float64{5, 3, 3, 3, 1, 0, 0, 0, 0, 0}, []float64{0.05, 0.2, 0.5, 1})
	want := []struct{ hr, pei float64 }{{1.0 / 7, 2.0 / 3}, {10.0 / 21, 2.0 / 3}, {6.0 / 7, 6.0 / 7}, {1, 1}}
	for i, w := range want {
		near(t, "hit rate", hr[i], w.hr, 1e-12)
		near(t, "PEI*", pei[i], w.pei, 1e-12)
	}
	near(t, "AUC", auc, 51.5/70, 1e-12)

	// All scores equal: every coverage catches its share exactly.
	hr, _, auc = ev.score(make([]float64, 10), []float64{0.05, 0.2})
	near(t, "flat HR@5%", hr[0], 0.05, 1e-12)
	near(t, "flat HR@20%", hr[1], 0.2, 1e-12)
	near(t, "flat AUC", auc, 0.5, 1e-12)
}

// fixedModel forecasts the same scores whatever the history, and records
// the latest event it was shown.
type fixedModel struct {
	scores []float64
	mu     *sync.Mutex // the backtest runs weeks concurrently
	seen   *time.Time
}

func (fixedModel) Name() string { return "fixed" }
func (m fixedModel) Forecast(h []Event, p Period, g *Grid) ([]float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(h) > 0 && h[len(h)-1].Time.After(*m.seen) {
		*m.seen = h[len(h)-1].Time
	}
	if len(h) > 0 && !h[len(h)-1].Time.Before(p.Start) {
		return nil, ErrTooLittleHistory // a leak: the test fails on Skipped
	}
	return m.scores, nil
}

// TestBacktestRollingOrigin checks on a tiny grid that forecasts see only
// events before their week, that metrics come out as computed by hand and
// that a model without history is skipped, not fatal.
func TestBacktestRollingOrigin(t *testing.T) {
	g := &Grid{Size: 1, centers: make([][2]float64, 10)}
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	ev := func(d, cell int) Event { return Event{Time: day(d), Cell: cell} }
	events := []Event{
		ev(1, 0), ev(1, 0), ev(2, 3), // before the first week
		ev(8, 0), ev(8, 0), ev(9, 1), ev(10, 3), ev(10, 3), ev(10, 3), ev(14, 9), // week 1: Jan 8-14
		ev(15, 5), // week 2, exactly at its start
	}
	var seen time.Time
	fixed := fixedModel{scores: []float64{5, 3, 3, 3, 1, 0, 0, 0, 0, 0}, mu: new(sync.Mutex), seen: &seen}
	res, err := Backtest(events, g, Config{
		Models: []Model{Counts{}, fixed}, From: day(8), Weeks: 3,
		Coverages: []float64{0.05, 0.2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Weeks != 2 || res.Empty != 1 {
		t.Errorf("weeks %d, empty %d; want 2 scored and 1 empty", res.Weeks, res.Empty)
	}
	if !seen.Equal(day(14)) {
		t.Errorf("latest event shown to the model = %v, want Jan 14 (the event at Jan 15 00:00 belongs to week 2)", seen)
	}
	f := res.Methods[1]
	if f.Skipped != 0 {
		t.Fatalf("fixed model skipped %d weeks: it saw its own period", f.Skipped)
	}
	// Week 1 is the hand-worked example; week 2 has one event in cell 5,
	// which ranks in the tail group of five zeros: 0 hits at 5 % and 20 %.
	near(t, "HR@20%", f.HitRate[1], 100*(10.0/21+0)/2, 1e-9)
	near(t, "PAI@20%", f.PAI[1], (10.0/21+0)/2/0.2, 1e-9)
	near(t, "PEI*@20%", f.PEI[1], (2.0/3+0)/2, 1e-9)
	near(t, "weekly HR@5% week 1", f.Weekly[0], 100.0/7, 1e-9)
	if !math.IsNaN(f.Weekly[2]) {
		t.Errorf("empty week scored: %v", f.Weekly[2])
	}
}

func TestCountsWindow(t *testing.T) {
	g := &Grid{Size: 1, centers: make([][2]float64, 3)}
	day := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	h := []Event{{Time: day(1), Cell: 0}, {Time: day(20), Cell: 1}, {Time: day(28), Cell: 1}, {Time: day(28), Cell: 2}}
	p := Period{day(29), day(29).AddDate(0, 0, 7)}
	for _, tc := range []struct {
		m    Counts
		want []float64
	}{
		{Counts{}, []float64{1, 2, 1}},
		{Counts{Weeks: 1}, []float64{0, 1, 1}},
		{Counts{Weeks: 4}, []float64{1, 2, 1}}, // Mar 1 is exactly 4 weeks before: in
	} {
		got, err := tc.m.Forecast(h, p, g)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.m.Name(), got, tc.want)
		}
	}
	if _, err := (Counts{}).Forecast(nil, p, g); err != ErrTooLittleHistory {
		t.Errorf("no history: err = %v, want ErrTooLittleHistory", err)
	}
}
