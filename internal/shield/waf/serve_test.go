package waf

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"testing"
	"time"
)

// TestServeForGoTestWAF serves the firewall with its default settings in
// front of a backend that answers 200 to everything, for GoTestWAF (see
// docs/security.md): VIGIE_WAF_SERVE=127.0.0.1:18081 go test -run
// TestServeForGoTestWAF -timeout 20m ./internal/shield/waf. It stops after
// VIGIE_WAF_SERVE_FOR (default 5m) or on interrupt. VIGIE_WAF_PARANOIA and
// VIGIE_WAF_THRESHOLD change the settings, to compare.
func TestServeForGoTestWAF(t *testing.T) {
	addr := os.Getenv("VIGIE_WAF_SERVE")
	if addr == "" {
		t.Skip("set VIGIE_WAF_SERVE to serve the firewall for GoTestWAF")
	}
	cfg := Config{}
	cfg.Paranoia, _ = strconv.Atoi(os.Getenv("VIGIE_WAF_PARANOIA"))
	cfg.InboundThreshold, _ = strconv.Atoi(os.Getenv("VIGIE_WAF_THRESHOLD"))
	fw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := 5 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("VIGIE_WAF_SERVE_FOR")); err == nil {
		d = v
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second, Handler: fw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}
