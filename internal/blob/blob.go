// Package blob stores files (evidence, attachments, generated documents)
// outside the database, addressed by their SHA-256.
package blob

// Store keeps files under a directory (later: S3-compatible storage).
type Store struct{}
