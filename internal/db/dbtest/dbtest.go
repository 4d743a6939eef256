// Package dbtest opens fresh, migrated databases for tests: SQLite in a
// temporary directory always, PostgreSQL when VIGIE_TEST_POSTGRES_URL is set.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/internal/db"
)

// EnvPostgres names the variable that points tests at a PostgreSQL server,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvPostgres = "VIGIE_TEST_POSTGRES_URL"

// Engines returns the engines the store suites must run on: "sqlite" always,
// and "postgres" when VIGIE_TEST_POSTGRES_URL is set. When it is not, it
// logs once per test that PostgreSQL was skipped.
func Engines(t testing.TB) []db.Dialect {
	t.Helper()
	if os.Getenv(EnvPostgres) == "" {
		t.Logf("PostgreSQL skipped: set %s to run this test on PostgreSQL too", EnvPostgres)
		return []db.Dialect{db.SQLite}
	}
	return []db.Dialect{db.SQLite, db.Postgres}
}

// Open returns a fresh migrated database of the given dialect, closed (and
// for PostgreSQL, dropped) when the test ends.
func Open(t testing.TB, dialect db.Dialect) *db.DB {
	t.Helper()
	ctx := context.Background()
	var d *db.DB
	var err error
	switch dialect {
	case db.SQLite:
		d, err = db.Open(ctx, filepath.Join(t.TempDir(), "vigie.db"))
	case db.Postgres:
		d, err = openPostgres(t)
	default:
		t.Fatalf("dbtest: unknown dialect %q", dialect)
	}
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", dialect, err)
	}
	if err := d.Migrate(ctx, nil); err != nil {
		d.Close()
		t.Fatalf("dbtest: migrate %s: %v", dialect, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// OpenSQLite is Open(t, db.SQLite).
func OpenSQLite(t testing.TB) *db.DB { return Open(t, db.SQLite) }

// ForEach runs f as a subtest on every engine of Engines.
func ForEach(t *testing.T, f func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e), func(t *testing.T) { f(t, Open(t, e)) })
	}
}

// openPostgres creates a uniquely named database on the server of
// VIGIE_TEST_POSTGRES_URL so that tests in parallel packages never collide.
func openPostgres(t testing.TB) (*db.DB, error) {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL skipped: %s is not set", EnvPostgres)
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "vigie_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	d, err := db.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		d.Close()
		a, err := db.Open(context.Background(), base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return d, nil
}

// URLWithDB is exported for tests that need the PostgreSQL URL of a database.
func URLWithDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}
