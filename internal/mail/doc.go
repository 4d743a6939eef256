// Package mail sends e-mail notifications through SMTP from a queue kept in
// the database, so that a message is queued in the transaction of the action
// that causes it and sent at least once.
//
// Enqueue validates the message (one recipient address, one-line subject:
// no header injection), builds the whole RFC 5322 message at once (Date,
// Message-ID in the sender's domain, RFC 2047 subject, multipart
// text/HTML/attachments in 7 bits) and inserts it in the caller's
// transaction. Run, a worker of each server replica, claims due messages
// with a lease, sends them over one connection per batch (STARTTLS when
// offered, or required, or implicit TLS; PLAIN authentication only over
// TLS), marks them sent (and blanks their content) or failed, and retries
// temporary refusals with a doubling backoff. At least once: a crash
// between the server's acceptance and the mark resends the same bytes with
// the same Message-ID after the lease.
//
// Without an SMTP server, messages stay queued and the log says so once.
// Logs never hold a message's content, nor the recipient's local part.
//
// Tables (migration 00011_support): mail_outbox.
// Routes: none. Events: none.
package mail
