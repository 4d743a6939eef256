package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/internal/web"
)

func doctorChecks(t *testing.T, args ...string) (map[string]docCheck, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := exitCodeOf(cmdDoctor(context.Background(), append([]string{"--json"}, args...), &out, &errOut, func(string) string { return "" }))
	var res struct {
		Checks   []docCheck `json:"checks"`
		Failures int        `json:"failures"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("doctor --json printed %q (stderr %q): %v", out.String(), errOut.String(), err)
	}
	m := map[string]docCheck{}
	for _, c := range res.Checks {
		m[c.Check] = c
	}
	return m, code
}

// TestDoctorOnTheDemo: a demo deployment fails the doctor (demo data,
// published passwords), while its headers and lack of debug endpoints
// pass.
func TestDoctorOnTheDemo(t *testing.T) {
	ta := newTestApp(t)
	os.Chmod(ta.cfg.DataDir, 0o700) // t.TempDir is 0755; vigie serve's own directory is 0700
	checks, code := doctorChecks(t, "--data-dir", ta.cfg.DataDir, "--url", ta.srv.URL)
	if code != exitFail {
		t.Errorf("exit code %d, want %d (failures)", code, exitFail)
	}
	want := map[string]string{
		"demo": docFail, "demo-accounts": docFail, "csp": docOK, "frame-ancestors": docOK, "referrer-policy": docOK,
		"debug": docOK, "journal-key": docOK, "data-dir": docOK, "tls": docWarn,
	}
	for name, status := range want {
		if c := checks[name]; c.Status != status {
			t.Errorf("%s: %s %q, want %s", name, c.Status, c.Message, status)
		}
	}
	// Text output: one line per check.
	var out bytes.Buffer
	cmdDoctor(context.Background(), []string{"--data-dir", ta.cfg.DataDir}, &out, &out, func(string) string { return "" })
	if !strings.Contains(out.String(), "FAIL  demo ") {
		t.Errorf("text output:\n%s", out.String())
	}
}

func TestDoctorDataDirPermissions(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "journal.key"), []byte("x"), 0o644)
	checks, code := doctorChecks(t, "--data-dir", dir)
	if code != exitFail || checks["data-dir"].Status != docFail || checks["journal-key"].Status != docFail || checks["data-files"].Status != docWarn {
		t.Errorf("open data directory: exit %d, checks %+v", code, checks)
	}
	if checks, _ := doctorChecks(t, "--data-dir", dir, "--demo"); checks["demo-mode"].Status != docFail {
		t.Errorf("--demo: %+v, want FAIL", checks["demo-mode"])
	}
	os.Chmod(dir, 0o700)
	os.Chmod(filepath.Join(dir, "journal.key"), 0o600)
	checks, code = doctorChecks(t, "--data-dir", dir)
	if checks["demo-mode"].Status != "" {
		t.Errorf("demo mode reported without --demo: %+v", checks["demo-mode"])
	}
	if code != exitOK || checks["data-dir"].Status != docOK || checks["journal-key"].Status != docOK {
		t.Errorf("private data directory: exit %d, checks %+v", code, checks)
	}
}

// TestDoctorTLS: Vigie's own TLS policy passes; a server that accepts TLS
// 1.0 and CBC suites, and sends no security headers, fails.
func TestDoctorTLS(t *testing.T) {
	good := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/debug/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-abc'; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
	}))
	good.TLS = web.TLSConfig()
	good.StartTLS()
	defer good.Close()
	d := &doctor{cfg: &Config{DataDir: t.TempDir()}, url: good.URL, client: good.Client()}
	d.checkLive(context.Background())
	for _, c := range d.checks {
		if c.Status != docOK {
			t.Errorf("Vigie's TLS policy: %s %s %s", c.Check, c.Status, c.Message)
		}
	}

	bad := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	bad.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	bad.StartTLS()
	defer bad.Close()
	d = &doctor{cfg: &Config{DataDir: t.TempDir()}, url: bad.URL, client: bad.Client()}
	d.checkLive(context.Background())
	got := map[string]string{}
	for _, c := range d.checks {
		got[c.Check] = c.Status
	}
	for name, status := range map[string]string{"server-tls": docWarn, "tls12-suites": docFail, "csp": docFail, "hsts": docFail, "referrer-policy": docFail, "frame-ancestors": docFail} {
		if got[name] != status {
			t.Errorf("weak server: %s = %q, want %s", name, got[name], status)
		}
	}
	if got["tls-old"] != docFail {
		t.Errorf("a server that accepts TLS 1.0: tls-old = %q, want FAIL", got["tls-old"])
	}
}

// exitCodeOf maps a command's error to its exit code as run does.
func exitCodeOf(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitConfig
	}
	return exitFail
}
