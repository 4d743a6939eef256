package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"vigie/internal/db"
)

// querier is what both *db.DB and *db.Tx offer.
type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// insertBatch is the number of rows of one multi-row INSERT (12 values a
// row stays under SQLite's 32,766 bound variables and PostgreSQL's 65,535).
const insertBatch = 500

// insertRecords stores recs in batches of multi-row INSERTs.
func insertRecords(ctx context.Context, q querier, recs []Record, batch string, now time.Time) error {
	const cols = "(dept, unit_id, source, category, started_at, ended_at, lon, lat, plan_id, batch, created_at)"
	args := make([]any, 0, insertBatch*11)
	var b strings.Builder
	for i := 0; i < len(recs); i += insertBatch {
		part := recs[i:min(i+insertBatch, len(recs))]
		b.Reset()
		b.WriteString("INSERT INTO analytics_events " + cols + " VALUES ")
		args = args[:0]
		for k, r := range part {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, r.Dept, r.UnitID, string(r.Source), r.Category, db.Millis(r.Start), db.Millis(r.End),
				r.Lon, r.Lat, r.PlanID, batch, db.Millis(now))
		}
		if _, err := q.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("analytics: insert events: %w", err)
		}
	}
	return nil
}

// loadRecords returns the events of dept that started in [from, to),
// sorted by start time.
func loadRecords(ctx context.Context, q querier, dept string, from, to time.Time) ([]Record, error) {
	rows, err := q.Query(ctx, `SELECT id, unit_id, source, category, started_at, ended_at, lon, lat, plan_id
		FROM analytics_events WHERE dept = ? AND started_at >= ? AND started_at < ? ORDER BY started_at, id`,
		dept, db.Millis(from), db.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("analytics: load events of %s: %w", dept, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r := Record{Dept: dept}
		var src string
		var s, e int64
		if err := rows.Scan(&r.ID, &r.UnitID, &src, &r.Category, &s, &e, &r.Lon, &r.Lat, &r.PlanID); err != nil {
			return nil, err
		}
		r.Source, r.Start, r.End = Source(src), db.Time(s), db.Time(e)
		out = append(out, r)
	}
	return out, rows.Err()
}

// countRecords counts the events of dept by source.
func countRecords(ctx context.Context, q querier, dept string) (map[Source]int, error) {
	rows, err := q.Query(ctx, `SELECT source, COUNT(*) FROM analytics_events WHERE dept = ? GROUP BY source`, dept)
	if err != nil {
		return nil, fmt.Errorf("analytics: count events: %w", err)
	}
	defer rows.Close()
	out := map[Source]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[Source(s)] = n
	}
	return out, rows.Err()
}

// Plan is a stored patrol plan.
type Plan struct {
	ID         int64
	Dept       string
	UnitID     int64
	ShiftStart time.Time
	ShiftEnd   time.Time
	Model      string
	CellSize   float64
	Params     PlanParams
	Patrols    []PatrolRoute
	CreatedBy  int64
	CreatedAt  time.Time
	ReportedAt time.Time
}

// Cells returns the planned cells, each once.
func (p *Plan) Cells() []int {
	seen := map[int]bool{}
	var out []int
	for _, r := range p.Patrols {
		for _, s := range r.Stops {
			if !seen[s.Cell] {
				seen[s.Cell] = true
				out = append(out, s.Cell)
			}
		}
	}
	return out
}

func insertPlan(ctx context.Context, q querier, p *Plan) error {
	params, err := json.Marshal(p.Params)
	if err != nil {
		return err
	}
	stops, err := json.Marshal(p.Patrols)
	if err != nil {
		return err
	}
	err = q.QueryRow(ctx, `INSERT INTO patrol_plans (dept, unit_id, shift_start, shift_end, model, cell_size, params, stops, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Dept, p.UnitID, db.Millis(p.ShiftStart), db.Millis(p.ShiftEnd), p.Model, p.CellSize, string(params), string(stops),
		p.CreatedBy, db.Millis(p.CreatedAt)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("analytics: insert plan: %w", err)
	}
	return nil
}

const planCols = `id, dept, unit_id, shift_start, shift_end, model, cell_size, params, stops, created_by, created_at, reported_at`

func scanPlan(sc interface{ Scan(...any) error }) (Plan, error) {
	var p Plan
	var ss, se, ca, ra int64
	var params, stops string
	if err := sc.Scan(&p.ID, &p.Dept, &p.UnitID, &ss, &se, &p.Model, &p.CellSize, &params, &stops, &p.CreatedBy, &ca, &ra); err != nil {
		return Plan{}, err
	}
	p.ShiftStart, p.ShiftEnd, p.CreatedAt = db.Time(ss), db.Time(se), db.Time(ca)
	if ra != 0 {
		p.ReportedAt = db.Time(ra)
	}
	if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
		return Plan{}, fmt.Errorf("plan %d params: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(stops), &p.Patrols); err != nil {
		return Plan{}, fmt.Errorf("plan %d stops: %w", p.ID, err)
	}
	return p, nil
}

func getPlan(ctx context.Context, q querier, id int64) (Plan, error) {
	p, err := scanPlan(q.QueryRow(ctx, `SELECT `+planCols+` FROM patrol_plans WHERE id = ?`, id))
	if err != nil {
		return Plan{}, db.NotFound("analytics.plan", err)
	}
	return p, nil
}

// recentPlans returns the unit's last n plans, newest first.
func recentPlans(ctx context.Context, q querier, unit int64, n int) ([]Plan, error) {
	rows, err := q.Query(ctx, `SELECT `+planCols+` FROM patrol_plans WHERE unit_id = ? ORDER BY shift_start DESC, id DESC LIMIT ?`, unit, n)
	if err != nil {
		return nil, fmt.Errorf("analytics: plans of unit %d: %w", unit, err)
	}
	defer rows.Close()
	var out []Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func markReported(ctx context.Context, q querier, id int64, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE patrol_plans SET reported_at = ? WHERE id = ? AND reported_at = 0`, db.Millis(at), id)
	if err != nil {
		return false, fmt.Errorf("analytics: report plan %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
