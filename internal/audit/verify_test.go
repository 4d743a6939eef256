package audit

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func mustCheckpoint(t *testing.T, j *Journal) *Checkpoint {
	t.Helper()
	cp, err := j.Checkpoint(context.Background())
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	return cp
}

func exec(t *testing.T, d *db.DB, q string, args ...any) {
	t.Helper()
	if _, err := d.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rewrite replaces entry seq by e (same seq) in place.
func rewrite(t *testing.T, d *db.DB, seq int64, e *Entry) {
	t.Helper()
	exec(t, d, `DELETE FROM audit_entry WHERE seq = ?`, seq)
	c := *e
	c.Seq = seq
	if err := d.InTx(context.Background(), func(tx *db.Tx) error { return insertEntry(context.Background(), tx, &c) }); err != nil {
		t.Fatal(err)
	}
}

func entry(t *testing.T, d *db.DB, seq int64) *Entry {
	t.Helper()
	e, err := getEntry(context.Background(), d, seq)
	if err != nil {
		t.Fatalf("entry %d: %v", seq, err)
	}
	return e
}

func TestVerifyNamesTampering(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T, d *db.DB)
		problem string
		seq     int64
	}{
		{"field changed", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_entry SET motif = 'maintenance' WHERE seq = 7`)
		}, ProblemAltered, 7},
		{"time changed", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_entry SET at = at + 1 WHERE seq = 12`)
		}, ProblemAltered, 12},
		{"hash changed", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_entry SET hash = prev_hash WHERE seq = 3`)
		}, ProblemAltered, 3},
		{"entry deleted", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_entry WHERE seq = 7`)
		}, ProblemMissing, 7},
		{"first entry deleted", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_entry WHERE seq = 1`)
		}, ProblemMissing, 1},
		{"last entry deleted", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_entry WHERE seq = 20`)
		}, ProblemMissing, 20},
		{"tail cut and head rewound", func(t *testing.T, d *db.DB) {
			// The last five entries are deleted and the head row made to
			// agree: the chain is whole, but the signed checkpoint of 20
			// entries says there were more.
			e15 := entry(t, d, 15)
			exec(t, d, `DELETE FROM audit_entry WHERE seq > 15`)
			exec(t, d, `UPDATE audit_head SET seq = ?, hash = ?`, 15, e15.Hash)
		}, ProblemMissing, 16},
		{"two entries swapped", func(t *testing.T, d *db.DB) {
			e5, e9 := entry(t, d, 5), entry(t, d, 9)
			rewrite(t, d, 5, e9)
			rewrite(t, d, 9, e5)
		}, ProblemReordered, 5},
		{"neighbours swapped", func(t *testing.T, d *db.DB) {
			e5, e6 := entry(t, d, 5), entry(t, d, 6)
			rewrite(t, d, 5, e6)
			rewrite(t, d, 6, e5)
		}, ProblemReordered, 5},
		{"entry replaced by a copy of another", func(t *testing.T, d *db.DB) {
			rewrite(t, d, 8, entry(t, d, 2))
		}, ProblemAltered, 8},
		{"chain rewritten without the key", func(t *testing.T, d *db.DB) {
			// The attacker changes entry 4 and recomputes every hash after it:
			// the chain holds, the signed checkpoint of 10 entries does not.
			prev := entry(t, d, 3).Hash
			for seq := int64(4); seq <= 20; seq++ {
				e := entry(t, d, seq)
				if seq == 4 {
					e.Detail = "nothing to see"
				}
				e.PrevHash = prev
				sum, _ := e.computeHash(nil)
				e.Hash = sum[:]
				rewrite(t, d, seq, e)
				prev = e.Hash
			}
			exec(t, d, `UPDATE audit_head SET hash = ?`, prev)
		}, ProblemCheckpoint, 10},
		{"checkpoint signature altered", func(t *testing.T, d *db.DB) {
			var sig []byte
			d.QueryRow(context.Background(), `SELECT sig FROM audit_checkpoint WHERE size = 10`).Scan(&sig)
			sig[0] ^= 1
			exec(t, d, `UPDATE audit_checkpoint SET sig = ? WHERE size = 10`, sig)
		}, ProblemCheckpoint, 10},
		{"checkpoint root altered", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_checkpoint SET root = hash FROM audit_checkpoint AS c0, audit_entry WHERE audit_entry.seq = 1 AND audit_checkpoint.size = 20`)
		}, ProblemCheckpoint, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				j := newJournal(t, d)
				fill(t, j, 10)
				mustCheckpoint(t, j)
				fill(t, j, 10)
				mustCheckpoint(t, j)
				if rep := mustVerify(t, j); !rep.OK || rep.Entries != 20 || rep.Checkpoints != 2 {
					t.Fatalf("before tampering: %+v, want OK, 20 entries, 2 checkpoints", rep)
				}
				tc.tamper(t, d)
				rep := mustVerify(t, j)
				if rep.OK || rep.Problem != tc.problem || rep.BadSeq != tc.seq {
					t.Fatalf("verify = {OK:%v Problem:%q BadSeq:%d Message:%q}, want problem %q at %d",
						rep.OK, rep.Problem, rep.BadSeq, rep.Message, tc.problem, tc.seq)
				}
				if !strings.Contains(rep.Message, itoa(tc.seq)) {
					t.Errorf("message %q does not name %d", rep.Message, tc.seq)
				}
				last, err := lastVerification(context.Background(), d)
				if err != nil || last == nil || last.OK || last.BadSeq != tc.seq {
					t.Errorf("saved verification = %+v, %v; want the failure at %d", last, err, tc.seq)
				}
			})
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCheckpointOnlyWhenGrown(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		j := newJournal(t, d)
		if cp := mustCheckpoint(t, j); cp != nil {
			t.Errorf("checkpoint of an empty journal = %+v, want none", cp)
		}
		fill(t, j, 3)
		cp := mustCheckpoint(t, j)
		if cp == nil || cp.Size != 3 {
			t.Fatalf("checkpoint = %+v, want size 3", cp)
		}
		if again := mustCheckpoint(t, j); again != nil {
			t.Errorf("second checkpoint without new entries = %+v, want none", again)
		}
		fill(t, j, 2)
		if cp := mustCheckpoint(t, j); cp == nil || cp.Size != 5 {
			t.Errorf("checkpoint = %+v, want size 5", cp)
		}
	})
}

func TestCheckpointRefusesBrokenChain(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	j := newJournal(t, d)
	fill(t, j, 5)
	exec(t, d, `UPDATE audit_entry SET detail = 'x' WHERE seq = 4`)
	if _, err := j.Checkpoint(context.Background()); err == nil || !strings.Contains(err.Error(), "entry 4") {
		t.Errorf("checkpoint over an altered entry = %v, want a refusal naming entry 4", err)
	}
}

func TestPurgeKeepsVerification(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		j := newJournal(t, d)
		fill(t, j, 10)       // at 10:00:01 .. 10:00:10
		mustCheckpoint(t, j) // 10:00:11
		fill(t, j, 10)       // 10:00:12 .. 10:00:21
		mustCheckpoint(t, j)
		cut := time.Date(2026, 1, 15, 10, 0, 14, 0, time.UTC) // entries 1..12 are older
		n, err := j.Purge(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		if n != 12 {
			t.Errorf("purged %d entries, want 12", n)
		}
		rep := mustVerify(t, j)
		// 8 remaining + the purge's own entry; checkpoint 20 still checked.
		if !rep.OK || rep.AnchorSeq != 12 || rep.Entries != 9 || rep.Checkpoints != 1 {
			t.Errorf("verify after purge = %+v, want OK from anchor 12, 9 entries, 1 checkpoint", rep)
		}
		purge := entry(t, d, 21)
		if purge.Object != "journal" || purge.Action != "erase" || !strings.Contains(purge.Detail, "1 to 12") {
			t.Errorf("purge entry = %+v, want the purge journaled", purge)
		}
		// A second purge of the same period does nothing more.
		if n, err := j.Purge(ctx, cut); err != nil || n != 0 {
			t.Errorf("purge again = %d, %v; want 0, nil", n, err)
		}
		// Checkpoints go on from the anchor.
		fill(t, j, 3)
		if cp := mustCheckpoint(t, j); cp == nil || cp.Size != 24 {
			t.Errorf("checkpoint after purge = %+v, want size 24", cp)
		}
		if rep := mustVerify(t, j); !rep.OK || rep.Checkpoints != 2 {
			t.Errorf("verify = %+v, want OK with 2 checkpoints", rep)
		}
		// A forged anchor is named.
		exec(t, d, `UPDATE audit_anchor SET seq = 11`)
		if rep := mustVerify(t, j); rep.OK || rep.Problem != ProblemAnchor {
			t.Errorf("verify with a forged anchor = %+v, want problem %q", rep, ProblemAnchor)
		}
	})
}

func TestPurgeRefusesBrokenJournal(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	j := newJournal(t, d)
	fill(t, j, 10)
	exec(t, d, `UPDATE audit_entry SET detail = 'x' WHERE seq = 4`)
	_, err := j.Purge(context.Background(), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "Entry 4") {
		t.Errorf("purge of a broken journal = %v, want a refusal naming entry 4", err)
	}
	if n, _ := countEntries(context.Background(), d, 0); n != 10 {
		t.Errorf("entries = %d, want all 10 kept", n)
	}
}
