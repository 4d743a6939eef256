package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vigie/internal/audit"
	"vigie/internal/auth"
	"vigie/internal/bus"
	"vigie/internal/db"
	"vigie/internal/org"
	"vigie/internal/web"
)

// cmdServe runs the server until SIGINT/SIGTERM. Start-up is all or nothing:
// a wrong setting, an unreadable data directory, a newer schema or a broken
// journal stop it with a message before anything listens.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("serve", stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	start := time.Now()
	app, err := openApp(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer app.Close()
	if cfg.Demo {
		if err := app.seedDemo(ctx, stdout); err != nil {
			return err
		}
	}
	return app.serve(ctx, func(addr string) {
		log.Info("vigie ready", "addr", addr, "url", cfg.BaseURL, "database", string(app.db.Dialect),
			"bus", app.busKind(), "startup", time.Since(start).Round(time.Millisecond).String(), "version", versionString())
		fmt.Fprintf(stdout, "Vigie écoute sur / listens on %s\n", cfg.BaseURL)
	})
}

// app holds everything a running Vigie is made of. It is built by openApp
// and torn down by Close, in reverse order.
type app struct {
	cfg     *Config
	log     *slog.Logger
	db      *db.DB
	reg     *prometheus.Registry
	web     *web.Server
	bus     *bus.Bus
	relay   *bus.Relay
	journal *audit.Journal
	org     *org.Service
	auth    *auth.Auth
	policy  *auth.Policy
	outbox  *bus.Outbox // nil in CLI commands
	// Areas, each wired in its own wire_<area>.go.
	support   supportArea
	complaint complaintArea
	casefile  casefileArea
	firewall  firewallArea
	shield    shieldArea
	analytics analyticsArea
	// demoDepts limits the demo to some départements (tests); nil: all 12.
	demoDepts []string
	closers   []func()
	// background work started by serve, stopped before closing.
	workers []func(ctx context.Context)
	flush   []func(ctx context.Context) error
}

func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func (a *app) serve(ctx context.Context, ready func(addr string)) error {
	wctx, stopWorkers := context.WithCancel(context.Background())
	done := make(chan struct{}, len(a.workers))
	for _, w := range a.workers {
		go func() { w(wctx); done <- struct{}{} }()
	}
	err := a.web.ListenAndServe(ctx, ready)
	// In-flight requests have finished: flush what they left in the outbox,
	// then stop the background workers.
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	for _, f := range a.flush {
		if ferr := f(fctx); ferr != nil {
			a.log.Warn("flush at shutdown", "err", ferr)
		}
	}
	cancel()
	stopWorkers()
	for range a.workers {
		<-done
	}
	a.log.Info("vigie stopped")
	return err
}

func (a *app) busKind() string {
	if a.cfg.NATSURL != "" {
		return "external"
	}
	return "embedded"
}

// metricsHandler serves Prometheus metrics (process, Go runtime, Vigie's
// own) to the machine itself and to the trusted proxies' networks only:
// SECURITY: metrics describe the deployment's traffic and are no business
// of the Internet. A Prometheus server elsewhere scrapes through the proxy.
func metricsHandler(reg *prometheus.Registry, allowed []netip.Prefix) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		addr, err := netip.ParseAddr(host)
		ok := err == nil && addr.Unmap().IsLoopback()
		for _, p := range allowed {
			ok = ok || (err == nil && p.Contains(addr.Unmap()))
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
