package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// cmdBackup writes a consistent copy of the deployment while it serves:
//   - SQLite: VACUUM INTO, which reads one snapshot of the database (WAL
//     readers never block the server's writer), then the journal signing
//     key and the blobs;
//   - PostgreSQL: pg_dump (custom format), which also reads one snapshot.
//
// The JetStream store is not copied: every event in it was first committed
// to the outbox, which is in the database copy.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("backup", stderr)
	out := fs.String("out", "", "directory to write the backup into (default: <data-dir>/backups/<time>)")
	withKey := fs.Bool("with-key", false, "also copy the secret keys, journal.key and card.key (keep them apart from database backups: whoever holds both can rewrite the journal or test card numbers)")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "backups", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the backup directory %s: %w", dir, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return usageError{fmt.Errorf("the backup directory %s is not empty", dir)}
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	switch d.Dialect {
	case db.SQLite:
		target := filepath.Join(dir, "vigie.db")
		// VACUUM INTO takes its file name as a literal; quote it.
		if _, err := d.Exec(ctx, "VACUUM INTO '"+strings.ReplaceAll(target, "'", "''")+"'"); err != nil {
			return vigie.E(vigie.KindInternal, "backup", "The database copy failed: "+err.Error(), err)
		}
	case db.Postgres:
		pgDump, err := exec.LookPath("pg_dump")
		if err != nil {
			return vigie.E(vigie.KindUnavailable, "backup", "pg_dump is needed to back up PostgreSQL; install the postgresql-client package.", err)
		}
		cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--file", filepath.Join(dir, "vigie.pgdump"), "--dbname", cfg.DatabaseURL)
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return vigie.E(vigie.KindInternal, "backup", "pg_dump failed: "+err.Error(), err)
		}
	}
	// SECURITY: the secret keys stay out of the database backup by default:
	// with the journal's signing key a stolen backup could be re-signed
	// after tampering, and with the card key card numbers could be tested
	// against stored hashes. Back the keys up once, elsewhere.
	for _, name := range []string{"journal.key", "card.key"} {
		if !*withKey {
			fmt.Fprintf(stdout, "note: the key %s is not in this backup; keep a copy of it apart (or use --with-key)\n", filepath.Join(cfg.DataDir, name))
			continue
		}
		if err := copyFile(filepath.Join(cfg.DataDir, name), filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("copy %s: %w", name, err)
		}
	}
	if err := copyTree(cfg.BlobDir, filepath.Join(dir, "blobs")); err != nil {
		return fmt.Errorf("copy blobs: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s in %s\n", dir, time.Since(start).Round(time.Millisecond))
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies a directory of immutable blobs; a missing source is fine.
func copyTree(src, dst string) error {
	if _, err := os.Stat(src); os.IsNotExist(err) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		return copyFile(p, target)
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("migrate", stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "postgres") {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return err
		}
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	before, _, _ := d.SchemaVersions(ctx)
	if err := d.Migrate(ctx, nil); err != nil {
		return err
	}
	after, _, _ := d.SchemaVersions(ctx)
	fmt.Fprintf(stdout, "schema version %d → %d (%s)\n", before, after, d.Dialect)
	return nil
}
