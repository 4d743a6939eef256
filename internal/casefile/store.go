package casefile

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"vigie/internal/db"
)

// querier is what both *db.DB and *db.Tx offer.
type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// nextSeq gives the next sequence number of a unit's cases in a year. The
// upsert takes the row lock, so two transactions never get the same number.
func nextSeq(ctx context.Context, tx *db.Tx, unit int64, year int) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `INSERT INTO case_seq (unit_id, year, last) VALUES (?, ?, 1)
		ON CONFLICT (unit_id, year) DO UPDATE SET last = case_seq.last + 1 RETURNING last`, unit, year).Scan(&n)
	return n, err
}

func insertCase(ctx context.Context, tx *db.Tx, c *Case) error {
	return tx.QueryRow(ctx, `INSERT INTO cases (number, dept, unit_id, complaint_id, complaint_no, status, category,
		priority, title, narrative, facts_from, facts_to, place_address, place_insee, lat, lon, submitted_at, created_by,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
		c.Number, c.Dept, c.UnitID, c.ComplaintID, c.ComplaintNo, string(c.Status), c.Category, c.Priority, c.Title,
		c.Narrative, db.Millis(c.FactsFrom), db.Millis(c.FactsTo), c.Place.Address, c.Place.INSEE, c.Place.Lat,
		c.Place.Lon, db.Millis(c.SubmittedAt), c.CreatedBy, db.Millis(c.CreatedAt), db.Millis(c.UpdatedAt)).Scan(&c.ID)
}

const caseCols = `id, number, dept, unit_id, complaint_id, complaint_no, status, category, priority, title, narrative,
	facts_from, facts_to, place_address, place_insee, lat, lon, submitted_at, created_by, created_at, updated_at,
	closed_at, version`

type scanner interface{ Scan(dest ...any) error }

func scanCase(s scanner) (Case, error) {
	var c Case
	var status string
	var from, to, sub, created, updated, closed int64
	err := s.Scan(&c.ID, &c.Number, &c.Dept, &c.UnitID, &c.ComplaintID, &c.ComplaintNo, &status, &c.Category,
		&c.Priority, &c.Title, &c.Narrative, &from, &to, &c.Place.Address, &c.Place.INSEE, &c.Place.Lat, &c.Place.Lon,
		&sub, &c.CreatedBy, &created, &updated, &closed, &c.Version)
	c.Status = Status(status)
	c.FactsFrom, c.FactsTo, c.SubmittedAt = db.Time(from), db.Time(to), db.Time(sub)
	c.CreatedAt, c.UpdatedAt, c.ClosedAt = db.Time(created), db.Time(updated), db.Time(closed)
	return c, err
}

func getCase(ctx context.Context, q querier, id int64) (Case, error) {
	c, err := scanCase(q.QueryRow(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
	if err != nil {
		return Case{}, db.NotFound("casefile.Get", err)
	}
	return c, nil
}

// Filter selects cases in a listing.
type Filter struct {
	Units  []int64 // the units whose cases to list (the reader's scope)
	Status Status  // "" for all
	Limit  int     // at most 500
	Offset int
}

// listCases lists the cases of f.Units, most recently changed first. Each
// unit is read through its own index range (unit_id, updated_at) and the
// pages are merged here: one query over all the units would sort every
// case of a compagnie to return a hundred.
func listCases(ctx context.Context, q querier, f Filter) ([]Case, error) {
	if len(f.Units) == 0 {
		return nil, nil
	}
	k := f.Offset + f.Limit
	var all []Case
	for _, u := range f.Units {
		query := `SELECT ` + caseCols + ` FROM cases WHERE unit_id = ?`
		args := []any{u}
		if f.Status != "" {
			query += ` AND status = ?`
			args = append(args, string(f.Status))
		}
		query += ` ORDER BY updated_at DESC, id DESC LIMIT ?`
		args = append(args, k)
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			all = append(all, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(all, func(a, b Case) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if f.Offset >= len(all) {
		return nil, nil
	}
	return all[f.Offset:min(len(all), k)], nil
}

// setStatus moves a case from one status to another if nobody changed it
// in between (version), and reports whether it did.
func setStatus(ctx context.Context, tx *db.Tx, c Case, to Status, now time.Time) (bool, error) {
	closed := int64(0)
	if to == StatusClosed {
		closed = db.Millis(now)
	}
	res, err := tx.Exec(ctx, `UPDATE cases SET status = ?, updated_at = ?, closed_at = ?, version = version + 1
		WHERE id = ? AND status = ? AND version = ?`, string(to), db.Millis(now), closed, c.ID, string(c.Status), c.Version)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func setClassification(ctx context.Context, tx *db.Tx, id int64, category, priority string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE cases SET category = ?, priority = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		category, priority, db.Millis(now), id)
	return err
}

func touchCase(ctx context.Context, tx *db.Tx, id int64, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, db.Millis(now), id)
	return err
}

func insertParty(ctx context.Context, tx *db.Tx, p *Party, by int64) error {
	return tx.QueryRow(ctx, `INSERT INTO case_parties (case_id, role, name, birth_date, address, phone, email,
		account_id, details, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.CaseID, p.Role, p.Name, p.BirthDate, p.Address, p.Phone, p.Email, p.AccountID, p.Details, by,
		db.Millis(p.CreatedAt)).Scan(&p.ID)
}

func insertItem(ctx context.Context, tx *db.Tx, it *Item, by int64) error {
	return tx.QueryRow(ctx, `INSERT INTO case_items (case_id, kind, description, identifier, extra, amount_cents,
		occurred_on, iban, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		it.CaseID, it.Kind, it.Description, it.Identifier, it.Extra, it.AmountCents, it.Date, it.IBAN, by,
		db.Millis(it.CreatedAt)).Scan(&it.ID)
}

func insertDocument(ctx context.Context, tx *db.Tx, d *Document, by int64) error {
	return tx.QueryRow(ctx, `INSERT INTO case_documents (case_id, sha256, name, type, size, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.CaseID, d.SHA256, d.Name, d.Type, d.Size, by,
		db.Millis(d.CreatedAt)).Scan(&d.ID)
}

func insertTask(ctx context.Context, tx *db.Tx, t *Task, by int64) error {
	return tx.QueryRow(ctx, `INSERT INTO case_tasks (case_id, title, due_at, assignee_id, assignee, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.CaseID, t.Title, db.Millis(t.DueAt), t.AssigneeID, t.Assignee, by,
		db.Millis(t.CreatedAt)).Scan(&t.ID)
}

func completeTask(ctx context.Context, tx *db.Tx, caseID, taskID int64, now time.Time) (string, error) {
	var title string
	err := tx.QueryRow(ctx, `UPDATE case_tasks SET done_at = ? WHERE id = ? AND case_id = ? AND done_at = 0 RETURNING title`,
		db.Millis(now), taskID, caseID).Scan(&title)
	return title, err
}

func insertNote(ctx context.Context, tx *db.Tx, n *Note, by int64) error {
	return tx.QueryRow(ctx, `INSERT INTO case_notes (case_id, body, author, created_by, created_at) VALUES (?, ?, ?, ?, ?)
		RETURNING id`, n.CaseID, n.Body, n.Author, by, db.Millis(n.CreatedAt)).Scan(&n.ID)
}

func appendEvent(ctx context.Context, tx *db.Tx, caseID int64, at time.Time, actorID int64, actor, kind, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO case_timeline (case_id, at, actor_id, actor, kind, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		caseID, db.Millis(at), actorID, actor, kind, detail)
	return err
}

// loadDetail reads the parts of a case.
func loadDetail(ctx context.Context, q querier, d *Detail) error {
	id := d.Case.ID
	rows, err := q.Query(ctx, `SELECT id, role, name, birth_date, address, phone, email, account_id, details, created_at
		FROM case_parties WHERE case_id = ? ORDER BY id`, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		p := Party{CaseID: id}
		var at int64
		if err := rows.Scan(&p.ID, &p.Role, &p.Name, &p.BirthDate, &p.Address, &p.Phone, &p.Email, &p.AccountID,
			&p.Details, &at); err != nil {
			rows.Close()
			return err
		}
		p.CreatedAt = db.Time(at)
		d.Parties = append(d.Parties, p)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT id, kind, description, identifier, extra, amount_cents, occurred_on, iban, created_at
		FROM case_items WHERE case_id = ? ORDER BY id`, id); err != nil {
		return err
	}
	for rows.Next() {
		it := Item{CaseID: id}
		var at int64
		if err := rows.Scan(&it.ID, &it.Kind, &it.Description, &it.Identifier, &it.Extra, &it.AmountCents, &it.Date,
			&it.IBAN, &at); err != nil {
			rows.Close()
			return err
		}
		it.CreatedAt = db.Time(at)
		d.Items = append(d.Items, it)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT id, sha256, name, type, size, created_at FROM case_documents WHERE case_id = ? ORDER BY id`, id); err != nil {
		return err
	}
	for rows.Next() {
		doc := Document{CaseID: id}
		var at int64
		if err := rows.Scan(&doc.ID, &doc.SHA256, &doc.Name, &doc.Type, &doc.Size, &at); err != nil {
			rows.Close()
			return err
		}
		doc.CreatedAt = db.Time(at)
		d.Documents = append(d.Documents, doc)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT id, title, due_at, assignee_id, assignee, done_at, created_at FROM case_tasks
		WHERE case_id = ? ORDER BY done_at, due_at, id`, id); err != nil {
		return err
	}
	for rows.Next() {
		t := Task{CaseID: id}
		var due, done, at int64
		if err := rows.Scan(&t.ID, &t.Title, &due, &t.AssigneeID, &t.Assignee, &done, &at); err != nil {
			rows.Close()
			return err
		}
		t.DueAt, t.DoneAt, t.CreatedAt = db.Time(due), db.Time(done), db.Time(at)
		d.Tasks = append(d.Tasks, t)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT id, body, author, created_at FROM case_notes WHERE case_id = ? ORDER BY id DESC`, id); err != nil {
		return err
	}
	for rows.Next() {
		n := Note{CaseID: id}
		var at int64
		if err := rows.Scan(&n.ID, &n.Body, &n.Author, &at); err != nil {
			rows.Close()
			return err
		}
		n.CreatedAt = db.Time(at)
		d.Notes = append(d.Notes, n)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT id, at, actor, kind, detail FROM case_timeline WHERE case_id = ? ORDER BY id DESC LIMIT 500`, id); err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Kind, &e.Detail); err != nil {
			return err
		}
		e.At = db.Time(at)
		d.Timeline = append(d.Timeline, e)
	}
	return rows.Err()
}

func getDocument(ctx context.Context, q querier, caseID, docID int64) (Document, error) {
	d := Document{CaseID: caseID}
	var at int64
	err := q.QueryRow(ctx, `SELECT id, sha256, name, type, size, created_at FROM case_documents WHERE id = ? AND case_id = ?`,
		docID, caseID).Scan(&d.ID, &d.SHA256, &d.Name, &d.Type, &d.Size, &at)
	d.CreatedAt = db.Time(at)
	if err != nil {
		return d, db.NotFound("casefile.Document", err)
	}
	return d, nil
}
