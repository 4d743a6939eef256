package casefile

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// benchRows is the size of the tables in the benchmarks: 1,000,000 with
// VIGIE_BENCH_1M=1 (the figure; about a minute to build), else
// 100,000.
func benchRows() int {
	if os.Getenv("VIGIE_BENCH_1M") == "1" {
		return 1_000_000
	}
	return 100_000
}

// bulk fills cases and ident_links with n rows each, spread over the units
// of the fixture, with one recursive INSERT … SELECT per table.
func bulk(b *testing.B, f *fixture, n int) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	_, err := f.d.Exec(ctx, `INSERT INTO cases (number, dept, unit_id, complaint_id, status, category, priority, title,
		narrative, facts_from, facts_to, created_at, updated_at)
		WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
		SELECT 'B-' || x, CASE WHEN x % 2 = 0 THEN '01' ELSE '2A' END, CASE WHEN x % 2 = 0 THEN ? ELSE ? END,
			x, 'open', 'theft', 'normal', 'Vol', 'récit ' || x, x, x, x, x FROM n`, n, f.b01b, f.b2A)
	if err != nil {
		b.Fatal(err)
	}
	_, err = f.d.Exec(ctx, `INSERT INTO ident_links (kind, value, display, source_kind, source_id, dept, unit_id, created_at)
		WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
		SELECT 'phone', '+3361' || (1000000 + x), '06 1…', CASE WHEN x % 3 = 0 THEN 'case' ELSE 'complaint' END, x,
			CASE WHEN x % 2 = 0 THEN '01' ELSE '2A' END, CASE WHEN x % 2 = 0 THEN ? ELSE ? END, x FROM n`, n, f.b01b, f.b2A)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.d.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d cases and %d links in %v", n, n, time.Since(start).Round(time.Millisecond))
}

func percentiles(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	if len(ds) == 0 {
		return
	}
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkLookup: an identifier looked up among benchRows() links.
func BenchmarkLookup(b *testing.B) {
	f := newFixture(b, dbtest.OpenSQLite(b))
	bulk(b, f, benchRows())
	c := f.open(b, f.b01, 1, scamComplaint("X"))
	f.open(b, f.b2A, 2, scamComplaint("Y"))
	_ = c
	ctx := f.as(1, vigie.RoleAgent, f.b01)
	// Warm the connection pool's page caches: the figure is steady state.
	for range 50 {
		f.svc.links.Lookup(ctx, ident.KindIBAN, scamIBAN)
	}
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		g, err := f.svc.links.Lookup(ctx, ident.KindIBAN, scamIBAN)
		if err != nil || g.Cases != 2 {
			b.Fatalf("%+v %v", g, err)
		}
		if _, err := f.svc.links.Lookup(ctx, ident.KindPhone, "+3361"+strconv.Itoa(1000000+i%benchRows()+1)); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t)/2)
	}
	percentiles(b, ds)
}

// BenchmarkCasePage: the whole case page (authorization, motif, journal
// entry, parts, links, triage suggestion, rendering) over HTTP with
// benchRows() cases and links in the database.
func BenchmarkCasePage(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	f := newFixture(b, d)
	bulk(b, f, benchRows())
	c := f.open(b, f.b01, 1, scamComplaint("Camille Martin"))
	f.open(b, f.b2A, 2, scamComplaint("Ange Santoni"))
	ctx := f.as(1, vigie.RoleAgent, f.b01)
	for i := range 5 {
		f.svc.AddNote(ctx, c.ID, fmt.Sprintf("note %d : appel au 06 12 34 56 7%d", i, i))
	}
	s := newWeb(b, f, vigie.UserFrom(ctx))
	h := s.Handler()
	path := "/cases/" + strconv.FormatInt(c.ID, 10) + "?motif=plainte"
	for range 50 { // warm the pool's page caches
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	var ds []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		ds = append(ds, time.Since(t))
	}
	percentiles(b, ds)
}

// BenchmarkIndex: indexing the identifiers of one complaint.
func BenchmarkIndex(b *testing.B) {
	f := newFixture(b, dbtest.OpenSQLite(b))
	x := ident.New(ident.Config{})
	ids := x.Extract(scamComplaint("X").Narrative)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		err := f.d.InTx(ctx, func(tx *db.Tx) error {
			return f.svc.links.Index(ctx, tx, Source{Kind: SourceComplaint, ID: int64(i), Dept: "01", UnitID: f.b01}, ids)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPV(b *testing.B) {
	f := newFixture(b, dbtest.OpenSQLite(b))
	c := f.open(b, f.b01, 1, scamComplaint("Camille Martin"))
	dt, _ := f.svc.Get(f.as(1, vigie.RoleAgent, f.b01), c.ID, "plainte")
	for b.Loop() {
		pdf, err := renderPV(dt, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		var w discard
		pdf.Output(&w)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkList: the first page of the case list of a brigade agent and of
// a compagnie commander, with benchRows() cases in the database.
func BenchmarkList(b *testing.B) {
	f := newFixture(b, dbtest.OpenSQLite(b))
	bulk(b, f, benchRows())
	for _, who := range []struct {
		name string
		role vigie.Role
		unit int64
	}{{"agent", vigie.RoleAgent, f.b01b}, {"commander", vigie.RoleCommander, f.cie01}} {
		b.Run(who.name, func(b *testing.B) {
			ctx := f.as(1, who.role, who.unit)
			var ds []time.Duration
			for b.Loop() {
				t := time.Now()
				cs, err := f.svc.List(ctx, "", 100, 0)
				if err != nil || len(cs) != 100 {
					b.Fatalf("%d cases, %v", len(cs), err)
				}
				ds = append(ds, time.Since(t))
			}
			percentiles(b, ds)
		})
	}
}
