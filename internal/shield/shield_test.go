package shield

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newJournal(t testing.TB, d *db.DB) *audit.Journal {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return audit.New(d, key, nil)
}

func newTestShield(t testing.TB, d *db.DB, j *audit.Journal, c *clock, replica string) *Shield {
	t.Helper()
	allow, _ := ParseAllowList("10.9.0.0/16")
	s := New(Config{DB: d, Journal: j, Allow: allow, Now: c.now, Replica: replica})
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

var officer = &vigie.User{ID: 2, Login: "securite", Role: vigie.RoleSecurity, Via: "session"}

func asOfficer() context.Context { return vigie.WithUser(context.Background(), officer) }

func TestBansEscalateExpireAndLift(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := asOfficer()
		c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
		j := newJournal(t, d)
		s := newTestShield(t, d, j, c, "a")
		other := newTestShield(t, d, j, c, "b") // a second replica
		p := netip.MustParsePrefix("203.0.113.7/32")
		ip := p.Addr()

		// 15 min, then 1 h, then 24 h on repeat.
		for i, want := range []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour, 24 * time.Hour} {
			b, err := s.Ban(ctx, BanRequest{Prefix: p, Reason: "test", Origin: OriginAuto})
			if err != nil {
				t.Fatalf("ban %d: %v", i, err)
			}
			if got := b.ExpiresAt.Sub(b.CreatedAt); got != want || b.Level != i {
				t.Fatalf("ban %d lasts %v at level %d, want %v at level %d", i, got, b.Level, want, i)
			}
			if _, ok := s.Banned(ip); !ok {
				t.Fatalf("ban %d: not in force on the replica that made it", i)
			}
			// An automatic ban of what is already banned changes nothing.
			again, err := s.Ban(ctx, BanRequest{Prefix: p, Reason: "again", Origin: OriginAuto})
			if err != nil || again.ID != b.ID {
				t.Fatalf("re-ban: %v %v, want the ban in force", again.ID, err)
			}
			// The other replica sees it at its next refresh.
			if err := other.refresh(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			if _, ok := other.Banned(ip); !ok {
				t.Fatalf("ban %d: not in force on the other replica after a refresh", i)
			}
			c.add(want + time.Second) // expires on its own
			if _, ok := s.Banned(ip); ok {
				t.Fatalf("ban %d: still in force after its expiry", i)
			}
		}

		// A manual ban, then its lift, journaled.
		b, err := s.Ban(ctx, BanRequest{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Reason: "botnet", For: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Banned(netip.MustParseAddr("198.51.100.77")); !ok {
			t.Fatal("network ban not in force")
		}
		if _, err := s.Ban(ctx, BanRequest{Prefix: b.Prefix, Reason: "twice"}); vigie.KindOf(err) != vigie.KindConflict {
			t.Fatalf("a second manual ban of the same network: %v, want a conflict", err)
		}
		if _, err := s.Lift(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Banned(netip.MustParseAddr("198.51.100.77")); ok {
			t.Fatal("lifted ban still in force")
		}
		if _, err := s.Lift(ctx, b.ID); vigie.KindOf(err) != vigie.KindConflict {
			t.Fatalf("lifting twice: %v", err)
		}
		// A ban lifted by hand was a mistake: it does not escalate the next.
		if nb, err := s.Ban(ctx, BanRequest{Prefix: b.Prefix, Reason: "again", Origin: OriginAuto}); err != nil || nb.Level != 0 {
			t.Fatalf("ban after a lift: level %d, %v; want level 0", nb.Level, err)
		}
		var n int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE object = 'ban' AND actor_login = 'securite'").Scan(&n)
		if n != 7 { // 4 escalating bans, 1 manual ban, 1 lift, 1 ban after it
			t.Errorf("journal entries about bans: %d, want 7", n)
		}

		// The allow-list and bad input are refused.
		for _, req := range []BanRequest{
			{Prefix: netip.MustParsePrefix("10.9.1.0/24"), Reason: "own network"},
			{Prefix: netip.MustParsePrefix("127.0.0.1/32"), Reason: "loopback"},
			{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Reason: " "},
			{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Reason: "x", For: 2 * MaxBan},
		} {
			if _, err := s.Ban(ctx, req); vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("Ban(%v, %q): %v, want invalid", req.Prefix, req.Reason, err)
			}
		}
	})
}

func TestAlertsGrowAndAreAcknowledged(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := asOfficer()
		c := &clock{t: time.Now().UTC()}
		s := newTestShield(t, d, newJournal(t, d), c, "a")
		f := Finding{Kind: KindScan, Severity: SevMedium, Key: "scanning:192.0.2.9", Subject: "192.0.2.9", Summary: "scan", Evidence: map[string]any{"n": 1}}
		s.handle(ctx, []Finding{f, f, f})
		f.Evidence = map[string]any{"n": 4}
		s.handle(ctx, []Finding{f})
		as, err := s.Alerts(ctx, AlertFilter{Status: "open"})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].Hits != 4 || !strings.Contains(as[0].Evidence, `"n":4`) {
			t.Fatalf("alerts: %+v, want one alert with 4 hits and the latest evidence", as)
		}
		id := as[0].ID
		if _, err := s.Acknowledge(ctx, id, "", false); vigie.KindOf(err) != vigie.KindInvalid {
			t.Fatalf("acknowledging without a comment: %v", err)
		}
		a, err := s.Acknowledge(ctx, id, "Checked: a scanner, banned.", false)
		if err != nil || a.Status != StatusAcknowledged || a.AckBy != "securite" {
			t.Fatalf("acknowledge: %+v %v", a, err)
		}
		s.handle(ctx, []Finding{f}) // the attack goes on: the same alert grows
		if a, _ = s.GetAlert(ctx, id); a.Hits != 5 {
			t.Fatalf("hits after acknowledgement: %d, want 5", a.Hits)
		}
		if a, err = s.Acknowledge(ctx, id, "Over.", true); err != nil || a.Status != StatusClosed {
			t.Fatalf("close: %+v %v", a, err)
		}
		s.handle(ctx, []Finding{f}) // a new attack after closing: a new alert
		as, _ = s.Alerts(ctx, AlertFilter{})
		if len(as) != 2 || as[0].ID == id {
			t.Fatalf("after closing, a new finding must open a new alert: %+v", as)
		}
		if _, err := s.Alerts(ctx, AlertFilter{Status: "bogus"}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Fatalf("bad status filter: %v", err)
		}
		var n int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_entry WHERE object = 'security-alert'").Scan(&n)
		if n != 2 {
			t.Errorf("journal entries for acknowledgements: %d, want 2", n)
		}
	})
}

// failSignIn journals a refused sign-in as internal/auth does.
func failSignIn(t testing.TB, j *audit.Journal, ip, login string) {
	t.Helper()
	ctx := vigie.WithClient(vigie.WithUser(context.Background(), &vigie.User{Login: login, Via: "password"}), vigie.Client{IP: ip})
	if err := j.RecordTx(ctx, vigie.Record{Action: vigie.ActAuth, Object: "user", Detail: "sign-in refused: unknown login (" + login + ")"}); err != nil {
		t.Fatal(err)
	}
}

func TestJournalTailBansStuffing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := &clock{t: time.Now().UTC()}
		j := newJournal(t, d)
		s := newTestShield(t, d, j, c, "a")
		other := newTestShield(t, d, j, c, "b")
		if err := s.TailJournal(ctx); err != nil { // takes the lease, starts at the head
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			failSignIn(t, j, "203.0.113.99", fmt.Sprintf("victim%d", i))
		}
		// Only the lease holder reads the journal.
		if err := other.TailJournal(ctx); err != nil {
			t.Fatal(err)
		}
		var alerts int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM shield_alert").Scan(&alerts)
		if alerts != 0 {
			t.Fatalf("the replica without the lease raised %d alerts", alerts)
		}
		if err := s.TailJournal(ctx); err != nil {
			t.Fatal(err)
		}
		b, ok := s.Banned(netip.MustParseAddr("203.0.113.99"))
		if !ok || b.Origin != OriginAuto || b.AlertID == 0 {
			t.Fatalf("after 10 failed sign-ins on 10 accounts: banned %v %+v", ok, b)
		}
		a, err := s.GetAlert(ctx, b.AlertID)
		if err != nil || a.Kind != KindStuffing || !strings.Contains(a.Evidence, "victim3") {
			t.Fatalf("alert: %+v %v", a, err)
		}
	})
}

func TestInsiderDetectors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		c := &clock{t: time.Now().UTC()}
		j := newJournal(t, d)
		allow, _ := ParseAllowList("")
		s := New(Config{DB: d, Journal: j, Allow: allow, Now: c.now, Tree: flatTree{}})
		read := func(u *vigie.User, n int, r vigie.Record) {
			ctx := vigie.WithUser(context.Background(), u)
			for i := 0; i < n; i++ {
				if err := j.RecordTx(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
		}
		agent := func(id int64, unit int64) *vigie.User {
			return &vigie.User{ID: id, Login: fmt.Sprintf("agent%d", id), Role: vigie.RoleAgent, UnitID: unit, Dept: "01"}
		}
		person := vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "1", Dept: "01", UnitID: 10, Motif: "plainte"}
		for id := int64(1); id <= 6; id++ {
			read(agent(id, 10), 20+int(id), person)
		}
		read(agent(7, 10), 200, person)                                                                                                                         // far more than peers
		read(agent(8, 10), 5, vigie.Record{Action: vigie.ActCommunicate, Object: "person", ObjectID: "2", Dept: "01", UnitID: 10})                              // exports
		read(agent(9, 10), 2, vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "3", Dept: "01", UnitID: 11, Motif: "plainte"})                // another unit
		read(agent(9, 10), 1, vigie.Record{Action: vigie.ActConsult, Object: "person", ObjectID: "4", Dept: "01", UnitID: 11, Motif: "enquete:2026-01-000123"}) // with a case: fine
		read(agent(1, 10), 1, vigie.Record{Action: vigie.ActConsult, Object: "journal", Motif: "audit-securite"})                                               // a gendarme reading the journal

		fs, err := s.RunInsider(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range fs {
			got[f.Kind+" "+f.Subject] = f.Summary
		}
		for _, want := range []string{KindInsiderVolume + " agent7", KindInsiderExport + " agent8", KindInsiderScope + " agent9", KindInsiderJourn + " agent1"} {
			if _, ok := got[want]; !ok {
				t.Errorf("missing finding %q; got %v", want, got)
			}
		}
		for _, never := range []string{KindInsiderVolume + " agent6", KindInsiderVolume + " agent1"} {
			if _, ok := got[never]; ok {
				t.Errorf("false positive %q", never)
			}
		}
		if f := got[KindInsiderScope+" agent9"]; !strings.Contains(f, " 2 records") {
			t.Errorf("outside-unit finding should count the 2 reads without a case: %q", f)
		}
		// Alerts are scoped to the agent's unit; closing one keeps it closed
		// for the day.
		as, _ := s.Alerts(context.Background(), AlertFilter{Status: "open"})
		if len(as) != 4 {
			t.Fatalf("open alerts: %d, want 4", len(as))
		}
		for _, a := range as {
			if a.Dept != "01" || a.UnitID != 10 {
				t.Errorf("alert %s scoped to %s/%d, want the agent's unit", a.Kind, a.Dept, a.UnitID)
			}
			if _, err := s.Acknowledge(asOfficer(), a.ID, "seen", true); err != nil {
				t.Fatal(err)
			}
		}
		c.add(10 * time.Minute) // the lease runs out, the detectors run again
		if _, err := s.RunInsider(context.Background()); err != nil {
			t.Fatal(err)
		}
		if as, _ := s.Alerts(context.Background(), AlertFilter{Status: "open"}); len(as) != 0 {
			t.Fatalf("closed insider alerts were reopened the same day: %+v", as)
		}
	})
}

// flatTree: every unit is its own subtree.
type flatTree struct{}

func (flatTree) Within(unit, ancestor int64) bool { return unit == ancestor }

func TestMiddlewareRefusesBanned(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	c := &clock{t: time.Now().UTC()}
	s := newTestShield(t, d, newJournal(t, d), c, "a")
	if _, err := s.Ban(asOfficer(), BanRequest{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	var reached int
	h := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	tests := []struct {
		ip, path string
		code     int
		ctype    string
	}{
		{"203.0.113.40", "/", 403, "text/html"},
		{"203.0.113.40", "/api/v1/units", 403, "application/json"},
		{"203.0.114.1", "/", 200, ""},
		{"::ffff:203.0.113.5", "/", 403, "text/html"},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", tc.path, nil)
		req = req.WithContext(vigie.WithClient(req.Context(), vigie.Client{IP: tc.ip}))
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.code || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.ip, tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.code, tc.ctype)
		}
		if tc.code == 403 && !strings.Contains(string(body), "bloqu") {
			t.Errorf("%s %s: the refusal does not say so in French: %s", tc.ip, tc.path, body)
		}
	}
	if reached != 1 || s.Refused() != 3 {
		t.Errorf("handler reached %d times (want 1), refused %d (want 3)", reached, s.Refused())
	}
}

// BenchmarkBannedRequest is the server time of a banned request through
// the middleware, with 10,000 bans in force (addresses and networks).
func BenchmarkBannedRequest(b *testing.B) {
	var bans []Ban
	exp := time.Now().Add(time.Hour)
	for i := 0; i < 10000; i++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 8), byte(i), 1}), 32)
		if i%10 == 0 {
			p = netip.PrefixFrom(netip.AddrFrom4([4]byte{101, byte(i >> 8), byte(i), 0}), 24)
		}
		bans = append(bans, Ban{Prefix: p, ExpiresAt: exp})
	}
	bans = append(bans, Ban{Prefix: netip.MustParsePrefix("2001:db8::/64"), ExpiresAt: exp})
	s := New(Config{Now: time.Now})
	s.bans.store(newSnapshot(bans, 1))
	h := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.Fatal("a banned request reached the handler") }))
	req := httptest.NewRequest("GET", "/complaints/new", nil)
	req = req.WithContext(vigie.WithClient(req.Context(), vigie.Client{IP: "101.0.50.77"}))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// BenchmarkAllowedRequest is the overhead on a request that is not banned
// (ban lookup plus the request-stream detector).
func BenchmarkAllowedRequest(b *testing.B) {
	s := New(Config{Now: time.Now})
	s.bans.store(newSnapshot([]Ban{{Prefix: netip.MustParsePrefix("101.0.0.0/24"), ExpiresAt: time.Now().Add(time.Hour)}}, 1))
	h := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	req := httptest.NewRequest("GET", "/complaints/new", nil)
	req = req.WithContext(vigie.WithClient(req.Context(), vigie.Client{IP: "192.0.2.1"}))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func TestOverviewCountsByHourRuleAndSource(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)
		c := &clock{t: now}
		s := newTestShield(t, d, newJournal(t, d), c, "a")
		for i := 0; i < 3; i++ {
			s.WAFBlocked(ctx, WAFHit{At: now.Add(-2 * time.Hour), Addr: netip.MustParseAddr("192.0.2.1"), Rule: "942100 SQL injection", Path: "/x"})
		}
		s.WAFBlocked(ctx, WAFHit{At: now, Addr: netip.MustParseAddr("192.0.2.2"), Rule: "941100 XSS", Path: "/y"})
		s.WAFBlocked(ctx, WAFHit{At: now.Add(-30 * time.Hour), Addr: netip.MustParseAddr("192.0.2.3"), Rule: "old", Path: "/z"}) // out of the day
		if err := s.flushEvents(ctx); err != nil {
			t.Fatal(err)
		}
		o, err := s.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byHour := map[int]int{}
		for _, h := range o.ByHour {
			byHour[int(now.Sub(h.Hour).Hours())] += h.WAF
		}
		if byHour[2] != 3 || byHour[0] != 1 || len(o.ByHour) < 24 {
			t.Errorf("by hour: %v over %d hours", byHour, len(o.ByHour))
		}
		if len(o.TopRules) != 2 || o.TopRules[0].Label != "942100 SQL injection" || o.TopRules[0].N != 3 {
			t.Errorf("top rules: %+v", o.TopRules)
		}
		if len(o.TopSources) != 2 || o.TopSources[0].Label != "192.0.2.1" {
			t.Errorf("top sources: %+v", o.TopSources)
		}
		bars := o.Bars()
		tallest := 0
		for _, b := range bars {
			tallest = max(tallest, b.H)
		}
		if len(bars) != len(o.ByHour) || tallest != 100 {
			t.Errorf("bars: %d, tallest %d, want one per hour and the busiest at full height", len(bars), tallest)
		}
	})
}
