package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// EnvNATS points the tests at a real NATS JetStream server, e.g.
// nats://127.0.0.1:4222 (CI sets it).
const envNATS = "VIGIE_TEST_NATS_URL"

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mustOpenEmbedded opens an embedded bus on dir, closed when the test ends.
func mustOpenEmbedded(t testing.TB, dir string) *Bus {
	t.Helper()
	b, err := Open(context.Background(), Config{StoreDir: dir}, testLog(t))
	if err != nil {
		t.Fatalf("open embedded bus: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// forEachBus runs f on an embedded bus, and on the external server of
// VIGIE_TEST_NATS_URL when it is set (with a stream and prefix of its own,
// deleted at the end).
func forEachBus(t *testing.T, f func(t *testing.T, b *Bus)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) { f(t, mustOpenEmbedded(t, t.TempDir())) })
	url := os.Getenv(envNATS)
	if url == "" {
		t.Logf("external NATS skipped: set %s (e.g. nats://127.0.0.1:4222) to run this test on a real server too", envNATS)
		return
	}
	t.Run("external", func(t *testing.T) {
		id := randHex(6)
		b, err := Open(context.Background(), Config{URL: url, Stream: "VIGIE_TEST_" + id, Prefix: "vigietest" + id}, testLog(t))
		if err != nil {
			t.Fatalf("open external bus %s: %v", url, err)
		}
		t.Cleanup(func() { b.Close() })
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b.js.DeleteStream(ctx, b.stream)
		})
		f(t, b)
	})
}

// forEachDBAndBus runs f on every database engine times every bus, each
// combination with a fresh database and a fresh stream.
func forEachDBAndBus(t *testing.T, f func(t *testing.T, d *db.DB, b *Bus)) {
	t.Helper()
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			forEachBus(t, func(t *testing.T, b *Bus) { f(t, dbtest.Open(t, e), b) })
		})
	}
}

// collect subscribes a fresh durable consumer and returns the events it gets.
func collect(t testing.TB, b *Bus, filter string) <-chan *CloudEvent {
	t.Helper()
	ch := make(chan *CloudEvent, 1024)
	_, err := b.Subscribe(context.Background(), ConsumerConfig{Durable: "test-" + randHex(4), Filter: filter}, func(_ context.Context, ev *CloudEvent) error {
		ch <- ev
		return nil
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return ch
}

// receive waits for n events; the deadline only guards against a hang.
func receive(t testing.TB, ch <-chan *CloudEvent, n int) []*CloudEvent {
	t.Helper()
	var got []*CloudEvent
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case ev := <-ch:
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("received %d events, want %d", len(got), n)
		}
	}
	return got
}

// streamMsgs returns the number of messages in the bus's stream.
func streamMsgs(t testing.TB, b *Bus) uint64 {
	t.Helper()
	s, err := b.js.Stream(context.Background(), b.stream)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

// mustRelay returns a relay with a fixed clock when now is not zero.
func mustRelay(t testing.TB, d *db.DB, b *Bus, cfg RelayConfig) *Relay {
	t.Helper()
	r, err := NewRelay(d, b, testLog(t), cfg)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	return r
}

// enqueue writes evs through o in one committed transaction.
func enqueue(t testing.TB, d *db.DB, o *Outbox, evs ...Event) {
	t.Helper()
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		for _, ev := range evs {
			if err := o.Enqueue(context.Background(), tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

type outboxState struct {
	eventID   string
	subject   string
	sentAt    int64
	attempts  int
	lastError string
	nextTryAt int64
}

func outboxRows(t testing.TB, d *db.DB) []outboxState {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT event_id, subject, sent_at, attempts, last_error, next_try_at FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	defer rows.Close()
	var out []outboxState
	for rows.Next() {
		var s outboxState
		if err := rows.Scan(&s.eventID, &s.subject, &s.sentAt, &s.attempts, &s.lastError, &s.nextTryAt); err != nil {
			t.Fatalf("scan outbox: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return out
}

func unitEvent(dept, id string) Event {
	return Event{Dept: dept, Area: "org", Type: "unit.created", Subject: id, Data: map[string]string{"id": id, "name": "Brigade de " + strings.ToUpper(id)}}
}
