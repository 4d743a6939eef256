package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"vigie"
)

// Handler processes one event. Delivery is at least once: after a crash, a
// lost acknowledgement or a handler error the same event (same ev.ID) comes
// again, so a handler must be idempotent (e.g. an INSERT keyed by ev.ID that
// ignores duplicates). Returning an error redelivers the event later.
type Handler func(ctx context.Context, ev *CloudEvent) error

// ConsumerConfig names a durable pull consumer and what it listens to.
type ConsumerConfig struct {
	// Durable name: the server remembers this consumer's position under it,
	// across restarts and replicas ("audit", "analytics-ingest").
	Durable string
	// Filter is relative to the bus prefix: "*.org.>" listens to every
	// département's org events; "" means every event.
	Filter string
	// AckWait is how long the server waits for an acknowledgement before
	// redelivering (30 s when zero). A handler must finish within it.
	AckWait time.Duration
}

// Subscription is a running consumer; Stop ends it.
type Subscription struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Stop stops fetching events and waits for the current handler to end
// (at most the fetch wait, 1 s, when idle).
func (s *Subscription) Stop() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// fetchWait bounds one pull request. The loop fetches one event at a time
// and always waits for the server's answer, so no event is ever fetched and
// then dropped by a stopping consumer (which would stall an ordered
// consumer until AckWait).
const fetchWait = time.Second

// Subscribe creates (or resumes) the durable consumer cfg.Durable and runs h
// on its events, one at a time and in stream order. An event is acknowledged
// only after h returns nil; on error it is redelivered with a growing delay.
// An event that is not a valid CloudEvent is logged and terminated (never
// redelivered): retrying it cannot succeed.
func (b *Bus) Subscribe(ctx context.Context, cfg ConsumerConfig, h Handler) (*Subscription, error) {
	const op = "bus.Subscribe"
	if !validName(cfg.Durable) {
		return nil, vigie.Invalidf(op, "The consumer name %q is not valid: use letters, digits, '-' or '_'.", cfg.Durable)
	}
	filter := b.prefix + ".>"
	if cfg.Filter != "" {
		if !validFilter(cfg.Filter) {
			return nil, vigie.Invalidf(op, "The subject filter %q is not valid.", cfg.Filter)
		}
		filter = b.prefix + "." + cfg.Filter
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, vigie.E(vigie.KindUnavailable, op, "The bus is closed.", nil)
	}
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.stream, jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		// One event at a time per consumer keeps stream order for handlers.
		MaxAckPending: 1,
	})
	if err != nil {
		return nil, vigie.E(vigie.KindUnavailable, op, "Cannot create the consumer on the bus.", fmt.Errorf("consumer %s: %w", cfg.Durable, err))
	}
	log := b.log.With("consumer", cfg.Durable)
	sub := &Subscription{stop: make(chan struct{}), done: make(chan struct{})}
	go b.consume(log, cons, cfg.AckWait, sub, h)
	b.mu.Lock()
	b.subs = append(b.subs, sub)
	b.mu.Unlock()
	return sub, nil
}

// consume fetches and handles events until sub is stopped.
func (b *Bus) consume(log *slog.Logger, cons jetstream.Consumer, ackWait time.Duration, sub *Subscription, h Handler) {
	defer close(sub.done)
	failures := 0
	for {
		select {
		case <-sub.stop:
			return
		default:
		}
		msg, err := cons.Next(jetstream.FetchMaxWait(fetchWait))
		switch {
		case err == nil:
			failures = 0
			b.handle(log, ackWait, msg, h)
		case errors.Is(err, nats.ErrTimeout):
			failures = 0 // no event within fetchWait
		default:
			// The bus is away (reconnecting) or the consumer is gone: wait,
			// more each time, and try again.
			failures++
			if failures == 1 || failures%30 == 0 {
				log.Warn("bus consumer cannot fetch", "err", err, "failures", failures)
			}
			select {
			case <-sub.stop:
				return
			case <-time.After(min(time.Duration(failures)*time.Second, 10*time.Second)):
			}
		}
	}
}

// handle runs h on one message and acknowledges it accordingly.
func (b *Bus) handle(log *slog.Logger, ackWait time.Duration, msg jetstream.Msg, h Handler) {
	ev, err := DecodeEvent(msg.Data())
	if err != nil {
		log.Error("bus: dropping an event that is not a valid CloudEvent", "subject", msg.Subject(), "err", err)
		msg.Term()
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, ackWait)
	err = h(ctx, ev)
	cancel()
	if err != nil {
		n := uint64(1)
		if md, mdErr := msg.Metadata(); mdErr == nil {
			n = md.NumDelivered
		}
		log.Warn("bus: handler failed; the event will be redelivered", "id", ev.ID, "type", ev.Type, "delivery", n, "err", err)
		msg.NakWithDelay(redeliveryDelay(n))
		return
	}
	// A plain acknowledgement: if it is lost, the event comes again, which
	// idempotent handlers accept. (A confirmed "double ack" stalls for the
	// client's timeout on redelivered events with NATS 2.9 servers.)
	if err := msg.Ack(); err != nil {
		log.Warn("bus: acknowledgement failed; the event will come again", "id", ev.ID, "err", err)
	}
}

// redeliveryDelay grows with the number of deliveries: 1 s, 2 s, 4 s, ...
// up to 5 minutes.
func redeliveryDelay(n uint64) time.Duration {
	d := time.Second
	for i := uint64(1); i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// validFilter accepts dot-separated tokens, each a département code, a word
// of lower-case letters, digits, '-' or '_', the wildcard '*', or '>' as the
// last token.
func validFilter(f string) bool {
	if len(f) > 200 {
		return false
	}
	toks := strings.Split(f, ".")
	for i, t := range toks {
		switch {
		case t == "*":
		case t == ">" && i == len(toks)-1:
		case validToken(t), validDept(t):
		default:
			return false
		}
	}
	return true
}
