package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// Doctor verdicts.
const (
	docOK   = "OK"
	docWarn = "WARN"
	docFail = "FAIL"
)

// docCheck is one finding of `vigie doctor`.
type docCheck struct {
	Check   string `json:"check"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

type doctor struct {
	cfg    *Config
	url    string
	client *http.Client
	checks []docCheck
}

func (d *doctor) add(check, status, format string, args ...any) {
	d.checks = append(d.checks, docCheck{check, status, fmt.Sprintf(format, args...)})
}

// cmdDoctor checks a deployment: its configuration, its data directory
// and database, and, with --url, the running server (TLS and security
// headers). It prints OK/WARN/FAIL lines and fails when any check fails.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("doctor", stderr)
	target := fs.String("url", "", "URL of the running server to check (TLS, security headers, debug endpoints); empty: configuration and data only")
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	d := &doctor{cfg: cfg, url: strings.TrimRight(*target, "/"), client: &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	d.run(ctx)
	return d.report(stdout, *asJSON)
}

func (d *doctor) run(ctx context.Context) {
	if d.cfg.Demo {
		d.add("demo-mode", docFail, "--demo (VIGIE_DEMO) is on: the demo accounts and their published passwords are created at start.")
	}
	d.checkDataDir()
	d.checkDatabase(ctx)
	d.checkTLSConfig()
	if d.url != "" {
		d.checkLive(ctx)
	} else {
		d.add("server", docWarn, "No --url given: the running server's TLS and headers were not checked.")
	}
}

func (d *doctor) report(w io.Writer, asJSON bool) error {
	fails := 0
	for _, c := range d.checks {
		if c.Status == docFail {
			fails++
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"checks": d.checks, "failures": fails}); err != nil {
			return err
		}
	} else {
		for _, c := range d.checks {
			fmt.Fprintf(w, "%-4s  %-16s %s\n", c.Status, c.Check, c.Message)
		}
	}
	if fails > 0 {
		return vigie.E(vigie.KindConflict, "doctor", fmt.Sprintf("%d checks failed.", fails), nil)
	}
	return nil
}

// checkDataDir: the data directory holds the database, the journal key
// and the blobs; nobody but Vigie's user should read them.
func (d *doctor) checkDataDir() {
	dir := d.cfg.DataDir
	st, err := os.Stat(dir)
	if err != nil {
		d.add("data-dir", docFail, "The data directory %s cannot be read: %v", dir, err)
		return
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		d.add("data-dir", docFail, "The data directory %s has mode %04o: others may enter it. Run chmod 700 %s.", dir, perm, dir)
	} else {
		d.add("data-dir", docOK, "The data directory %s is private (mode %04o).", dir, perm)
	}
	var open []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir || len(open) >= 10 {
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		mask := fs.FileMode(0o077)
		if info.Mode().Perm()&mask != 0 {
			rel, _ := filepath.Rel(dir, p)
			open = append(open, fmt.Sprintf("%s (%04o)", rel, info.Mode().Perm()))
		}
		return nil
	})
	if len(open) > 0 {
		d.add("data-files", docWarn, "Files readable or writable by others in the data directory: %s. Run chmod -R go-rwx %s.", strings.Join(open, ", "), dir)
	} else {
		d.add("data-files", docOK, "Every file of the data directory is private to Vigie's user.")
	}
	key := filepath.Join(dir, "journal.key")
	ks, err := os.Stat(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.add("journal-key", docWarn, "No journal signing key at %s yet (it is created at the first start).", key)
	case err != nil:
		d.add("journal-key", docFail, "The journal signing key %s cannot be read: %v", key, err)
	case ks.Mode().Perm()&0o077 != 0:
		d.add("journal-key", docFail, "The journal signing key %s has mode %04o: anyone who reads it can forge checkpoints. Run chmod 600 %s.", key, ks.Mode().Perm(), key)
	default:
		d.add("journal-key", docOK, "The journal signing key is present and private.")
	}
}

// checkDatabase: demo data and demo accounts (their password is
// published) have no place in production.
func (d *doctor) checkDatabase(ctx context.Context) {
	if strings.HasPrefix(d.cfg.DatabaseURL, "sqlite:") {
		if _, err := os.Stat(strings.TrimPrefix(d.cfg.DatabaseURL, "sqlite:")); err != nil {
			d.add("database", docWarn, "No database at %s yet.", strings.TrimPrefix(d.cfg.DatabaseURL, "sqlite:"))
			return
		}
	}
	conn, err := db.Open(ctx, d.cfg.DatabaseURL)
	if err != nil {
		d.add("database", docFail, "The database cannot be opened: %v", err)
		return
	}
	defer conn.Close()
	var demo string
	err = conn.QueryRow(ctx, "SELECT value FROM meta WHERE key = ?", metaDemo).Scan(&demo)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		d.add("demo", docOK, "This database holds no demo data.")
	case err != nil:
		d.add("database", docFail, "The database cannot be read (is it migrated?): %v", err)
		return
	default:
		d.add("demo", docFail, "This database holds the demo (state %q): never use it in production.", demo)
	}
	var accounts int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE demo = 1 AND disabled = 0").Scan(&accounts); err == nil {
		if accounts > 0 {
			d.add("demo-accounts", docFail, "%d demo accounts are enabled; their password (%s) is published in the README. Disable them: vigie user disable --login <login>.", accounts, demoPassword)
		} else {
			d.add("demo-accounts", docOK, "No enabled demo account.")
		}
	}
}

// checkTLSConfig: a certificate that loads and has time left, or a public
// URL in https (TLS ended by a reverse proxy).
func (d *doctor) checkTLSConfig() {
	cfg := d.cfg
	if cfg.TLSCert == "" {
		if isHTTPS(cfg.BaseURL) {
			d.add("tls", docOK, "TLS is ended by a reverse proxy in front of %s (check it with --url).", cfg.BaseURL)
		} else {
			d.add("tls", docWarn, "Vigie serves plain HTTP and the base URL %s is not https: put a TLS reverse proxy in front, or set --tls-cert and --tls-key.", cfg.BaseURL)
		}
		return
	}
	pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		d.add("tls", docFail, "The certificate %s and key %s do not load: %v", cfg.TLSCert, cfg.TLSKey, err)
		return
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		d.add("tls", docFail, "The certificate %s cannot be parsed: %v", cfg.TLSCert, err)
		return
	}
	left := time.Until(leaf.NotAfter)
	switch {
	case left <= 0:
		d.add("tls-cert", docFail, "The certificate expired on %s.", leaf.NotAfter.Format(time.DateOnly))
	case left < 30*24*time.Hour:
		d.add("tls-cert", docWarn, "The certificate expires on %s, in less than 30 days.", leaf.NotAfter.Format(time.DateOnly))
	default:
		d.add("tls-cert", docOK, "The certificate is valid until %s.", leaf.NotAfter.Format(time.DateOnly))
	}
	if st, err := os.Stat(cfg.TLSKey); err == nil && st.Mode().Perm()&0o077 != 0 {
		d.add("tls-key", docFail, "The TLS private key %s has mode %04o: run chmod 600 %s.", cfg.TLSKey, st.Mode().Perm(), cfg.TLSKey)
	}
}

// checkLive looks at a response of the running server.
func (d *doctor) checkLive(ctx context.Context) {
	u, err := url.Parse(d.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.add("server", docFail, "--url %q is not an http(s) URL.", d.url)
		return
	}
	if u.Scheme == "https" {
		d.checkLiveTLS(u)
	} else if !isLoopbackHost(u.Hostname()) {
		d.add("server-tls", docFail, "%s is served without TLS on the network.", d.url)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url+"/login", nil)
	res, err := d.client.Do(req)
	if err != nil {
		d.add("server", docFail, "The server at %s does not answer: %v", d.url, err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	d.checkHeaders(res.Header, u.Scheme == "https")
	for _, p := range []string{"/debug/pprof/", "/debug/vars", "/debug/requests"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", d.url+p, nil)
		res, err := d.client.Do(req)
		if err != nil {
			continue
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			d.add("debug", docFail, "The debug endpoint %s answers: it reveals the process's memory and activity.", p)
			return
		}
	}
	d.add("debug", docOK, "No debug endpoint answers (/debug/pprof/, /debug/vars).")
}

// checkHeaders verifies the security headers of one response.
func (d *doctor) checkHeaders(h http.Header, https bool) {
	csp := h.Get("Content-Security-Policy")
	switch {
	case csp == "":
		d.add("csp", docFail, "No Content-Security-Policy header.")
	case strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") || !strings.Contains(csp, "'nonce-"):
		d.add("csp", docFail, "The Content-Security-Policy is not strict (it must use nonces, without 'unsafe-inline' or 'unsafe-eval'): %s", csp)
	default:
		d.add("csp", docOK, "Strict Content-Security-Policy with a nonce.")
	}
	if strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "frame-ancestors 'self'") || h.Get("X-Frame-Options") != "" {
		d.add("frame-ancestors", docOK, "Pages cannot be framed by other sites.")
	} else {
		d.add("frame-ancestors", docFail, "Neither frame-ancestors nor X-Frame-Options: other sites may frame the pages (clickjacking).")
	}
	switch rp := h.Get("Referrer-Policy"); rp {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
		d.add("referrer-policy", docOK, "Referrer-Policy: %s.", rp)
	case "":
		d.add("referrer-policy", docFail, "No Referrer-Policy header: addresses of pages may leak to other sites.")
	default:
		d.add("referrer-policy", docWarn, "Referrer-Policy %q lets addresses of pages leak to other sites.", rp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		d.add("nosniff", docWarn, "No X-Content-Type-Options: nosniff.")
	}
	hsts := h.Get("Strict-Transport-Security")
	switch {
	case !https:
	case hsts == "":
		d.add("hsts", docFail, "No Strict-Transport-Security header on HTTPS.")
	default:
		d.add("hsts", docOK, "Strict-Transport-Security: %s.", hsts)
	}
}

// checkLiveTLS: TLS 1.3 preferred, TLS 1.2 only with AEAD suites, nothing
// older.
func (d *doctor) checkLiveTLS(u *url.URL) {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	dial := func(c *tls.Config) (*tls.ConnectionState, error) {
		c.InsecureSkipVerify = true // we look at the protocol; trust is the browser's business
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", host, c)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		st := conn.ConnectionState()
		return &st, nil
	}
	st, err := dial(&tls.Config{})
	if err != nil {
		d.add("server-tls", docFail, "TLS handshake with %s failed: %v", host, err)
		return
	}
	if st.Version == tls.VersionTLS13 {
		d.add("server-tls", docOK, "TLS 1.3 is negotiated.")
	} else {
		d.add("server-tls", docWarn, "%s is negotiated; TLS 1.3 is preferred.", tls.VersionName(st.Version))
	}
	if _, err := dial(&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		d.add("tls-old", docFail, "TLS 1.0 or 1.1 is accepted.")
	} else {
		d.add("tls-old", docOK, "TLS 1.0 and 1.1 are refused.")
	}
	cbc := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA}
	if st, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: cbc}); err == nil {
		d.add("tls12-suites", docFail, "TLS 1.2 accepts %s, which is not a forward-secret AEAD suite.", tls.CipherSuiteName(st.CipherSuite))
	} else {
		d.add("tls12-suites", docOK, "TLS 1.2 accepts only forward-secret AEAD suites.")
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
