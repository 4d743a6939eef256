// Package mail sends e-mail notifications through SMTP from a queue kept in
// the database, so that a message is queued in the transaction of the action
// that causes it and sent at least once.
package mail

// Mailer queues and sends messages.
type Mailer struct{}
