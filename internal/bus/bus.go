package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"vigie"
)

// DefaultStream is the JetStream stream that holds every Vigie event.
const DefaultStream = "VIGIE"

// dedupWindow is how long JetStream remembers a Nats-Msg-Id: a relay that
// republishes an event within it (after a crash between publish and
// mark-sent) is de-duplicated by the server; later, by idempotent consumers.
const dedupWindow = 2 * time.Minute

// Config says which NATS server to use and where the embedded one keeps its
// data. main fills it from flags and VIGIE_* variables.
type Config struct {
	// URL of an external NATS server or cluster, e.g. nats://127.0.0.1:4222
	// (comma-separated for several seeds). Empty runs an embedded server.
	URL string
	// Creds is an optional NATS credentials file for the external server.
	Creds string
	// StoreDir is where the embedded server keeps JetStream data (under the
	// data directory). Required when URL is empty.
	StoreDir string
	// Listen, if set, makes the embedded server also accept TCP clients on
	// this address (e.g. 127.0.0.1:4222). SECURITY: the embedded server has
	// no authentication, so only loopback addresses are accepted.
	Listen string
	// Replicas of the stream (1 when zero). The embedded server is a single
	// node: more than 1 is refused there.
	Replicas int
	// MaxAge bounds how long the stream keeps events (0: no limit).
	MaxAge time.Duration
	// Stream and Prefix default to "VIGIE" and "vigie"; tests set unique
	// values so that runs on a shared server never collide.
	Stream string
	Prefix string
	// Name identifies this process to the NATS server (monitoring).
	Name string
}

// Bus is a connection to NATS JetStream, with the embedded server it runs,
// if any. It is safe for concurrent use.
type Bus struct {
	log    *slog.Logger
	srv    *server.Server // nil when connected to an external server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string
	prefix string

	// ctx is cancelled by Close; consumer handlers run under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	subs   []*Subscription
	closed bool
}

// Open starts the embedded NATS server (cfg.URL empty) or connects to an
// external one, and makes sure the event stream exists.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	const op = "bus.Open"
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Name == "" {
		cfg.Name = "vigie"
	}
	if !validName(cfg.Stream) {
		return nil, vigie.Invalidf(op, "The stream name %q is not valid: use letters, digits, '-' or '_'.", cfg.Stream)
	}
	if !validTokens(cfg.Prefix) {
		return nil, vigie.Invalidf(op, "The subject prefix %q is not valid.", cfg.Prefix)
	}
	if cfg.Replicas < 1 || cfg.Replicas > 5 {
		return nil, vigie.Invalidf(op, "The number of stream replicas must be between 1 and 5, not %d.", cfg.Replicas)
	}
	b := &Bus{log: log, stream: cfg.Stream, prefix: cfg.Prefix}
	var err error
	if cfg.URL == "" {
		err = b.startEmbedded(cfg)
	} else {
		err = b.connect(cfg)
	}
	if err != nil {
		return nil, err
	}
	b.js, err = jetstream.New(b.nc,
		jetstream.WithPublishAsyncTimeout(10*time.Second),
		jetstream.WithDefaultTimeout(10*time.Second))
	if err != nil {
		b.shutdown()
		return nil, vigie.E(vigie.KindInternal, op, "", err)
	}
	if err := b.ensureStream(ctx, cfg); err != nil {
		b.shutdown()
		return nil, err
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// startEmbedded runs a NATS server in this process, reached through an
// in-process connection (no TCP port unless cfg.Listen is set).
func (b *Bus) startEmbedded(cfg Config) error {
	const op = "bus.Open"
	if cfg.StoreDir == "" {
		return vigie.Invalidf(op, "No directory was given for the embedded bus storage.")
	}
	if cfg.Replicas != 1 {
		return vigie.Invalidf(op, "The embedded bus is a single server: it cannot keep %d replicas. Use an external NATS cluster.", cfg.Replicas)
	}
	opts := &server.Options{
		ServerName: "vigie-embedded",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		// SECURITY/durability: fsync every JetStream write before the PubAck.
		// Jepsen (NATS 2.12.1, 2025) showed JetStream losing acknowledged
		// writes after simulated power failures with the default 2-minute
		// fsync interval; the relay marks an outbox row sent on the PubAck,
		// so the PubAck must mean "on disk".
		SyncAlways: true,
		DontListen: cfg.Listen == "",
		NoSigs:     true,
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, fmt.Sprintf("The bus listen address %q is not host:port.", cfg.Listen), err)
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return vigie.Invalidf(op, "The embedded bus has no authentication: it may only listen on a loopback address (127.0.0.1), not %q.", host)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return vigie.Invalidf(op, "The bus listen port %q is not valid.", port)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return vigie.E(vigie.KindInvalid, op, "The embedded bus could not be configured.", err)
	}
	srv.SetLoggerV2(serverLog{b.log.With("component", "nats-server")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return vigie.E(vigie.KindUnavailable, op, "The embedded bus did not start.", nil)
	}
	b.srv = srv
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name(cfg.Name))
	if err != nil {
		b.shutdown()
		return vigie.E(vigie.KindUnavailable, op, "Cannot connect to the embedded bus.", err)
	}
	b.nc = nc
	b.log.Info("embedded NATS JetStream started", "store_dir", cfg.StoreDir, "listen", cfg.Listen, "sync", "always")
	return nil
}

// connect dials an external server, reconnecting for ever: the outbox keeps
// events while the bus is away.
func (b *Bus) connect(cfg Config) error {
	const op = "bus.Open"
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("bus disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("bus reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			b.log.Error("bus asynchronous error", "err", err)
		}),
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return vigie.E(vigie.KindUnavailable, op, "Cannot connect to the NATS server.", err)
	}
	b.nc = nc
	b.log.Info("connected to NATS", "url", nc.ConnectedUrlRedacted())
	return nil
}

// ensureStream creates the event stream, or updates it to cfg.
func (b *Bus) ensureStream(ctx context.Context, cfg Config) error {
	sc := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Vigie domain events (CloudEvents 1.0)",
		Subjects:    []string{cfg.Prefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Duplicates:  dedupWindow,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.MaxAge,
		// The default persist mode acknowledges after the write; the async
		// mode would acknowledge before it. Per-stream fsync does not exist:
		// an external server must run with `jetstream { sync_interval: always }`
		// (see doc.go).
		PersistMode: jetstream.DefaultPersistMode,
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
		return vigie.E(vigie.KindUnavailable, "bus.Open", "Cannot create the event stream on the bus.", fmt.Errorf("stream %s: %w", cfg.Stream, err))
	}
	return nil
}

// Prefix returns the first token of this bus's subjects ("vigie").
func (b *Bus) Prefix() string { return b.prefix }

// Stream returns the name of the event stream.
func (b *Bus) Stream() string { return b.stream }

// ClientURL returns the address of the embedded server's TCP listener, or ""
// when there is none.
func (b *Bus) ClientURL() string {
	if b.srv == nil || b.srv.Addr() == nil {
		return ""
	}
	return b.srv.ClientURL()
}

// Message is an outbox row on its way to the bus.
type Message struct {
	Subject string
	ID      string // the CloudEvent id, sent as Nats-Msg-Id for de-duplication
	Payload []byte
}

// PublishResult is what the server said about one message.
type PublishResult struct {
	Duplicate bool  // the server already had this Nats-Msg-Id (dedup window)
	Err       error // nil when the server stored the message (PubAck)
}

// Publish sends one message and waits for the server's acknowledgement.
func (b *Bus) Publish(ctx context.Context, m Message) error {
	res := b.PublishBatch(ctx, []Message{m})
	return res[0].Err
}

// PublishBatch sends the messages in order without waiting for each
// acknowledgement in turn, then waits for all of them. res[i] answers msgs[i].
func (b *Bus) PublishBatch(ctx context.Context, msgs []Message) []PublishResult {
	res := make([]PublishResult, len(msgs))
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		nm := nats.NewMsg(m.Subject)
		nm.Data = m.Payload
		nm.Header.Set("Content-Type", ContentType)
		f, err := b.js.PublishMsgAsync(nm, jetstream.WithMsgID(m.ID), jetstream.WithExpectStream(b.stream))
		if err != nil {
			res[i].Err = fmt.Errorf("publish %s: %w", m.ID, err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			res[i].Duplicate = ack.Duplicate
		case err := <-f.Err():
			res[i].Err = fmt.Errorf("publish %s: %w", msgs[i].ID, err)
		case <-ctx.Done():
			res[i].Err = fmt.Errorf("publish %s: %w", msgs[i].ID, ctx.Err())
		}
	}
	return res
}

// Ready reports whether the bus can take events now (for /readyz).
func (b *Bus) Ready(ctx context.Context) error {
	const op = "bus.Ready"
	if s := b.nc.Status(); s != nats.CONNECTED {
		return vigie.E(vigie.KindUnavailable, op, "The bus is not connected.", fmt.Errorf("status %s", s))
	}
	if _, err := b.js.Stream(ctx, b.stream); err != nil {
		return vigie.E(vigie.KindUnavailable, op, "The event stream is not available.", err)
	}
	return nil
}

// Close stops the consumers (letting their current handler finish), drains
// the connection and shuts the embedded server down cleanly.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for _, s := range subs {
		s.Stop()
	}
	b.cancel()
	return b.shutdown()
}

// shutdown drains the connection then stops the embedded server.
func (b *Bus) shutdown() error {
	var errs []error
	if b.nc != nil {
		done := make(chan struct{})
		b.nc.SetClosedHandler(func(*nats.Conn) { close(done) })
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
			b.nc.Close()
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.nc.Close()
		}
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.log.Info("embedded NATS stopped")
	}
	return errors.Join(errs...)
}

// validName accepts a stream or consumer name: letters, digits, '-', '_'.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// serverLog sends the embedded server's log lines to slog.
type serverLog struct{ l *slog.Logger }

func (s serverLog) Noticef(f string, v ...any) { s.l.Info(fmt.Sprintf(f, v...)) }
func (s serverLog) Warnf(f string, v ...any)   { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s serverLog) Fatalf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...)) }
func (s serverLog) Errorf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...)) }
func (s serverLog) Debugf(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s serverLog) Tracef(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
