package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/shield"
)

// newProxiedTestApp is newTestApp behind a trusted reverse proxy on
// loopback, so that tests can speak from any client address through
// X-Forwarded-For (loopback itself is on the shield's allow-list).
func newProxiedTestApp(t testing.TB) *testApp {
	t.Helper()
	dir := t.TempDir()
	cfg := &Config{DataDir: dir, Addr: "127.0.0.1:0", LogLevel: "warn", LogFormat: "text", TrustedProxies: "127.0.0.1/32",
		SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, JournalKeep: 3 * 365 * 24 * time.Hour, CheckpointEach: time.Minute,
		ShieldAccountLock: 30 * time.Minute}
	if pg := os.Getenv("VIGIE_TEST_APP_POSTGRES_URL"); pg != "" {
		cfg.DatabaseURL = pg
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatalf("openApp: %v", err)
	}
	a.demoDepts = []string{"01", "2A", "974"}
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
		workers.Wait()
		a.Close()
	})
	return ta
}

// from sends a request as if from client address ip.
func (ta *testApp) from(t testing.TB, c *http.Client, ip, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, ta.srv.URL+path, body)
	req.Header.Set("X-Forwarded-For", ip)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestCredentialStuffingIsBannedWithinASecond: from the 10th failed
// sign-in of a credential-stuffing run to the ban, under one second, on
// the real application; the security officer then sees the alert and the
// ban, and lifts it.
func TestCredentialStuffingIsBannedWithinASecond(t *testing.T) {
	ta := newProxiedTestApp(t)
	attacker := ta.client()
	const ip = "203.0.113.66"
	if code, _ := ta.from(t, attacker, ip, "GET", "/", nil); code != http.StatusOK && code != http.StatusSeeOther {
		t.Fatalf("before the attack: %d", code)
	}
	var tenth time.Time
	for i := 1; i <= 10; i++ {
		code, _ := ta.from(t, attacker, ip, "POST", "/login", url.Values{"login": {fmt.Sprintf("jean.dupont%d@example.org", i)}, "password": {"Hunter2-Hunter2"}})
		if code == http.StatusForbidden {
			t.Fatalf("banned already at attempt %d", i)
		}
		tenth = time.Now()
	}
	var latency time.Duration
	for {
		code, body := ta.from(t, attacker, ip, "GET", "/login", nil)
		if code == http.StatusForbidden && strings.Contains(body, "bloqué") {
			latency = time.Since(tenth)
			break
		}
		if time.Since(tenth) > 3*time.Second {
			t.Fatalf("not banned 3 s after the 10th failure (last answer %d)", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("from the 10th failed sign-in to the ban: %v", latency)
	if latency > time.Second {
		t.Errorf("from the 10th failure to the ban: %v, want under 1 s", latency)
	}
	// The API answers a banned client in JSON; other clients pass.
	if code, body := ta.from(t, attacker, ip, "GET", "/api/v1/units", nil); code != 403 || !strings.Contains(body, `"forbidden"`) {
		t.Errorf("API while banned: %d %s", code, body)
	}
	if code, _ := ta.from(t, ta.client(), "203.0.113.67", "GET", "/login", nil); code != 200 {
		t.Errorf("a neighbour address: %d, want 200", code)
	}

	// The security officer sees the alert and the ban.
	sec := ta.signIn(t, "securite")
	code, body := ta.get(t, sec, "/api/v1/security/bans?motif=audit-securite")
	var bans struct {
		Active []struct {
			ID     int64  `json:"id"`
			Prefix string `json:"prefix"`
			Origin string `json:"origin"`
		} `json:"active"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &bans) != nil || len(bans.Active) != 1 || bans.Active[0].Prefix != ip+"/32" || bans.Active[0].Origin != "auto" {
		t.Fatalf("bans API: %d %s", code, body)
	}
	code, body = ta.get(t, sec, "/security/alerts?motif=audit-securite")
	if code != 200 || !strings.Contains(body, "bourrage d’identifiants") || !strings.Contains(body, ip) {
		t.Fatalf("alert queue: %d, no credential-stuffing alert for %s", code, ip)
	}
	if code, body = ta.get(t, sec, "/security?motif=audit-securite"); code != 200 || !strings.Contains(body, "<svg") || !strings.Contains(body, ip) {
		t.Fatalf("overview: %d, want the chart and the attacker in the timeline", code)
	}
	if code, body = ta.get(t, sec, "/security/bans?motif=audit-securite"); code != 200 || !strings.Contains(body, ip+"/32") {
		t.Fatalf("bans page: %d, want the ban of %s", code, ip)
	}
	var alertID int64
	ta.db.QueryRow(context.Background(), "SELECT alert_id FROM shield_ban WHERE id = ?", bans.Active[0].ID).Scan(&alertID)
	if code, body = ta.get(t, sec, fmt.Sprintf("/security/alerts/%d?motif=audit-securite", alertID)); code != 200 || !strings.Contains(body, "Éléments de preuve") || !strings.Contains(body, "jean.dupont3@example.org") {
		t.Fatalf("alert page: %d, want the evidence with the attempted logins", code)
	}
	if res := ta.post(t, sec, fmt.Sprintf("/security/alerts/%d/ack", alertID), url.Values{"comment": {"Bourrage d'identifiants depuis un hébergeur, adresse bloquée."}, "motif": {"audit-securite"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", res.StatusCode)
	}
	var status, ackBy string
	ta.db.QueryRow(context.Background(), "SELECT status, ack_by FROM shield_alert WHERE id = ?", alertID).Scan(&status, &ackBy)
	if status != "acknowledged" || ackBy != "securite" {
		t.Errorf("after acknowledgement: %s by %q", status, ackBy)
	}
	// A manual ban from the page: bad input comes back with its reason.
	if res := ta.post(t, sec, "/security/bans", url.Values{"target": {"10.0.0.0/8"}, "reason": {"test"}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("too wide a network: %d, want 400", res.StatusCode)
	}
	if res := ta.post(t, sec, "/security/bans", url.Values{"target": {"192.0.2.0/24"}, "reason": {"test"}, "duration": {"7d"}, "motif": {"audit-securite"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("manual ban: %d, want 303", res.StatusCode)
	}
	if code, _ := ta.from(t, ta.client(), "192.0.2.44", "GET", "/login", nil); code != 403 {
		t.Errorf("inside the manually banned network: %d, want 403", code)
	}
	// Partners get the ban as a STIX 2.1 indicator; the export is journaled.
	if code, body = ta.get(t, sec, "/api/v1/security/indicators?tlp=green"); code != 200 || !strings.Contains(body, "[ipv4-addr:value = '"+ip+"']") || !strings.Contains(body, `"type": "bundle"`) {
		t.Fatalf("STIX export: %d %s", code, body)
	}
	var exports int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE action = 'communicate' AND object = 'ban' AND actor_login = 'securite'").Scan(&exports)
	if exports != 1 {
		t.Errorf("journaled STIX exports: %d, want 1", exports)
	}
	// Others may not look.
	for _, login := range []string{"agent", "commandant", "formateur"} {
		c := ta.signIn(t, login)
		for _, p := range []string{"/security", "/security/alerts", "/security/bans", "/api/v1/security/bans", "/api/v1/security/alerts", "/api/v1/security/indicators"} {
			if code, _ := ta.get(t, c, p+"?motif=audit-securite"); code != 403 {
				t.Errorf("%s GET %s: %d, want 403", login, p, code)
			}
		}
	}
	// Lifted by hand: the address passes again at once.
	res := ta.post(t, sec, fmt.Sprintf("/security/bans/%d/lift", bans.Active[0].ID), url.Values{"motif": {"audit-securite"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift: %d", res.StatusCode)
	}
	if code, _ := ta.from(t, attacker, ip, "GET", "/login", nil); code != 200 {
		t.Errorf("after the lift: %d, want 200", code)
	}
	var n int
	ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE object = 'ban' AND actor_login = 'securite' AND detail LIKE 'lifted%'").Scan(&n)
	if n != 1 {
		t.Errorf("journal entries for the lift: %d, want 1", n)
	}
}

// TestScannerIsBanned: an attack tool's user agent is banned at its first
// request; the allow-listed proxy itself never is.
func TestScannerIsBanned(t *testing.T) {
	ta := newProxiedTestApp(t)
	c := ta.client()
	req, _ := http.NewRequest("GET", ta.srv.URL+"/", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.23")
	req.Header.Set("User-Agent", "sqlmap/1.8.2#stable (https://sqlmap.org)")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if code, _ := ta.from(t, c, "198.51.100.23", "GET", "/login", nil); code == 403 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scanner was not banned within 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Loopback (the proxy) scanning itself is never banned.
	for i := 0; i < 40; i++ {
		ta.get(t, c, "/.env")
	}
	time.Sleep(300 * time.Millisecond)
	if code, _ := ta.get(t, c, "/login"); code != 200 {
		t.Errorf("loopback after 40 probes: %d, want 200", code)
	}
}

// TestSecurityAlertsAreScoped: a département's security officer sees the
// alerts of its units and nothing else; the national officer sees all.
func TestSecurityAlertsAreScoped(t *testing.T) {
	ta := newProxiedTestApp(t)
	ctx := context.Background()
	unitOf := func(where string) (int64, string) {
		u, err := ta.demoUnit(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID, u.Dept
	}
	g01, _ := unitOf("groupement:01")
	bourg, _ := unitOf("brigade:01053")
	ajaccio, _ := unitOf("brigade:2A004")
	ta.shield.sh.Report(ctx, []shield.Finding{
		{Kind: shield.KindInsiderExport, Severity: shield.SevHigh, Key: "t:01", Subject: "canari01", Summary: "Canari de l'Ain", Dept: "01", UnitID: bourg},
		{Kind: shield.KindInsiderExport, Severity: shield.SevHigh, Key: "t:2a", Subject: "canari2a", Summary: "Canari de Corse", Dept: "2A", UnitID: ajaccio},
		{Kind: shield.KindScan, Severity: shield.SevMedium, Key: "t:net", Subject: "192.0.2.1", Summary: "Canari national"},
	})
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if _, _, err := ta.auth.AddUser(cliContext(ctx), auth.NewUser{Login: "secu01", Name: "Securite Ain", Role: vigie.RoleSecurity,
		UnitID: g01, Dept: "01", Password: demoPassword, TOTPSecret: secret, Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	c := ta.client()
	ta.post(t, c, "/login", url.Values{"login": {"secu01"}, "password": {demoPassword}})
	code, _ := totp.GenerateCode(secret, time.Now())
	if res := ta.post(t, c, "/login/mfa", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("MFA: %d", res.StatusCode)
	}
	visible := func(c *http.Client) map[string]bool {
		status, body := ta.get(t, c, "/api/v1/security/alerts?motif=audit-securite")
		if status != 200 {
			t.Fatalf("alerts API: %d %s", status, body)
		}
		m := map[string]bool{}
		for _, s := range []string{"Canari de l'Ain", "Canari de Corse", "Canari national"} {
			m[s] = strings.Contains(body, s)
		}
		return m
	}
	if got := visible(c); !got["Canari de l'Ain"] || got["Canari de Corse"] || got["Canari national"] {
		t.Errorf("secu01 sees %v, want only the Ain's alert", got)
	}
	if got := visible(ta.signIn(t, "securite")); !got["Canari de l'Ain"] || !got["Canari de Corse"] || !got["Canari national"] {
		t.Errorf("the national officer sees %v, want all", got)
	}
	// The Corsican alert does not exist for secu01, and cannot be acknowledged.
	var id int64
	ta.db.QueryRow(ctx, "SELECT id FROM shield_alert WHERE subject = 'canari2a'").Scan(&id)
	if status, _ := ta.get(t, c, fmt.Sprintf("/api/v1/security/alerts/%d?motif=audit-securite", id)); status != 404 {
		t.Errorf("secu01 reads the Corsican alert: %d, want 404", status)
	}
	if res := ta.post(t, c, fmt.Sprintf("/security/alerts/%d/ack", id), url.Values{"comment": {"pwned"}}); res.StatusCode != 404 {
		t.Errorf("secu01 acknowledges the Corsican alert: %d, want 404", res.StatusCode)
	}
	// secu01 may not see the bans (national).
	if status, _ := ta.get(t, c, "/security/bans?motif=audit-securite"); status != 403 {
		t.Errorf("secu01 GET /security/bans: %d, want 403", status)
	}
	// Reading is journaled with the motif.
	var n int
	ta.db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry WHERE actor_login = 'secu01' AND action = 'consult' AND object = 'security-alert' AND motif = 'audit-securite'").Scan(&n)
	if n == 0 {
		t.Error("secu01's reading of the alerts was not journaled")
	}
}

// TestRepeatedFirewallBlocksBan: five requests blocked by the firewall
// from one address ban it.
func TestRepeatedFirewallBlocksBan(t *testing.T) {
	ta := newProxiedTestApp(t)
	if ta.firewall.fw == nil {
		t.Skip("no firewall in this build")
	}
	c := ta.client()
	const ip = "198.51.100.200"
	blocked := 0
	for i := 0; i < 5; i++ {
		if code, _ := ta.from(t, c, ip, "GET", "/login?next="+url.QueryEscape(fmt.Sprintf("1' UNION SELECT password FROM users WHERE '%d'='%d", i, i)), nil); code == 403 {
			blocked++
		}
	}
	if blocked < 5 {
		t.Skipf("the firewall blocked %d of 5 SQL injections: nothing to detect", blocked)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := ta.shield.sh.Banned(shield.ParseAddr(ip)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("five firewall blocks: not banned within 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := ta.from(t, c, ip, "GET", "/login", nil); code != 403 || !strings.Contains(body, "bloqué") {
		t.Errorf("after the ban: %d", code)
	}
}

// BenchmarkBannedRequestFullStack is the server time of a banned request
// through Vigie's whole middleware chain (request id, logs and metrics,
// security headers, the ban check), as `vigie serve` runs it.
func BenchmarkBannedRequestFullStack(b *testing.B) {
	ta := newProxiedTestApp(b)
	ctx := cliContext(context.Background())
	for i := 0; i < 1000; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, byte(i >> 8), byte(i)}), 32)
		if _, err := ta.shield.sh.Ban(ctx, shield.BanRequest{Prefix: p, Reason: "bench", For: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	h := ta.web.Handler()
	req := httptest.NewRequest("GET", "/complaints/new", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "100.64.3.7")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 403 {
			b.Fatalf("status %d, want 403", w.Code)
		}
	}
}

// TestBansAreSharedByReplicas: a ban made on one replica refuses the
// address on the other within about a second, and so does its lift.
func TestBansAreSharedByReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("two whole applications")
	}
	a := newProxiedTestApp(t)
	dirB := t.TempDir()
	// The second replica has the keys of the first (journal, and any other
	// area's), as a deployment copies them.
	keys, _ := filepath.Glob(filepath.Join(a.cfg.DataDir, "*.key"))
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dirB, filepath.Base(k)), b, 0o600)
	}
	cfgB := *a.cfg
	cfgB.DataDir, cfgB.BlobDir = dirB, a.cfg.BlobDir
	b, err := openApp(context.Background(), &cfgB, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatalf("second replica: %v", err)
	}
	wctx, stop := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for _, w := range b.workers {
		workers.Go(func() { w(wctx) })
	}
	srvB := httptest.NewServer(b.web.Handler())
	defer func() { srvB.Close(); stop(); workers.Wait(); b.Close() }()
	tb := &testApp{app: b, srv: srvB}

	const ip = "203.0.113.150"
	waitFor := func(what string, want int) time.Duration {
		start := time.Now()
		for {
			if code, _ := tb.from(t, tb.client(), ip, "GET", "/login", nil); code == want {
				return time.Since(start)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("%s: replica B does not answer %d within 3 s", what, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	sec := a.signIn(t, "securite")
	if res := a.post(t, sec, "/security/bans", url.Values{"target": {ip}, "reason": {"shared"}, "motif": {"audit-securite"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ban on A: %d", res.StatusCode)
	}
	t.Logf("ban made on A in force on B after %v", waitFor("ban", 403))
	var id int64
	a.db.QueryRow(context.Background(), "SELECT id FROM shield_ban WHERE prefix = ?", ip+"/32").Scan(&id)
	if res := a.post(t, sec, fmt.Sprintf("/security/bans/%d/lift", id), url.Values{"motif": {"audit-securite"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift on A: %d", res.StatusCode)
	}
	t.Logf("lift made on A in force on B after %v", waitFor("lift", 200))
}

// TestSessionReusedFromAnotherClient: a session cookie replayed from
// another network with another browser ends the session (the thief and the
// owner are both signed out), is journaled, and the security officer gets
// a high alert with both clients as evidence. A mere change of network
// (same browser) keeps the session.
func TestSessionReusedFromAnotherClient(t *testing.T) {
	ta := newProxiedTestApp(t)
	owner := ta.signIn(t, "agent") // from loopback, Go's user agent
	send := func(c *http.Client, ip, ua, path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", ta.srv.URL+path, nil)
		if ip != "" {
			req.Header.Set("X-Forwarded-For", ip)
		}
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if code := send(owner, "", "", "/api/v1/units"); code != 200 {
		t.Fatalf("the owner, signed in: %d, want 200", code)
	}
	// The same browser from another network (a laptop moving to a 4G
	// hotspot): still signed in.
	if code := send(owner, "198.51.100.9", "", "/api/v1/units"); code != 200 {
		t.Fatalf("same browser, other network: %d, want 200", code)
	}
	// A thief with the cookie, another network and another browser.
	thief := ta.client()
	u, _ := url.Parse(ta.srv.URL)
	thief.Jar.SetCookies(u, owner.Jar.Cookies(u))
	const thiefUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
	replayed := time.Now()
	if code := send(thief, "203.0.113.80", thiefUA, "/api/v1/units"); code != 401 {
		t.Fatalf("the replayed cookie: %d, want 401", code)
	}
	for {
		var n int
		ta.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM shield_alert WHERE kind = 'session-reused'").Scan(&n)
		if n == 1 {
			t.Logf("from the replayed request to the alert: %v", time.Since(replayed))
			break
		}
		if time.Since(replayed) > 3*time.Second {
			t.Fatal("no session-reused alert 3 s after the replayed request")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code := send(owner, "", "", "/api/v1/units"); code != 401 {
		t.Errorf("the owner after the session was ended: %d, want 401 (signs in again)", code)
	}
	ctx := context.Background()
	var n int
	ta.db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry WHERE action = 'auth' AND actor_login = 'agent' AND ip = '203.0.113.80' AND detail LIKE 'session ended: used from another client%'").Scan(&n)
	if n != 1 {
		t.Errorf("journal entries for the ended session: %d, want 1", n)
	}
	// The alert reaches the security centre.
	sec := ta.signIn(t, "securite")
	deadline := time.Now().Add(3 * time.Second)
	for {
		code, body := ta.get(t, sec, "/api/v1/security/alerts?motif=audit-securite")
		if code == 200 && strings.Contains(body, `"session-reused"`) {
			if !strings.Contains(body, "203.0.113.80") || !strings.Contains(body, `"severity":"high"`) && !strings.Contains(body, `"severity": "high"`) {
				t.Errorf("alert: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session-reused alert within 3 s: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var id int64
	var evidence string
	ta.db.QueryRow(ctx, "SELECT id, evidence FROM shield_alert WHERE kind = 'session-reused' AND subject = 'agent'").Scan(&id, &evidence)
	if !strings.Contains(evidence, thiefUA) || !strings.Contains(evidence, `"sign_in_address":"127.0.0.1"`) {
		t.Errorf("evidence: %s", evidence)
	}
	if code, body := ta.get(t, sec, fmt.Sprintf("/security/alerts/%d?motif=audit-securite", id)); code != 200 || !strings.Contains(body, "session réutilisée depuis un autre poste") {
		t.Errorf("alert page: %d", code)
	}
	// The owner may sign in again: the password is accepted and the second
	// factor asked (the account is not locked; the TOTP code of this
	// 30-second window is spent already, so the test stops there).
	res := ta.post(t, ta.client(), "/login", url.Values{"login": {"agent"}, "password": {demoPassword}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login/mfa") {
		t.Errorf("signing in again: %d to %q, want the second factor", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestAccountUnderAttackIsLocked: failed sign-ins on one account from
// several addresses (none of them enough to be banned) lock the account
// for 30 minutes on the shield's order, journaled, beyond auth's own
// 15-minute lock-out; the right password is refused meanwhile.
func TestAccountUnderAttackIsLocked(t *testing.T) {
	ta := newProxiedTestApp(t)
	ctx := context.Background()
	addrs := []string{"203.0.113.5", "198.51.100.5", "192.0.2.5", "100.64.9.5"}
	for i := 0; i < 10; i++ {
		ta.from(t, ta.client(), addrs[i%len(addrs)], "POST", "/login", url.Values{"login": {"commandant"}, "password": {fmt.Sprintf("Devine-%d-2026", i)}})
	}
	deadline := time.Now().Add(3 * time.Second)
	var lockedUntil int64
	for {
		var n int
		ta.db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_entry WHERE action = 'auth' AND actor_login = 'shield' AND detail LIKE 'account locked under attack until%'").Scan(&n)
		if n == 1 {
			ta.db.QueryRow(ctx, "SELECT locked_until FROM users WHERE login = 'commandant'").Scan(&lockedUntil)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the account was not locked by the shield within 3 s (journal entries: %d)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left := time.Until(time.UnixMilli(lockedUntil)); left < 29*time.Minute || left > 31*time.Minute {
		t.Errorf("locked for %v more, want about 30 min", left)
	}
	// No address was banned: each stayed under the per-address threshold.
	for _, a := range addrs {
		if _, banned := ta.shield.sh.Banned(shield.ParseAddr(a)); banned {
			t.Errorf("%s banned", a)
		}
	}
	// The right password from the owner's own address is refused.
	res := ta.post(t, ta.client(), "/login", url.Values{"login": {"commandant"}, "password": {demoPassword}})
	if res.StatusCode == http.StatusSeeOther {
		t.Errorf("signed in while locked under attack (to %s)", res.Header.Get("Location"))
	}
	var kind string
	ta.db.QueryRow(ctx, "SELECT kind FROM shield_alert WHERE kind = 'account-under-attack' AND subject = 'commandant'").Scan(&kind)
	if kind == "" {
		t.Error("no account-under-attack alert")
	}
}
