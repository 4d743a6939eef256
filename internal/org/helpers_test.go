package org

import (
	"context"
	"sync"
	"testing"

	"vigie"
	"vigie/internal/db"
)

// memJournal records what would be journaled, for assertions.
type memJournal struct {
	mu   sync.Mutex
	recs []vigie.Record
	fail error
}

func (j *memJournal) Record(ctx context.Context, tx *db.Tx, r vigie.Record) error {
	if j.fail != nil {
		return j.fail
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
	return nil
}

func (j *memJournal) records() []vigie.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]vigie.Record(nil), j.recs...)
}

// seed runs SeedDemo for depts on d.
func seed(t testing.TB, d *db.DB, depts ...string) {
	t.Helper()
	err := d.InTx(context.Background(), func(tx *db.Tx) error { return SeedDemo(context.Background(), tx, depts...) })
	if err != nil {
		t.Fatalf("SeedDemo(%v): %v", depts, err)
	}
}
