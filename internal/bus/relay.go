package bus

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie"
	"vigie/internal/db"
)

// RelayConfig tunes the relay; the zero value is the production default.
type RelayConfig struct {
	Poll   time.Duration // how often to look for rows nobody woke us for (200 ms)
	Batch  int           // rows claimed and published together (256)
	Retain time.Duration // how long sent rows stay in the outbox (7 days)
	// Registerer receives the relay's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Relay moves outbox rows to the bus, in id order, at least once: it
// publishes a batch, waits for the server's acknowledgements, then marks the
// acknowledged rows sent. A crash in between republishes them; JetStream
// drops the copies by Nats-Msg-Id within its dedup window.
type Relay struct {
	db  *db.DB
	bus *Bus
	log *slog.Logger
	cfg RelayConfig

	wake chan struct{}
	mu   sync.Mutex // one cycle at a time in this process (Run and Flush)

	lastPurge, lastCount time.Time

	pending   prometheus.Gauge
	published prometheus.Counter
	errs      prometheus.Counter
	lag       prometheus.Histogram
}

// NewRelay returns a relay from the outbox of d to b.
func NewRelay(d *db.DB, b *Bus, log *slog.Logger, cfg RelayConfig) (*Relay, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Retain <= 0 {
		cfg.Retain = 7 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Relay{
		db: d, bus: b, log: log.With("component", "outbox-relay"), cfg: cfg,
		wake: make(chan struct{}, 1),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_outbox_pending", Help: "Outbox events not yet acknowledged by the bus.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_outbox_published_total", Help: "Outbox events acknowledged by the bus (including server-side duplicates).",
		}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_outbox_errors_total", Help: "Failed attempts to publish an outbox event or to update the outbox.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_outbox_lag_seconds", Help: "Time from enqueue to acknowledgement by the bus.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{r.pending, r.published, r.errs, r.lag} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, vigie.E(vigie.KindInternal, "bus.NewRelay", "", err)
			}
		}
	}
	return r, nil
}

// Wake asks the relay to look at the outbox now. It never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Outbox returns an Outbox that writes subjects for this relay's bus and
// wakes the relay when the enqueuing transaction commits.
func (r *Relay) Outbox() *Outbox {
	return &Outbox{Prefix: r.bus.Prefix(), Wake: r.Wake, Now: r.cfg.Now}
}

// Run relays until ctx is done, then returns nil. Errors are logged, counted
// and retried with a growing delay; they never stop the loop.
func (r *Relay) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	for {
		wake := r.wake
		if failures > 0 {
			wake = nil // backing off: only the timer restarts us
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-timer.C:
		}
		failures = r.drain(ctx, failures)
		if ctx.Err() != nil {
			return nil
		}
		r.housekeep(ctx)
		delay := r.cfg.Poll
		if failures > 0 {
			delay = min(r.cfg.Poll<<min(failures, 10), 30*time.Second)
		}
		timer.Reset(delay)
	}
}

// drain relays batches until one comes back short, and returns the new
// count of consecutive failed cycles.
func (r *Relay) drain(ctx context.Context, failures int) int {
	for ctx.Err() == nil {
		res, err := r.cycle(ctx, 0, math.MaxInt64, db.Millis(r.cfg.Now()))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("outbox relay cycle failed", "err", err, "consecutive", failures+1)
			}
			return failures + 1
		}
		if res.rows < r.cfg.Batch {
			return 0
		}
	}
	return failures
}

// Flush publishes every row pending now, ignoring back-off delays, once
// each. main calls it at graceful shutdown, after the web server stopped
// taking requests and before the bus closes.
func (r *Relay) Flush(ctx context.Context) error {
	const op = "bus.Flush"
	var upTo int64
	if err := r.db.QueryRow(ctx, maxPending).Scan(&upTo); err != nil {
		return vigie.E(vigie.KindUnavailable, op, "Cannot read the outbox.", err)
	}
	var after int64
	sent, failed := 0, 0
	for upTo > after {
		res, err := r.cycle(ctx, after, upTo, math.MaxInt64)
		if err != nil {
			return vigie.E(vigie.KindUnavailable, op, "Some events could not be sent to the bus; they stay in the outbox.", err)
		}
		if res.rows == 0 {
			break
		}
		after = res.lastID
		sent += res.rows - res.failed
		failed += res.failed
	}
	r.refreshPending(ctx, true)
	r.log.Info("outbox flushed", "sent", sent, "failed", failed)
	if failed > 0 {
		return vigie.E(vigie.KindUnavailable, op, fmt.Sprintf("%d events could not be sent to the bus; they stay in the outbox.", failed), nil)
	}
	return nil
}

// housekeep purges old sent rows (hourly) and refreshes the pending gauge.
func (r *Relay) housekeep(ctx context.Context) {
	now := r.cfg.Now()
	if now.Sub(r.lastPurge) >= time.Hour {
		n, err := r.purge(ctx, now.Add(-r.cfg.Retain))
		if err != nil {
			r.log.Warn("outbox purge failed", "err", err)
		} else {
			r.lastPurge = now
			if n > 0 {
				r.log.Info("outbox purged", "rows", n)
			}
		}
	}
	r.refreshPending(ctx, false)
}

// refreshPending counts pending rows, at most once a second unless forced.
func (r *Relay) refreshPending(ctx context.Context, force bool) {
	now := r.cfg.Now()
	if !force && now.Sub(r.lastCount) < time.Second {
		return
	}
	var n int64
	if err := r.db.QueryRow(ctx, countPending).Scan(&n); err != nil {
		return
	}
	r.lastCount = now
	r.pending.Set(float64(n))
}

// Pending returns the number of rows not yet acknowledged by the bus.
func (r *Relay) Pending(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.QueryRow(ctx, countPending).Scan(&n); err != nil {
		return 0, vigie.E(vigie.KindUnavailable, "bus.Pending", "Cannot read the outbox.", err)
	}
	return n, nil
}

// retryDelay is the back-off of one row after its n-th failed attempt:
// 1 s, 2 s, 4 s ... up to 5 minutes.
func retryDelay(attempts int) time.Duration {
	return min(time.Second<<min(max(attempts-1, 0), 20), 5*time.Minute)
}
