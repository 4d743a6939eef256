package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func TestRelayDeliversCommittedEvents(t *testing.T) {
	forEachDBAndBus(t, func(t *testing.T, d *db.DB, b *Bus) {
		{
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reg := prometheus.NewRegistry()
			r := mustRelay(t, d, b, RelayConfig{Registerer: reg})
			events := collect(t, b, "")
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()

			enqueue(t, d, r.Outbox(), unitEvent("2A", "u1"), Event{Area: "auth", Type: "user.locked", Subject: "42", Data: nil})
			got := receive(t, events, 2)

			rows := outboxRows(t, d)
			wantSubjects := []string{b.Prefix() + ".2A.org.unit.created", b.Prefix() + ".national.auth.user.locked"}
			for i, row := range rows {
				if row.subject != wantSubjects[i] {
					t.Errorf("row %d subject = %q, want %q", i, row.subject, wantSubjects[i])
				}
			}
			ev := got[0]
			if ev.ID != rows[0].eventID || ev.SpecVersion != "1.0" || ev.Source != "/vigie/2A/org" ||
				ev.Type != "fr.gendarmerie.vigie.org.unit.created" || ev.Subject != "u1" ||
				ev.DataContentType != "application/json" || ev.Time.IsZero() {
				t.Errorf("event = %+v, want the CloudEvent of row %q", ev, rows[0].eventID)
			}
			var data map[string]string
			if err := ev.DecodeData(&data); err != nil || data["id"] != "u1" {
				t.Errorf("data = %v (%v), want id u1", data, err)
			}
			if got[1].Source != "/vigie/national/auth" || got[1].Data != nil {
				t.Errorf("national event = %+v, want source /vigie/national/auth and no data", got[1])
			}

			// The stream holds the message under its subject, with its
			// event id as Nats-Msg-Id.
			s, err := b.js.Stream(ctx, b.stream)
			if err != nil {
				t.Fatal(err)
			}
			m, err := s.GetLastMsgForSubject(ctx, wantSubjects[0])
			if err != nil {
				t.Fatalf("message on %s: %v", wantSubjects[0], err)
			}
			if id := m.Header.Get(jetstream.MsgIDHeader); id != rows[0].eventID {
				t.Errorf("Nats-Msg-Id = %q, want %q", id, rows[0].eventID)
			}

			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v, want nil on cancel", err)
			}
			for _, row := range outboxRows(t, d) {
				if row.sentAt == 0 || row.attempts != 1 {
					t.Errorf("row %s: sent_at %d attempts %d, want sent after 1 attempt", row.eventID, row.sentAt, row.attempts)
				}
			}
			if n := metricValue(t, r.published); n != 2 {
				t.Errorf("published counter = %v, want 2", n)
			}
		}
	})
}

func TestRolledBackEventIsNeverPublished(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := mustOpenEmbedded(t, t.TempDir())
		r := mustRelay(t, d, b, RelayConfig{})
		woken := false
		o := &Outbox{Wake: func() { woken = true }}
		errRollback := errors.New("the change failed")
		err := d.InTx(context.Background(), func(tx *db.Tx) error {
			if err := o.Enqueue(context.Background(), tx, unitEvent("01", "u1")); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want the rollback error", err)
		}
		if err := r.Flush(context.Background()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if rows := outboxRows(t, d); len(rows) != 0 {
			t.Errorf("outbox has %d rows after rollback, want 0", len(rows))
		}
		if n := streamMsgs(t, b); n != 0 {
			t.Errorf("stream has %d messages after rollback, want 0", n)
		}
		if woken {
			t.Error("the relay was woken for a rolled-back transaction")
		}
	})
}

// A relay that published but crashed before marking the rows sent leaves
// them pending: the next relay publishes them again and JetStream drops the
// copies by Nats-Msg-Id.
func TestRelayCrashBeforeMarkIsDeduplicated(t *testing.T) {
	forEachDBAndBus(t, func(t *testing.T, d *db.DB, b *Bus) {
		{
			ctx := context.Background()
			events := collect(t, b, "*.org.>")
			o := &Outbox{Prefix: b.Prefix()}
			enqueue(t, d, o, unitEvent("01", "a"), unitEvent("01", "b"), unitEvent("974", "c"))

			// The "crashed" relay: publish, then stop before marking.
			rows, err := readPending(ctx, d, selectPending, 0, 1<<62, 1<<62, 10)
			if err != nil || len(rows) != 3 {
				t.Fatalf("pending rows = %d (%v), want 3", len(rows), err)
			}
			for _, o := range rows {
				if err := b.Publish(ctx, Message{Subject: o.subject, ID: o.eventID, Payload: o.payload}); err != nil {
					t.Fatalf("publish: %v", err)
				}
			}

			r := mustRelay(t, d, b, RelayConfig{})
			if err := r.Flush(ctx); err != nil {
				t.Fatalf("Flush after crash: %v", err)
			}
			if n := streamMsgs(t, b); n != 3 {
				t.Errorf("stream has %d messages, want 3 (duplicates dropped)", n)
			}
			seen := map[string]int{}
			for _, ev := range receive(t, events, 3) {
				seen[ev.ID]++
			}
			for _, o := range rows {
				if seen[o.eventID] < 1 {
					t.Errorf("event %s never delivered", o.eventID)
				}
			}
			for _, row := range outboxRows(t, d) {
				if row.sentAt == 0 {
					t.Errorf("row %s still pending after the new relay's flush", row.eventID)
				}
			}
			if n, _ := r.Pending(ctx); n != 0 {
				t.Errorf("Pending = %d, want 0", n)
			}
		}
	})
}

// An event the bus refuses (here: a subject outside the stream) backs off on
// its own and does not hold back the events behind it.
func TestRelayBacksOffRefusedRowOnly(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := mustOpenEmbedded(t, t.TempDir())
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		r := mustRelay(t, d, b, RelayConfig{Now: func() time.Time { return now }})
		enqueue(t, d, &Outbox{Prefix: "elsewhere"}, unitEvent("01", "lost"))
		enqueue(t, d, r.Outbox(), unitEvent("01", "ok"))

		if err := r.Flush(context.Background()); err == nil || vigie.KindOf(err) != vigie.KindUnavailable {
			t.Fatalf("Flush = %v, want an unavailable error naming the refused event", err)
		}
		rows := outboxRows(t, d)
		refused, sent := rows[0], rows[1]
		if sent.sentAt == 0 {
			t.Error("the good event was held back by the refused one")
		}
		if refused.sentAt != 0 || refused.attempts != 1 || refused.lastError == "" {
			t.Errorf("refused row = %+v, want pending, 1 attempt, an error", refused)
		}
		if want := db.Millis(now.Add(time.Second)); refused.nextTryAt != want {
			t.Errorf("next_try_at = %d, want %d (1 s back-off)", refused.nextTryAt, want)
		}
		// A cycle before the back-off ends leaves it alone; Flush retries it.
		res, err := r.cycle(context.Background(), 0, 1<<62, db.Millis(now))
		if err != nil || res.rows != 0 {
			t.Errorf("cycle during back-off took %d rows (%v), want 0", res.rows, err)
		}
		r.Flush(context.Background())
		if got := outboxRows(t, d)[0]; got.attempts != 2 || got.nextTryAt != db.Millis(now.Add(2*time.Second)) {
			t.Errorf("after 2nd failure: attempts %d next_try_at %d, want 2 and +2 s", got.attempts, got.nextTryAt)
		}
	})
}

func TestFlushWithBusDownKeepsEvents(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	b := mustOpenEmbedded(t, t.TempDir())
	r := mustRelay(t, d, b, RelayConfig{})
	enqueue(t, d, r.Outbox(), unitEvent("01", "a"))
	b.Close()
	if err := r.Flush(context.Background()); vigie.KindOf(err) != vigie.KindUnavailable {
		t.Fatalf("Flush with the bus closed = %v, want KindUnavailable", err)
	}
	if row := outboxRows(t, d)[0]; row.sentAt != 0 || row.attempts != 1 {
		t.Errorf("row = %+v, want pending with 1 attempt", row)
	}
}

// Several replicas may relay from one PostgreSQL database at once: every
// event reaches the stream exactly once and every row ends sent.
func TestConcurrentRelays(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := mustOpenEmbedded(t, t.TempDir())
		const n = 300
		o := &Outbox{}
		for i := 0; i < n; i += 50 {
			var evs []Event
			for j := i; j < i+50; j++ {
				evs = append(evs, unitEvent("35", fmt.Sprint(j)))
			}
			enqueue(t, d, o, evs...)
		}
		var wg sync.WaitGroup
		for range 3 {
			r := mustRelay(t, d, b, RelayConfig{Batch: 16})
			wg.Go(func() {
				if err := r.Flush(context.Background()); err != nil {
					t.Errorf("Flush: %v", err)
				}
			})
		}
		wg.Wait()
		if got := streamMsgs(t, b); got != n {
			t.Errorf("stream has %d messages, want %d", got, n)
		}
		for _, row := range outboxRows(t, d) {
			if row.sentAt == 0 {
				t.Fatalf("row %s still pending", row.eventID)
			}
		}
	})
}

func TestPurgeKeepsRecentAndPending(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := mustOpenEmbedded(t, t.TempDir())
		now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		clock := now.Add(-8 * 24 * time.Hour)
		r := mustRelay(t, d, b, RelayConfig{Now: func() time.Time { return clock }})
		enqueue(t, d, r.Outbox(), unitEvent("01", "old"))
		r.Flush(context.Background())
		clock = now.Add(-6 * 24 * time.Hour)
		enqueue(t, d, r.Outbox(), unitEvent("01", "recent"))
		r.Flush(context.Background())
		enqueue(t, d, &Outbox{Prefix: "elsewhere"}, unitEvent("01", "pending"))

		clock = now
		r.housekeep(context.Background())
		var got []string
		for _, row := range outboxRows(t, d) {
			got = append(got, row.subject)
		}
		want := []string{"vigie.01.org.unit.created", "elsewhere.01.org.unit.created"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("outbox after purge = %v, want %v (the 8-day-old sent row gone)", got, want)
		}
		if v := metricValue(t, r.pending); v != 1 {
			t.Errorf("pending gauge = %v, want 1", v)
		}
	})
}

func TestEnqueueRejectsBadEvents(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	tests := []struct {
		name string
		ev   Event
		kind vigie.Kind
	}{
		{"wildcard area", Event{Area: "*", Type: "x"}, vigie.KindInvalid},
		{"unmarshalable data", Event{Area: "org", Type: "x", Data: func() {}}, vigie.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.InTx(context.Background(), func(tx *db.Tx) error { return Enqueue(context.Background(), tx, tt.ev) })
			if vigie.KindOf(err) != tt.kind {
				t.Errorf("Enqueue(%+v) = %v, want kind %v", tt.ev, err, tt.kind)
			}
		})
	}
	if rows := outboxRows(t, d); len(rows) != 0 {
		t.Errorf("outbox has %d rows, want 0", len(rows))
	}
}

func TestOutboxPayloadIsCloudEvent(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	err := d.InTx(context.Background(), func(tx *db.Tx) error {
		return (&Outbox{Now: func() time.Time { return at }}).Enqueue(context.Background(), tx, unitEvent("2B", "u9"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	if err := d.QueryRow(context.Background(), `SELECT payload FROM outbox`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["time"] != "2026-01-02T03:04:05.678Z" || raw["specversion"] != "1.0" || raw["type"] != "fr.gendarmerie.vigie.org.unit.created" {
		t.Errorf("payload = %s", payload)
	}
}

// metricValue reads a gauge or counter.
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
