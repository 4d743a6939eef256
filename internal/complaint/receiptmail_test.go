package complaint

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/mail"
	"vigie/internal/mail/mailtest"
)

// receiptLine returns the text of a complaint's receipt line ("" if none).
func receiptLine(t *testing.T, d *db.DB, complaint int64) string {
	t.Helper()
	var text string
	err := d.QueryRow(context.Background(), `SELECT text FROM complaint_events WHERE complaint_id = ? AND kind = 'receipt'`, complaint).Scan(&text)
	if err != nil {
		t.Fatalf("receipt line of complaint %d: %v", complaint, err)
	}
	return text
}

// withMailer replaces the env's service by one that queues e-mail in the
// real outbox of internal/mail, sent to srv.
func withMailer(t *testing.T, e *env, srv *mailtest.Server, accountEmail string) *mail.Mailer {
	t.Helper()
	addr := ""
	if srv != nil {
		addr = srv.Addr
	}
	m, err := mail.New(e.d, mail.Config{Addr: addr, TLS: mail.TLSNone, From: "Vigie <no-reply@vigie.example>", Poll: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.svc.cfg
	cfg.Mail = m
	cfg.AccountEmail = func(ctx context.Context, id int64) (string, error) { return accountEmail, nil }
	e.svc = New(cfg)
	return m
}

func outboxCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM mail_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReceiptMailSMTP: a submission, with the workers running, ends as an
// e-mail at a real SMTP server, its PDF receipt attached, and the line of
// the timeline says "sent".
func TestReceiptMailSMTP(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		srv := mailtest.Start(t)
		m := withMailer(t, e, srv, "jeanne.account@example.fr")
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { m.Run(ctx) })
		wg.Go(func() { e.svc.RunReceipts(ctx) })
		defer func() { cancel(); wg.Wait() }()

		dr := e.draft("jeanne", goodForm(time.Now()))
		c, err := e.svc.Submit(e.as("jeanne"), dr.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := srv.Wait(t, 1, 20*time.Second)
		if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "jeanne.account@example.fr" {
			t.Fatalf("messages: %+v", got)
		}
		if s := got[0].Subject(); !strings.Contains(s, c.Number) {
			t.Errorf("subject %q lacks the number %s", s, c.Number)
		}
		if txt := got[0].Text(); !strings.Contains(txt, FormatCode(c.VerifyCode)) {
			t.Errorf("text lacks the verification code: %q", txt)
		}
		parts, err := got[0].Parts()
		if err != nil {
			t.Fatal(err)
		}
		var pdf []byte
		for _, p := range parts {
			if p.Type == "application/pdf" && p.Filename == "recepisse-"+c.Number+".pdf" {
				pdf = p.Body
			}
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("%%EOF")) {
			t.Fatalf("no PDF receipt attached (%d parts)", len(parts))
		}
		// The attachment is the receipt of this complaint, as downloaded.
		want, err := e.svc.ReceiptBytes(&c, e.svc.receiptOf(context.Background(), &c).Unit)
		if err != nil || len(want) == 0 {
			t.Fatal(err)
		}
		if len(pdf) < len(want)/2 || len(pdf) > len(want)*2 {
			t.Errorf("attached PDF is %d bytes, the receipt %d", len(pdf), len(want))
		}
		if l := receiptLine(t, d, c.ID); l != receiptSent {
			t.Errorf("receipt line %q, want %q", l, receiptSent)
		}
	})
}

// TestReceiptMailRecovery: with no worker running (a crash right after the
// commit), the receipt stays pending and nothing is queued; the sweep
// sends it, once, even when two replicas sweep at the same time.
func TestReceiptMailRecovery(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		withMailer(t, e, nil, "jeanne.account@example.fr")
		ctx := context.Background()
		var ids []int64
		for range 3 {
			dr := e.draft("jeanne", goodForm(time.Now()))
			c, err := e.svc.Submit(e.as("jeanne"), dr.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if n := outboxCount(t, d); n != 0 {
			t.Fatalf("%d e-mails queued before the receipts were built", n)
		}
		for _, id := range ids {
			if l := receiptLine(t, d, id); l != receiptPending {
				t.Errorf("receipt line %q, want pending", l)
			}
		}
		// Two replicas (two services on the same database) sweep at once.
		other := New(e.svc.cfg)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, s := range []*Service{e.svc, other} {
			wg.Go(func() {
				n, err := s.SendPendingReceipts(ctx, i == 1)
				if err != nil {
					t.Errorf("sweep %d: %v", i, err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if n := outboxCount(t, d); n != 3 {
			t.Errorf("%d e-mails queued, want 3 (one per complaint)", n)
		}
		var withPDF int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE message LIKE '%application/pdf%'`).Scan(&withPDF)
		if withPDF != 3 {
			t.Errorf("%d queued e-mails carry a PDF, want 3", withPDF)
		}
		for _, id := range ids {
			if l := receiptLine(t, d, id); l != receiptSent {
				t.Errorf("receipt line %q, want sent", l)
			}
		}
		if n, err := e.svc.SendPendingReceipts(ctx, false); err != nil || n != 0 {
			t.Errorf("second sweep sent %d (%v), want 0", n, err)
		}
	})
}

// TestReceiptMailRefused: an address internal/mail refuses marks the line
// failed, with the reason, instead of retrying forever; the complaint is
// there all the same.
func TestReceiptMailRefused(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		withMailer(t, e, nil, "not an address")
		dr := e.draft("jeanne", goodForm(time.Now()))
		c, err := e.svc.Submit(e.as("jeanne"), dr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.SendPendingReceipts(context.Background(), false); err != nil || n != 0 {
			t.Errorf("sweep: %d sent, %v; want 0 and no error (the line is marked failed)", n, err)
		}
		if l := receiptLine(t, d, c.ID); !strings.HasPrefix(l, receiptFailed+": ") || !strings.Contains(l, "not valid") {
			t.Errorf("receipt line %q, want failed with the reason", l)
		}
		if n := outboxCount(t, d); n != 0 {
			t.Errorf("%d e-mails queued", n)
		}
		if _, err := e.svc.Get(context.Background(), c.ID); err != nil {
			t.Errorf("complaint: %v", err)
		}
		if n, err := e.svc.SendPendingReceipts(context.Background(), false); err != nil || n != 0 {
			t.Errorf("sweep after failure: %d, %v", n, err)
		}
	})
}
