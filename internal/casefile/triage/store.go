package triage

import (
	"context"
	"database/sql"
	"time"

	"vigie/internal/db"
)

// Correction is an agent's decision on a narrative, kept to retrain.
type Correction struct {
	Text, Category, Priority             string
	SuggestedCategory, SuggestedPriority string
	Dept                                 string
	By                                   int64
	At                                   time.Time
}

// SaveCorrection stores a correction in the agent's transaction (table
// triage_corrections, migration 00008).
func SaveCorrection(ctx context.Context, tx *db.Tx, c Correction) error {
	_, err := tx.Exec(ctx, `INSERT INTO triage_corrections (text, category, priority, suggested_category,
		suggested_priority, dept, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Text, c.Category, c.Priority,
		c.SuggestedCategory, c.SuggestedPriority, c.Dept, c.By, db.Millis(c.At))
	return err
}

type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// LoadCorrections reads every stored correction, oldest first, for Retrain.
func LoadCorrections(ctx context.Context, q querier) ([]Example, error) {
	rows, err := q.Query(ctx, `SELECT text, category, priority FROM triage_corrections ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Example
	for rows.Next() {
		var e Example
		if err := rows.Scan(&e.Text, &e.Category, &e.Priority); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
