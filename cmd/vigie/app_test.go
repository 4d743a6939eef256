package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie/internal/web"
)

// testApp is a whole Vigie, built by openApp as `vigie serve` builds it,
// on a fresh data directory, with the demo seeded for the given
// départements (the demo accounts need 01, 2A and 974), served by httptest.
type testApp struct {
	*app
	srv *httptest.Server
}

func newTestApp(t testing.TB, depts ...string) *testApp {
	t.Helper()
	return newTestAppWith(t, nil, depts...)
}

// newTestAppWith is newTestApp with settings changed by set before start.
func newTestAppWith(t testing.TB, set func(*Config), depts ...string) *testApp {
	t.Helper()
	if len(depts) == 0 {
		depts = []string{"01", "2A", "974"}
	}
	dir := t.TempDir()
	cfg := &Config{DataDir: dir, Addr: "127.0.0.1:0", LogLevel: "warn", LogFormat: "text",
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, JournalKeep: 3 * 365 * 24 * time.Hour,
		CheckpointEach: time.Minute, ShieldAccountLock: 30 * time.Minute}
	if pg := os.Getenv("VIGIE_TEST_APP_POSTGRES_URL"); pg != "" {
		cfg.DatabaseURL = pg
	}
	if set != nil {
		set(cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, log, true)
	if err != nil {
		t.Fatalf("openApp: %v", err)
	}
	a.demoDepts = depts
	if err := a.seedDemo(ctx, io.Discard); err != nil {
		a.Close()
		t.Fatalf("seedDemo: %v", err)
	}
	wctx, stop := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for _, w := range a.workers {
		workers.Go(func() { w(wctx) })
	}
	ta := &testApp{app: a, srv: httptest.NewServer(a.web.Handler())}
	t.Cleanup(func() {
		ta.srv.Close()
		stop()
		workers.Wait() // the relay and the journal's workers stop before the database closes
		a.Close()
	})
	return ta
}

// client returns an HTTP client with its own cookie jar that does not
// follow redirects (tests look at them).
func (ta *testApp) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs a demo account in through the real pages: password, then
// the TOTP code of its documented secret. It returns the signed-in client.
func (ta *testApp) signIn(t testing.TB, login string) *http.Client {
	t.Helper()
	c := ta.client()
	res := ta.post(t, c, "/login", url.Values{"login": {login}, "password": {demoPassword}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: status %d, want 303", login, res.StatusCode)
	}
	if strings.HasPrefix(loc, "/login/mfa") {
		var secret string
		for _, d := range demoAccounts {
			if d.Login == login {
				secret = d.Secret
			}
		}
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res = ta.post(t, c, "/login/mfa", url.Values{"code": {code}})
		if res.StatusCode != http.StatusSeeOther || strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("MFA of %s: status %d location %q", login, res.StatusCode, res.Header.Get("Location"))
		}
	}
	return c
}

func (ta *testApp) post(t testing.TB, c *http.Client, path string, form url.Values) *http.Response {
	t.Helper()
	return postTo(t, c, ta.srv.URL+path, form)
}

// postTo posts a form as a same-origin browser would.
func postTo(t testing.TB, c *http.Client, target string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (ta *testApp) get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	res, err := c.Get(ta.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestDemoSignInAndHome(t *testing.T) {
	ta := newTestApp(t)
	c := ta.signIn(t, "agent")
	code, body := ta.get(t, c, "/")
	if code != 200 || !strings.Contains(body, "Camille Martin") || !strings.Contains(body, "Brigade de Bourg-en-Bresse") {
		t.Fatalf("home: %d, body lacks the user's name or unit", code)
	}
	// A citizen signs in with a password only.
	c = ta.signIn(t, "citoyen")
	if code, _ := ta.get(t, c, "/"); code != 200 {
		t.Fatalf("citizen home: %d", code)
	}
}

func TestHomeTemplatesTranslated(t *testing.T) {
	missing, err := web.Untranslated(os.DirFS("templates"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French translation: %s", m)
	}
}

// TestAccountConsultationAsksMotifAndIsJournaled: an account holds personal
// data; reading it asks why, and the journal keeps the answer.
func TestAccountConsultationAsksMotifAndIsJournaled(t *testing.T) {
	ta := newTestApp(t)
	c := ta.signIn(t, "admin")
	var id int64
	if err := ta.db.QueryRow(context.Background(), "SELECT id FROM users WHERE login = ?", "agent2a").Scan(&id); err != nil {
		t.Fatal(err)
	}
	path := "/admin/users/" + strconv.FormatInt(id, 10)
	code, body := ta.get(t, c, path)
	if code != 200 || !strings.Contains(body, "Motif de la consultation") || strings.Contains(body, "Ange Santoni") {
		t.Fatalf("without a motif: %d; want the motif page and no personal data", code)
	}
	code, body = ta.get(t, c, path+"?motif=controle-hierarchique")
	if code != 200 || !strings.Contains(body, "Ange Santoni") {
		t.Fatalf("with a motif: %d, the account is not shown", code)
	}
	var n int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'user' AND object_id = ? AND motif = ? AND actor_login = 'admin'",
		strconv.FormatInt(id, 10), "controle-hierarchique").Scan(&n)
	if n != 1 {
		t.Errorf("journal entries for the consultation: %d, want 1", n)
	}
}
