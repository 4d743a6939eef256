package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"vigie"
)

// Migrations live in migrations/<dialect>/NNNNN_name.sql, goose format
// ("-- +goose Up"). They are append-only: once a file has landed on main it
// is never edited; a change to the schema is a new file, in both dialects.
//
//go:embed migrations
var migrations embed.FS

// ErrSchemaNewer is the kind of error Migrate returns when the database was
// migrated by a newer Vigie: this binary must not touch it.
const schemaNewerMsg = "The database was created by a newer version of Vigie (schema %d, this binary knows up to %d). Upgrade Vigie or restore a matching backup."

func (d *DB) provider(log *slog.Logger) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(d.Dialect))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several replicas may start at once: one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(dialect, d.sql, sub, opts...)
}

// SchemaVersions returns the schema version of the database and the newest
// version this binary carries.
func (d *DB) SchemaVersions(ctx context.Context) (current, known int64, err error) {
	p, err := d.provider(nil)
	if err != nil {
		return 0, 0, fmt.Errorf("db: migrations: %w", err)
	}
	for _, s := range p.ListSources() {
		known = max(known, s.Version)
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		// A fresh database has no version table yet.
		return 0, known, nil
	}
	return current, known, nil
}

// Migrate applies the pending migrations. It refuses to run — and the server
// refuses to start — when the database schema is newer than this binary.
func (d *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	const op = "db.Migrate"
	current, known, err := d.SchemaVersions(ctx)
	if err != nil {
		return vigie.E(vigie.KindInternal, op, "", err)
	}
	if current > known {
		return vigie.E(vigie.KindConflict, op, fmt.Sprintf(schemaNewerMsg, current, known), nil)
	}
	p, err := d.provider(log)
	if err != nil {
		return vigie.E(vigie.KindInternal, op, "", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return vigie.E(vigie.KindInternal, op, "The database migration failed: "+err.Error(), err)
	}
	return nil
}
