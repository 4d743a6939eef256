package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The firewall stands in front of every route of the real application:
// an attack is refused with the French page and the request's id, before
// any handler runs; signed-in work and the sign-in itself pass.
func TestFirewallGuardsTheApplication(t *testing.T) {
	ta := newTestApp(t)
	if ta.firewall.fw == nil {
		t.Fatal("the server runs without its firewall")
	}
	c := ta.signIn(t, "agent")

	res, err := c.Get(ta.srv.URL + "/?q=" + url.QueryEscape("<script>alert(document.cookie)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	id := res.Header.Get("X-Request-Id")
	if res.StatusCode != http.StatusForbidden || id == "" || !strings.Contains(string(body), id) || !strings.Contains(string(body), "pare-feu") {
		t.Errorf("attack: status %d, request id %q, page %.300s", res.StatusCode, id, body)
	}
	// Security headers still apply to the refusal.
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("the refusal has no Content-Security-Policy")
	}

	res, err = c.Get(ta.srv.URL + "/api/v1/units?name=" + url.QueryEscape("1' UNION SELECT login, password_hash FROM users--"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API attack: status %d, %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	// Ordinary pages pass.
	if code, _ := ta.get(t, c, "/"); code != http.StatusOK {
		t.Errorf("home page: %d", code)
	}
	// A password full of symbols is not an attack.
	r := ta.post(t, ta.client(), "/login", url.Values{"login": {"agent"}, "password": {`P@ss'w0rd"; --<>!&|$(x)`}})
	r.Body.Close()
	if r.StatusCode == http.StatusForbidden {
		t.Errorf("sign-in with a symbol password was blocked by the firewall")
	}

	// The rules pages: for security officers, in French.
	if code, _ := ta.get(t, c, "/security/rules"); code != http.StatusForbidden {
		t.Errorf("an agent on the firewall rules page: %d, want 403", code)
	}
	sec := ta.signIn(t, "securite")
	code, page := ta.get(t, sec, "/security/rules")
	if code != http.StatusOK || !strings.Contains(page, "Règles du pare-feu") {
		t.Errorf("rules page: %d %.200s", code, page)
	}
	res2 := ta.post(t, sec, "/security/rules", url.Values{"name": {"patch"}, "enabled": {"1"},
		"seclang": {`SecRule ARGS:case "@beginsWith EVIL" "id:20050,phase:1,deny,status:403,log,msg:'test'"`}})
	res2.Body.Close()
	if res2.StatusCode != http.StatusSeeOther || res2.Header.Get("Location") != "/security/rules/1" {
		t.Fatalf("adding from the page: %d → %q", res2.StatusCode, res2.Header.Get("Location"))
	}
	if code, page := ta.get(t, sec, "/security/rules/1"); code != http.StatusOK || !strings.Contains(page, "EVIL") {
		t.Errorf("rule page: %d", code)
	}
	if code, _ := ta.get(t, c, "/healthz?case=EVIL"); code != http.StatusForbidden {
		t.Errorf("the patch added from the page does not block: %d", code)
	}
}

// A security officer adds a virtual patch through the API: it blocks at
// once on this replica, and within seconds on another one sharing the
// database; other roles may not touch the rules.
func TestVirtualPatchReachesEveryReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("two whole applications")
	}
	a := newTestApp(t)
	dirB := t.TempDir()
	// The replicas share the database and its keys (journal, cards...).
	keys, _ := filepath.Glob(filepath.Join(a.cfg.DataDir, "*.key"))
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dirB, filepath.Base(k)), b, 0o600)
	}
	cfgB := *a.cfg
	cfgB.DataDir = dirB
	if err := cfgB.validate(); err != nil {
		t.Fatal(err)
	}
	b, err := openApp(context.Background(), &cfgB, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatalf("second replica: %v", err)
	}
	defer b.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.serve(ctx, nil); close(done) }()
	defer func() { stop(); <-done }()
	srvB := httptest.NewServer(b.web.Handler())
	defer srvB.Close()

	probe := func(base string) int {
		res, err := http.Get(base + "/healthz?case=EVIL-1")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if probe(a.srv.URL) != 200 || probe(srvB.URL) != 200 {
		t.Fatal("probe blocked before any patch")
	}
	rule := `SecRule ARGS:case "@beginsWith EVIL" "id:20042,phase:1,deny,status:403,log,msg:'virtual patch test'"`
	post := func(c *http.Client, path string, body string) *http.Response {
		req, _ := http.NewRequest("POST", a.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	agent := a.signIn(t, "agent")
	if res := post(agent, "/api/v1/security/rules", `{"name":"x","seclang":"`+strings.ReplaceAll(rule, `"`, `\"`)+`","enabled":true}`); res.StatusCode != http.StatusForbidden {
		t.Errorf("an agent adding a firewall rule: %d, want 403", res.StatusCode)
	}
	sec := a.signIn(t, "securite")
	res := post(sec, "/api/v1/security/rules", `{"name":"broken","seclang":"SecRule ARGS \"@rx (\" \"id:20043,phase:2,deny\"","enabled":true}`)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "compile") {
		t.Errorf("a broken rule: %d %s, want 400 with the compiler's message", res.StatusCode, body)
	}
	res = post(sec, "/api/v1/security/rules", `{"name":"EVIL case ids","seclang":"`+strings.ReplaceAll(rule, `"`, `\"`)+`","enabled":true,"note":"incident 42"}`)
	body, _ = io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("adding the patch: %d %s", res.StatusCode, body)
	}
	if probe(a.srv.URL) != http.StatusForbidden {
		t.Error("the patch does not block on the replica that added it")
	}
	deadline := time.Now().Add(10 * time.Second)
	for probe(srvB.URL) != http.StatusForbidden {
		if time.Now().After(deadline) {
			t.Fatal("the patch did not reach the other replica within 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
