package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

const (
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
)

func TestOtherClient(t *testing.T) {
	for _, c := range []struct {
		name             string
		ip0, ua0, ip, ua string
		want             bool
	}{
		{"same client", "203.0.113.7", firefox, "203.0.113.7", firefox, false},
		{"same /24, other browser", "203.0.113.7", firefox, "203.0.113.250", chrome, false},
		{"other network, same browser (a phone roaming)", "203.0.113.7", firefox, "198.51.100.9", firefox, false},
		{"other network and other browser", "203.0.113.7", firefox, "198.51.100.9", chrome, true},
		{"IPv6 same /64", "2001:db8:1:2::10", firefox, "2001:db8:1:2:ffff::1", chrome, false},
		{"IPv6 other /64", "2001:db8:1:2::10", firefox, "2001:db8:1:3::10", chrome, true},
		{"IPv4 then IPv6", "203.0.113.7", firefox, "2001:db8::1", chrome, true},
		{"IPv4-mapped is IPv4", "203.0.113.7", firefox, "::ffff:203.0.113.8", chrome, false},
		{"unknown address at sign-in", "", firefox, "198.51.100.9", chrome, false},
		{"unknown agent at sign-in", "203.0.113.7", "", "198.51.100.9", chrome, false},
		{"no address now", "203.0.113.7", firefox, "", chrome, false},
		{"garbage address", "203.0.113.7", firefox, "not-an-ip", chrome, false},
		{"empty agent now, other network", "203.0.113.7", firefox, "198.51.100.9", "", true},
	} {
		if got := OtherClient(c.ip0, c.ua0, c.ip, c.ua); got != c.want {
			t.Errorf("%s: OtherClient = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSessionReusedFromAnotherClientEnds: the session opened from one
// client and replayed from another network with another browser is ended
// at once, journaled and reported; the legitimate client is then signed
// out too. A mere network change keeps it.
func TestSessionReusedFromAnotherClientEnds(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := f.addUser(t, "lea", vigie.RoleCitizen, 0, "")
		var mu sync.Mutex
		var got []SessionReuse
		f.a.OnSessionReuse(func(_ context.Context, e SessionReuse) { mu.Lock(); got = append(got, e); mu.Unlock() })
		t.Cleanup(func() { f.a.OnSessionReuse(nil) })

		home := vigie.WithClient(context.Background(), vigie.Client{IP: "203.0.113.7", UserAgent: firefox})
		in, err := f.a.SignIn(home, "lea", "correct horse battery")
		if err != nil || in.Step != StepDone {
			t.Fatalf("sign-in: %v", err)
		}
		h := f.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u := vigie.UserFrom(r.Context()); u != nil {
				w.Write([]byte("user:" + u.Login))
			}
		}))
		call := func(ip, ua string) (string, *http.Cookie) {
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: CookieName, Value: in.Token})
			req = req.WithContext(vigie.WithClient(req.Context(), vigie.Client{IP: ip, UserAgent: ua}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var cleared *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == CookieName {
					cleared = c
				}
			}
			return rec.Body.String(), cleared
		}
		if body, _ := call("203.0.113.7", firefox); body != "user:lea" {
			t.Fatalf("from the same client: %q", body)
		}
		if body, _ := call("198.51.100.9", firefox); body != "user:lea" {
			t.Fatalf("same browser from another network: %q, want still signed in", body)
		}
		if body, _ := call("203.0.113.99", chrome); body != "user:lea" {
			t.Fatalf("another browser in the same network: %q, want still signed in", body)
		}
		body, cleared := call("198.51.100.9", chrome)
		if body != "" {
			t.Fatalf("replayed from another client: %q, want signed out", body)
		}
		if cleared == nil || cleared.MaxAge >= 0 {
			t.Errorf("the cookie was not cleared: %+v", cleared)
		}
		if body, _ := call("203.0.113.7", firefox); body != "" {
			t.Errorf("the owner after the session was ended: %q, want signed out", body)
		}
		if n := f.j.count("session ended: used from another client (opened from 203.0.113.7"); n != 1 {
			t.Errorf("journal entries for the ended session: %d, want 1", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("reports: %d, want 1", len(got))
		}
		e := got[0]
		if e.UserID != id || e.Login != "lea" || e.SignInIP != "203.0.113.7" || e.SignInAgent != firefox || e.IP != "198.51.100.9" || e.Agent != chrome || e.Via != "password" {
			t.Errorf("report: %+v", e)
		}
	})
}

// TestLockUnderAttack: the shield's lock refuses even the right password
// until it ends, never shortens a longer lock, is journaled, and an
// administrator's unlock lifts it.
func TestLockUnderAttack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := f.addUser(t, "lea", vigie.RoleCitizen, 0, "")
		ctx := vigie.WithClient(context.Background(), vigie.Client{IP: "203.0.113.7", UserAgent: firefox})
		sys := vigie.WithUser(context.Background(), &vigie.User{Login: "shield", Role: vigie.RoleAdmin, Via: "system"})

		until, err := f.a.LockUnderAttack(sys, id, 30*time.Minute, "account-under-attack: 12 failures from 4 addresses")
		if err != nil {
			t.Fatal(err)
		}
		if want := f.clk.Now().Add(30 * time.Minute); !until.Equal(want) {
			t.Errorf("locked until %v, want %v", until, want)
		}
		if _, err := f.a.SignIn(ctx, "lea", "correct horse battery"); err == nil {
			t.Fatal("signed in while locked under attack")
		}
		if n := f.j.count("account locked under attack until"); n != 1 {
			t.Errorf("journal entries: %d, want 1", n)
		}
		// A shorter lock does not shorten it.
		if u2, err := f.a.LockUnderAttack(sys, id, 5*time.Minute, "again"); err != nil || !u2.Equal(until) {
			t.Errorf("shorter lock: %v %v, want %v kept", u2, err, until)
		}
		if n := f.j.count("account locked under attack until"); n != 1 {
			t.Errorf("journal entries after a no-op: %d, want 1", n)
		}
		// Over-long requests are clamped.
		if u3, _ := f.a.LockUnderAttack(sys, id, 30*24*time.Hour, "huge"); !u3.Equal(f.clk.Now().Add(MaxAttackLock)) {
			t.Errorf("clamped lock: %v", u3)
		}
		if _, err := f.a.LockUnderAttack(sys, 987654, time.Hour, "x"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("unknown account: %v, want not found", err)
		}
		// After it ends, the right password works again.
		f.clk.Add(MaxAttackLock + time.Minute)
		if in, err := f.a.SignIn(ctx, "lea", "correct horse battery"); err != nil || in.Step != StepDone {
			t.Fatalf("after the lock: %v", err)
		}
		// An administrator's unlock lifts a lock at once.
		f.a.LockUnderAttack(sys, id, time.Hour, "again")
		if err := unlockUser(context.Background(), d, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.SignIn(ctx, "lea", "correct horse battery"); err != nil {
			t.Errorf("after unlock: %v", err)
		}
		if !strings.Contains(f.j.recs[len(f.j.recs)-1].Detail, "sign-in") {
			t.Errorf("last journal entry: %q", f.j.recs[len(f.j.recs)-1].Detail)
		}
	})
}

// FuzzOtherClient: addresses and user agents come from request headers
// (through the trusted proxies): never a panic, the same client is never
// "another", and the answer does not depend on the order of the two
// clients' addresses.
func FuzzOtherClient(f *testing.F) {
	f.Add("203.0.113.7", firefox, "198.51.100.9", chrome)
	f.Add("2001:db8::1", "a", "::ffff:1.2.3.4", "b")
	f.Add("fe80::1%eth0", "x", "fe80::2%eth1", "y")
	f.Add("", "", "not an address", "\x00")
	f.Fuzz(func(t *testing.T, ip0, ua0, ip, ua string) {
		got := OtherClient(ip0, ua0, ip, ua)
		if OtherClient(ip0, ua0, ip0, ua0) {
			t.Fatalf("a client is another client of itself: %q %q", ip0, ua0)
		}
		if got && (ip0 == "" || ua0 == "" || ip == "") {
			t.Fatalf("unknown values counted as a change: %q %q %q %q", ip0, ua0, ip, ua)
		}
		if len(ua0) <= 300 && len(ua) <= 300 && got != OtherClient(ip, ua, ip0, ua0) && ua != "" {
			t.Fatalf("not symmetric: %q %q / %q %q", ip0, ua0, ip, ua)
		}
	})
}

// BenchmarkOtherClient is the cost the check adds to every request
// signed in by a session cookie.
func BenchmarkOtherClient(b *testing.B) {
	for b.Loop() {
		OtherClient("203.0.113.7", firefox, "203.0.113.7", firefox)
	}
}
