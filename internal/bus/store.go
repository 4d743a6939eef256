package bus

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"vigie/internal/db"
)

const (
	selectPending = `SELECT id, event_id, subject, payload, attempts, created_at FROM outbox
 WHERE sent_at = 0 AND next_try_at <= ? AND id > ? AND id <= ?
 ORDER BY id LIMIT ?`
	markFailed = `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try_at = ? WHERE id = ?`
	// markSent is completed with one "?" per id.
	markSent     = `UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE sent_at = 0 AND id IN (`
	purgeSent    = `DELETE FROM outbox WHERE sent_at > 0 AND sent_at < ?`
	countPending = `SELECT COUNT(*) FROM outbox WHERE sent_at = 0`
	maxPending   = `SELECT COALESCE(MAX(id), 0) FROM outbox WHERE sent_at = 0`
)

// claimPending is selectPending for a relay that must not share rows with
// the relays of other replicas: on PostgreSQL it locks the rows it takes and
// skips the ones another relay holds. SQLite has a single writer per file,
// so one relay per database is the deployment rule there.
func claimPending(d db.Dialect) string {
	if d == db.Postgres {
		return selectPending + " FOR UPDATE SKIP LOCKED"
	}
	return selectPending
}

type outboxRow struct {
	id        int64
	eventID   string
	subject   string
	payload   []byte
	attempts  int
	createdAt int64
}

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func readPending(ctx context.Context, q querier, query string, after, upTo, due int64, limit int) ([]outboxRow, error) {
	rows, err := q.Query(ctx, query, due, after, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("select pending: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var o outboxRow
		if err := rows.Scan(&o.id, &o.eventID, &o.subject, &o.payload, &o.attempts, &o.createdAt); err != nil {
			return nil, fmt.Errorf("scan pending: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select pending: %w", err)
	}
	return out, nil
}

// cycleResult says what one cycle did.
type cycleResult struct {
	rows   int   // rows taken
	failed int   // rows the bus refused
	lastID int64 // highest id taken
}

// cycle relays up to one batch of rows with after < id <= upTo whose
// next_try_at <= due. It fails as a whole when the database fails or when
// the bus refused every row (the bus is likely down).
func (r *Relay) cycle(ctx context.Context, after, upTo, due int64) (cycleResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A cycle is not interrupted half-way: rows published must be marked,
	// or the next relay sends them again. Cancelling ctx stops the loop
	// between cycles; a cycle ends within its timeouts.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var res cycleResult
	var firstErr error
	run := func(q querier, mark func(func(*db.Tx) error) error) error {
		rows, err := readPending(ctx, q, claimPending(r.db.Dialect), after, upTo, due, r.cfg.Batch)
		if err != nil || len(rows) == 0 {
			return err
		}
		res.rows, res.lastID = len(rows), rows[len(rows)-1].id
		msgs := make([]Message, len(rows))
		for i, o := range rows {
			msgs[i] = Message{Subject: o.subject, ID: o.eventID, Payload: o.payload}
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		results := r.bus.PublishBatch(pctx, msgs)
		cancel()
		return mark(func(tx *db.Tx) error {
			var err error
			res.failed, firstErr, err = r.mark(ctx, tx, rows, results)
			return err
		})
	}
	var err error
	if r.db.Dialect == db.Postgres {
		// The row locks live as long as the transaction: publish inside it.
		err = r.db.InTx(ctx, func(tx *db.Tx) error {
			return run(tx, func(f func(*db.Tx) error) error { return f(tx) })
		})
	} else {
		// SQLite takes the write lock at BEGIN: read and publish outside any
		// transaction so that other writers never wait for the bus.
		err = run(r.db, func(f func(*db.Tx) error) error { return r.db.InTx(ctx, f) })
	}
	if err != nil {
		r.errs.Inc()
		return res, fmt.Errorf("relay outbox: %w", err)
	}
	if res.rows > 0 && res.failed == res.rows {
		return res, fmt.Errorf("the bus refused all %d events: %w", res.rows, firstErr)
	}
	return res, nil
}

// mark records the outcome of a publish: acknowledged rows are sent, the
// others get an error and a later try. It returns the number of failures and
// the first publish error.
func (r *Relay) mark(ctx context.Context, tx *db.Tx, rows []outboxRow, results []PublishResult) (int, error, error) {
	now := r.cfg.Now()
	ms := db.Millis(now)
	args := []any{ms}
	var failed int
	var firstErr error
	for i, o := range rows {
		if err := results[i].Err; err != nil {
			failed++
			r.errs.Inc()
			if firstErr == nil {
				firstErr = err
			}
			next := db.Millis(now.Add(retryDelay(o.attempts + 1)))
			if _, err := tx.Exec(ctx, markFailed, truncate(err.Error(), 500), next, o.id); err != nil {
				return failed, firstErr, err
			}
			continue
		}
		args = append(args, o.id)
		r.lag.Observe(max(0, now.Sub(db.Time(o.createdAt)).Seconds()))
	}
	if n := len(args) - 1; n > 0 {
		q := markSent + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return failed, firstErr, err
		}
		r.published.Add(float64(n))
	}
	return failed, firstErr, nil
}

// purge deletes rows sent before cutoff.
func (r *Relay) purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := r.db.Exec(ctx, purgeSent, db.Millis(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	return res.RowsAffected()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary: PostgreSQL rejects invalid UTF-8 in TEXT.
	return strings.ToValidUTF8(s[:n], "")
}
