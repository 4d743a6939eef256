package shield

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"vigie/internal/db"
)

type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

type scanner interface{ Scan(dest ...any) error }

const banCols = "id, prefix, reason, origin, level, alert_id, created_by, created_at, expires_at, lifted_at, lifted_by"

func scanBan(s scanner) (Ban, error) {
	var b Ban
	var prefix string
	var created, expires, lifted int64
	if err := s.Scan(&b.ID, &prefix, &b.Reason, &b.Origin, &b.Level, &b.AlertID, &b.CreatedBy, &created, &expires, &lifted, &b.LiftedBy); err != nil {
		return Ban{}, err
	}
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return Ban{}, fmt.Errorf("shield: ban %d: stored prefix %q: %w", b.ID, prefix, err)
	}
	b.Prefix, b.CreatedAt, b.ExpiresAt, b.LiftedAt = p, db.Time(created), db.Time(expires), db.Time(lifted)
	return b, nil
}

func queryBans(ctx context.Context, q querier, query string, args ...any) ([]Ban, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("shield: bans: %w", err)
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		b, err := scanBan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func activeBans(ctx context.Context, q querier, now time.Time) ([]Ban, error) {
	return queryBans(ctx, q, "SELECT "+banCols+" FROM shield_ban WHERE lifted_at = 0 AND expires_at > ? ORDER BY id", db.Millis(now))
}

func recentBans(ctx context.Context, q querier, limit int) ([]Ban, error) {
	return queryBans(ctx, q, "SELECT "+banCols+" FROM shield_ban ORDER BY id DESC LIMIT ?", limit)
}

func banByID(ctx context.Context, q querier, id int64) (Ban, error) {
	b, err := scanBan(q.QueryRow(ctx, "SELECT "+banCols+" FROM shield_ban WHERE id = ?", id))
	if err != nil {
		return Ban{}, db.NotFound("shield.Ban", err)
	}
	return b, nil
}

// bansSince counts the bans of prefix created since t (escalation). A ban
// lifted by hand was a mistake and does not count.
func bansSince(ctx context.Context, q querier, prefix netip.Prefix, t time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM shield_ban WHERE prefix = ? AND created_at >= ? AND lifted_at = 0", prefix.String(), db.Millis(t)).Scan(&n)
	return n, err
}

func activeBanOn(ctx context.Context, q querier, prefix netip.Prefix, now time.Time) (Ban, bool, error) {
	bs, err := queryBans(ctx, q, "SELECT "+banCols+" FROM shield_ban WHERE prefix = ? AND lifted_at = 0 AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
		prefix.String(), db.Millis(now))
	if err != nil || len(bs) == 0 {
		return Ban{}, false, err
	}
	return bs[0], true, nil
}

func insertBan(ctx context.Context, tx *db.Tx, b *Ban) error {
	err := tx.QueryRow(ctx, `INSERT INTO shield_ban (prefix, reason, origin, level, alert_id, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		b.Prefix.String(), b.Reason, b.Origin, b.Level, b.AlertID, b.CreatedBy, db.Millis(b.CreatedAt), db.Millis(b.ExpiresAt)).Scan(&b.ID)
	if err != nil {
		return fmt.Errorf("shield: insert ban: %w", err)
	}
	return bumpVersion(ctx, tx)
}

func liftBan(ctx context.Context, tx *db.Tx, id int64, by string, now time.Time) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE shield_ban SET lifted_at = ?, lifted_by = ? WHERE id = ? AND lifted_at = 0 AND expires_at > ?",
		db.Millis(now), by, id, db.Millis(now))
	if err != nil {
		return false, fmt.Errorf("shield: lift ban %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return false, nil
	}
	return true, bumpVersion(ctx, tx)
}

func bumpVersion(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.Exec(ctx, "UPDATE shield_version SET n = n + 1 WHERE id = 1"); err != nil {
		return fmt.Errorf("shield: bump version: %w", err)
	}
	return nil
}

func readVersion(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, "SELECT n FROM shield_version WHERE id = 1").Scan(&n)
	return n, err
}

// purgeBans deletes bans that ended before t (they no longer escalate).
func purgeBans(ctx context.Context, q querier, t time.Time) (int64, error) {
	res, err := q.Exec(ctx, "DELETE FROM shield_ban WHERE expires_at < ? OR (lifted_at <> 0 AND lifted_at < ?)", db.Millis(t), db.Millis(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- alerts ----

const alertCols = "id, kind, severity, subject, summary, dept, unit_id, evidence, hits, first_at, last_at, status, ack_by, ack_at, ack_comment, closed_by, closed_at"

func scanAlert(s scanner) (Alert, error) {
	var a Alert
	var first, last, ack, closed int64
	err := s.Scan(&a.ID, &a.Kind, &a.Severity, &a.Subject, &a.Summary, &a.Dept, &a.UnitID, &a.Evidence, &a.Hits,
		&first, &last, &a.Status, &a.AckBy, &ack, &a.AckComment, &a.ClosedBy, &closed)
	a.FirstAt, a.LastAt, a.AckAt, a.ClosedAt = db.Time(first), db.Time(last), db.Time(ack), db.Time(closed)
	return a, err
}

func queryAlerts(ctx context.Context, q querier, query string, args ...any) ([]Alert, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("shield: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func alertByID(ctx context.Context, q querier, id int64) (Alert, error) {
	a, err := scanAlert(q.QueryRow(ctx, "SELECT "+alertCols+" FROM shield_alert WHERE id = ?", id))
	if err != nil {
		return Alert{}, db.NotFound("shield.Alert", err)
	}
	return a, nil
}

// upsertAlert grows the open alert of f.Key, or opens one. It reports the
// alert id and whether it is new.
func upsertAlert(ctx context.Context, tx *db.Tx, f Finding, evidence string, hits int) (int64, bool, error) {
	at := db.Millis(f.At)
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM shield_alert WHERE open_key = ?", f.Key).Scan(&id)
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE shield_alert SET hits = hits + ?, last_at = CASE WHEN last_at < ? THEN ? ELSE last_at END,
			evidence = ?, summary = ?, severity = ? WHERE id = ?`, hits, at, at, evidence, f.Summary, f.Severity, id)
		if err != nil {
			return 0, false, fmt.Errorf("shield: grow alert %d: %w", id, err)
		}
		return id, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, false, fmt.Errorf("shield: find alert: %w", err)
	}
	if f.Once {
		var closed int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM shield_alert WHERE dedup_key = ?", f.Key).Scan(&closed); err != nil {
			return 0, false, fmt.Errorf("shield: find alert: %w", err)
		}
		if closed > 0 {
			return 0, false, nil
		}
	}
	err = tx.QueryRow(ctx, `INSERT INTO shield_alert (open_key, dedup_key, kind, severity, subject, summary, dept, unit_id, evidence, hits, first_at, last_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.Key, f.Key, f.Kind, f.Severity, clip(f.Subject, 200), clip(f.Summary, 500), f.Dept, f.UnitID, evidence, hits, at, at).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("shield: open alert: %w", err)
	}
	return id, true, nil
}

func insertEvents(ctx context.Context, tx *db.Tx, evs []Event) error {
	for _, e := range evs {
		if _, err := tx.Exec(ctx, "INSERT INTO shield_event (at, kind, source, rule, path, detail) VALUES (?, ?, ?, ?, ?, ?)",
			db.Millis(e.At), e.Kind, clip(e.Source, 64), clip(e.Rule, 100), clip(e.Path, 200), clip(e.Detail, 500)); err != nil {
			return fmt.Errorf("shield: insert event: %w", err)
		}
	}
	return nil
}

// takeLease gives the named lease to holder until `until` when it is free,
// expired or already theirs; it reports whether holder has it, and the
// cursor stored with it.
func takeLease(ctx context.Context, d *db.DB, name, holder string, now, until time.Time) (bool, int64, error) {
	var got bool
	var cursor int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE shield_lease SET holder = ?, until = ? WHERE name = ? AND (holder = ? OR until < ?)",
			holder, db.Millis(until), name, holder, db.Millis(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM shield_lease WHERE name = ?", name).Scan(&exists); err != nil {
				return err
			}
			if exists > 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, "INSERT INTO shield_lease (name, holder, until, cursor) VALUES (?, ?, ?, 0)", name, holder, db.Millis(until)); err != nil {
				if db.IsUniqueViolation(err) {
					return nil
				}
				return err
			}
		}
		got = true
		return tx.QueryRow(ctx, "SELECT cursor FROM shield_lease WHERE name = ?", name).Scan(&cursor)
	})
	if err != nil {
		return false, 0, fmt.Errorf("shield: lease %s: %w", name, err)
	}
	return got, cursor, nil
}

func saveCursor(ctx context.Context, d *db.DB, name, holder string, cursor int64) error {
	_, err := d.Exec(ctx, "UPDATE shield_lease SET cursor = ? WHERE name = ? AND holder = ?", cursor, name, holder)
	return err
}
