package analytics

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/org"
)

type memJournal struct {
	mu   sync.Mutex
	recs []vigie.Record
}

func (j *memJournal) Record(ctx context.Context, tx *db.Tx, r vigie.Record) error {
	if r.Action == vigie.ActConsult && r.Motif == "" {
		return vigie.Invalidf("test", "motif required")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
	return nil
}

// fixedNow is the tests' clock: a Monday night.
var fixedNow = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

// newTestService seeds the organisation of depts on d and returns a service
// over it with the test clock.
func newTestService(t testing.TB, d *db.DB, depts ...string) (*Service, *memJournal, *org.Service) {
	t.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error { return org.SeedDemo(ctx, tx, depts...) }); err != nil {
		t.Fatal(err)
	}
	j := &memJournal{}
	o := org.New(org.Config{DB: d, Journal: j})
	if err := o.Tree().Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc := New(ServiceConfig{DB: d, Journal: j, Org: o, Tree: o.Tree(), Now: func() time.Time { return fixedNow }})
	return svc, j, o
}

func groupement(t testing.TB, o *org.Service, dept string) org.Unit {
	t.Helper()
	us, err := o.Units(context.Background(), dept)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Kind == org.Groupement {
			return u
		}
	}
	t.Fatalf("no groupement in %s", dept)
	return org.Unit{}
}

func brigadeOf(t testing.TB, o *org.Service, insee string) org.Unit {
	t.Helper()
	_, b, err := o.RouteCommune(context.Background(), insee)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRiskMapOnDemo: on the demo's two years of the Ain, the map flags
// about 5 % of the cells, explains each in words, says how stable the flags
// are, leaves drug offences out unless asked, and journals the view.
func TestRiskMapOnDemo(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, j, o := newTestService(t, d, "01")
		n, err := svc.SeedDemo(ctx, []string{"01"})
		if err != nil || n < 1000 {
			t.Fatalf("SeedDemo: %d events, %v", n, err)
		}
		if again, err := svc.SeedDemo(ctx, []string{"01"}); err != nil || again != 0 {
			t.Fatalf("second SeedDemo: %d events, %v; want none", again, err)
		}
		g := groupement(t, o, "01")
		a, f, err := svc.RiskMap(ctx, g, ForecastOptions{Horizon: HorizonWeek})
		if err != nil {
			t.Fatal(err)
		}
		if f.TooLittle {
			t.Fatalf("too little history on the demo: %s", f.Why)
		}
		k := int(math.Ceil(FlagShare * float64(a.Grid.Len())))
		if len(f.Flagged) == 0 || len(f.Flagged) > k {
			t.Errorf("flagged %d cells of %d, want 1..%d", len(f.Flagged), a.Grid.Len(), k)
		}
		if f.Excluded == 0 {
			t.Error("no drug offence excluded from the targets")
		}
		if math.IsNaN(f.Repeat) || f.Repeat <= 0.3 || f.Weeks != StabilityWeek {
			t.Errorf("stability %.2f over %d weeks: counts over all history should repeat most flags", f.Repeat, f.Weeks)
		}
		for i, fc := range f.Flagged {
			if i > 0 && fc.Score > f.Flagged[i-1].Score {
				t.Fatalf("flagged cells not in decreasing order at %d", i)
			}
			if len(fc.Reasons) == 0 || fc.Commune == "" {
				t.Errorf("cell %d: reasons %v, commune %q", fc.Cell, fc.Reasons, fc.Commune)
			}
		}
		withPolice := ForecastArea(a, svc.Model(), mustLoad(t, d, "01"), ForecastOptions{Horizon: HorizonWeek, Now: fixedNow, IncludePolice: true})
		if withPolice.Targets != f.Targets+f.Excluded {
			t.Errorf("with police categories: %d targets, want %d", withPolice.Targets, f.Targets+f.Excluded)
		}
		if len(j.recs) != 1 || j.recs[0].Action != vigie.ActConsult || j.recs[0].Object != "risk_map" || j.recs[0].Motif != StatsMotif {
			t.Errorf("journal: %+v", j.recs)
		}
		// The calls for service precede offences in the same places: the
		// flagged cells must hold more recent calls than the average cell.
		var inFlagged int
		flagged := map[int]bool{}
		for _, fc := range f.Flagged {
			flagged[fc.Cell] = true
		}
		for _, r := range f.Recent[SourceCall] {
			x, y := a.Grid.Proj.Forward(r.Lon, r.Lat)
			if flagged[a.Grid.CellAt(x, y)] {
				inFlagged++
			}
		}
		if share := float64(inFlagged) / float64(max(len(f.Recent[SourceCall]), 1)); share < 2*FlagShare {
			t.Errorf("share of recent calls in flagged cells %.2f, want well above the %.2f of the area", share, FlagShare)
		}
	})
}

func mustLoad(t testing.TB, d *db.DB, dept string) []Record {
	t.Helper()
	recs, err := loadRecords(context.Background(), d, dept, time.Unix(0, 0), fixedNow.AddDate(0, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestTooLittleHistory: a territory with a handful of offences, or with a
// history of less than four weeks, gets no map but the reason.
func TestTooLittleHistory(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	svc, _, o := newTestService(t, d, "01")
	a, err := svc.Area(context.Background(), brigadeOf(t, o, "01053"))
	if err != nil {
		t.Fatal(err)
	}
	lon, lat := a.CellLonLat(0)
	var few, short []Record
	for i := range 10 {
		few = append(few, Record{Source: SourceOffence, Start: fixedNow.AddDate(0, 0, -100+i), Lon: lon, Lat: lat})
	}
	for i := range 100 {
		short = append(short, Record{Source: SourceOffence, Start: fixedNow.Add(-time.Duration(i) * time.Hour), Lon: lon, Lat: lat})
	}
	reverse(short)
	for name, recs := range map[string][]Record{"few": few, "short": short, "none": nil} {
		f := ForecastArea(a, Counts{}, recs, ForecastOptions{Horizon: HorizonDay, Now: fixedNow})
		if !f.TooLittle || f.Why == "" || len(f.Flagged) != 0 {
			t.Errorf("%s: TooLittle %v (%q), %d flagged", name, f.TooLittle, f.Why, len(f.Flagged))
		}
		if svg := DrawMap(MapInput{Area: a, Forecast: f}); strings.Contains(string(svg), "<rect") {
			t.Errorf("%s: cells drawn without a forecast", name)
		}
	}
}

func reverse(r []Record) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

// TestImport: good rows stored with their brigade, bad rows counted by
// reason, rows of another territory refused, and a file without any good
// row stores nothing.
func TestImport(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, j, o := newTestService(t, d, "01")
		b := brigadeOf(t, o, "01053")
		csv := "date,longitude,latitude,source,category\n" +
			"2026-11-20 22:00,5.2256,46.2052,offence,burglary\n" +
			"2026-11-21T03:00:00+01:00,5.2280,46.2040,call,\n" +
			"2026-11-21,5.2280,46.2040,rumour,\n" +
			"2030-01-01,5.2280,46.2040,offence,theft\n" +
			"2026-11-21,0,0,offence,theft\n" +
			"2026-11-21 10:00,4.8357,45.7640,offence,theft\n" // Lyon
		res, err := svc.Import(ctx, b, "", strings.NewReader(csv))
		if err != nil {
			t.Fatal(err)
		}
		if res.Stored != 2 {
			t.Errorf("stored %d, want 2", res.Stored)
		}
		want := Skipped{SkipBadSource: 1, SkipFuture: 1, SkipBadCoords: 1, SkipOutsideUnit: 1}
		for k, v := range want {
			if res.Skipped[k] != v {
				t.Errorf("skipped[%q] = %d, want %d (%v)", k, res.Skipped[k], v, res.Skipped)
			}
		}
		recs := mustLoad(t, d, "01")
		if len(recs) != 2 || recs[0].UnitID != b.ID || recs[1].Source != SourceCall {
			t.Fatalf("stored %+v", recs)
		}
		if len(j.recs) != 1 || j.recs[0].Action != vigie.ActCollect {
			t.Errorf("journal: %+v", j.recs)
		}
		_, err = svc.Import(ctx, b, SourceCall, strings.NewReader("time,lon,lat\nyesterday,5.2,46.2\n"))
		if vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("file without a good row: %v, want Invalid", err)
		}
		if n := len(mustLoad(t, d, "01")); n != 2 {
			t.Errorf("rows after a refused file: %d, want 2", n)
		}
	})
}

// TestPatrolPlan: plans stay inside the territory and the time budget,
// cover more risk than the same number of cells taken at random, spread
// out over successive plans, and the report records where patrols went.
func TestPatrolPlan(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, _, o := newTestService(t, d, "01")
		if _, err := svc.SeedDemo(ctx, []string{"01"}); err != nil {
			t.Fatal(err)
		}
		b := brigadeOf(t, o, "01053")
		p := PlanParams{Patrols: 2, Minutes: 240, SpeedKmh: 40, DwellMinutes: 20, AvoidPlans: 5}
		first, err := svc.CreatePlan(ctx, b, p, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := svc.Area(ctx, b)
		if len(first.Patrols) != 2 || len(first.Cells()) < 4 {
			t.Fatalf("plan: %d patrols, %d cells", len(first.Patrols), len(first.Cells()))
		}
		for i, r := range first.Patrols {
			if r.Minutes > p.Minutes {
				t.Errorf("patrol %d takes %d min, more than %d", i, r.Minutes, p.Minutes)
			}
			for _, s := range r.Stops {
				if a.Locate(s.Lon, s.Lat) < 0 {
					t.Errorf("patrol %d stop at %.5f,%.5f outside the territory", i, s.Lat, s.Lon)
				}
			}
		}
		if first.Patrols[0].Risk <= 100*float64(len(first.Patrols[0].Stops))/float64(a.Grid.Len()) {
			t.Errorf("patrol 1 covers %.1f %% of the risk with %d of %d cells: no better than chance", first.Patrols[0].Risk, len(first.Patrols[0].Stops), a.Grid.Len())
		}
		second, err := svc.CreatePlan(ctx, b, p, fixedNow.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		same := 0
		in := map[int]bool{}
		for _, c := range first.Cells() {
			in[c] = true
		}
		for _, c := range second.Cells() {
			if in[c] {
				same++
			}
		}
		if same == len(second.Cells()) {
			t.Errorf("the second plan repeats every place of the first (%d)", same)
		}
		noAvoid := p
		noAvoid.AvoidPlans = 0
		third, err := svc.CreatePlan(ctx, b, noAvoid, fixedNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(third.Cells()) != len(first.Cells()) || third.Cells()[0] != first.Cells()[0] {
			t.Errorf("without spreading, the same forecast should give the same plan")
		}
		n, err := svc.Report(ctx, first, [][2]int{{0, 0}, {1, 0}})
		if err != nil || n != 2 {
			t.Fatalf("report: %d, %v", n, err)
		}
		if _, err := svc.Report(ctx, first, nil); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("second report: %v, want Conflict", err)
		}
		if _, err := svc.Report(ctx, second, [][2]int{{5, 0}}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("report of a place not in the plan: %v, want Invalid", err)
		}
		got, err := svc.Plan(ctx, first.ID)
		if err != nil || got.ReportedAt.IsZero() || len(got.Patrols) != 2 {
			t.Errorf("stored plan: %+v, %v", got.ReportedAt, err)
		}
		if err := (PlanParams{Patrols: 0, Minutes: 240, SpeedKmh: 40, DwellMinutes: 20}).Validate(); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("0 patrols: %v", err)
		}
	})
}

// TestCapture: the share of a period's offences in planned cells.
func TestCapture(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	svc, _, o := newTestService(t, d, "01")
	a, err := svc.Area(context.Background(), brigadeOf(t, o, "01053"))
	if err != nil {
		t.Fatal(err)
	}
	lon0, lat0 := a.CellLonLat(0)
	lon1, lat1 := a.CellLonLat(1)
	at := fixedNow.Add(time.Hour)
	recs := []Record{
		{Source: SourceOffence, Start: at, Lon: lon0, Lat: lat0},
		{Source: SourceOffence, Start: at, Lon: lon0, Lat: lat0},
		{Source: SourceOffence, Start: at, Lon: lon1, Lat: lat1},
		{Source: SourceOffence, Category: "drugs", Start: at, Lon: lon0, Lat: lat0},  // not a target
		{Source: SourceCall, Start: at, Lon: lon0, Lat: lat0},                        // not an offence
		{Source: SourceOffence, Start: at.Add(48 * time.Hour), Lon: lon0, Lat: lat0}, // after the period
	}
	ev, hits, hr, share := Capture(recs, a.Grid, []int{0}, fixedNow, fixedNow.Add(24*time.Hour))
	if ev != 3 || hits != 2 || math.Abs(hr-66.67) > 0.01 || math.Abs(share-100/float64(a.Grid.Len())) > 1e-9 {
		t.Errorf("Capture = %d, %d, %.2f, %.4f", ev, hits, hr, share)
	}
}

// BenchmarkRiskMapDept: the forecast, reasons, stability and SVG of a whole
// département from two years of demo events, as the risk map page computes
// them (geometry cached, events loaded each time): the Ain (5,777 cells of
// 1 km) and the Gironde, the largest pilot département.
func BenchmarkRiskMapDept(b *testing.B) {
	for _, dept := range []string{"01", "33"} {
		b.Run(dept, func(b *testing.B) {
			d := dbtest.OpenSQLite(b)
			svc, _, o := newTestService(b, d, dept)
			ctx := context.Background()
			if _, err := svc.SeedDemo(ctx, []string{dept}); err != nil {
				b.Fatal(err)
			}
			g := groupement(b, o, dept)
			var cells int
			b.ResetTimer()
			for b.Loop() {
				a, f, err := svc.RiskMap(ctx, g, ForecastOptions{Horizon: HorizonWeek})
				if err != nil || f.TooLittle {
					b.Fatal(err, f.Why)
				}
				DrawMap(MapInput{Area: a, Forecast: f, Layers: Sources})
				cells = a.Grid.Len()
			}
			b.ReportMetric(float64(cells), "cells")
		})
	}
}

// BenchmarkDemoSeed: generating and storing two years of demo events for
// the 12 pilot départements (SQLite), as "vigie serve --demo" does once.
func BenchmarkDemoSeed(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		d := dbtest.OpenSQLite(b)
		svc, _, o := newTestService(b, d)
		ds, err := o.Departements(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var codes []string
		for _, x := range ds {
			codes = append(codes, x.Code)
		}
		b.StartTimer()
		n, err := svc.SeedDemo(context.Background(), codes)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "events")
		b.ReportMetric(float64(len(codes)), "depts")
	}
}

// TestIngestCase: a case with a place becomes one offence however often
// its event comes; a case without a place, or a malformed event, is
// skipped without error (redelivery would not help).
func TestIngestCase(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := New(ServiceConfig{DB: d, Journal: &memJournal{}, Now: func() time.Time { return fixedNow }})
		ev := func(data string) *bus.CloudEvent {
			return &bus.CloudEvent{ID: "x", Time: fixedNow, Data: []byte(data)}
		}
		tests := []struct {
			name, data string
			stored     bool
		}{
			{"placed", `{"id":7,"dept":"01","unit_id":3,"category":"theft","facts_from":"2026-11-29T20:00:00Z","lat":46.2,"lon":5.2}`, true},
			{"again", `{"id":7,"dept":"01","unit_id":3,"category":"theft","facts_from":"2026-11-29T20:00:00Z","lat":46.2,"lon":5.2}`, false},
			{"no place", `{"id":8,"dept":"01","category":"theft"}`, false},
			{"bad latitude", `{"id":9,"dept":"01","lat":123,"lon":5}`, false},
			{"malformed", `{"id":"ten"`, false},
		}
		for _, tt := range tests {
			got, err := svc.IngestCase(ctx, ev(tt.data))
			if err != nil || got != tt.stored {
				t.Errorf("%s: stored %v, %v; want %v", tt.name, got, err, tt.stored)
			}
		}
		recs := mustLoad(t, d, "01")
		if len(recs) != 1 || recs[0].Source != SourceOffence || recs[0].Category != "theft" || recs[0].UnitID != 3 {
			t.Errorf("stored %+v", recs)
		}
	})
}
