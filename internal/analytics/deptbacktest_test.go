package analytics

import (
	"context"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// oracle is a test model that cheats: it scores each cell by the target
// offences that will happen in it during the period (plus a tiny share of
// its past count to break ties). It must beat the count baseline by far,
// so the rule has to offer it; a model that cannot beat it must not be.
type oracle struct {
	future []Event // all target offences, unplaced
}

func (oracle) Name() string { return "oracle" }

func (o oracle) Forecast(history []Event, p Period, g *Grid) ([]float64, error) {
	if len(history) == 0 {
		return nil, ErrTooLittleHistory
	}
	scores := make([]float64, g.Len())
	for _, e := range history {
		scores[e.Cell] += 1e-6
	}
	evs := g.Place(append([]Event(nil), o.future...), Skipped{})
	for _, e := range evs {
		if !e.Time.Before(p.Start) && e.Time.Before(p.End) {
			scores[e.Cell]++
		}
	}
	return scores, nil
}

// worse is a model that forecasts noise: it ranks cells in a fixed
// pseudo-random order, and must never be offered.
type worse struct{}

func (worse) Name() string { return "noise" }

func (worse) Forecast(history []Event, p Period, g *Grid) ([]float64, error) {
	scores := make([]float64, g.Len())
	x := uint64(88172645463325252)
	for i := range scores {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		scores[i] = float64(x % 1000)
	}
	return scores, nil
}

func offences(recs []Record) []Event {
	var out []Event
	for _, r := range recs {
		if r.Source == SourceOffence && !PoliceInitiative[r.Category] {
			out = append(out, Event{Time: r.Start, Lon: r.Lon, Lat: r.Lat})
		}
	}
	return out
}

// TestDeptBacktest: on the demo's Ain, the backtest of the département's
// own offences scores 26 weeks, stores its figures, and the risk map then
// uses the model the rule offers: the oracle (which knows the future) when
// it is a candidate, the count baseline otherwise; never the noise model.
// Before any backtest, the map uses the default (counts-all).
func TestDeptBacktest(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, _, o := newTestService(t, d, "01")
		if _, err := svc.SeedDemo(ctx, []string{"01"}); err != nil {
			t.Fatal(err)
		}
		g := groupement(t, o, "01")
		if _, err := svc.LastBacktest(ctx, "01"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Fatalf("LastBacktest before any: %v, want not found", err)
		}
		all := offences(mustLoad(t, d, "01"))
		svc.cfg.Candidates = []Model{Counts{}, Counts{Weeks: 4}, worse{}, oracle{future: all}}
		if m := svc.ModelFor(ctx, "01"); m.Name() != "counts-all" {
			t.Fatalf("model before any backtest: %s, want counts-all", m.Name())
		}
		_, f, err := svc.RiskMap(ctx, g, ForecastOptions{Horizon: HorizonWeek})
		if err != nil || f.Model != "counts-all" {
			t.Fatalf("map before any backtest: model %q, %v", f.Model, err)
		}

		b, err := svc.RunBacktest(ctx, "01", BacktestWeeks)
		if err != nil {
			t.Fatal(err)
		}
		if b.Weeks < DefaultRule.MinWeeks || b.Weeks+b.Empty != BacktestWeeks || len(b.Methods) != 4 {
			t.Fatalf("backtest: %d weeks scored, %d empty, %d methods", b.Weeks, b.Empty, len(b.Methods))
		}
		if span := b.To.Sub(b.From) - BacktestWeeks*7*24*time.Hour; b.To.After(fixedNow) || span < -time.Hour || span > time.Hour {
			t.Errorf("scored period %s – %s, now %s", b.From, b.To, fixedNow)
		}
		if wd := b.From.In(svc.Location(ctx, "01")).Weekday(); wd != time.Monday {
			t.Errorf("the backtest starts on a %s, want Monday", wd)
		}
		if b.Baseline != "counts-all" && b.Baseline != "counts-4w" {
			t.Errorf("baseline %q", b.Baseline)
		}
		if b.Offered != "oracle" {
			t.Fatalf("offered %q, want oracle", b.Offered)
		}
		k := b.Key()
		or, _ := b.Method("oracle")
		base, _ := b.Method(b.Baseline)
		noise, _ := b.Method("noise")
		if k < 0 || or.HitRate[k] <= base.HitRate[k]+5 || !or.Decision.Offered || or.Decision.Gain <= 0 {
			t.Errorf("oracle HR@5 %.1f vs baseline %.1f, decision %+v", or.HitRate[k], base.HitRate[k], or.Decision)
		}
		if noise.Decision.Offered || noise.HitRate[k] >= base.HitRate[k] || noise.Decision.Why == "" {
			t.Errorf("noise HR@5 %.1f offered %v (%s)", noise.HitRate[k], noise.Decision.Offered, noise.Decision.Why)
		}
		// Stored and read back as it was computed.
		svc2 := New(svc.cfg)
		got, err := svc2.LastBacktest(ctx, "01")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != b.ID || got.Offered != "oracle" || got.Weeks != b.Weeks || got.Cells != b.Cells || len(got.Methods) != 4 ||
			got.Methods[3].HitRate[k] != or.HitRate[k] || !got.From.Equal(b.From) || got.Coverages[k] != KeyCoverage {
			t.Errorf("read back %+v", got)
		}
		// A fresh service (a restart) reads the offered model from the store.
		if m := svc2.ModelFor(ctx, "01"); m.Name() != "oracle" {
			t.Errorf("model after the backtest: %s, want oracle", m.Name())
		}
		_, f, err = svc.RiskMap(ctx, g, ForecastOptions{Horizon: HorizonWeek})
		if err != nil || f.Model != "oracle" {
			t.Fatalf("map after the backtest: model %q, %v", f.Model, err)
		}
		// Without the oracle, nothing beats the count baseline: it ships.
		svc.cfg.Candidates = []Model{Counts{}, Counts{Weeks: 4}, worse{}}
		b2, err := svc.RunBacktest(ctx, "01", BacktestWeeks)
		if err != nil {
			t.Fatal(err)
		}
		if b2.Offered != b2.Baseline {
			t.Errorf("offered %q, want the baseline %q", b2.Offered, b2.Baseline)
		}
		if m := svc.ModelFor(ctx, "01"); m.Name() != b2.Baseline {
			t.Errorf("model: %s, want %s", m.Name(), b2.Baseline)
		}
		if last, _ := svc2.LastBacktest(ctx, "01"); last == nil || last.ID != b2.ID {
			t.Errorf("the last backtest is not the latest run")
		}
		// Another process (svc2, a replica) keeps its cached choice for a
		// while, then reads the newer backtest.
		if m := svc2.ModelFor(ctx, "01"); m.Name() != "oracle" {
			t.Errorf("replica before its cache expires: %s, want oracle", m.Name())
		}
		svc2.cfg.Now = func() time.Time { return fixedNow.Add(areaTTL) }
		if m := svc2.ModelFor(ctx, "01"); m.Name() != b2.Baseline {
			t.Errorf("replica after its cache expires: %s, want %s", m.Name(), b2.Baseline)
		}
		// A plan's model that is no longer a candidate is redrawn with the default.
		if svc.modelNamed("oracle").Name() != "counts-all" || svc.modelNamed("counts-4w").Name() != "counts-4w" {
			t.Errorf("modelNamed")
		}
	})
}

// TestDeptBacktestTooFew: a département without offences is refused with a
// clear reason, and nothing is stored.
func TestDeptBacktestTooFew(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	svc, _, _ := newTestService(t, d, "01")
	_, err := svc.RunBacktest(context.Background(), "01", BacktestWeeks)
	if vigie.KindOf(err) != vigie.KindInvalid {
		t.Fatalf("RunBacktest without offences: %v, want invalid", err)
	}
	if _, err := svc.LastBacktest(context.Background(), "01"); vigie.KindOf(err) != vigie.KindNotFound {
		t.Errorf("something was stored: %v", err)
	}
	if _, err := svc.RunBacktest(context.Background(), "02", BacktestWeeks); err == nil {
		t.Errorf("RunBacktest of an unknown département succeeded")
	}
}

// TestBacktestWorker: after its first delay the worker backtests the
// départements that have none stored, and skips those without data.
func TestBacktestWorker(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, _, _ := newTestService(t, d, "01", "974")
	if _, err := svc.SeedDemo(ctx, []string{"01"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		svc.BacktestWorker(ctx, func(context.Context) ([]string, error) { return []string{"974", "01"}, nil }, time.Millisecond, 2)
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if b, err := svc.LastBacktest(ctx, "01"); err == nil {
			if b.Offered != "counts-all" {
				t.Errorf("offered %q with only counts-all as candidate", b.Offered)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker stored no backtest")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if _, err := svc.LastBacktest(context.Background(), "974"); vigie.KindOf(err) != vigie.KindNotFound {
		t.Errorf("974 without events: %v", err)
	}
}

func TestUntilHour(t *testing.T) {
	loc := time.FixedZone("x", 4*3600)
	for _, c := range []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(2026, 1, 1, 1, 0, 0, 0, loc), time.Hour},
		{time.Date(2026, 1, 1, 2, 0, 0, 0, loc), 24 * time.Hour},
		{time.Date(2026, 1, 1, 23, 30, 0, 0, loc), 150 * time.Minute},
	} {
		if got := untilHour(c.now, 2); got != c.want {
			t.Errorf("untilHour(%s) = %s, want %s", c.now, got, c.want)
		}
	}
	if s := backtestStart(time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC), loc, 1); !s.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, loc)) {
		// 22:00 UTC Sunday is 02:00 Monday 30 at UTC+4: the current week
		// starts on the 30th, so one whole week back is the 23rd.
		t.Errorf("backtestStart = %s", s)
	}
}

// TestCaptureAgainstRanking: a past plan is measured against what the risk
// ranking alone would have caught with as many cells. A plan made of
// exactly the ranking's top cells catches what the ranking catches; a plan
// of the lowest-ranked cells catches no more. Plans are summed up by week
// (Monday to Sunday, local time), most recent week first.
func TestCaptureAgainstRanking(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	ctx := context.Background()
	svc, _, o := newTestService(t, d, "01")
	if _, err := svc.SeedDemo(ctx, []string{"01"}); err != nil {
		t.Fatal(err)
	}
	g := groupement(t, o, "01")
	a, err := svc.Area(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	// A long "shift" (6 days) so that the measured period holds enough of
	// the Ain's demo offences (about 50 a week).
	start := fixedNow.AddDate(0, 0, -14)
	plan := Plan{Dept: "01", UnitID: g.ID, ShiftStart: start, ShiftEnd: start.AddDate(0, 0, 6), Model: "counts-all", CellSize: a.Grid.Size}
	f, err := svc.PlanForecast(ctx, a, plan)
	if err != nil || f.TooLittle {
		t.Fatalf("forecast: %v %s", err, f.Why)
	}
	const k = 60
	route := func(cells []int32) []PatrolRoute {
		var r PatrolRoute
		for _, c := range cells {
			r.Stops = append(r.Stops, Stop{Cell: int(c)})
		}
		return []PatrolRoute{r}
	}
	plan.Patrols = route(topCells(f.Scores, k))
	top, err := svc.Capture(ctx, plan, a)
	if err != nil {
		t.Fatal(err)
	}
	if !top.Ready || top.Events == 0 || top.Hits == 0 || top.Hits != top.RankHits || top.HitRate != top.RankHitRate {
		t.Fatalf("plan of the top cells: %+v", top)
	}
	neg := make([]float64, len(f.Scores))
	for i, s := range f.Scores {
		neg[i] = -s
	}
	low := plan
	low.ShiftStart, low.ShiftEnd = start.AddDate(0, 0, -7), start.AddDate(0, 0, -1)
	low.Patrols = route(topCells(neg, k))
	bottom, err := svc.Capture(ctx, low, a)
	if err != nil {
		t.Fatal(err)
	}
	if !bottom.Ready || bottom.Hits > bottom.RankHits || bottom.RankHits == 0 {
		t.Errorf("plan of the lowest cells: %+v", bottom)
	}
	loc := svc.Location(ctx, "01")
	weeks := CapturesByWeek([]Plan{low, plan, plan}, []PlanCapture{bottom, top, {}}, loc)
	if len(weeks) != 2 || weeks[0].Plans != 1 || weeks[1].Plans != 1 {
		t.Fatalf("weeks: %+v", weeks)
	}
	w := weeks[0] // the most recent: the top plan's
	if w.Events != top.Events || w.Hits != top.Hits || w.RankHits != top.RankHits || w.AreaShare != top.AreaShare ||
		w.Week != "16/11/2026" || weeks[1].Week != "09/11/2026" {
		t.Errorf("week %+v, plan %+v", w, top)
	}
}
