package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"SELECT '?' , ?", "SELECT '?' , $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
	}
	for _, tt := range tests {
		if got := d.Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s := &db.DB{Dialect: db.SQLite}
	if got := s.Rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite Rebind changed the query: %q", got)
	}
}

func TestStoreBasics(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", "k", "v")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// A duplicate key is a unique violation on both engines.
		_, err = d.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", "k", "w")
		if !db.IsUniqueViolation(err) {
			t.Errorf("duplicate insert: got %v, want a unique violation", err)
		}
		// A failing transaction leaves nothing behind.
		_ = d.InTx(ctx, func(tx *db.Tx) error {
			tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", "gone", "x")
			return vigie.Invalidf("test", "boom")
		})
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM meta WHERE key = ?", "gone").Scan(&n); err != nil || n != 0 {
			t.Errorf("rolled-back row: count %d err %v, want 0", n, err)
		}
		var v string
		err = d.QueryRow(ctx, "SELECT value FROM meta WHERE key = ?", "nope").Scan(&v)
		if err = db.NotFound("get", err); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("missing row: kind %v, want not found", vigie.KindOf(err))
		}
	})
}

func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, known, _ := d.SchemaVersions(ctx)
	if _, err := d.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", known+1, true); err != nil {
		t.Fatal(err)
	}
	err = d.Migrate(ctx, nil)
	if vigie.KindOf(err) != vigie.KindConflict {
		t.Fatalf("Migrate on a newer schema: got %v, want a conflict", err)
	}
	t.Logf("message: %s", vigie.MessageOf(err))
}
