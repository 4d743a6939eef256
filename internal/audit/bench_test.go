package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// bulkFill writes n valid entries straight into the tables, many rows per
// statement and per transaction, with a signed checkpoint every cpEvery
// entries: a fast way to a journal worth verifying.
func bulkFill(tb testing.TB, j *Journal, n, cpEvery int64) {
	tb.Helper()
	ctx := context.Background()
	seq, prev, err := readHead(ctx, j.db)
	if err != nil {
		tb.Fatal(err)
	}
	if seq != 0 {
		tb.Fatal("bulkFill needs an empty journal")
	}
	rng := rangeFactory.NewEmptyRange(0)
	const perStmt = 50 // 18 columns × 50 rows stays under SQLite's 32766 parameters
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", 18), ", ") + ")"
	stmt := `INSERT INTO audit_entry (` + entryCols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", perStmt), ", ")
	var buf []byte
	for seq < n {
		err := j.db.InTx(ctx, func(tx *db.Tx) error {
			for b := 0; b < 400 && seq < n; b++ {
				args := make([]any, 0, 18*perStmt)
				for range perStmt {
					seq++
					e := Entry{Seq: seq, At: start.Add(time.Duration(seq) * time.Second), ActorID: seq % 500, ActorLogin: fmt.Sprintf("agent%03d", seq%500),
						ActorRole: "agent", ActorUnit: seq % 40, ActorDept: "35", IP: "192.0.2.1", RequestID: strconv.FormatInt(seq, 36),
						Action: vigie.ActConsult, Object: "person", ObjectID: strconv.FormatInt(seq*7919%1000003, 10), Dept: "35",
						UnitID: seq % 40, Motif: "enquete:2025-01-000123", Detail: "fiche consultée", PrevHash: prev}
					var sum [32]byte
					sum, buf = e.computeHash(buf)
					e.Hash = append([]byte(nil), sum[:]...)
					prev = e.Hash
					rng.Append(leafHash(e.Hash), nil)
					args = append(args, e.Seq, db.Millis(e.At), e.ActorID, e.ActorLogin, e.ActorRole, e.ActorUnit, e.ActorDept,
						e.IP, e.RequestID, e.Action, e.Object, e.ObjectID, e.Dept, e.UnitID, e.Motif, e.Detail, e.PrevHash, e.Hash)
					if cpEvery > 0 && seq%cpEvery == 0 {
						root, _ := rng.GetRootHash(nil)
						cp := &Checkpoint{Size: seq, Root: root, At: e.At, KeyID: j.keyID, rangeHashes: rng.Hashes()}
						cp.Sig = ed25519.Sign(j.key, checkpointMessage(cp.Size, cp.Root, cp.At))
						if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoint (`+checkpointCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
							cp.Size, cp.Root, db.Millis(cp.At), cp.KeyID, cp.Sig, joinHashes(cp.rangeHashes)); err != nil {
							return err
						}
					}
				}
				if _, err := tx.Exec(ctx, stmt, args...); err != nil {
					return err
				}
			}
			return setHead(ctx, tx, seq, prev)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// envInt reads a size from the environment, for measurements bigger than
// the default run: VIGIE_AUDIT_VERIFY_ENTRIES=1000000.
func envInt(name string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkVerify verifies a journal of VIGIE_AUDIT_VERIFY_ENTRIES entries
// (default 100,000) with a checkpoint every 10,000. The target is 1,000,000
// entries in under 10 s on SQLite:
//
//	VIGIE_AUDIT_VERIFY_ENTRIES=1000000 go test ./internal/audit -run '^$' -bench Verify -benchtime 1x
func BenchmarkVerify(b *testing.B) {
	n := envInt("VIGIE_AUDIT_VERIFY_ENTRIES", 100_000)
	d := benchDB(b, n)
	j := New(d, testKey, nil)
	if head, _, _ := j.Head(context.Background()); head != n {
		t0 := time.Now()
		bulkFill(b, j, n, 10_000)
		b.Logf("bulk insert of %d entries: %v", n, time.Since(t0))
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := j.Verify(context.Background(), nil)
		if err != nil || !rep.OK || rep.Entries != n {
			b.Fatalf("verify = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()*float64(b.N), "entries/s")
}

// cpuTime is the user and system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDB opens the database of VIGIE_AUDIT_BENCH_DB (kept between runs, so
// that a million entries are inserted once) or a fresh temporary one.
func benchDB(b *testing.B, n int64) *db.DB {
	path := os.Getenv("VIGIE_AUDIT_BENCH_DB")
	if path == "" {
		return dbtest.OpenSQLite(b)
	}
	path += "." + strconv.FormatInt(n, 10)
	d, err := db.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkAppend measures one append per transaction, as real actions do,
// on embedded SQLite.
func BenchmarkAppend(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	j := New(d, testKey, nil)
	ctx := userCtx()
	r := vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "123", Dept: "35", UnitID: 7, Motif: "plainte", Detail: "fiche consultée"}
	cpu0 := cpuTime()
	for b.Loop() {
		if err := j.RecordTx(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	// CPU time per append: steadier than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// TestAppendThroughput appends VIGIE_AUDIT_APPENDS entries (default 2,000;
// 50,000 for the figure) from 8 concurrent writers, each append its own
// transaction, then verifies the chain. It logs the rate; it asserts only
// correctness (timing depends on the machine).
//
//	VIGIE_AUDIT_APPENDS=50000 go test ./internal/audit -run AppendThroughput -v
func TestAppendThroughput(t *testing.T) {
	n := envInt("VIGIE_AUDIT_APPENDS", 2000)
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		j := New(d, testKey, nil)
		const writers = 8
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		t0 := time.Now()
		for range writers {
			wg.Go(func() {
				ctx := userCtx()
				for next.Add(1) <= n {
					r := vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "123", Dept: "35", Motif: "plainte"}
					if err := j.RecordTx(ctx, r); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		el := time.Since(t0)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		t.Logf("%s: %d appends by %d writers in %v: %.0f appends/s", d.Dialect, n, writers, el, float64(n)/el.Seconds())
		rep := mustVerify(t, j)
		if !rep.OK || rep.Entries != n {
			t.Fatalf("verify = %+v, want OK with %d entries", rep, n)
		}
	})
}
