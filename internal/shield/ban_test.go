package shield

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"vigie"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"203.0.113.7", "203.0.113.7/32"},
		{" 203.0.113.7 ", "203.0.113.7/32"},
		{"203.0.113.9/24", "203.0.113.0/24"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:db8:1:2:3::/64", "2001:db8:1:2::/64"},
		{"::ffff:203.0.113.7", "203.0.113.7/32"},
		{"::ffff:203.0.113.0/120", "203.0.113.0/24"},
		{"10.0.0.0/16", "10.0.0.0/16"},
		{"10.0.0.0/8", ""},     // too wide
		{"2001:db8::/16", ""},  // too wide
		{"0.0.0.0", ""},        // unspecified
		{"::", ""},             // unspecified
		{"fe80::1%eth0", ""},   // zone
		{"203.0.113.300", ""},  // not an address
		{"203.0.113.0/33", ""}, // bad length
		{"example.org", ""},    // a name
		{"", ""},
		{strings.Repeat("1", 100), ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePrefix(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("ParsePrefix(%q) = %v, want refusal", tc.in, got)
				}
				if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
					t.Fatalf("refusal of %q: kind %v message %q, want an invalid error with a message", tc.in, vigie.KindOf(err), vigie.MessageOf(err))
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParsePrefix(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "2001:db8::/64", "::ffff:1.2.3.4/120", "fe80::1%eth0", "1.2.3.4/0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Fatalf("%q: error without a message: %v", s, err)
			}
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("%q: accepted a non-canonical prefix %v", s, p)
		}
		// What is accepted reads back the same.
		if q, err := ParsePrefix(p.String()); err != nil || q != p {
			t.Fatalf("%q: %v does not read back: %v %v", s, p, q, err)
		}
	})
}

func TestParseBanDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"15m", 15 * time.Minute, true},
		{"2h", 2 * time.Hour, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"365d", 365 * 24 * time.Hour, true},
		{"366d", 0, false},
		{"30s", 0, false},
		{"-1h", 0, false},
		{"0d", 0, false},
		{"1x", 0, false},
		{"d", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseBanDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBanDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && vigie.MessageOf(err) == "" {
			t.Errorf("ParseBanDuration(%q): no message for the user", tc.in)
		}
	}
}

func FuzzParseBanDuration(f *testing.F) {
	for _, s := range []string{"15m", "7d", "1h30m", "99999999999d", "-5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseBanDuration(s)
		if err == nil && d != 0 && (d < time.Minute || d > MaxBan) {
			t.Fatalf("%q: accepted %v", s, d)
		}
		if err != nil && vigie.MessageOf(err) == "" {
			t.Fatalf("%q: no message", s)
		}
	})
}

func TestParseAllowList(t *testing.T) {
	l, err := ParseAllowList("10.1.0.0/16, 192.0.2.10 ,2001:db8::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1", "::1", "10.1.200.3", "192.0.2.10", "2001:db8::5"} {
		if !l.Contains(netip.MustParseAddr(a)) {
			t.Errorf("%s should be allowed", a)
		}
	}
	for _, a := range []string{"10.2.0.1", "192.0.2.11", "2001:db9::1"} {
		if l.Contains(netip.MustParseAddr(a)) {
			t.Errorf("%s should not be allowed", a)
		}
	}
	if _, err := ParseAllowList("10.0.0.0/8,nonsense"); err == nil || vigie.MessageOf(err) == "" {
		t.Errorf("a bad entry must be refused with a message, got %v", err)
	}
}

func TestEscalation(t *testing.T) {
	want := []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for level, w := range want {
		if got := escalate(nil, level); got != w {
			t.Errorf("level %d: %v, want %v", level, got, w)
		}
	}
}

func TestSnapshotLookup(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ban := func(p string, d time.Duration) Ban {
		return Ban{Prefix: netip.MustParsePrefix(p), ExpiresAt: now.Add(d), Reason: p}
	}
	s := newSnapshot([]Ban{
		ban("203.0.113.7/32", time.Hour),
		ban("198.51.100.0/24", time.Hour),
		ban("2001:db8:1:2::/64", time.Hour),
		ban("192.0.2.1/32", -time.Minute), // expired since the snapshot was taken
		ban("198.51.100.9/32", 2*time.Hour),
	}, 1)
	tests := []struct {
		addr   string
		banned bool
		reason string
	}{
		{"203.0.113.7", true, "203.0.113.7/32"},
		{"203.0.113.8", false, ""},
		{"198.51.100.200", true, "198.51.100.0/24"},
		{"198.51.100.9", true, "198.51.100.9/32"}, // the narrowest ban is shown
		{"2001:db8:1:2:ffff::1", true, "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", false, ""},
		{"192.0.2.1", false, ""},
		{"::ffff:203.0.113.7", false, ""}, // callers unmap (ParseAddr); a raw mapped address is not v4
	}
	for _, tc := range tests {
		b, ok := s.lookup(netip.MustParseAddr(tc.addr), now)
		if ok != tc.banned || (ok && b.Reason != tc.reason) {
			t.Errorf("lookup(%s) = %v %q, want %v %q", tc.addr, ok, b.Reason, tc.banned, tc.reason)
		}
	}
	if _, ok := s.lookup(ParseAddr("::ffff:203.0.113.7"), now); !ok {
		t.Error("ParseAddr must unmap IPv4-mapped addresses so that bans apply to them")
	}
	if _, ok := (*snapshot)(nil).lookup(netip.MustParseAddr("203.0.113.7"), now); ok {
		t.Error("an empty table bans nothing")
	}
}

func TestSTIXBundle(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	bans := []Ban{
		{ID: 1, Prefix: netip.MustParsePrefix("203.0.113.7/32"), Reason: "Credential stuffing", Origin: OriginAuto, CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
		{ID: 2, Prefix: netip.MustParsePrefix("2001:db8::/64"), Reason: "botnet", Origin: OriginManual, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)},
		{ID: 3, Prefix: netip.MustParsePrefix("198.51.100.1/32"), Reason: "over", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
	}
	tlp, err := ParseTLP("TLP:GREEN")
	if err != nil || tlp != "green" {
		t.Fatalf("ParseTLP: %q %v", tlp, err)
	}
	if _, err := ParseTLP("purple"); err == nil {
		t.Fatal("an unknown TLP level must be refused")
	}
	b := STIXBundle(bans, tlp, "Vigie test", now)
	objs := b["objects"].([]any)
	if b["type"] != "bundle" || !strings.HasPrefix(b["id"].(string), "bundle--") || len(objs) != 3 {
		t.Fatalf("bundle: %v with %d objects, want an identity and 2 indicators (the ended ban left out)", b["type"], len(objs))
	}
	want := []string{"[ipv4-addr:value = '203.0.113.7']", "[ipv6-addr:value = '2001:db8::/64']"}
	for i, o := range objs[1:] {
		ind := o.(map[string]any)
		if ind["type"] != "indicator" || ind["spec_version"] != "2.1" || ind["pattern"] != want[i] || ind["pattern_type"] != "stix" {
			t.Errorf("indicator %d: %v", i, ind)
		}
		if refs := ind["object_marking_refs"].([]string); len(refs) != 1 || refs[0] != tlpMarkings["green"].ID {
			t.Errorf("indicator %d marking: %v", i, refs)
		}
	}
	// The same ban keeps its identifier from one export to the next.
	again := STIXBundle(bans, tlp, "Vigie test", now.Add(time.Minute))["objects"].([]any)
	if again[1].(map[string]any)["id"] != objs[1].(map[string]any)["id"] {
		t.Error("indicator ids must be stable across exports")
	}
}

func FuzzParseTLP(f *testing.F) {
	for _, s := range []string{"", "amber", "TLP:RED", "white", "tlp:green ", "purple"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tlp, err := ParseTLP(s)
		if err != nil {
			if vigie.MessageOf(err) == "" {
				t.Fatalf("%q: no message", s)
			}
			return
		}
		if _, ok := tlpMarkings[tlp]; !ok {
			t.Fatalf("%q: accepted unknown level %q", s, tlp)
		}
	})
}
