package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

var testKey = ed25519.NewKeyFromSeed(make([]byte, 32))

// newJournal returns a journal on d with a fixed key and a clock that
// advances one second per call, starting 2026-01-15 10:00 UTC.
func newJournal(t testing.TB, d *db.DB) *Journal {
	t.Helper()
	j := New(d, testKey, nil)
	var mu sync.Mutex
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	j.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	return j
}

var agent = &vigie.User{ID: 42, Login: "j.dupont", Role: vigie.RoleAgent, UnitID: 7, Dept: "35"}

func userCtx() context.Context {
	ctx := vigie.WithUser(context.Background(), agent)
	return vigie.WithClient(ctx, vigie.Client{IP: "192.0.2.10", RequestID: "req-1"})
}

// fill appends n consult entries and returns them.
func fill(t testing.TB, j *Journal, n int) {
	t.Helper()
	ctx := userCtx()
	for i := range n {
		r := vigie.Record{Action: vigie.ActConsult, Object: "case", ObjectID: fmt.Sprint(1000 + i), Dept: "35", UnitID: 7, Motif: "plainte", Detail: "read"}
		if err := j.RecordTx(ctx, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

func mustVerify(t *testing.T, j *Journal) Report {
	t.Helper()
	rep, err := j.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestRecordFillsActorAndChain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		j := newJournal(t, d)
		ctx := context.Background()
		fill(t, j, 2)
		if err := j.RecordTx(ctx, vigie.Record{Action: vigie.ActAdmin, Object: "unit", ObjectID: "9"}); err != nil {
			t.Fatal(err)
		}
		e1, err := getEntry(ctx, d, 1)
		if err != nil {
			t.Fatal(err)
		}
		if e1.ActorID != 42 || e1.ActorLogin != "j.dupont" || e1.ActorRole != "agent" || e1.ActorUnit != 7 ||
			e1.ActorDept != "35" || e1.IP != "192.0.2.10" || e1.RequestID != "req-1" || e1.Motif != "plainte" {
			t.Errorf("entry 1 = %+v, want the agent's identity, client and motif", e1)
		}
		if string(e1.PrevHash) != string(zeroHash) {
			t.Errorf("entry 1 prev_hash = %x, want zeros", e1.PrevHash)
		}
		e2, _ := getEntry(ctx, d, 2)
		if string(e2.PrevHash) != string(e1.Hash) {
			t.Errorf("entry 2 prev_hash = %x, want entry 1's hash %x", e2.PrevHash, e1.Hash)
		}
		e3, _ := getEntry(ctx, d, 3)
		if e3.ActorLogin != SystemLogin || e3.ActorID != 0 {
			t.Errorf("entry 3 actor = %q/%d, want %q", e3.ActorLogin, e3.ActorID, SystemLogin)
		}
		if seq, hash, _ := j.Head(ctx); seq != 3 || string(hash) != string(e3.Hash) {
			t.Errorf("head = %d %x, want 3 %x", seq, hash, e3.Hash)
		}
		if rep := mustVerify(t, j); !rep.OK || rep.Entries != 3 {
			t.Errorf("verify = %+v, want OK with 3 entries", rep)
		}
	})
}

func TestRecordRejects(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	j := newJournal(t, d)
	for _, tc := range []struct {
		name string
		r    vigie.Record
	}{
		{"unknown action", vigie.Record{Action: "peek", Object: "case"}},
		{"no action", vigie.Record{Object: "case"}},
		{"no object", vigie.Record{Action: vigie.ActChange}},
		{"consult without motif", vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "1"}},
		{"consult with blank motif", vigie.Record{Action: vigie.ActConsult, Object: "person", Motif: "  "}},
		{"huge detail", vigie.Record{Action: vigie.ActChange, Object: "case", Detail: string(make([]byte, 5000))}},
		{"invalid utf-8", vigie.Record{Action: vigie.ActChange, Object: "case\xff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := j.RecordTx(userCtx(), tc.r)
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("Record(%+v) = %v, want KindInvalid", tc.r, err)
			}
		})
	}
	if seq, _, _ := j.Head(context.Background()); seq != 0 {
		t.Errorf("head seq = %d after rejected records, want 0", seq)
	}
}

func TestRecordRolledBackLeavesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		j := newJournal(t, d)
		ctx := userCtx()
		fill(t, j, 1) // warms the head cache
		boom := errors.New("the action failed")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := j.Record(ctx, tx, vigie.Record{Action: vigie.ActChange, Object: "case", ObjectID: "1"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want %v", err, boom)
		}
		if n, _ := countEntries(ctx, d, 0); n != 1 {
			t.Errorf("entries = %d after rollback, want 1", n)
		}
		fill(t, j, 1)
		if seq, _, _ := j.Head(ctx); seq != 2 {
			t.Errorf("head = %d, want 2 (the rolled-back seq is reused)", seq)
		}
		if rep := mustVerify(t, j); !rep.OK {
			t.Errorf("verify: %s", rep.Message)
		}
	})
}

func TestConcurrentWritersKeepChain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		// Two journals on one database stand for two replicas: each has its
		// own head cache, which the other makes stale.
		js := []*Journal{newJournal(t, d), newJournal(t, d)}
		const writers, each = 8, 40
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				j := js[w%2]
				for i := range each {
					r := vigie.Record{Action: vigie.ActChange, Object: "case", ObjectID: fmt.Sprintf("%d-%d", w, i)}
					if err := j.RecordTx(userCtx(), r); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep := mustVerify(t, js[0])
		if !rep.OK || rep.Entries != writers*each {
			t.Errorf("verify = %+v, want OK with %d entries", rep, writers*each)
		}
	})
}
