package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// BenchmarkRelay measures relay throughput: b.N events already in the
// outbox, moved to the embedded JetStream (fsync on every write) by Flush.
//
//	go test -run '^$' -bench Relay -benchtime 20000x ./internal/bus/
func BenchmarkRelay(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		for _, batch := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", e, batch), func(b *testing.B) {
				d := dbtest.Open(b, e)
				bus := mustOpenEmbedded(b, b.TempDir())
				r := mustRelay(b, d, bus, RelayConfig{Batch: batch})
				fill(b, d, r.Outbox(), b.N)
				b.ResetTimer()
				start := time.Now()
				if err := r.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
				b.StopTimer()
				if n := streamMsgs(b, bus); n != uint64(b.N) {
					b.Fatalf("stream has %d messages, want %d", n, b.N)
				}
			})
		}
	}
}

// BenchmarkEnqueue measures the cost an area pays per event in its own
// transaction (one event per transaction, SQLite).
func BenchmarkEnqueue(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	o := &Outbox{}
	ev := unitEvent("01", "u1")
	b.ResetTimer()
	for b.Loop() {
		if err := d.InTx(context.Background(), func(tx *db.Tx) error { return o.Enqueue(context.Background(), tx, ev) }); err != nil {
			b.Fatal(err)
		}
	}
}

func fill(b *testing.B, d *db.DB, o *Outbox, n int) {
	b.Helper()
	for i := 0; i < n; i += 500 {
		err := d.InTx(context.Background(), func(tx *db.Tx) error {
			for j := i; j < min(i+500, n); j++ {
				if err := o.Enqueue(context.Background(), tx, unitEvent("01", fmt.Sprint(j))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishBatch measures the embedded bus alone: publish with
// Nats-Msg-Id and wait for the PubAck, 256 at a time (fsync per message).
func BenchmarkPublishBatch(b *testing.B) {
	bus := mustOpenEmbedded(b, b.TempDir())
	msgs := make([]Message, b.N)
	for i := range msgs {
		ce, _ := newCloudEvent(unitEvent("01", fmt.Sprint(i)), time.Now())
		p, _ := json.Marshal(ce)
		msgs[i] = Message{Subject: "vigie.01.org.unit.created", ID: ce.ID, Payload: p}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += 256 {
		for _, r := range bus.PublishBatch(context.Background(), msgs[i:min(i+256, b.N)]) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
