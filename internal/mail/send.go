package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"

	"vigie/internal/db"
)

// Run sends queued messages until ctx ends: at once when a message is
// queued on this replica, every Poll otherwise (messages of other replicas,
// retries). Without an SMTP server it logs once that e-mail stays queued
// and waits for ctx.
//
// Delivery is at least once. A worker claims a message for Lease before
// talking to the server, then marks it sent once the server accepted it.
// If the process dies between the two, the message is sent again after
// the lease, with the same bytes and Message-ID (receiving systems and
// mail readers use it to drop the copy). Two replicas never send the same
// message at the same time: the claim is a conditional UPDATE.
func (m *Mailer) Run(ctx context.Context) {
	if !m.Configured() {
		m.warnUnconfigured(ctx)
		<-ctx.Done()
		return
	}
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if _, _, err := m.SendDue(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("mail: sending failed", "err", err)
		}
		if now := m.cfg.Now(); now.Sub(lastPrune) > time.Hour {
			if err := m.Prune(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("mail: prune failed", "err", err)
			}
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
		}
	}
}

func (m *Mailer) warnUnconfigured(ctx context.Context) {
	m.warnOnce.Do(func() {
		n := 0
		m.d.QueryRow(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'`).Scan(&n)
		m.log.Warn("mail: no SMTP server configured (VIGIE_SMTP_ADDR): e-mail stays queued until one is", "queued", n)
	})
}

// outgoing is a claimed message.
type outgoing struct {
	id        int64
	recipient string
	message   string
	attempts  int
}

// SendDue sends, batch after batch, every message due now, and returns how
// many were sent and how many failed for good. Errors of one message are
// recorded on it (retried later or failed); the error returned is about
// the queue itself or a stop (ctx, afterSend).
func (m *Mailer) SendDue(ctx context.Context) (sent, failed int, err error) {
	if !m.Configured() {
		m.warnUnconfigured(ctx)
		return 0, 0, nil
	}
	for ctx.Err() == nil {
		batch, err := m.claim(ctx)
		if err != nil {
			return sent, failed, err
		}
		if len(batch) == 0 {
			return sent, failed, nil
		}
		s, f, err := m.sendBatch(ctx, batch)
		sent, failed = sent+s, failed+f
		if err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, ctx.Err()
}

const dueCond = `((status = 'queued' AND next_at <= ?) OR (status = 'sending' AND locked_until <= ?))`

// claim reserves up to Batch due messages for this worker.
func (m *Mailer) claim(ctx context.Context) ([]outgoing, error) {
	now := db.Millis(m.cfg.Now())
	rows, err := m.d.Query(ctx, `SELECT id, size FROM mail_outbox WHERE `+dueCond+` ORDER BY next_at, id LIMIT ?`, now, now, m.cfg.Batch)
	if err != nil {
		return nil, fmt.Errorf("mail: claim: %w", err)
	}
	// A batch holds its messages in memory: it stops at BatchBytes (the
	// first message always goes, whatever its size).
	var ids []int64
	var total int64
	for rows.Next() {
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			rows.Close()
			return nil, err
		}
		if total += size; len(ids) > 0 && total > m.cfg.BatchBytes {
			break
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []outgoing
	lease := db.Millis(m.cfg.Now().Add(m.cfg.Lease))
	for _, id := range ids {
		res, err := m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'sending', locked_until = ?, attempts = attempts + 1
			WHERE id = ? AND `+dueCond, lease, id, now, now)
		if err != nil {
			return out, fmt.Errorf("mail: claim %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another worker took it
		}
		o := outgoing{id: id}
		if err := m.d.QueryRow(ctx, `SELECT recipient, message, attempts FROM mail_outbox WHERE id = ?`, id).
			Scan(&o.recipient, &o.message, &o.attempts); err != nil {
			return out, fmt.Errorf("mail: claim %d: %w", id, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// sendBatch sends claimed messages over one connection.
func (m *Mailer) sendBatch(ctx context.Context, batch []outgoing) (sent, failed int, err error) {
	c, err := m.dial(ctx)
	if err != nil {
		// The server cannot be reached or refused us: every message waits.
		for _, o := range batch {
			if f, err := m.retry(ctx, o, err, false); err != nil {
				return sent, failed, err
			} else if f {
				failed++
			}
		}
		return sent, failed, nil
	}
	defer c.Close()
	for i, o := range batch {
		serr := m.sendOne(c, o)
		if serr == nil {
			if m.afterSend != nil {
				if err := m.afterSend(o.id); err != nil {
					return sent, failed, err
				}
			}
			if err := m.markSent(ctx, o.id); err != nil {
				return sent, failed, err
			}
			sent++
			continue
		}
		f, err := m.retry(ctx, o, serr, isPermanent(serr))
		if err != nil {
			return sent, failed, err
		}
		if f {
			failed++
		}
		var te *textproto.Error
		if !errors.As(serr, &te) {
			// The connection broke: the rest waits for the next pass.
			for _, rest := range batch[i+1:] {
				if err := m.release(ctx, rest); err != nil {
					return sent, failed, err
				}
			}
			return sent, failed, nil
		}
		c.Reset() // a refused message leaves the connection usable
	}
	c.Quit()
	return sent, failed, nil
}

// conn is an SMTP client with the deadline of its raw connection.
type conn struct {
	*smtp.Client
	raw     net.Conn
	timeout time.Duration
}

func (c *conn) step() { c.raw.SetDeadline(time.Now().Add(c.timeout)) }

// dial connects, says EHLO, protects the connection as configured and
// authenticates.
func (m *Mailer) dial(ctx context.Context) (*conn, error) {
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	tcfg := m.cfg.TLSConfig.Clone()
	if tcfg == nil {
		tcfg = &tls.Config{}
	}
	if tcfg.ServerName == "" {
		tcfg.ServerName = host
	}
	tcfg.MinVersion = max(tcfg.MinVersion, tls.VersionTLS12)
	d := &net.Dialer{Timeout: m.cfg.Timeout}
	var raw net.Conn
	var err error
	if m.cfg.TLS == TLSImplicit {
		raw, err = (&tls.Dialer{NetDialer: d, Config: tcfg}).DialContext(ctx, "tcp", m.cfg.Addr)
	} else {
		raw, err = d.DialContext(ctx, "tcp", m.cfg.Addr)
	}
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(m.cfg.Timeout))
	sc, err := smtp.NewClient(raw, host)
	if err != nil {
		raw.Close()
		return nil, err
	}
	c := &conn{Client: sc, raw: raw, timeout: m.cfg.Timeout}
	fail := func(err error) (*conn, error) { c.Close(); return nil, err }
	if err := c.Hello(m.cfg.Hello); err != nil {
		return fail(err)
	}
	secure := m.cfg.TLS == TLSImplicit
	if m.cfg.TLS == TLSAuto || m.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			c.step()
			if err := c.StartTLS(tcfg); err != nil {
				return fail(err)
			}
			secure = true
		} else if m.cfg.TLS == TLSStartTLS {
			return fail(errors.New("mail: the SMTP server does not offer STARTTLS, which the configuration requires"))
		}
	}
	if m.cfg.Username != "" {
		// SECURITY: credentials only over TLS, unless the operator chose
		// TLSNone for a relay on a trusted network.
		if !secure && m.cfg.TLS != TLSNone {
			return fail(errors.New("mail: the SMTP server asks for no TLS: credentials are not sent in clear"))
		}
		c.step()
		if err := c.Auth(plainAuth{m.cfg.Username, m.cfg.Password}); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// plainAuth is SASL PLAIN. net/smtp's PlainAuth refuses unencrypted
// connections except to localhost; dial already made that decision (TLS
// unless TLSNone was chosen), so it is not repeated here.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("mail: unexpected SMTP AUTH challenge")
	}
	return nil, nil
}

func (m *Mailer) sendOne(c *conn, o outgoing) error {
	c.step()
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	c.step()
	if err := c.Rcpt(o.recipient); err != nil {
		return err
	}
	c.step()
	w, err := c.Data()
	if err != nil {
		return err
	}
	c.step()
	if _, err := w.Write([]byte(o.message)); err != nil {
		return err
	}
	c.step()
	return w.Close()
}

// causeOf says why a send failed without the server's text, which may
// quote the recipient's address (personal data stays out of logs; the
// whole answer is in mail_outbox.last_error).
func causeOf(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("SMTP %d", te.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network"
	}
	return "connection or TLS"
}

// isPermanent reports whether the server refused for good (5xx).
func isPermanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

func (m *Mailer) markSent(ctx context.Context, id int64) error {
	// The content goes once sent: the queue is not an archive of what
	// citizens were told (the areas keep their own records).
	_, err := m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'sent', sent_at = ?, message = '', last_error = '', locked_until = 0
		WHERE id = ?`, db.Millis(m.cfg.Now()), id)
	if err != nil {
		return fmt.Errorf("mail: mark %d sent: %w", id, err)
	}
	return nil
}

// retry records a failed attempt: failed for good when permanent or after
// MaxAttempts, else queued again after a backoff doubling with attempts.
func (m *Mailer) retry(ctx context.Context, o outgoing, cause error, permanent bool) (failed bool, err error) {
	msg := truncate(cause.Error(), 500)
	now := m.cfg.Now()
	if permanent || o.attempts >= m.cfg.MaxAttempts {
		m.log.Warn("mail: message failed for good", "id", o.id, "to", redact(o.recipient), "attempts", o.attempts, "cause", causeOf(cause))
		_, err = m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'failed', last_error = ?, locked_until = 0 WHERE id = ?`, msg, o.id)
		return true, err
	}
	delay := m.cfg.Backoff
	for i := 1; i < o.attempts && delay < m.cfg.MaxBackoff; i++ {
		delay *= 2
	}
	delay = min(delay, m.cfg.MaxBackoff)
	m.log.Info("mail: message will be retried", "id", o.id, "attempt", o.attempts, "in", delay.String(), "cause", causeOf(cause))
	_, err = m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'queued', next_at = ?, last_error = ?, locked_until = 0 WHERE id = ?`,
		db.Millis(now.Add(delay)), msg, o.id)
	return false, err
}

// release gives a claimed message back without counting the attempt.
func (m *Mailer) release(ctx context.Context, o outgoing) error {
	_, err := m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'queued', attempts = attempts - 1, locked_until = 0 WHERE id = ? AND status = 'sending'`, o.id)
	return err
}

// Prune deletes sent and failed messages older than Keep.
func (m *Mailer) Prune(ctx context.Context) error {
	_, err := m.d.Exec(ctx, `DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND created_at < ?`,
		db.Millis(m.cfg.Now().Add(-m.cfg.Keep)))
	return err
}

// Retry puts failed messages back in the queue (an operator fixed the
// SMTP settings); it returns how many.
func (m *Mailer) Retry(ctx context.Context) (int64, error) {
	res, err := m.d.Exec(ctx, `UPDATE mail_outbox SET status = 'queued', attempts = 0, next_at = ? WHERE status = 'failed' AND message <> ''`,
		db.Millis(m.cfg.Now()))
	if err != nil {
		return 0, err
	}
	m.poke()
	return res.RowsAffected()
}
