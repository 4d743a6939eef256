// Package db opens Vigie's relational database — embedded SQLite (pure Go,
// modernc.org/sqlite) by default, PostgreSQL (pgx) when scaled out — and
// applies the embedded, numbered, append-only migrations of each dialect.
//
// SQL in Vigie is written once, in the common subset of both engines, with
// "?" placeholders; DB and Tx rebind them to "$1, $2..." for PostgreSQL.
// Times are stored as BIGINT Unix milliseconds (see Millis) so that both
// drivers scan them the same way.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"vigie"
)

// Dialect names a database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database with its dialect.
type DB struct {
	sql     *sql.DB
	Dialect Dialect
	// Path is the SQLite file, "" for PostgreSQL.
	Path string
}

// Open opens the database named by dsn:
//
//	postgres://... or postgresql://...   PostgreSQL through pgx
//	sqlite:PATH, file:PATH or a plain PATH   an SQLite file (created if absent)
//
// SQLite is opened in WAL mode with a busy timeout, foreign keys on and
// write transactions that take the write lock at BEGIN (no lock upgrades,
// hence no SQLITE_BUSY deadlocks between concurrent writers).
func Open(ctx context.Context, dsn string) (*DB, error) {
	const op = "db.Open"
	if dsn == "" {
		return nil, vigie.E(vigie.KindInvalid, op, "No database given.", nil)
	}
	var d *DB
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		sdb, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, vigie.E(vigie.KindInvalid, op, "The PostgreSQL address is not valid.", err)
		}
		sdb.SetMaxOpenConns(20)
		sdb.SetMaxIdleConns(10)
		sdb.SetConnMaxIdleTime(5 * time.Minute)
		d = &DB{sql: sdb, Dialect: Postgres}
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return nil, vigie.E(vigie.KindInvalid, op, "No SQLite file given.", nil)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, vigie.E(vigie.KindInvalid, op, fmt.Sprintf("Cannot create the directory %s for the database.", dir), err)
			}
		}
		// SECURITY: the database holds personal data; create it readable
		// by its owner only (SQLite gives its -wal and -shm files the same
		// permissions).
		if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		// NORMAL in WAL mode: a committed transaction survives a crash of the
		// process (kill -9); only an OS crash or power cut may lose the last
		// commits. See docs/operations.md for synchronous=FULL.
		q.Add("_pragma", "synchronous("+sqliteSync()+")")
		q.Set("_txlock", "immediate")
		sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, vigie.E(vigie.KindInvalid, op, "Cannot open the SQLite database.", err)
		}
		// One writer at a time is SQLite's model; a small pool lets readers
		// run beside it in WAL mode.
		sdb.SetMaxOpenConns(8)
		sdb.SetMaxIdleConns(8)
		sdb.SetConnMaxLifetime(0)
		d = &DB{sql: sdb, Dialect: SQLite, Path: path}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.sql.PingContext(pctx); err != nil {
		d.sql.Close()
		return nil, vigie.E(vigie.KindUnavailable, op, "Cannot reach the database: "+err.Error(), err)
	}
	return d, nil
}

// sqliteSync returns the synchronous pragma: NORMAL unless VIGIE_SQLITE_SYNC
// says FULL (every commit fsynced: survives power loss, slower).
func sqliteSync() string {
	if strings.EqualFold(os.Getenv("VIGIE_SQLITE_SYNC"), "full") {
		return "FULL"
	}
	return "NORMAL"
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// SQL returns the underlying *sql.DB, for tools (migrations, backups).
func (d *DB) SQL() *sql.DB { return d.sql }

// Rebind rewrites "?" placeholders for the dialect.
func (d *DB) Rebind(q string) string { return rebind(d.Dialect, q) }

// Exec runs a statement outside any transaction.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.sql.ExecContext(ctx, rebind(d.Dialect, q), args...)
}

// Query runs a query outside any transaction.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.sql.QueryContext(ctx, rebind(d.Dialect, q), args...)
}

// QueryRow runs a query that returns at most one row.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.sql.QueryRowContext(ctx, rebind(d.Dialect, q), args...)
}

// Tx is a transaction. It is passed explicitly, never carried in a context.
type Tx struct {
	tx      *sql.Tx
	Dialect Dialect
	after   []func()
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, rebind(t.Dialect, q), args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, rebind(t.Dialect, q), args...)
}

// QueryRow runs a query that returns at most one row.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(t.Dialect, q), args...)
}

// AfterCommit registers f to run once the transaction has committed (for
// example, to wake the outbox relay). It does not run on rollback.
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise. A panic in fn rolls back and is re-raised.
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return vigie.E(vigie.KindUnavailable, "db.InTx", "The database is busy; please try again.", err)
	}
	tx := &Tx{tx: stx, Dialect: d.Dialect}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return vigie.E(vigie.KindUnavailable, "db.InTx", "The change could not be saved; please try again.", err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// rebind turns ? into $n for PostgreSQL, leaving ? inside quoted strings alone.
func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Millis converts t to the Unix milliseconds stored in the database.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time converts stored Unix milliseconds back to a time (zero for 0).
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine. Stores turn it into a KindConflict error.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	type sqlStater interface{ SQLState() string }
	var s sqlStater
	if errors.As(err, &s) {
		return s.SQLState() == "23505"
	}
	// modernc.org/sqlite: SQLITE_CONSTRAINT_UNIQUE (2067) or PRIMARYKEY (1555).
	type coder interface{ Code() int }
	var c coder
	if errors.As(err, &c) {
		return c.Code() == 2067 || c.Code() == 1555
	}
	return false
}

// NotFound turns sql.ErrNoRows into a KindNotFound error and wraps others as
// internal errors with op.
func NotFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return vigie.E(vigie.KindNotFound, op, "Not found.", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
