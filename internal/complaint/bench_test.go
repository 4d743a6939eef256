package complaint

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/mail"
	"vigie/internal/org"
)

// Benchmarks of the figures issue 3 asks for (docs/benchmarks.md):
//
//	go test -run '^$' -bench 'Submit|RawInsert|ReceiptPDF' -benchtime 2000x ./internal/complaint
//	go test -run '^$' -bench SubmitWithReceipt -benchtime 5000x ./internal/complaint
//	VIGIE_BENCH_1M=1 go test -run '^$' -bench Queue1M -benchtime 200x -timeout 30m ./internal/complaint

// benchEnv is the complaint area on SQLite with the real journal (signed,
// hash-chained) and outbox, and the demo organisation of the Ain.
func benchEnv(b *testing.B) *env {
	b.Helper()
	d := dbtest.OpenSQLite(b)
	e := newEnv(b, d, "01")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	j := audit.New(d, key, nil)
	e.svc = New(Config{DB: d, Journal: j, Org: e.org, BaseURL: "https://vigie.example"})
	return e
}

// BenchmarkSubmit measures complete submissions: validation, routing to
// the brigade, number, complaint row, timeline, journal entry, outbox
// event, draft deleted; from 50 concurrent citizens. It reports
// submissions/s and the p99 latency.
func BenchmarkSubmit(b *testing.B) {
	e := benchEnv(b)
	ctx := vigie.WithUser(context.Background(), e.users["jeanne"])
	f := goodForm(time.Now())
	drafts := make(chan int64, b.N)
	for i := 0; i < b.N; i++ {
		d := e.draft("jeanne", f)
		drafts <- d.ID
	}
	close(drafts)
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 50; w++ {
		wg.Go(func() {
			for id := range drafts {
				t0 := time.Now()
				if _, err := e.svc.Submit(ctx, id); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/el.Seconds(), "submissions/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}

// BenchmarkSubmitWithReceipt is BenchmarkSubmit with the receipt e-mail:
// a real internal/mail outbox (no SMTP server: the messages stay queued)
// and the receipt workers building the PDFs as submissions commit. It
// reports submissions/s as citizens see them, and receipts/s from the
// first submission until the last receipt e-mail (PDF attached) is queued.
func BenchmarkSubmitWithReceipt(b *testing.B) {
	e := benchEnv(b)
	m, err := mail.New(e.d, mail.Config{From: "Vigie <no-reply@vigie.example>"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := e.svc.cfg
	cfg.Mail = m
	cfg.AccountEmail = func(context.Context, int64) (string, error) { return "jeanne@example.fr", nil }
	e.svc = New(cfg)
	ctx := vigie.WithUser(context.Background(), e.users["jeanne"])
	f := goodForm(time.Now())
	drafts := make(chan int64, b.N)
	for i := 0; i < b.N; i++ {
		drafts <- e.draft("jeanne", f).ID
	}
	close(drafts)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunReceipts(wctx); close(done) }()
	defer func() { cancel(); <-done }()
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 50; w++ {
		wg.Go(func() {
			for id := range drafts {
				t0 := time.Now()
				if _, err := e.svc.Submit(ctx, id); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	submitted := time.Since(start)
	for {
		var pending int
		if err := e.d.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_events WHERE kind = 'receipt' AND text = 'pending'`).Scan(&pending); err != nil {
			b.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	all := time.Since(start)
	b.StopTimer()
	var queued int
	e.d.QueryRow(ctx, `SELECT COUNT(*) FROM mail_outbox`).Scan(&queued)
	if queued != len(lat) {
		b.Errorf("%d receipt e-mails queued for %d submissions", queued, len(lat))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/submitted.Seconds(), "submissions/s")
	b.ReportMetric(float64(queued)/all.Seconds(), "receipts/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}

// BenchmarkRawInsert inserts the same complaint rows, one transaction
// each, with nothing else: the floor our overhead is measured against.
func BenchmarkRawInsert(b *testing.B) {
	e := benchEnv(b)
	ctx := context.Background()
	f := goodForm(time.Now())
	_, bourg, _ := e.org.RouteCommune(ctx, "01053")
	ids := make(chan int, b.N)
	for i := 0; i < b.N; i++ {
		ids <- i
	}
	close(ids)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 50; w++ {
		wg.Go(func() {
			for i := range ids {
				now := time.Now()
				c := Complaint{Number: fmt.Sprintf("RAW-%09d", i), VerifyCode: newCode(), Dept: "01", UnitID: bourg.ID, OwnerID: 101, Step: StepReceived,
					Category: f.Category, Priority: "normal", INSEE: "01053", RoutedBy: "commune", Form: f, SubmittedAt: now, UpdatedAt: now}
				if err := e.d.InTx(ctx, func(tx *db.Tx) error { return insertComplaint(ctx, tx, &c) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inserts/s")
}

func BenchmarkReceiptPDF(b *testing.B) {
	s := New(Config{BaseURL: "https://vigie.example"})
	now := time.Now()
	c := Complaint{Number: "PL-2026-01-000123", VerifyCode: newCode(), Category: CatOnlineScam, SubmittedAt: now,
		FactsFrom: now.Add(-48 * time.Hour), FactsTo: now.Add(-24 * time.Hour), Form: goodForm(now)}
	for b.Loop() {
		if err := s.ReceiptPDF(io.Discard, &c, "Brigade de Bourg-en-Bresse"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueue1M reads a brigade's queue page from a database holding
// 1,000,000 complaints (built once under the benchmark's temporary
// directory; a few minutes). Set VIGIE_BENCH_1M=1 to run it.
func BenchmarkQueue1M(b *testing.B) {
	if os.Getenv("VIGIE_BENCH_1M") == "" {
		b.Skip("set VIGIE_BENCH_1M=1 to build a database of 1,000,000 complaints")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "big.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	if err := d.InTx(ctx, func(tx *db.Tx) error { return org.SeedDemo(ctx, tx, "01", "33", "69") }); err != nil {
		b.Fatal(err)
	}
	o := org.New(org.Config{DB: d})
	if err := o.Tree().Load(ctx); err != nil {
		b.Fatal(err)
	}
	var brigades []int64
	for _, dept := range []string{"01", "33", "69"} {
		us, _ := o.Units(ctx, dept)
		for _, u := range us {
			if u.Kind == org.Brigade {
				brigades = append(brigades, u.ID)
			}
		}
	}
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("VIGIE_BENCH_1M")); err == nil && n > 1 {
		total = n // a smaller database, to try the benchmark quickly
	}
	t0 := time.Now()
	now := time.Now()
	// Realistic ages: submissions spread evenly over 18 months; those of the
	// last 30 days are mostly still open, older ones are decided.
	open := []string{StepReceived, StepProcessing, StepInfoRequested, StepAppointmentProposed, StepProcessing, StepReceived}
	done := []string{StepRegistered, StepForwarded, StepClosed, StepClosed, StepRegistered, StepRejected}
	cats := []string{CatTheft, CatOnlineScam, CatDamage, CatCardFraud}
	span := 540 * 24 * time.Hour
	const batch = 500
	for i := 0; i < total; i += batch * 20 {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for j := i; j < i+batch*20 && j < total; j += batch {
				q := `INSERT INTO complaints (number, verify_code, dept, unit_id, step, category, priority, routed_by, facts_from, facts_to, data, submitted_at, updated_at) VALUES `
				var args []any
				for k := j; k < j+batch && k < total; k++ {
					if k > j {
						q += ", "
					}
					q += "(?, ?, '01', ?, ?, ?, 'normal', 'commune', 0, 0, '{}', ?, ?)"
					sub := now.Add(-time.Duration(int64(span) / int64(total) * int64(k)))
					step := done[k%len(done)]
					if now.Sub(sub) < 30*24*time.Hour && k%10 < 7 {
						step = open[k%len(open)]
					}
					args = append(args, fmt.Sprintf("B-%09d", k), fmt.Sprintf("C%019d", k), brigades[(k/10)%len(brigades)], step, cats[k%len(cats)], db.Millis(sub), db.Millis(sub))
				}
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := d.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d complaints over %d brigades in %s", total, len(brigades), time.Since(t0).Round(time.Second))
	s := New(Config{DB: d, Org: o})
	// The compagnie of the first brigade: its brigades' queues together.
	comp := o.Tree().Parent(brigades[0])
	units := o.Tree().Below(comp)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f := QueueFilter{Units: units, Limit: 50}
		switch i % 3 {
		case 1:
			f.Units, f.Sort = []int64{brigades[i%len(brigades)]}, "priority"
		case 2:
			f.Category, f.OlderDays = CatOnlineScam, 2
		}
		t0 := time.Now()
		rows, n, err := s.Queue(ctx, f)
		if err != nil || n == 0 || len(rows) == 0 {
			b.Fatalf("queue %d (%+v): %d rows of %d, %v", i, f, len(rows), n, err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
