package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"vigie"
)

// Messages the embedded server acknowledged survive a restart on the same
// storage directory (and a consumer resumes where it stopped).
func TestEmbeddedRestartKeepsAcknowledged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, Config{StoreDir: dir}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var msgs []Message
	for i := range n {
		ce, _ := newCloudEvent(unitEvent("01", fmt.Sprint(i)), time.Now())
		payload, _ := json.Marshal(ce)
		msgs = append(msgs, Message{Subject: "vigie.01.org.unit.created", ID: ce.ID, Payload: payload})
	}
	for i, res := range b.PublishBatch(ctx, msgs) {
		if res.Err != nil {
			t.Fatalf("publish %d: %v", i, res.Err)
		}
	}
	// A consumer handles about half of the events before the restart.
	before := make(chan *CloudEvent, n)
	sub, err := b.Subscribe(ctx, ConsumerConfig{Durable: "journal"}, func(_ context.Context, ev *CloudEvent) error {
		before <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first := receive(t, before, n/2)
	sub.Stop()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	close(before)
	seen := map[string]bool{}
	for _, ev := range first {
		seen[ev.ID] = true
	}
	for ev := range before {
		seen[ev.ID] = true
	}

	b2 := mustOpenEmbedded(t, dir)
	if got := streamMsgs(t, b2); got != n {
		t.Fatalf("stream after restart has %d messages, want %d", got, n)
	}
	// The durable consumer resumes: every event not handled before the
	// restart comes now (at least once).
	after := collectDurable(t, b2, "journal")
	for len(seen) < n {
		seen[receive(t, after, 1)[0].ID] = true
	}
	for _, m := range msgs {
		if !seen[m.ID] {
			t.Errorf("event %s never delivered", m.ID)
		}
	}
	// Publishing an already stored id again is a duplicate, not a new message.
	if res := b2.PublishBatch(ctx, msgs[:1]); res[0].Err != nil || !res[0].Duplicate {
		t.Errorf("republish = %+v, want a duplicate", res[0])
	}
}

func collectDurable(t testing.TB, b *Bus, name string) <-chan *CloudEvent {
	t.Helper()
	ch := make(chan *CloudEvent, 1024)
	if _, err := b.Subscribe(context.Background(), ConsumerConfig{Durable: name}, func(_ context.Context, ev *CloudEvent) error {
		ch <- ev
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ch
}

// A handler error redelivers the event; a payload that is not a CloudEvent
// is dropped without blocking the ones behind it.
func TestSubscribeRedeliversAndDropsPoison(t *testing.T) {
	forEachBus(t, func(t *testing.T, b *Bus) {
		ctx := context.Background()
		subject := b.Prefix() + ".01.org.unit.created"
		if err := b.Publish(ctx, Message{Subject: subject, ID: "poison", Payload: []byte("not json")}); err != nil {
			t.Fatal(err)
		}
		ce, _ := newCloudEvent(unitEvent("01", "u1"), time.Now())
		payload, _ := json.Marshal(ce)
		if err := b.Publish(ctx, Message{Subject: subject, ID: ce.ID, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		got := make(chan *CloudEvent, 4)
		var calls atomic.Int32
		_, err := b.Subscribe(ctx, ConsumerConfig{Durable: "flaky", Filter: "01.org.>"}, func(_ context.Context, ev *CloudEvent) error {
			if calls.Add(1) == 1 {
				return errors.New("database busy")
			}
			got <- ev
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ev := receive(t, got, 1)[0]
		if ev.ID != ce.ID {
			t.Errorf("got event %s, want %s", ev.ID, ce.ID)
		}
		if c := calls.Load(); c != 2 {
			t.Errorf("handler called %d times, want 2 (one failure, one redelivery)", c)
		}
	})
}

func TestOpenRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no store dir", Config{}},
		{"public listen", Config{StoreDir: dir, Listen: "0.0.0.0:4222"}},
		{"listen without port", Config{StoreDir: dir, Listen: "127.0.0.1"}},
		{"replicas on embedded", Config{StoreDir: dir, Replicas: 3}},
		{"bad stream", Config{StoreDir: dir, Stream: "VIGIE.X"}},
		{"bad prefix", Config{StoreDir: dir, Prefix: "vigie.>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(context.Background(), tt.cfg, testLog(t))
			if err == nil {
				b.Close()
			}
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Errorf("Open(%+v) = %v, want KindInvalid with a message", tt.cfg, err)
			}
		})
	}
}

func TestReadyAndClose(t *testing.T) {
	b := mustOpenEmbedded(t, t.TempDir())
	if err := b.Ready(context.Background()); err != nil {
		t.Fatalf("Ready on an open bus = %v", err)
	}
	if b.ClientURL() != "" {
		t.Errorf("ClientURL = %q, want none without Listen", b.ClientURL())
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := b.Ready(context.Background()); vigie.KindOf(err) != vigie.KindUnavailable {
		t.Errorf("Ready after Close = %v, want KindUnavailable", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// With Listen, other local processes reach the embedded server over TCP.
func TestEmbeddedListen(t *testing.T) {
	b, err := Open(context.Background(), Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	url := b.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q, want nats://127.0.0.1:port", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect over TCP: %v", err)
	}
	nc.Close()
}
