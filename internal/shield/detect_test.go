package shield

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func kinds(fs []Finding) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range fs {
		m[f.Kind] = f
	}
	return m
}

func newTestDetector(t *testing.T) *Detector {
	allow, err := ParseAllowList("10.9.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	return NewDetector(Thresholds{}, allow)
}

// TestStuffingBansAtTheTenthFailure: ten failed sign-ins on ten accounts
// from one address is credential stuffing; the tenth, not the ninth,
// bans the address.
func TestStuffingBansAtTheTenthFailure(t *testing.T) {
	d := newTestDetector(t)
	ip := netip.MustParseAddr("203.0.113.7")
	for i := 1; i <= 10; i++ {
		fs := kinds(d.AuthFailed(AuthFailure{At: t0.Add(time.Duration(i) * time.Second), Addr: ip, Login: fmt.Sprintf("user%d", i)}))
		f, ok := fs[KindStuffing]
		if i < 10 && ok {
			t.Fatalf("failure %d already raised %s", i, f.Summary)
		}
		if i == 10 {
			if !ok {
				t.Fatalf("10th failure: no credential-stuffing finding (got %v)", fs)
			}
			if f.Ban != HostPrefix(ip) || f.Severity != SevHigh || f.Evidence["logins"] != 10 {
				t.Fatalf("finding: ban %v severity %s evidence %v", f.Ban, f.Severity, f.Evidence)
			}
		}
	}
}

func TestGuessingAndWindow(t *testing.T) {
	d := newTestDetector(t)
	ip := netip.MustParseAddr("198.51.100.4")
	// Nine failures, then a pause longer than the window: nothing.
	for i := 0; i < 9; i++ {
		if fs := d.AuthFailed(AuthFailure{At: t0, Addr: ip, Login: "camille"}); len(kinds(fs)[KindGuessing].Kind) > 0 {
			t.Fatal("guessing raised before the threshold")
		}
	}
	later := t0.Add(11 * time.Minute)
	if fs := kinds(d.AuthFailed(AuthFailure{At: later, Addr: ip, Login: "camille"})); fs[KindGuessing].Kind != "" {
		t.Fatal("failures older than the window were counted")
	}
	var got Finding
	for i := 0; i < 9; i++ {
		got = kinds(d.AuthFailed(AuthFailure{At: later.Add(time.Duration(i) * time.Second), Addr: ip, Login: "camille"}))[KindGuessing]
	}
	if got.Kind != KindGuessing || !got.Ban.IsValid() {
		t.Fatalf("ten failures on one login within the window: want password guessing with a ban, got %+v", got)
	}
}

func TestNetworkAndAccountDetectors(t *testing.T) {
	d := newTestDetector(t)
	var net, acct Finding
	// 30 failures from 10 addresses of one /24, against one account.
	for i := 0; i < 30; i++ {
		ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i%10)})
		fs := kinds(d.AuthFailed(AuthFailure{At: t0.Add(time.Duration(i) * time.Second), Addr: ip, Login: "agent", AccountID: 3, Dept: "01", UnitID: 7}))
		if f, ok := fs[KindNetwork]; ok {
			net = f
		}
		if f, ok := fs[KindAccount]; ok && acct.Kind == "" {
			acct = f
		}
	}
	if net.Ban.String() != "198.51.100.0/24" {
		t.Errorf("network finding: %+v, want a ban of 198.51.100.0/24", net)
	}
	if acct.Kind == "" || acct.Dept != "01" || acct.UnitID != 7 || acct.Ban.IsValid() {
		t.Errorf("account finding: %+v, want an alert scoped to the account's unit, without a ban", acct)
	}
	// IPv6: counted per /64.
	d = newTestDetector(t)
	for i := 0; i < 30; i++ {
		ip := netip.MustParseAddr(fmt.Sprintf("2001:db8:5:6::%x", i+1))
		net = kinds(d.AuthFailed(AuthFailure{At: t0, Addr: ip, Login: fmt.Sprintf("u%d", i)}))[KindNetwork]
	}
	if net.Ban.String() != "2001:db8:5:6::/64" {
		t.Errorf("IPv6 network finding: %+v", net)
	}
}

func TestAllowListIsNeverBanned(t *testing.T) {
	d := newTestDetector(t)
	for _, ip := range []string{"127.0.0.1", "10.9.3.4", "::1"} {
		a := netip.MustParseAddr(ip)
		for i := 0; i < 100; i++ {
			for _, f := range d.AuthFailed(AuthFailure{At: t0, Addr: a, Login: fmt.Sprintf("u%d", i)}) {
				if f.Ban.IsValid() {
					t.Fatalf("%s is allow-listed but %s would ban %v", ip, f.Kind, f.Ban)
				}
			}
			if fs := d.Observe(Hit{At: t0, Addr: a, Path: "/.env", Status: 404, UserAgent: "sqlmap/1.8"}); len(fs) > 0 {
				t.Fatalf("%s is allow-listed but the request stream raised %v", ip, fs[0].Kind)
			}
			if fs := d.Blocked(WAFHit{At: t0, Addr: a, Rule: "942100"}); len(fs) > 0 {
				t.Fatalf("%s is allow-listed but the firewall detector raised %v", ip, fs[0].Kind)
			}
		}
	}
}

func TestMFAAndSlowDetectors(t *testing.T) {
	d := newTestDetector(t)
	var mfa Finding
	for i := 0; i < 5; i++ {
		if f, ok := kinds(d.AuthFailed(AuthFailure{At: t0, Addr: netip.MustParseAddr("203.0.113.50"), Login: "opj", AccountID: 4, MFA: true}))[KindMFA]; ok {
			mfa = f
		}
	}
	if mfa.Kind == "" {
		t.Error("five refused second factors: no MFA alert")
	}
	// Slow: one failure every 15 minutes on one account from rotating
	// addresses never reaches the fast thresholds, but 20 in 6 h do.
	d = newTestDetector(t)
	var slow Finding
	for i := 0; i < 20; i++ {
		ip := netip.AddrFrom4([4]byte{203, 0, byte(i), 1})
		fs := kinds(d.AuthFailed(AuthFailure{At: t0.Add(time.Duration(i) * 15 * time.Minute), Addr: ip, Login: "commandant", AccountID: 5}))
		if _, ok := fs[KindAccount]; ok {
			t.Fatal("slow attempts tripped the fast account detector")
		}
		if f, ok := fs[KindSlow]; ok {
			slow = f
		}
	}
	if slow.Kind == "" || slow.Subject != "commandant" {
		t.Errorf("slow distributed attempts: got %+v", slow)
	}
}

func TestScanningDetectors(t *testing.T) {
	tests := []struct {
		name string
		hits []Hit
		want string // kind expected at the last hit, "" none
	}{
		{"scanner user agent", []Hit{{Path: "/", Status: 200, UserAgent: "Mozilla/5.0 (compatible; Nmap Scripting Engine)"}}, KindScannerTool},
		{"sqlmap", []Hit{{Path: "/login", Status: 200, UserAgent: "sqlmap/1.8.2#stable (https://sqlmap.org)"}}, KindScannerTool},
		{"one probe is not enough", []Hit{{Path: "/.env", Status: 404}}, ""},
		{"three probes", []Hit{{Path: "/.env", Status: 404}, {Path: "/wp-admin/", Status: 404}, {Path: "/.git/config", Status: 404}}, KindScan},
		{"a browser and its 404s", repeatHit(Hit{Path: "/static/missing.css", Status: 404, UserAgent: "Mozilla/5.0 Firefox/140.0"}, 29), ""},
		{"a burst of 404s", repeatHit(Hit{Path: "/admin/x", Status: 404}, 30), KindScan},
		{"ordinary pages", repeatHit(Hit{Path: "/", Status: 200}, 100), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDetector(t)
			var last []Finding
			for i, h := range tc.hits {
				h.At, h.Addr = t0.Add(time.Duration(i)*time.Second/10), netip.MustParseAddr("192.0.2.66")
				last = d.Observe(h)
			}
			got := ""
			if len(last) > 0 {
				got = last[0].Kind
				if !last[0].Ban.IsValid() {
					t.Error("a scanning finding must ban the address")
				}
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func repeatHit(h Hit, n int) []Hit {
	out := make([]Hit, n)
	for i := range out {
		out[i] = h
	}
	return out
}

func TestRepeatedWAFBlocks(t *testing.T) {
	d := newTestDetector(t)
	ip := netip.MustParseAddr("192.0.2.77")
	for i := 1; i <= 5; i++ {
		fs := d.Blocked(WAFHit{At: t0, Addr: ip, Rule: "942100 SQL Injection", Path: "/api/v1/units"})
		if (len(fs) > 0) != (i == 5) {
			t.Fatalf("block %d: findings %v", i, fs)
		}
	}
}

func TestDetectorMemoryIsBounded(t *testing.T) {
	d := newTestDetector(t)
	for i := 0; i < maxKeys+10; i++ {
		a := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		d.Observe(Hit{At: t0, Addr: a, Path: "/x", Status: 404})
	}
	if n := len(d.scan); n > maxKeys {
		t.Fatalf("%d keys kept, more than %d", n, maxKeys)
	}
	d.Sweep(t0.Add(time.Hour))
	if n := len(d.scan); n != 0 {
		t.Fatalf("sweep left %d idle keys", n)
	}
}

func TestParseAuthFailure(t *testing.T) {
	tests := []struct {
		e     AuthEntry
		ok    bool
		login string
		id    int64
		mfa   bool
	}{
		{AuthEntry{Login: "system", Detail: "sign-in refused: unknown login (bob)", IP: "203.0.113.1"}, true, "bob", 0, false},
		{AuthEntry{Login: "agent", ObjectID: "12", Detail: "sign-in refused: wrong password", IP: "203.0.113.1"}, true, "agent", 12, false},
		{AuthEntry{Login: "agent", ObjectID: "12", Detail: "sign-in refused: wrong password; account locked until 2026-11-30T12:00:00Z"}, true, "agent", 12, false},
		{AuthEntry{Login: "opj", ObjectID: "4", Detail: "second factor refused: wrong code"}, true, "opj", 4, true},
		{AuthEntry{Login: "opj", ObjectID: "4", Detail: "sign-in (second factor)"}, false, "", 0, false},
		{AuthEntry{Login: "opj", ObjectID: "4", Detail: "sign-out"}, false, "", 0, false},
	}
	for _, tc := range tests {
		f, ok := ParseAuthFailure(tc.e)
		if ok != tc.ok || (ok && (f.Login != tc.login || f.AccountID != tc.id || f.MFA != tc.mfa)) {
			t.Errorf("ParseAuthFailure(%q) = %+v %v", tc.e.Detail, f, ok)
		}
	}
}

func FuzzParseAuthFailure(f *testing.F) {
	f.Add("sign-in refused: unknown login (bob)", "system", "", "203.0.113.1")
	f.Add("second factor refused: code already used", "opj", "4", "::1")
	f.Add("sign-in refused: (", "x", "-1", "bad")
	f.Fuzz(func(t *testing.T, detail, login, objectID, ip string) {
		got, ok := ParseAuthFailure(AuthEntry{Detail: detail, Login: login, ObjectID: objectID, IP: ip})
		if !ok {
			return
		}
		if len(got.Login) > 64 || got.AccountID < 0 {
			t.Fatalf("bad result %+v", got)
		}
		// Feeding it to a detector never panics.
		NewDetector(Thresholds{}, nil).AuthFailed(got)
	})
}

func TestRobustZ(t *testing.T) {
	peers := []float64{20, 22, 25, 19, 21, 23, 400}
	if z := RobustZ(400, peers); z < 3.5 {
		t.Errorf("400 reads among peers around 21: z = %.1f, want ≥ 3.5", z)
	}
	if z := RobustZ(25, peers); z >= 3.5 {
		t.Errorf("25 reads: z = %.1f, want < 3.5", z)
	}
	// Most peers read exactly the same: the MAD is zero.
	if z := RobustZ(100, []float64{10, 10, 10, 10, 100}); z < 3.5 {
		t.Errorf("zero MAD: z = %.1f", z)
	}
	if z := RobustZ(10, []float64{10, 10, 10}); z != 0 {
		t.Errorf("identical values: z = %v, want 0", z)
	}
}

func TestAlertOverdue(t *testing.T) {
	a := Alert{Status: StatusNew, FirstAt: t0}
	if a.Overdue(t0.Add(23*time.Hour)) || !a.Overdue(t0.Add(25*time.Hour)) {
		t.Error("a new alert is overdue after 24 hours, not before")
	}
	a.Status = StatusAcknowledged
	if a.Overdue(t0.Add(48 * time.Hour)) {
		t.Error("an acknowledged alert is never overdue")
	}
}
