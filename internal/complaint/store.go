package complaint

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// querier is what *db.DB and *db.Tx have in common.
type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Draft is a complaint being written by a citizen.
type Draft struct {
	ID        int64     `json:"id"`
	OwnerID   int64     `json:"owner_id"`
	Step      string    `json:"step"`
	Form      Form      `json:"form"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func insertDraft(ctx context.Context, q querier, d *Draft) error {
	data, err := json.Marshal(d.Form)
	if err != nil {
		return err
	}
	return q.QueryRow(ctx, `INSERT INTO complaint_drafts (owner_id, step, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		d.OwnerID, d.Step, string(data), db.Millis(d.CreatedAt), db.Millis(d.UpdatedAt)).Scan(&d.ID)
}

func updateDraft(ctx context.Context, q querier, d *Draft) error {
	data, err := json.Marshal(d.Form)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE complaint_drafts SET step = ?, data = ?, updated_at = ? WHERE id = ?`, d.Step, string(data), db.Millis(d.UpdatedAt), d.ID)
	return err
}

func scanDrafts(rows *sql.Rows) ([]Draft, error) {
	defer rows.Close()
	var out []Draft
	for rows.Next() {
		var d Draft
		var data string
		var c, u int64
		if err := rows.Scan(&d.ID, &d.OwnerID, &d.Step, &data, &c, &u); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &d.Form); err != nil {
			return nil, fmt.Errorf("draft %d: %w", d.ID, err)
		}
		d.CreatedAt, d.UpdatedAt = db.Time(c), db.Time(u)
		out = append(out, d)
	}
	return out, rows.Err()
}

const draftCols = `id, owner_id, step, data, created_at, updated_at`

func getDraft(ctx context.Context, q querier, id int64) (Draft, error) {
	rows, err := q.Query(ctx, `SELECT `+draftCols+` FROM complaint_drafts WHERE id = ?`, id)
	if err != nil {
		return Draft{}, fmt.Errorf("complaint: draft %d: %w", id, err)
	}
	ds, err := scanDrafts(rows)
	if err != nil {
		return Draft{}, err
	}
	if len(ds) == 0 {
		return Draft{}, vigie.E(vigie.KindNotFound, "complaint.Draft", "This draft does not exist (it may have been submitted already).", nil)
	}
	return ds[0], nil
}

func listDrafts(ctx context.Context, q querier, owner int64) ([]Draft, error) {
	rows, err := q.Query(ctx, `SELECT `+draftCols+` FROM complaint_drafts WHERE owner_id = ? ORDER BY updated_at DESC`, owner)
	if err != nil {
		return nil, fmt.Errorf("complaint: drafts: %w", err)
	}
	return scanDrafts(rows)
}

// Complaint is a submitted complaint.
type Complaint struct {
	ID                int64     `json:"id"`
	Number            string    `json:"number"`
	VerifyCode        string    `json:"-"`
	Dept              string    `json:"dept"`
	UnitID            int64     `json:"unit_id"`
	OwnerID           int64     `json:"owner_id,omitempty"`
	Step              string    `json:"step"`
	Category          string    `json:"category"`
	Priority          string    `json:"priority"`
	SuggestedCategory string    `json:"suggested_category,omitempty"`
	SuggestedPriority string    `json:"suggested_priority,omitempty"`
	TriageBy          int64     `json:"triage_by,omitempty"`
	INSEE             string    `json:"insee,omitempty"`
	RoutedBy          string    `json:"routed_by"`
	FactsFrom         time.Time `json:"facts_from"`
	FactsTo           time.Time `json:"facts_to"`
	AssigneeID        int64     `json:"assignee_id,omitempty"`
	AssigneeName      string    `json:"assignee_name,omitempty"`
	CaseID            int64     `json:"case_id,omitempty"`
	CaseNumber        string    `json:"case_number,omitempty"`
	Form              Form      `json:"form"`
	SubmittedAt       time.Time `json:"submitted_at"`
	AckedAt           time.Time `json:"acknowledged_at"`
	FirstActionAt     time.Time `json:"first_action_at"`
	ClosedAt          time.Time `json:"closed_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Target is the complaint as the authorization policy sees it.
func (c Complaint) Target() vigie.Target {
	return vigie.Target{Dept: c.Dept, UnitID: c.UnitID, OwnerID: c.OwnerID, Kind: "complaint", ID: fmt.Sprint(c.ID)}
}

const complaintCols = `id, number, verify_code, dept, unit_id, COALESCE(owner_id, 0), step, category, priority,
  suggested_category, suggested_priority, triage_by, insee, routed_by, facts_from, facts_to, assignee_id, assignee_name,
  case_id, case_number, data, submitted_at, acked_at, first_action_at, closed_at, updated_at`

func scanComplaints(rows *sql.Rows, withData bool) ([]Complaint, error) {
	defer rows.Close()
	var out []Complaint
	for rows.Next() {
		var c Complaint
		var data string
		var ff, ft, sub, ack, first, closed, upd int64
		if err := rows.Scan(&c.ID, &c.Number, &c.VerifyCode, &c.Dept, &c.UnitID, &c.OwnerID, &c.Step, &c.Category, &c.Priority,
			&c.SuggestedCategory, &c.SuggestedPriority, &c.TriageBy, &c.INSEE, &c.RoutedBy, &ff, &ft, &c.AssigneeID, &c.AssigneeName,
			&c.CaseID, &c.CaseNumber, &data, &sub, &ack, &first, &closed, &upd); err != nil {
			return nil, err
		}
		if withData {
			if err := json.Unmarshal([]byte(data), &c.Form); err != nil {
				return nil, fmt.Errorf("complaint %d: %w", c.ID, err)
			}
		}
		c.FactsFrom, c.FactsTo, c.SubmittedAt, c.AckedAt = db.Time(ff), db.Time(ft), db.Time(sub), db.Time(ack)
		c.FirstActionAt, c.ClosedAt, c.UpdatedAt = db.Time(first), db.Time(closed), db.Time(upd)
		out = append(out, c)
	}
	return out, rows.Err()
}

func getComplaint(ctx context.Context, q querier, id int64) (Complaint, error) {
	rows, err := q.Query(ctx, `SELECT `+complaintCols+` FROM complaints WHERE id = ?`, id)
	if err != nil {
		return Complaint{}, fmt.Errorf("complaint %d: %w", id, err)
	}
	cs, err := scanComplaints(rows, true)
	if err != nil {
		return Complaint{}, err
	}
	if len(cs) == 0 {
		return Complaint{}, vigie.E(vigie.KindNotFound, "complaint.Get", "This complaint does not exist, or you cannot see it.", nil)
	}
	return cs[0], nil
}

func insertComplaint(ctx context.Context, q querier, c *Complaint) error {
	data, err := json.Marshal(c.Form)
	if err != nil {
		return err
	}
	var owner any
	if c.OwnerID != 0 {
		owner = c.OwnerID
	}
	return q.QueryRow(ctx, `INSERT INTO complaints (number, verify_code, dept, unit_id, owner_id, step, category, priority,
  suggested_category, suggested_priority, triage_by, insee, routed_by, facts_from, facts_to, assignee_id, assignee_name,
  case_id, case_number, data, submitted_at, acked_at, first_action_at, closed_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Number, c.VerifyCode, c.Dept, c.UnitID, owner, c.Step, c.Category, c.Priority,
		c.SuggestedCategory, c.SuggestedPriority, c.TriageBy, c.INSEE, c.RoutedBy, db.Millis(c.FactsFrom), db.Millis(c.FactsTo),
		c.AssigneeID, c.AssigneeName, c.CaseID, c.CaseNumber, string(data), db.Millis(c.SubmittedAt), db.Millis(c.AckedAt),
		db.Millis(c.FirstActionAt), db.Millis(c.ClosedAt), db.Millis(c.UpdatedAt)).Scan(&c.ID)
}

// saveState writes the parts of a complaint that actions change.
func saveState(ctx context.Context, q querier, c *Complaint) error {
	data, err := json.Marshal(c.Form)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE complaints SET unit_id = ?, step = ?, category = ?, priority = ?, triage_by = ?, routed_by = ?,
  assignee_id = ?, assignee_name = ?, case_id = ?, case_number = ?, data = ?, acked_at = ?, first_action_at = ?, closed_at = ?, updated_at = ?
WHERE id = ?`, c.UnitID, c.Step, c.Category, c.Priority, c.TriageBy, c.RoutedBy, c.AssigneeID, c.AssigneeName, c.CaseID, c.CaseNumber,
		string(data), db.Millis(c.AckedAt), db.Millis(c.FirstActionAt), db.Millis(c.ClosedAt), db.Millis(c.UpdatedAt), c.ID)
	return err
}

// nextNumber gives the next complaint number of a département and year:
// PL-2026-01-000123. The counter row is locked by the upsert until the
// transaction ends, so numbers are dense and never given twice.
func nextNumber(ctx context.Context, q querier, dept string, at time.Time) (string, error) {
	year := at.Year()
	var n int64
	err := q.QueryRow(ctx, `INSERT INTO complaint_numbers (dept, year, last) VALUES (?, ?, 1)
ON CONFLICT (dept, year) DO UPDATE SET last = complaint_numbers.last + 1 RETURNING last`, dept, year).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("complaint: number: %w", err)
	}
	return fmt.Sprintf("PL-%d-%s-%06d", year, dept, n), nil
}

// Event is a line of a complaint's timeline.
type Event struct {
	ID          int64     `json:"id"`
	ComplaintID int64     `json:"complaint_id"`
	At          time.Time `json:"at"`
	Kind        string    `json:"kind"`
	Step        string    `json:"step,omitempty"`
	AuthorID    int64     `json:"author_id,omitempty"`
	FromCitizen bool      `json:"from_citizen"`
	Public      bool      `json:"public"`
	Text        string    `json:"text,omitempty"`
}

func insertEvent(ctx context.Context, q querier, e *Event) error {
	return q.QueryRow(ctx, `INSERT INTO complaint_events (complaint_id, at, kind, step, author_id, from_citizen, public, text)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.ComplaintID, db.Millis(e.At), e.Kind, e.Step, e.AuthorID, b2i(e.FromCitizen), b2i(e.Public), e.Text).Scan(&e.ID)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func listEvents(ctx context.Context, q querier, id int64, publicOnly bool) ([]Event, error) {
	query := `SELECT id, complaint_id, at, kind, step, author_id, from_citizen, public, text FROM complaint_events WHERE complaint_id = ?`
	if publicOnly {
		query += ` AND public = 1`
	}
	rows, err := q.Query(ctx, query+` ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint %d: events: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var fc, pub int
		if err := rows.Scan(&e.ID, &e.ComplaintID, &at, &e.Kind, &e.Step, &e.AuthorID, &fc, &pub, &e.Text); err != nil {
			return nil, err
		}
		e.At, e.FromCitizen, e.Public = db.Time(at), fc == 1, pub == 1
		out = append(out, e)
	}
	return out, rows.Err()
}

func insertFile(ctx context.Context, q querier, complaintID int64, f File, at time.Time, by int64) error {
	_, err := q.Exec(ctx, `INSERT INTO complaint_files (complaint_id, sha256, name, type, size, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		complaintID, f.SHA256, f.Name, f.Type, f.Size, db.Millis(at), by)
	return err
}

func listFiles(ctx context.Context, q querier, id int64) ([]File, error) {
	rows, err := q.Query(ctx, `SELECT sha256, name, type, size FROM complaint_files WHERE complaint_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("complaint %d: files: %w", id, err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.SHA256, &f.Name, &f.Type, &f.Size); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Slot is an appointment slot published by a brigade.
type Slot struct {
	ID          int64     `json:"id"`
	UnitID      int64     `json:"unit_id"`
	StartsAt    time.Time `json:"starts_at"`
	Minutes     int       `json:"minutes"`
	ComplaintID int64     `json:"complaint_id,omitempty"`
	HearingID   int64     `json:"hearing_id,omitempty"` // booked for a hearing in person (hearing.go)
}

// Free reports whether nobody booked the slot.
func (s Slot) Free() bool { return s.ComplaintID == 0 && s.HearingID == 0 }

func listSlots(ctx context.Context, q querier, unit int64, from time.Time, freeOnly bool) ([]Slot, error) {
	query := `SELECT id, unit_id, starts_at, minutes, complaint_id, hearing_id FROM complaint_slots WHERE unit_id = ? AND starts_at >= ?`
	if freeOnly {
		query += ` AND complaint_id = 0 AND hearing_id = 0`
	}
	rows, err := q.Query(ctx, query+` ORDER BY starts_at LIMIT 200`, unit, db.Millis(from))
	if err != nil {
		return nil, fmt.Errorf("complaint: slots: %w", err)
	}
	defer rows.Close()
	var out []Slot
	for rows.Next() {
		var s Slot
		var at int64
		if err := rows.Scan(&s.ID, &s.UnitID, &at, &s.Minutes, &s.ComplaintID, &s.HearingID); err != nil {
			return nil, err
		}
		s.StartsAt = db.Time(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

func getSlot(ctx context.Context, q querier, id int64) (Slot, error) {
	var s Slot
	var at int64
	err := q.QueryRow(ctx, `SELECT id, unit_id, starts_at, minutes, complaint_id, hearing_id FROM complaint_slots WHERE id = ?`, id).
		Scan(&s.ID, &s.UnitID, &at, &s.Minutes, &s.ComplaintID, &s.HearingID)
	if errors.Is(err, sql.ErrNoRows) {
		return s, vigie.E(vigie.KindNotFound, "complaint.Slot", "This appointment slot does not exist.", nil)
	}
	s.StartsAt = db.Time(at)
	return s, err
}

// QueueFilter selects and orders the complaints of a queue.
type QueueFilter struct {
	Units     []int64
	Step      string // "" : every open step; "all": every step
	Category  string
	OlderDays int    // only complaints submitted at least this many days ago
	Sort      string // "age" (oldest first, default), "recent", "priority", "category"
	Limit     int
	Offset    int
}

// QueueRow is a line of a queue: no personal data, so no motif is needed
// to list it.
type QueueRow struct {
	ID           int64     `json:"id"`
	Number       string    `json:"number"`
	UnitID       int64     `json:"unit_id"`
	Step         string    `json:"step"`
	Category     string    `json:"category"`
	Priority     string    `json:"priority"`
	AssigneeID   int64     `json:"assignee_id,omitempty"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	SubmittedAt  time.Time `json:"submitted_at"`
	AckedAt      time.Time `json:"acknowledged_at"`
	// Late says which deadline is missed: "ack", "decide" or "".
	Late string `json:"late,omitempty"`
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func queueWhere(f QueueFilter, now time.Time) (string, []any) {
	var where []string
	var args []any
	where = append(where, `unit_id IN (`+placeholders(len(f.Units))+`)`)
	for _, u := range f.Units {
		args = append(args, u)
	}
	switch f.Step {
	case "":
		where = append(where, `step IN (`+placeholders(len(OpenSteps))+`)`)
		for _, s := range OpenSteps {
			args = append(args, s)
		}
	case "all":
	default:
		where = append(where, `step = ?`)
		args = append(args, f.Step)
	}
	if f.Category != "" {
		where = append(where, `category = ?`)
		args = append(args, f.Category)
	}
	if f.OlderDays > 0 {
		where = append(where, `submitted_at <= ?`)
		args = append(args, db.Millis(now.Add(-time.Duration(f.OlderDays)*24*time.Hour)))
	}
	return strings.Join(where, " AND "), args
}

func queue(ctx context.Context, q querier, f QueueFilter, now time.Time) ([]QueueRow, int, error) {
	if len(f.Units) == 0 {
		return nil, 0, nil
	}
	where, args := queueWhere(f, now)
	var total int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM complaints WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("complaint: queue count: %w", err)
	}
	order := `submitted_at, id`
	switch f.Sort {
	case "recent":
		order = `submitted_at DESC, id DESC`
	case "priority":
		order = `CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, submitted_at, id`
	case "category":
		order = `category, submitted_at, id`
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := q.Query(ctx, `SELECT id, number, unit_id, step, category, priority, assignee_id, assignee_name, submitted_at, acked_at
FROM complaints WHERE `+where+` ORDER BY `+order+fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("complaint: queue: %w", err)
	}
	defer rows.Close()
	var out []QueueRow
	for rows.Next() {
		var r QueueRow
		var sub, ack int64
		if err := rows.Scan(&r.ID, &r.Number, &r.UnitID, &r.Step, &r.Category, &r.Priority, &r.AssigneeID, &r.AssigneeName, &sub, &ack); err != nil {
			return nil, 0, err
		}
		r.SubmittedAt, r.AckedAt = db.Time(sub), db.Time(ack)
		r.Late = lateness(r.Step, r.SubmittedAt, r.AckedAt, now)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// lateness says which deadline an open complaint has missed.
func lateness(step string, submitted, acked, now time.Time) string {
	if !IsOpen(step) {
		return ""
	}
	if acked.IsZero() && now.Sub(submitted) > AckWithin {
		return "ack"
	}
	if now.Sub(submitted) > DecideWithin {
		return "decide"
	}
	return ""
}

func listByOwner(ctx context.Context, q querier, owner int64) ([]Complaint, error) {
	rows, err := q.Query(ctx, `SELECT `+complaintCols+` FROM complaints WHERE owner_id = ? ORDER BY submitted_at DESC LIMIT 200`, owner)
	if err != nil {
		return nil, fmt.Errorf("complaint: list by owner: %w", err)
	}
	return scanComplaints(rows, false)
}

func byVerifyCode(ctx context.Context, q querier, code string) (Complaint, error) {
	rows, err := q.Query(ctx, `SELECT `+complaintCols+` FROM complaints WHERE verify_code = ?`, code)
	if err != nil {
		return Complaint{}, fmt.Errorf("complaint: verify: %w", err)
	}
	cs, err := scanComplaints(rows, false)
	if err != nil {
		return Complaint{}, err
	}
	if len(cs) == 0 {
		return Complaint{}, vigie.E(vigie.KindNotFound, "complaint.Verify", "No receipt carries this verification code. Check the code: it is printed under the QR code of the receipt.", nil)
	}
	return cs[0], nil
}

func onlineUnit(ctx context.Context, q querier, dept string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT online_unit_id FROM complaint_settings WHERE dept = ?`, dept).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func setOnlineUnit(ctx context.Context, q querier, dept string, unit int64) error {
	_, err := q.Exec(ctx, `INSERT INTO complaint_settings (dept, online_unit_id) VALUES (?, ?)
ON CONFLICT (dept) DO UPDATE SET online_unit_id = excluded.online_unit_id`, dept, unit)
	return err
}
