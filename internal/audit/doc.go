// Package audit is the consultation journal: an append-only, hash-chained,
// Merkle-checkpointed record of every collection, consultation, change,
// communication and erasure of personal data, and of administration, with
// who, when, from where and why (the motif), as French law requires of
// police files.
//
// Areas never call the journal to get work done: they hand it a
// vigie.Record through a small interface of their own,
//
//	type journal interface{ Record(ctx context.Context, tx *db.Tx, r vigie.Record) error }
//
// in the same transaction as the action, so that an action is committed if
// and only if its entry is. Reading personal data requires a motif: a case
// number (2026-01-000123) or a reason code; handlers use RequireMotif (or
// MotifFrom for APIs), which renders a page asking for it when missing.
//
// Integrity. Each entry's hash is SHA-256 over a length-prefixed canonical
// encoding of all its fields and the previous entry's hash. Entries are
// also the leaves of an RFC 6962 Merkle tree; RunCheckpoints periodically
// signs its head (size, root, time) with an ed25519 key kept in a file of
// the data directory (LoadOrCreateKey), so that even someone who rewrites
// the whole chain in the database is caught. Verify recomputes everything
// and names the first entry altered, missing or reordered. Purge deletes
// entries past retention behind a signed anchor from which Verify starts.
// Appends are serialized: by SQLite's write lock, and on PostgreSQL by
// locking the one-row audit_head table (see Journal.Record).
//
// Tables: audit_entry, audit_head, audit_checkpoint, audit_anchor,
// audit_verification (migrations 00004_audit.sql).
//
// Routes (security officers; vigie.PermJournalRead / PermJournalExport on
// the département searched, national scope for a national search):
//
//	GET  /audit                 search (who, object, id, action, motif, dept, unit, dates), newest first
//	GET  /audit/{seq}           one entry
//	GET  /audit/status          integrity: last checkpoint, last verification, progress
//	POST /audit/verify          start a verification in the background
//	GET  /audit/export          a search as CSV or JSON (format=csv|json), streamed
//	GET  /api/v1/audit          search, JSON ({entries, next})
//	GET  /api/v1/audit/{seq}    one entry, JSON
//	GET  /api/v1/audit/export   export, JSON by default
//	GET  /api/v1/audit/status   integrity, JSON
//
// Reading and exporting the journal are journaled too (object "journal").
// Events: none published; the journal is the sink.
package audit
