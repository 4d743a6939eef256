package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"vigie/internal/db"
)

// entryCols is the column list of audit_entry, in the order scanEntry reads.
const entryCols = `seq, at, actor_id, actor_login, actor_role, actor_unit, actor_dept, ip, request_id,
	action, object, object_id, dept, unit_id, motif, detail, prev_hash, hash`

type scanner interface{ Scan(dest ...any) error }

func scanEntry(s scanner, e *Entry) error {
	var at int64
	if err := s.Scan(&e.Seq, &at, &e.ActorID, &e.ActorLogin, &e.ActorRole, &e.ActorUnit, &e.ActorDept,
		&e.IP, &e.RequestID, &e.Action, &e.Object, &e.ObjectID, &e.Dept, &e.UnitID, &e.Motif, &e.Detail,
		&e.PrevHash, &e.Hash); err != nil {
		return err
	}
	e.At = db.Time(at)
	return nil
}

func insertEntry(ctx context.Context, tx *db.Tx, e *Entry) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit_entry (`+entryCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, db.Millis(e.At), e.ActorID, e.ActorLogin, e.ActorRole, e.ActorUnit, e.ActorDept,
		e.IP, e.RequestID, e.Action, e.Object, e.ObjectID, e.Dept, e.UnitID, e.Motif, e.Detail,
		e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: insert entry %d: %w", e.Seq, err)
	}
	return nil
}

// lockHeadSQL is dialect-only SQL: PostgreSQL locks the head row until the
// transaction ends; SQLite's write transaction already excludes writers.
func lockHeadSQL(d db.Dialect) string {
	if d == db.Postgres {
		return `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`
	}
	return `SELECT seq, hash FROM audit_head WHERE id = 1`
}

func lockHead(ctx context.Context, tx *db.Tx) (seq int64, hash []byte, err error) {
	if err := tx.QueryRow(ctx, lockHeadSQL(tx.Dialect)).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("audit: lock head: %w", err)
	}
	return seq, hash, nil
}

func readHead(ctx context.Context, d *db.DB) (seq int64, hash []byte, err error) {
	if err := d.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("audit: read head: %w", err)
	}
	return seq, hash, nil
}

func setHead(ctx context.Context, tx *db.Tx, seq int64, hash []byte) error {
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, hash); err != nil {
		return fmt.Errorf("audit: set head: %w", err)
	}
	return nil
}

// advanceHeadIf moves the head from (seq, hash) to (newSeq, newHash) when it
// is still there; the UPDATE takes the row lock, so on PostgreSQL a
// concurrent append makes it wait, then match nothing.
func advanceHeadIf(ctx context.Context, tx *db.Tx, seq int64, hash []byte, newSeq int64, newHash []byte) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?`,
		newSeq, newHash, seq, hash)
	if err != nil {
		return false, fmt.Errorf("audit: advance head: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("audit: advance head: %w", err)
	}
	return n == 1, nil
}

// where builds the WHERE clause of a search.
func (q Query) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds = append(conds, cond); args = append(args, arg) }
	if q.Actor != "" {
		add("actor_login = ?", q.Actor)
	}
	if q.ActorID != 0 {
		add("actor_id = ?", q.ActorID)
	}
	if q.Object != "" {
		add("object = ?", q.Object)
	}
	if q.ObjectID != "" {
		add("object_id = ?", q.ObjectID)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Motif != "" {
		add("motif = ?", q.Motif)
	}
	if q.Dept != "" {
		add("dept = ?", q.Dept)
	}
	if q.UnitID != 0 {
		add("unit_id = ?", q.UnitID)
	}
	if !q.From.IsZero() {
		add("at >= ?", db.Millis(q.From))
	}
	if !q.To.IsZero() {
		add("at < ?", db.Millis(q.To))
	}
	if q.Before > 0 {
		add("seq < ?", q.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// search returns up to limit entries matching q, newest first.
func search(ctx context.Context, d *db.DB, q Query, limit int, each func(*Entry) error) error {
	w, args := q.where()
	query := `SELECT ` + entryCols + ` FROM audit_entry` + w + ` ORDER BY seq DESC`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := d.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("audit: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		if err := scanEntry(rows, &e); err != nil {
			return fmt.Errorf("audit: search: %w", err)
		}
		if err := each(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: search: %w", err)
	}
	return nil
}

func getEntry(ctx context.Context, d *db.DB, seq int64) (*Entry, error) {
	var e Entry
	err := scanEntry(d.QueryRow(ctx, `SELECT `+entryCols+` FROM audit_entry WHERE seq = ?`, seq), &e)
	if err != nil {
		return nil, db.NotFound("audit.Entry", err)
	}
	return &e, nil
}

// streamEntries calls each for every entry with from < seq <= to, in seq
// order (to <= 0: no upper bound). e is reused between calls.
func streamEntries(ctx context.Context, d *db.DB, from, to int64, each func(*Entry) error) error {
	q, args := `SELECT `+entryCols+` FROM audit_entry WHERE seq > ?`, []any{from}
	if to > 0 {
		q += ` AND seq <= ?`
		args = append(args, to)
	}
	rows, err := d.Query(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("audit: read entries: %w", err)
	}
	defer rows.Close()
	var e Entry
	for rows.Next() {
		if err := scanEntry(rows, &e); err != nil {
			return fmt.Errorf("audit: read entries: %w", err)
		}
		if err := each(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: read entries: %w", err)
	}
	return nil
}

// successorOf returns the seq of the entry whose prev_hash is hash, 0 if
// none. It scans the table; Verify calls it once, after finding a problem.
func successorOf(ctx context.Context, d *db.DB, hash []byte) (int64, error) {
	var seq int64
	err := d.QueryRow(ctx, `SELECT seq FROM audit_entry WHERE prev_hash = ? ORDER BY seq LIMIT 1`, hash).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: find successor: %w", err)
	}
	return seq, nil
}

func countEntries(ctx context.Context, d *db.DB, after int64) (int64, error) {
	var n int64
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE seq > ?`, after).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: count: %w", err)
	}
	return n, nil
}

const checkpointCols = `size, root, at, key_id, sig, range_hashes`

func scanCheckpoint(s scanner) (*Checkpoint, error) {
	var cp Checkpoint
	var at int64
	var rh []byte
	if err := s.Scan(&cp.Size, &cp.Root, &at, &cp.KeyID, &cp.Sig, &rh); err != nil {
		return nil, err
	}
	cp.At = db.Time(at)
	hs, err := splitHashes(rh)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint %d: %w", cp.Size, err)
	}
	cp.rangeHashes = hs
	return &cp, nil
}

func lastCheckpoint(ctx context.Context, d *db.DB) (*Checkpoint, error) {
	cp, err := scanCheckpoint(d.QueryRow(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoint ORDER BY size DESC LIMIT 1`))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: last checkpoint: %w", err)
	}
	return cp, nil
}

// checkpointsAfter returns up to limit checkpoints of size > after, by size.
func checkpointsAfter(ctx context.Context, d *db.DB, after int64, limit int) ([]*Checkpoint, error) {
	rows, err := d.Query(ctx, `SELECT `+checkpointCols+` FROM audit_checkpoint WHERE size > ? ORDER BY size LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	defer rows.Close()
	var cps []*Checkpoint
	for rows.Next() {
		cp, err := scanCheckpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoints: %w", err)
		}
		cps = append(cps, cp)
	}
	return cps, rows.Err()
}

func insertCheckpoint(ctx context.Context, d *db.DB, cp *Checkpoint) error {
	_, err := d.Exec(ctx, `INSERT INTO audit_checkpoint (`+checkpointCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		cp.Size, cp.Root, db.Millis(cp.At), cp.KeyID, cp.Sig, joinHashes(cp.rangeHashes))
	if err != nil {
		return fmt.Errorf("audit: insert checkpoint %d: %w", cp.Size, err)
	}
	return nil
}

// anchor is where verification starts after a purge.
type anchor struct {
	Seq         int64
	Hash        []byte
	At          time.Time
	Before      time.Time
	KeyID       string
	Sig         []byte
	rangeHashes [][]byte
}

func readAnchor(ctx context.Context, d *db.DB) (*anchor, error) {
	var a anchor
	var at, before int64
	var rh []byte
	err := d.QueryRow(ctx, `SELECT seq, hash, range_hashes, at, before_at, key_id, sig FROM audit_anchor WHERE id = 1`).
		Scan(&a.Seq, &a.Hash, &rh, &at, &before, &a.KeyID, &a.Sig)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read anchor: %w", err)
	}
	a.At, a.Before = db.Time(at), db.Time(before)
	if a.rangeHashes, err = splitHashes(rh); err != nil {
		return nil, fmt.Errorf("audit: anchor: %w", err)
	}
	return &a, nil
}

// moveAnchor replaces the anchor at oldSeq (0: none yet) by a; it reports
// false when another process moved it first.
func moveAnchor(ctx context.Context, tx *db.Tx, oldSeq int64, a *anchor) (bool, error) {
	if oldSeq == 0 {
		_, err := tx.Exec(ctx, `INSERT INTO audit_anchor (id, seq, hash, range_hashes, at, before_at, key_id, sig)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?)`, a.Seq, a.Hash, joinHashes(a.rangeHashes), db.Millis(a.At), db.Millis(a.Before), a.KeyID, a.Sig)
		if db.IsUniqueViolation(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("audit: write anchor: %w", err)
		}
		return true, nil
	}
	res, err := tx.Exec(ctx, `UPDATE audit_anchor SET seq = ?, hash = ?, range_hashes = ?, at = ?, before_at = ?, key_id = ?, sig = ?
		WHERE id = 1 AND seq = ?`, a.Seq, a.Hash, joinHashes(a.rangeHashes), db.Millis(a.At), db.Millis(a.Before), a.KeyID, a.Sig, oldSeq)
	if err != nil {
		return false, fmt.Errorf("audit: move anchor: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// lastSeqBefore returns the highest seq written before t (0 if none).
func lastSeqBefore(ctx context.Context, d *db.DB, t time.Time) (int64, error) {
	var seq sql.NullInt64
	if err := d.QueryRow(ctx, `SELECT MAX(seq) FROM audit_entry WHERE at < ?`, db.Millis(t)).Scan(&seq); err != nil {
		return 0, fmt.Errorf("audit: purge cutoff: %w", err)
	}
	return seq.Int64, nil
}

// deletePurged deletes up to batch entries at or below seq, and the
// checkpoints below it; it returns how many entries it deleted.
func deletePurged(ctx context.Context, d *db.DB, seq int64, batch int) (int64, error) {
	var n int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM audit_entry WHERE seq IN (SELECT seq FROM audit_entry WHERE seq <= ? ORDER BY seq LIMIT ?)`, seq, batch)
		if err != nil {
			return fmt.Errorf("audit: purge: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_checkpoint WHERE size < ?`, seq); err != nil {
			return fmt.Errorf("audit: purge checkpoints: %w", err)
		}
		return nil
	})
	return n, err
}

func insertVerification(ctx context.Context, d *db.DB, r *Report) error {
	ok := 0
	if r.OK {
		ok = 1
	}
	_, err := d.Exec(ctx, `INSERT INTO audit_verification (at, ok, entries, checkpoints, bad_seq, problem, message, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, db.Millis(r.At), ok, r.Entries, r.Checkpoints, r.BadSeq, r.Problem, r.Message, r.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("audit: save verification: %w", err)
	}
	return nil
}

func lastVerification(ctx context.Context, d *db.DB) (*Report, error) {
	var r Report
	var at, dur int64
	var ok int
	err := d.QueryRow(ctx, `SELECT at, ok, entries, checkpoints, bad_seq, problem, message, duration_ms
		FROM audit_verification ORDER BY id DESC LIMIT 1`).Scan(&at, &ok, &r.Entries, &r.Checkpoints, &r.BadSeq, &r.Problem, &r.Message, &dur)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: last verification: %w", err)
	}
	r.At, r.OK, r.Duration = db.Time(at), ok == 1, time.Duration(dur)*time.Millisecond
	return &r, nil
}
