package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"vigie"
	"vigie/internal/db"
)

// DefaultRetention is how long entries are kept unless configured: three
// years, the usual retention of consultation traces of police files.
const DefaultRetention = 3 * 365 * 24 * time.Hour

// Purge deletes the entries written before before, keeping the journal
// verifiable: it first checks the entries it is about to delete (it refuses
// to purge a broken journal, which would erase the evidence), then writes a
// signed anchor (seq and hash of the last purged entry, compact Merkle range
// up to it) and journals the purge, in one transaction; then it deletes in
// small batches so that writers are never blocked for long. A crash between
// the two steps leaves old entries that the next purge deletes; Verify
// starts at the anchor either way. It returns how many entries it deleted.
func (j *Journal) Purge(ctx context.Context, before time.Time) (int64, error) {
	const op = "audit.Purge"
	k, err := lastSeqBefore(ctx, j.db, before)
	if err != nil {
		return 0, err
	}
	old, err := readAnchor(ctx, j.db)
	if err != nil {
		return 0, err
	}
	var oldSeq int64
	if old != nil {
		oldSeq = old.Seq
	}
	if k > oldSeq {
		var rep Report
		st, err := j.walk(ctx, k, nil, &rep)
		if err != nil {
			return 0, err
		}
		if !rep.OK {
			return 0, vigie.E(vigie.KindConflict, op, "The journal fails verification; nothing was purged. "+rep.Message, nil)
		}
		a := &anchor{Seq: k, Hash: st.last, At: j.now().Truncate(time.Millisecond).UTC(),
			Before: before.Truncate(time.Millisecond).UTC(), KeyID: j.keyID, rangeHashes: st.rng.Hashes()}
		a.Sig = ed25519.Sign(j.key, anchorMessage(a))
		err = j.db.InTx(ctx, func(tx *db.Tx) error {
			moved, err := moveAnchor(ctx, tx, oldSeq, a)
			if err != nil || !moved {
				return err
			}
			return j.Record(ctx, tx, vigie.Record{Action: vigie.ActErase, Object: "journal",
				Detail: fmt.Sprintf("purged entries %d to %d, written before %s", oldSeq+1, k, before.UTC().Format(time.RFC3339))})
		})
		if err != nil {
			return 0, err
		}
		oldSeq = k
	}
	// Delete up to the anchor (also what an interrupted purge left).
	var total int64
	for {
		n, err := deletePurged(ctx, j.db, oldSeq, 5000)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
	}
}

// RunPurge purges entries older than retention every interval until ctx
// ends. main starts it in a goroutine.
func (j *Journal) RunPurge(ctx context.Context, retention, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	// The first purge runs a minute after start, not a full period later:
	// servers restarted more often than every period must still purge.
	first := time.NewTimer(time.Minute)
	defer first.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		case <-t.C:
		}
		if n, err := j.Purge(ctx, j.now().Add(-retention)); err != nil {
			j.log.Error("audit: purge failed", "err", err)
		} else if n > 0 {
			j.log.Info("audit: purged", "entries", n)
		}
	}
}
