package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"vigie"
	"vigie/internal/db"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

const (
	// TLSAuto uses STARTTLS when the server offers it (the default). Without
	// it, credentials are never sent: a server that asks for them must
	// offer TLS.
	TLSAuto TLSMode = "auto"
	// TLSStartTLS requires STARTTLS (port 587): no TLS, no mail.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone never uses TLS: a relay on the same machine or network only.
	TLSNone TLSMode = "none"
)

// Config configures the queue and the SMTP client. Zero values take the
// defaults documented on each field.
type Config struct {
	// Addr is the SMTP server, host:port. Empty: messages stay queued (the
	// worker says so once in the log) until a server is configured.
	Addr string
	// From is the sender, "Vigie <no-reply@vigie.example>"; required.
	From string
	// Username and Password authenticate (PLAIN) when Username is set.
	Username, Password string
	// TLS is the protection of the connection (TLSAuto).
	TLS TLSMode
	// TLSConfig overrides the TLS settings (tests: a private CA). Nil: the
	// system's roots, the host name of Addr.
	TLSConfig *tls.Config
	// Hello is the name given in EHLO ("localhost").
	Hello string
	// MaxAttempts: a message still refused after that many attempts is
	// marked failed (8, spread over about a day with the default backoff).
	MaxAttempts int
	// Backoff is the delay before the first retry (1 min), doubled at each
	// attempt up to MaxBackoff (4 h).
	Backoff, MaxBackoff time.Duration
	// Poll is how often the worker looks for due messages queued by other
	// replicas or due for a retry (10 s); messages queued on this replica
	// wake it at once.
	Poll time.Duration
	// Lease is how long a worker holds a message it is sending (10 min):
	// past it, another worker may send it again (a crash mid-send).
	Lease time.Duration
	// Keep is how long sent and failed messages are kept, without their
	// content for sent ones (30 days).
	Keep time.Duration
	// Timeout bounds one SMTP conversation step (30 s).
	Timeout time.Duration
	// Batch is how many messages one connection sends at most (20), and
	// BatchBytes how many bytes of messages a batch holds in memory at
	// most (32 MiB; one larger message still goes, alone).
	Batch      int
	BatchBytes int64
	// Now is the clock (time.Now); tests move it.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.TLS == "" {
		c.TLS = TLSAuto
	}
	if c.Hello == "" {
		c.Hello = "localhost"
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 4 * time.Hour
	}
	if c.Poll <= 0 {
		c.Poll = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 10 * time.Minute
	}
	if c.Keep <= 0 {
		c.Keep = 30 * 24 * time.Hour
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 32 << 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Mailer queues and sends messages.
type Mailer struct {
	d    *db.DB
	cfg  Config
	from *mail.Address
	log  *slog.Logger
	wake chan struct{}

	// afterSend, when set (tests), runs after the server accepted a
	// message and before it is marked sent; an error stops the pass there,
	// as a crash would.
	afterSend func(id int64) error

	warnOnce sync.Once
}

// New returns a mailer over the database's mail_outbox table. It checks the
// configuration; it does not connect.
func New(d *db.DB, cfg Config, log *slog.Logger) (*Mailer, error) {
	const op = "mail.New"
	cfg.defaults()
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, vigie.Invalidf(op, "The sender address of e-mail (From) is not valid: %q.", cfg.From)
	}
	switch cfg.TLS {
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, vigie.Invalidf(op, "The SMTP TLS mode must be auto, starttls, tls or none, not %q.", cfg.TLS)
	}
	if cfg.Addr != "" {
		if _, port, err := net.SplitHostPort(cfg.Addr); err != nil || port == "" {
			return nil, vigie.Invalidf(op, "The SMTP server must be given as host:port, not %q.", cfg.Addr)
		}
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, vigie.Invalidf(op, "An SMTP password is set without a user name.")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mailer{d: d, cfg: cfg, from: from, log: log, wake: make(chan struct{}, 1)}, nil
}

// Configured reports whether an SMTP server is set.
func (m *Mailer) Configured() bool { return m != nil && m.cfg.Addr != "" }

// Enqueue queues msg in the caller's transaction: it is sent only if tx
// commits, and then at least once (see Run). The message is built here,
// with its Date and Message-ID, so every attempt sends the same bytes.
// A bad recipient address is a KindInvalid error for the user; other
// problems of the message are the caller's bugs (KindInvalid, no message).
// A nil Mailer queues nothing (areas' unit tests without e-mail).
func (m *Mailer) Enqueue(ctx context.Context, tx *db.Tx, msg Message) error {
	if m == nil {
		return nil
	}
	to, err := msg.validate()
	if err != nil {
		return err
	}
	now := m.cfg.Now()
	id := newMessageID(m.from, now)
	raw, err := build(m.from, to, msg, id, now)
	if err != nil {
		return fmt.Errorf("mail.Enqueue: build: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO mail_outbox (message_id, recipient, subject, message, size, status, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)`, id, to.Address, truncate(msg.Subject, 250), string(raw), len(raw),
		db.Millis(now), db.Millis(now)); err != nil {
		return fmt.Errorf("mail.Enqueue: %w", err)
	}
	tx.AfterCommit(m.poke)
	return nil
}

func (m *Mailer) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Counts returns how many messages are in each status (queued, sending,
// sent, failed), for operators and tests.
func (m *Mailer) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := m.d.Query(ctx, `SELECT status, COUNT(*) FROM mail_outbox GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// redact keeps the domain of an address only, for logs (personal data).
func redact(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return "…" + addr[i:]
	}
	return "…"
}
