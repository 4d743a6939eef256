// Package blob stores files (evidence, attachments, generated documents)
// outside the database, addressed by their SHA-256.
//
// Store keeps them in a local directory (<data-dir>/blobs, mode 0700, files
// 0600), written through a temporary file that is fsynced and renamed, so
// that a crash never leaves half a file under its final name. Put computes
// the SHA-256 and enforces the size limit while streaming, recognises the
// type from the content (PDF, JPEG, PNG, HEIC/HEIF, WebP, MP4, QuickTime,
// MP3, M4A, plain text, DOCX, ODT; see Sniff), and refuses empty files,
// programs and scripts in any form, types the caller does not allow, and
// names whose extension lies about the content (a ".pdf" that is an
// executable). The record that refers to a file keeps its Object (SHA-256,
// size, type, name) in the database; the content stays here.
//
// ServeAttachment sends a file as a download only, never inline, with
// nosniff and a sandboxing Content-Security-Policy.
//
// Tables: none. Routes: none (areas serve their own files after their own
// authorization check). Events: none.
//
// Not done: an S3-compatible backend (the Store type is where it would
// go); operators back up the directory with the database (see
// docs/storage-and-mail.md).
package blob
