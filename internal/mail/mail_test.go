package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	netmail "net/mail"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/mail/mailtest"
)

// clock is a test clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)} }

func newMailer(t *testing.T, d *db.DB, cfg Config) *Mailer {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Vigie <no-reply@vigie.example>"
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSNone
	}
	m, err := New(d, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func enqueue(t *testing.T, d *db.DB, m *Mailer, msgs ...Message) {
	t.Helper()
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		for _, msg := range msgs {
			if err := m.Enqueue(context.Background(), tx, msg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type row struct {
	status, lastError, message string
	attempts                   int
	nextAt                     int64
}

func rowOf(t *testing.T, d *db.DB, id int64) row {
	t.Helper()
	var r row
	if err := d.QueryRow(context.Background(), `SELECT status, last_error, message, attempts, next_at FROM mail_outbox WHERE id = ?`, id).
		Scan(&r.status, &r.lastError, &r.message, &r.attempts, &r.nextAt); err != nil {
		t.Fatal(err)
	}
	return r
}

func onlyID(t *testing.T, d *db.DB) int64 {
	t.Helper()
	var id int64
	if err := d.QueryRow(context.Background(), `SELECT MAX(id) FROM mail_outbox`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

var pdf = []byte("%PDF-1.4\n% récépissé\n" + strings.Repeat("0123456789", 30) + "\n%%EOF\n")

func TestSendBuildsTheMIMEMessage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		clk := newClock()
		m := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now})
		msg := Message{
			To:          "Camille Martin <camille.martin@example.fr>",
			Subject:     "Votre plainte n° 2026-01-000123 a été reçue — récépissé",
			Text:        "Bonjour Camille,\nVotre plainte a été reçue.\nUne ligne très longue " + strings.Repeat("é", 100) + "\n",
			HTML:        "<p>Bonjour Camille,</p><p>Votre plainte a été reçue.</p>",
			Attachments: []Attachment{{Name: "récépissé 2026-01-000123.pdf", Type: "application/pdf", Data: pdf}},
		}
		enqueue(t, d, m, msg)
		sent, failed, err := m.SendDue(context.Background())
		if err != nil || sent != 1 || failed != 0 {
			t.Fatalf("SendDue = %d, %d, %v; want 1 sent", sent, failed, err)
		}
		got := srv.Wait(t, 1, 5*time.Second)[0]
		if got.From != "no-reply@vigie.example" || len(got.To) != 1 || got.To[0] != "camille.martin@example.fr" {
			t.Fatalf("envelope: from %q to %v", got.From, got.To)
		}
		// 7 bits: any MTA relays it unchanged.
		for i, c := range got.Data {
			if c >= 0x80 {
				t.Fatalf("8-bit byte at %d", i)
			}
		}
		pm, err := got.Message()
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Subject(); s != msg.Subject {
			t.Errorf("subject %q, want %q", s, msg.Subject)
		}
		if _, err := pm.Header.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		if id := pm.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@vigie.example>") {
			t.Errorf("Message-ID %q", id)
		}
		if to, err := pm.Header.AddressList("To"); err != nil || to[0].Name != "Camille Martin" {
			t.Errorf("To: %v %v", to, err)
		}
		if pm.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("no Auto-Submitted header")
		}
		if !strings.HasPrefix(pm.Header.Get("Content-Type"), "multipart/mixed;") {
			t.Errorf("Content-Type %q", pm.Header.Get("Content-Type"))
		}
		parts, err := got.Parts()
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 3 || parts[0].Type != "text/plain" || parts[1].Type != "text/html" || parts[2].Type != "application/pdf" {
			t.Fatalf("parts: %+v", parts)
		}
		if string(parts[0].Body) != strings.ReplaceAll(msg.Text, "\n", "\r\n") {
			t.Errorf("text %q", parts[0].Body)
		}
		if string(parts[1].Body) != msg.HTML {
			t.Errorf("html %q", parts[1].Body)
		}
		if parts[2].Filename != "récépissé 2026-01-000123.pdf" || !bytes.Equal(parts[2].Body, pdf) {
			t.Errorf("attachment %q, %d bytes", parts[2].Filename, len(parts[2].Body))
		}
		// Sent: the content is gone from the queue.
		if r := rowOf(t, d, onlyID(t, d)); r.status != "sent" || r.message != "" || r.attempts != 1 {
			t.Errorf("row after send: %+v", r)
		}
	})
}

func TestTextOnlyMessage(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	m := newMailer(t, d, Config{Addr: srv.Addr})
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "Plain", Text: "Line one\nLine two"})
	if _, _, err := m.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 5*time.Second)[0]
	pm, _ := got.Message()
	if ct := pm.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if got.Text() != "Line one\r\nLine two\r\n" { // SMTP ends the data with CRLF
		t.Errorf("text %q", got.Text())
	}
}

func TestRolledBackActionSendsNothing(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	m := newMailer(t, d, Config{Addr: "127.0.0.1:1"})
	boom := errors.New("the action failed")
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		if err := m.Enqueue(context.Background(), tx, Message{To: "a@example.fr", Subject: "x", Text: "x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if c, _ := m.Counts(context.Background()); len(c) != 0 {
		t.Fatalf("queue after rollback: %v", c)
	}
}

func TestRetryAfterTemporaryRefusal(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		srv.RefuseData(451) // the server refuses once: try again later
		clk := newClock()
		m := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now, Backoff: time.Minute})
		enqueue(t, d, m, Message{To: "a@example.fr", Subject: "Retry", Text: "hello"})
		id := onlyID(t, d)
		if sent, failed, err := m.SendDue(context.Background()); err != nil || sent != 0 || failed != 0 {
			t.Fatalf("first pass: %d sent, %d failed, %v", sent, failed, err)
		}
		r := rowOf(t, d, id)
		if r.status != "queued" || r.attempts != 1 || !strings.Contains(r.lastError, "451") || r.nextAt != db.Millis(clk.Now().Add(time.Minute)) {
			t.Fatalf("after a temporary refusal: %+v", r)
		}
		// Not due yet: nothing is sent.
		if sent, _, _ := m.SendDue(context.Background()); sent != 0 {
			t.Fatalf("sent before the backoff")
		}
		clk.Add(61 * time.Second)
		if sent, _, err := m.SendDue(context.Background()); sent != 1 || err != nil {
			t.Fatalf("second pass: %d sent, %v", sent, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server received %d messages, want 1", n)
		}
		if r := rowOf(t, d, id); r.status != "sent" || r.attempts != 2 {
			t.Fatalf("after retry: %+v", r)
		}
	})
}

func TestPermanentRefusalFails(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	srv.RefuseRcpt("nobody@example.fr", 550)
	var logs bytes.Buffer
	m, err := New(d, Config{Addr: srv.Addr, TLS: TLSNone, From: "no-reply@vigie.example"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if strings.Contains(logs.String(), "nobody") || !strings.Contains(logs.String(), "SMTP 550") {
			t.Errorf("log: %s", logs.String())
		}
	}()
	enqueue(t, d, m, Message{To: "nobody@example.fr", Subject: "x", Text: "x"}, Message{To: "somebody@example.fr", Subject: "y", Text: "y"})
	sent, failed, err := m.SendDue(context.Background())
	if err != nil || sent != 1 || failed != 1 {
		t.Fatalf("SendDue = %d sent, %d failed, %v; want 1 and 1 (a refused recipient does not block the next)", sent, failed, err)
	}
	c, _ := m.Counts(context.Background())
	if c["failed"] != 1 || c["sent"] != 1 {
		t.Fatalf("counts %v", c)
	}
	var lastErr string
	d.QueryRow(context.Background(), `SELECT last_error FROM mail_outbox WHERE status = 'failed'`).Scan(&lastErr)
	if !strings.Contains(lastErr, "550") {
		t.Errorf("last_error %q", lastErr)
	}
	// An operator fixes the cause and puts failed messages back.
	srv.RefuseRcpt("nobody@example.fr", 0)
	if n, err := m.Retry(context.Background()); n != 1 || err != nil {
		t.Fatalf("Retry = %d, %v", n, err)
	}
	if sent, _, _ := m.SendDue(context.Background()); sent != 1 {
		t.Fatalf("after Retry: %d sent", sent)
	}
}

func TestServerDownRetriesThenFails(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	// A port where nothing listens.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	clk := newClock()
	m := newMailer(t, d, Config{Addr: addr, Now: clk.Now, MaxAttempts: 3, Backoff: time.Minute, MaxBackoff: 90 * time.Second, Timeout: time.Second})
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "x", Text: "x"})
	id := onlyID(t, d)
	wantDelay := []time.Duration{time.Minute, 90 * time.Second} // doubled, capped
	for i := 0; i < 3; i++ {
		_, failed, err := m.SendDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r := rowOf(t, d, id)
		if i < 2 {
			if r.status != "queued" || failed != 0 || r.nextAt != db.Millis(clk.Now().Add(wantDelay[i])) {
				t.Fatalf("attempt %d: %+v", i+1, r)
			}
			clk.Add(wantDelay[i])
			continue
		}
		if r.status != "failed" || failed != 1 || r.attempts != 3 {
			t.Fatalf("after %d attempts: %+v", r.attempts, r)
		}
	}
}

// TestCrashBetweenSendAndMark: the server accepted the message but the
// worker died before marking it sent. Delivery is at least once: another
// worker sends it again once the lease has passed, with the same
// Message-ID (never while the lease holds), and marks it sent once.
func TestCrashBetweenSendAndMark(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		clk := newClock()
		crashed := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now, Lease: 10 * time.Minute})
		crash := errors.New("killed")
		crashed.afterSend = func(int64) error { return crash }
		enqueue(t, d, crashed, Message{To: "a@example.fr", Subject: "Once", Text: "x"})
		if _, _, err := crashed.SendDue(context.Background()); !errors.Is(err, crash) {
			t.Fatalf("SendDue: %v", err)
		}
		id := onlyID(t, d)
		if r := rowOf(t, d, id); r.status != "sending" {
			t.Fatalf("after the crash: %+v", r)
		}
		// The next process starts: while the lease holds, nothing is resent.
		next := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now, Lease: 10 * time.Minute})
		clk.Add(5 * time.Minute)
		if sent, _, _ := next.SendDue(context.Background()); sent != 0 {
			t.Fatalf("resent within the lease")
		}
		clk.Add(6 * time.Minute)
		if sent, _, err := next.SendDue(context.Background()); sent != 1 || err != nil {
			t.Fatalf("after the lease: %d sent, %v", sent, err)
		}
		got := srv.Wait(t, 2, 5*time.Second)
		if len(got) != 2 {
			t.Fatalf("%d copies, want 2 (at least once)", len(got))
		}
		m1, _ := got[0].Message()
		m2, _ := got[1].Message()
		if m1.Header.Get("Message-Id") != m2.Header.Get("Message-Id") || !bytes.Equal(got[0].Data, got[1].Data) {
			t.Fatalf("the copy differs from the first send: receivers cannot drop it")
		}
		if r := rowOf(t, d, id); r.status != "sent" || r.attempts != 2 {
			t.Fatalf("final row %+v", r)
		}
		// Nothing more to send, ever.
		clk.Add(time.Hour)
		if sent, _, _ := next.SendDue(context.Background()); sent != 0 {
			t.Fatalf("sent a third time")
		}
	})
}

// TestConcurrentWorkersSendEachMessageOnce: two replicas share the queue.
func TestConcurrentWorkersSendEachMessageOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		a := newMailer(t, d, Config{Addr: srv.Addr, Batch: 3})
		b := newMailer(t, d, Config{Addr: srv.Addr, Batch: 3})
		const n = 30
		var msgs []Message
		for i := range n {
			msgs = append(msgs, Message{To: "a@example.fr", Subject: "n° " + string(rune('A'+i)), Text: "x"})
		}
		enqueue(t, d, a, msgs...)
		var wg sync.WaitGroup
		for _, m := range []*Mailer{a, b} {
			wg.Go(func() {
				if _, _, err := m.SendDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := srv.Messages()
		seen := map[string]bool{}
		for _, g := range got {
			pm, _ := g.Message()
			id := pm.Header.Get("Message-Id")
			if seen[id] {
				t.Fatalf("message %s sent twice", id)
			}
			seen[id] = true
		}
		if len(seen) != n {
			t.Fatalf("%d distinct messages received, want %d", len(seen), n)
		}
	})
}

func TestSTARTTLSAndAuthentication(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	t.Run("auto uses STARTTLS when offered and authenticates over it", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithTLS(), mailtest.WithAuth("vigie", "s3cret"))
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSAuto, TLSConfig: srv.ClientTLS, Username: "vigie", Password: "s3cret"})
		enqueue(t, d, m, Message{To: "a@example.fr", Subject: "tls", Text: "x"})
		if sent, _, err := m.SendDue(context.Background()); sent != 1 || err != nil {
			var last string
			d.QueryRow(context.Background(), `SELECT last_error FROM mail_outbox ORDER BY id DESC LIMIT 1`).Scan(&last)
			t.Fatalf("%d sent, %v (%s)", sent, err, last)
		}
		got := srv.Messages()[0]
		if !got.TLS || got.AuthUser != "vigie" {
			t.Fatalf("tls %v, user %q", got.TLS, got.AuthUser)
		}
	})
	t.Run("implicit TLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithImplicitTLS(), mailtest.WithAuth("vigie", "s3cret"))
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSImplicit, TLSConfig: srv.ClientTLS, Username: "vigie", Password: "s3cret"})
		enqueue(t, d, m, Message{To: "b@example.fr", Subject: "tls", Text: "x"})
		if sent, _, err := m.SendDue(context.Background()); sent != 1 || err != nil {
			var last string
			d.QueryRow(context.Background(), `SELECT last_error FROM mail_outbox ORDER BY id DESC LIMIT 1`).Scan(&last)
			t.Fatalf("%d sent, %v (%s)", sent, err, last)
		}
		if got := srv.Messages()[0]; !got.TLS || got.AuthUser != "vigie" {
			t.Fatalf("tls %v, user %q", got.TLS, got.AuthUser)
		}
	})
	t.Run("a certificate the client does not trust", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithTLS())
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSStartTLS})
		enqueue(t, d, m, Message{To: "c@example.fr", Subject: "tls", Text: "x"})
		if sent, _, _ := m.SendDue(context.Background()); sent != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("sent to a server whose certificate is not trusted")
		}
		d.Exec(context.Background(), `DELETE FROM mail_outbox`)
	})
	t.Run("starttls required but not offered", func(t *testing.T) {
		srv := mailtest.Start(t)
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSStartTLS})
		enqueue(t, d, m, Message{To: "a@example.fr", Subject: "x", Text: "x"})
		if sent, _, _ := m.SendDue(context.Background()); sent != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("sent without the required TLS")
		}
		var lastErr string
		d.QueryRow(context.Background(), `SELECT last_error FROM mail_outbox WHERE status = 'queued'`).Scan(&lastErr)
		if !strings.Contains(lastErr, "STARTTLS") {
			t.Errorf("last_error %q", lastErr)
		}
		d.Exec(context.Background(), `DELETE FROM mail_outbox`)
	})
	t.Run("credentials never go in clear", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithAuth("vigie", "s3cret"), mailtest.WithInsecureAuth())
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSAuto, Username: "vigie", Password: "s3cret"})
		enqueue(t, d, m, Message{To: "a@example.fr", Subject: "x", Text: "x"})
		if sent, _, _ := m.SendDue(context.Background()); sent != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("authenticated in clear")
		}
		d.Exec(context.Background(), `DELETE FROM mail_outbox`)
	})
	t.Run("wrong password keeps messages queued", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.WithTLS(), mailtest.WithAuth("vigie", "s3cret"))
		m := newMailer(t, d, Config{Addr: srv.Addr, TLS: TLSAuto, TLSConfig: srv.ClientTLS, Username: "vigie", Password: "wrong"})
		enqueue(t, d, m, Message{To: "a@example.fr", Subject: "x", Text: "x"})
		if sent, failed, _ := m.SendDue(context.Background()); sent != 0 || failed != 0 {
			t.Fatalf("sent %d failed %d; want queued for a retry", sent, failed)
		}
		c, _ := m.Counts(context.Background())
		if c["queued"] != 1 {
			t.Fatalf("counts %v", c)
		}
	})
}

// TestUnconfiguredStaysQueued: without SMTP, messages wait and the log
// says so once, without any content.
func TestUnconfiguredStaysQueued(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	var logs bytes.Buffer
	m, err := New(d, Config{From: "no-reply@vigie.example"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, d, m, Message{To: "camille.martin@example.fr", Subject: "Secret subject", Text: "Secret body"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	m.Run(ctx)
	cancel()
	m.SendDue(context.Background())
	if c, _ := m.Counts(context.Background()); c["queued"] != 1 {
		t.Fatalf("counts %v", c)
	}
	out := logs.String()
	if strings.Count(out, "no SMTP server configured") != 1 {
		t.Errorf("log: %q; want the warning once", out)
	}
	if strings.Contains(out, "Secret") || strings.Contains(out, "camille") {
		t.Errorf("the log holds personal data: %q", out)
	}
}

// TestRunSendsOnCommit: the worker wakes when a message is queued.
func TestRunSendsOnCommit(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	m := newMailer(t, d, Config{Addr: srv.Addr, Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "wake", Text: "x"})
	srv.Wait(t, 1, 5*time.Second)
}

func TestPrune(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	clk := newClock()
	m := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now, Keep: 24 * time.Hour})
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "old", Text: "x"})
	m.SendDue(context.Background())
	clk.Add(25 * time.Hour)
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "new", Text: "x"}) // queued: kept
	if err := m.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Counts(context.Background()); c["sent"] != 0 || c["queued"] != 1 {
		t.Fatalf("after prune: %v", c)
	}
}

func TestEnqueueRefusesBadMessages(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	m := newMailer(t, d, Config{})
	ok := Message{To: "a@example.fr", Subject: "s", Text: "t"}
	tests := []struct {
		name   string
		change func(*Message)
		forUse bool // the message is for the user (bad address)
	}{
		{"injected header in the address", func(m *Message) { m.To = "a@example.fr\r\nBcc: everyone@example.fr" }, true},
		{"two recipients", func(m *Message) { m.To = "a@example.fr, b@example.fr" }, true},
		{"no address", func(m *Message) { m.To = "" }, true},
		{"not an address", func(m *Message) { m.To = "camille" }, true},
		{"local part outside ASCII", func(m *Message) { m.To = "élodie@example.fr" }, true},
		{"injected header in the subject", func(m *Message) { m.Subject = "hi\r\nBcc: everyone@example.fr" }, false},
		{"empty subject", func(m *Message) { m.Subject = " " }, false},
		{"no text", func(m *Message) { m.Text = "" }, false},
		{"attachment name with a path", func(m *Message) { m.Attachments = []Attachment{{Name: "../x.pdf", Type: "application/pdf", Data: pdf}} }, false},
		{"attachment without type", func(m *Message) { m.Attachments = []Attachment{{Name: "x.pdf", Data: pdf}} }, false},
		{"attachments too big", func(m *Message) {
			m.Attachments = []Attachment{{Name: "x.bin", Type: "application/octet-stream", Data: make([]byte, maxAttachments+1)}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := ok
			tt.change(&msg)
			err := d.InTx(context.Background(), func(tx *db.Tx) error { return m.Enqueue(context.Background(), tx, msg) })
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if tt.forUse != (vigie.MessageOf(err) != "") {
				t.Fatalf("message for the user %q; want one: %v", vigie.MessageOf(err), tt.forUse)
			}
		})
	}
	if c, _ := m.Counts(context.Background()); len(c) != 0 {
		t.Fatalf("queued: %v", c)
	}
	// A nil mailer (an area wired without e-mail) queues nothing, fails nothing.
	var none *Mailer
	if err := d.InTx(context.Background(), func(tx *db.Tx) error { return none.Enqueue(context.Background(), tx, ok) }); err != nil {
		t.Fatal(err)
	}
}

func TestInternationalDomain(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	m := newMailer(t, d, Config{Addr: srv.Addr})
	enqueue(t, d, m, Message{To: "Élodie <elodie@société.fr>", Subject: "x", Text: "x"})
	m.SendDue(context.Background())
	got := srv.Wait(t, 1, 5*time.Second)[0]
	if got.To[0] != "elodie@xn--socit-esab.fr" {
		t.Fatalf("recipient %q", got.To[0])
	}
}

func TestNewChecksConfig(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	for _, cfg := range []Config{
		{From: ""},
		{From: "not an address"},
		{From: "a@b.fr", TLS: "ssl"},
		{From: "a@b.fr", Addr: "smtp.example.fr"},
		{From: "a@b.fr", Addr: "smtp.example.fr:587", Password: "x"},
	} {
		if _, err := New(d, cfg, nil); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("New(%+v) = %v, want invalid", cfg, err)
		}
	}
}

// FuzzEnqueue: whatever the address and subject a user or an area hands
// over, the queued message has exactly our headers (no injection), and its
// recipient is the one address validated.
func FuzzEnqueue(f *testing.F) {
	f.Add("a@example.fr", "Sujet é", "texte")
	f.Add("Camille <c@example.fr>", "x\r\nBcc: y@z", "t")
	f.Add("\"a\r\nb\" <c@example.fr>", "=?utf-8?q?x?=", "t")
	f.Add("a@example.fr\nBcc: b@example.fr", "s", "t")
	from, _ := mailAddress("Vigie <no-reply@vigie.example>")
	f.Fuzz(func(t *testing.T, to, subject, text string) {
		msg := Message{To: to, Subject: subject, Text: text}
		rcpt, err := msg.validate()
		if err != nil {
			return
		}
		raw, err := build(from, rcpt, msg, "1.x@vigie.example", time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		pm, err := readMessage(raw)
		if err != nil {
			t.Fatalf("unreadable message: %v\n%s", err, raw)
		}
		want := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
			"Mime-Version": true, "Auto-Submitted": true, "Content-Type": true, "Content-Transfer-Encoding": true}
		for k := range pm.Header {
			if !want[k] {
				t.Fatalf("injected header %q from to=%q subject=%q", k, to, subject)
			}
		}
		list, err := pm.Header.AddressList("To")
		if err != nil || len(list) != 1 || list[0].Address != rcpt.Address {
			t.Fatalf("To header %q gives %v, %v; want %s", pm.Header.Get("To"), list, err, rcpt.Address)
		}
		for _, c := range raw {
			if c >= 0x80 {
				t.Fatalf("8-bit byte in the message")
			}
		}
	})
}

func mailAddress(s string) (*netmail.Address, error) { return netmail.ParseAddress(s) }
func readMessage(b []byte) (*netmail.Message, error) { return netmail.ReadMessage(bytes.NewReader(b)) }

func TestValidAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"a@example.fr": true, "Camille Martin <camille@example.fr>": true, "jean@société.fr": true, "jean+vigie@example.fr": true,
		"": false, "camille": false, "a@example.fr, b@example.fr": false, "a@example.fr\r\nBcc: b@example.fr": false,
		"élodie@example.fr": false,
	} {
		err := ValidAddress(addr)
		if (err == nil) != ok {
			t.Errorf("ValidAddress(%q) = %v, want ok %v", addr, err, ok)
		}
		if err != nil && (vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "") {
			t.Errorf("ValidAddress(%q): %v, want invalid with a message", addr, err)
		}
	}
}

// TestBatchMemoryBound: a batch stops at BatchBytes; a message larger than
// the bound still goes, alone.
func TestBatchMemoryBound(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	m := newMailer(t, d, Config{Addr: srv.Addr, BatchBytes: 40 << 10})
	big := Message{To: "a@example.fr", Subject: "big", Text: "x",
		Attachments: []Attachment{{Name: "r.pdf", Type: "application/pdf", Data: make([]byte, 12<<10)}}}
	huge := big
	huge.Attachments = []Attachment{{Name: "h.pdf", Type: "application/pdf", Data: make([]byte, 40<<10)}}
	enqueue(t, d, m, big, big, big, huge)
	var sizes []int
	for {
		batch, err := m.claim(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		sizes = append(sizes, len(batch))
		if _, _, err := m.sendBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	// ~17 KB each once encoded: two fit in 40 KB, the third does not;
	// the 54 KB message goes alone.
	if fmt.Sprint(sizes) != "[2 1 1]" || len(srv.Messages()) != 4 {
		t.Fatalf("batches %v, %d sent", sizes, len(srv.Messages()))
	}
}

// TestDroppedConnection: the server hangs up during a batch. The message
// being sent counts an attempt and waits for its backoff; the others of the
// batch are released untouched and go on a new connection at once.
func TestDroppedConnection(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	srv := mailtest.Start(t)
	clk := newClock()
	m := newMailer(t, d, Config{Addr: srv.Addr, Now: clk.Now, Backoff: time.Minute})
	enqueue(t, d, m, Message{To: "a@example.fr", Subject: "1", Text: "x"}, Message{To: "b@example.fr", Subject: "2", Text: "x"},
		Message{To: "c@example.fr", Subject: "3", Text: "x"})
	srv.DropData(1)
	sent, failed, err := m.SendDue(context.Background())
	if err != nil || sent != 2 || failed != 0 {
		t.Fatalf("SendDue = %d sent, %d failed, %v; want 2 sent on a new connection", sent, failed, err)
	}
	var attempts []int
	rows, _ := d.Query(context.Background(), `SELECT attempts FROM mail_outbox ORDER BY id`)
	for rows.Next() {
		var a int
		rows.Scan(&a)
		attempts = append(attempts, a)
	}
	rows.Close()
	if fmt.Sprint(attempts) != "[1 1 1]" {
		t.Fatalf("attempts %v: a released message must not count the dropped one", attempts)
	}
	if r := rowOf(t, d, 1); r.status != "queued" {
		t.Fatalf("dropped message: %+v", r)
	}
	clk.Add(time.Minute)
	if sent, _, _ := m.SendDue(context.Background()); sent != 1 {
		t.Fatalf("retry: %d sent", sent)
	}
	if r := rowOf(t, d, 1); r.status != "sent" || r.attempts != 2 {
		t.Fatalf("after retry: %+v", r)
	}
}
