package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/internal/blob"
	"vigie/internal/mail"
	"vigie/internal/mail/mailtest"
)

// TestCitizenSignsUpThroughTheWholeApp: a citizen creates an account on
// the running application; the e-mail worker sends the verification link to
// a real SMTP server; following it creates the account and signs it in.
func TestCitizenSignsUpThroughTheWholeApp(t *testing.T) {
	smtp := mailtest.Start(t)
	ta := newTestAppWith(t, func(c *Config) {
		c.SMTPAddr, c.SMTPTLS, c.SMTPFrom = smtp.Addr, "none", "Vigie <no-reply@vigie.example>"
	})
	c := ta.client()

	if code, body := ta.get(t, c, "/signup"); code != 200 || !strings.Contains(body, "Créer un compte") {
		t.Fatalf("GET /signup: %d", code)
	}
	pw := "ma phrase de passe secrète"
	res := ta.post(t, c, "/signup", url.Values{"name": {"Lucie Bernard"}, "email": {"lucie.bernard@example.fr"},
		"password": {pw}, "confirm": {pw}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signup/sent" {
		t.Fatalf("POST /signup: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The worker sends without being asked (woken by the commit).
	got := smtp.Wait(t, 1, 10*time.Second)[0]
	if got.To[0] != "lucie.bernard@example.fr" || got.From != "no-reply@vigie.example" {
		t.Fatalf("mail from %s to %v", got.From, got.To)
	}
	m := regexp.MustCompile(`/signup/verify\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(got.Text())
	if m == nil {
		t.Fatalf("no link in %q", got.Text())
	}
	if !strings.Contains(got.Text(), ta.cfg.BaseURL+"/signup/verify?token=") {
		t.Errorf("the link does not start with the base URL %s", ta.cfg.BaseURL)
	}
	if code, body := ta.get(t, c, m[0]); code != 200 || !strings.Contains(body, m[1]) {
		t.Fatalf("GET link: %d", code)
	}
	res = ta.post(t, c, "/signup/verify", url.Values{"token": {m[1]}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("POST /signup/verify: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	if code, body := ta.get(t, c, "/"); code != 200 || !strings.Contains(body, "Lucie Bernard") {
		t.Fatalf("home after sign-up: %d", code)
	}
	var role string
	var n int
	ta.db.QueryRow(context.Background(), "SELECT role FROM users WHERE login = ?", "lucie.bernard@example.fr").Scan(&role)
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = 'collect' AND (object = 'signup' OR object = 'user')").Scan(&n)
	if role != "citizen" || n < 2 {
		t.Fatalf("role %q, %d collect entries in the journal", role, n)
	}
	// The queue is visible to monitoring.
	if code, body := ta.get(t, ta.client(), "/metrics"); code != 200 || !strings.Contains(body, `vigie_mail_messages{status="sent"} 1`) {
		t.Errorf("metrics: %d, no sent mail counted", code)
	}
	// The new citizen signs in with the password chosen.
	c2 := ta.client()
	res = ta.post(t, c2, "/login", url.Values{"login": {"lucie.bernard@example.fr"}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestSupportOpensStorage: the blob store lives under the data directory,
// private to the service, and the mailer queues without a server.
func TestSupportOpensStorage(t *testing.T) {
	ta := newTestApp(t)
	if ta.support.blobs == nil || ta.support.mailer == nil || ta.support.signup == nil {
		t.Fatal("support area not opened")
	}
	if ta.support.blobs.Dir() != ta.cfg.BlobDir {
		t.Errorf("blobs in %s, want %s", ta.support.blobs.Dir(), ta.cfg.BlobDir)
	}
	fi, err := os.Stat(ta.cfg.BlobDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("blob dir: %v %v", fi, err)
	}
	o, err := ta.support.blobs.Put(context.Background(), "note.txt", strings.NewReader("bonjour"), blob.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ta.support.blobs.Open(context.Background(), o.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, []byte("bonjour")) {
		t.Fatalf("read back %q", b)
	}
	if ta.support.mailer.Configured() {
		t.Errorf("mailer configured without VIGIE_SMTP_ADDR")
	}
}

func TestSMTPConfigFromEnvironment(t *testing.T) {
	smtp := func(kv ...string) (mail.Config, error) {
		t.Helper()
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return m[k] })
		if err != nil {
			return mail.Config{}, err
		}
		return smtpConfig(cfg), nil
	}
	c, err := smtp("VIGIE_SMTP_ADDR", "smtp.example.fr:587", "VIGIE_SMTP_USER", "vigie", "VIGIE_SMTP_PASSWORD", "pw",
		"VIGIE_SMTP_TLS", "starttls", "VIGIE_SMTP_FROM", "Vigie <noreply@gendarmerie.example>")
	if err != nil || c.Addr != "smtp.example.fr:587" || c.Username != "vigie" || c.Password != "pw" || c.TLS != mail.TLSStartTLS ||
		c.From != "Vigie <noreply@gendarmerie.example>" || c.TLSConfig != nil {
		t.Fatalf("config %+v, %v", c, err)
	}
	if c, _ := smtp(); c.From == "" || c.Addr != "" {
		t.Fatalf("defaults %+v", c)
	}
	if c, err := smtp("VIGIE_SMTP_INSECURE_SKIP_VERIFY", "true"); err != nil || c.TLSConfig == nil || !c.TLSConfig.InsecureSkipVerify {
		t.Fatalf("skip verify: %+v %v", c, err)
	}
	if _, err := smtp("VIGIE_SMTP_INSECURE_SKIP_VERIFY", "perhaps"); err == nil {
		t.Fatal("a bad boolean is accepted")
	}
	// A bad mode stops the start with a message.
	if _, err := smtp("VIGIE_SMTP_TLS", "ssl"); err == nil || !strings.Contains(err.Error(), "smtp-tls") {
		t.Fatalf("mode ssl: %v", err)
	}
}
