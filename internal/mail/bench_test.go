package mail

import (
	"context"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/mail/mailtest"
)

// BenchmarkEnqueue: one message with a 50 KB PDF receipt, built and queued
// in its own transaction on SQLite.
func BenchmarkEnqueue(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	m, err := New(d, Config{From: "Vigie <no-reply@vigie.example>"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := Message{To: "camille.martin@example.fr", Subject: "Votre récépissé de plainte", Text: "Bonjour,\nvoici votre récépissé.\n",
		Attachments: []Attachment{{Name: "récépissé.pdf", Type: "application/pdf", Data: make([]byte, 50<<10)}}}
	ctx := context.Background()
	for b.Loop() {
		if err := d.InTx(ctx, func(tx *db.Tx) error { return m.Enqueue(ctx, tx, msg) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend: queued messages sent to a real SMTP server on loopback,
// in batches of 20 per connection, each marked sent.
func BenchmarkSend(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	srv := mailtest.Start(b)
	m, err := New(d, Config{Addr: srv.Addr, TLS: TLSNone, From: "Vigie <no-reply@vigie.example>"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	msg := Message{To: "a@example.fr", Subject: "Votre plainte a changé d'étape", Text: "Bonjour,\nvotre plainte a avancé.\n"}
	d.InTx(ctx, func(tx *db.Tx) error {
		for range b.N {
			if err := m.Enqueue(ctx, tx, msg); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	sent, _, err := m.SendDue(ctx)
	if err != nil || sent != b.N {
		b.Fatalf("%d sent of %d: %v", sent, b.N, err)
	}
	b.StopTimer()
	srv.Wait(b, b.N, 10*time.Second)
}
