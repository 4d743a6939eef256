package shield

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"vigie"
)

// Ban refuses every request from an address or a network until it expires
// or is lifted.
type Ban struct {
	ID        int64        `json:"id"`
	Prefix    netip.Prefix `json:"prefix"`
	Reason    string       `json:"reason"`
	Origin    string       `json:"origin"` // "auto" (a detector) or "manual"
	Level     int          `json:"level"`  // 0 for a first offence, 1, 2... on repeat
	AlertID   int64        `json:"alert_id,omitempty"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	ExpiresAt time.Time    `json:"expires_at"`
	LiftedAt  time.Time    `json:"lifted_at,omitzero"`
	LiftedBy  string       `json:"lifted_by,omitempty"`
}

// Active reports whether the ban refuses requests at now.
func (b Ban) Active(now time.Time) bool { return b.LiftedAt.IsZero() && b.ExpiresAt.After(now) }

// Ban origins.
const (
	OriginAuto   = "auto"
	OriginManual = "manual"
)

// DefaultLadder is the escalation of automatic bans: a first offence costs
// 15 minutes, a repeat within the memory window an hour, then a day.
var DefaultLadder = []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour}

// escalate returns the duration of a ban at level (0-based), the last step
// of ladder repeating.
func escalate(ladder []time.Duration, level int) time.Duration {
	if len(ladder) == 0 {
		ladder = DefaultLadder
	}
	if level < 0 {
		level = 0
	}
	return ladder[min(level, len(ladder)-1)]
}

// Narrowest networks a ban may cover: a ban wider than /16 (IPv4) or /32
// (IPv6) would lock out a whole operator's customers; that is a firewall
// rule, not a ban. SECURITY: also bounds the harm of a mistyped ban.
const (
	minBitsV4 = 16
	minBitsV6 = 32
)

// ParsePrefix reads a ban target typed by a person or an API client: an
// address ("203.0.113.7", "2001:db8::1") or a network in CIDR notation
// ("203.0.113.0/24"). The host bits of a network are cleared. It refuses
// zones, unspecified and too-wide networks with a message a user
// understands.
func ParsePrefix(s string) (netip.Prefix, error) {
	const op = "shield.ParsePrefix"
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, vigie.Invalidf(op, "Give an address (203.0.113.7) or a network (203.0.113.0/24).")
	}
	if len(s) > 64 {
		return netip.Prefix{}, vigie.Invalidf(op, "This address is too long.")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, vigie.Invalidf(op, "%q is not a network: write it like 203.0.113.0/24 or 2001:db8::/48.", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, vigie.Invalidf(op, "%q is not an IP address: write it like 203.0.113.7 or 2001:db8::1.", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, vigie.Invalidf(op, "%q is not a network: write it like 203.0.113.0/24 or 2001:db8::/48.", s)
	}
	p = canonical(p)
	if p.Addr().IsUnspecified() {
		return netip.Prefix{}, vigie.Invalidf(op, "The unspecified address cannot be banned.")
	}
	if (p.Addr().Is4() && p.Bits() < minBitsV4) || (p.Addr().Is6() && p.Bits() < minBitsV6) {
		return netip.Prefix{}, vigie.Invalidf(op, "This network is too wide to ban (at most /%d for IPv4, /%d for IPv6).", minBitsV4, minBitsV6)
	}
	return p, nil
}

// canonical unmaps IPv4-mapped IPv6 and clears host bits.
func canonical(p netip.Prefix) netip.Prefix {
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		a = a.Unmap()
		bits = max(bits-96, 0)
	}
	return netip.PrefixFrom(a, bits).Masked()
}

// ParseAddr reads a client address as the web layer records it; the zero
// Addr when it is not one.
func ParseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// NetworkOf is the network an address is counted in for distributed
// attacks: its /24 (IPv4) or /64 (IPv6).
func NetworkOf(a netip.Addr) netip.Prefix {
	if a.Is4() {
		p, _ := a.Prefix(24)
		return p
	}
	p, _ := a.Prefix(64)
	return p
}

// HostPrefix is the single-address network of a.
func HostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// snapshot is this replica's read-only copy of the active bans, swapped
// whole on refresh. Lookup masks the address once per distinct prefix
// length in use (at most a handful) and looks it up in a map: no lock, no
// allocation, no database query on the request path.
type snapshot struct {
	byBits  []bitsSet // distinct prefix lengths, most specific first
	count   int
	version int64
	bans    []Ban // what it was built from
}

type bitsSet struct {
	bits int
	v4   bool
	m    map[netip.Prefix]Ban
}

func newSnapshot(bans []Ban, version int64) *snapshot {
	s := &snapshot{version: version, bans: bans}
	idx := map[[2]int]int{}
	for _, b := range bans {
		key := [2]int{b.Prefix.Bits(), 0}
		if b.Prefix.Addr().Is4() {
			key[1] = 1
		}
		i, ok := idx[key]
		if !ok {
			i = len(s.byBits)
			idx[key] = i
			s.byBits = append(s.byBits, bitsSet{bits: key[0], v4: key[1] == 1, m: map[netip.Prefix]Ban{}})
		}
		// Two bans on one prefix: keep the one that ends last.
		if old, ok := s.byBits[i].m[b.Prefix]; !ok || b.ExpiresAt.After(old.ExpiresAt) {
			s.byBits[i].m[b.Prefix] = b
			if !ok {
				s.count++
			}
		}
	}
	// Most specific first: the reason shown is the narrowest ban's.
	for i := 1; i < len(s.byBits); i++ {
		for j := i; j > 0 && s.byBits[j].bits > s.byBits[j-1].bits; j-- {
			s.byBits[j], s.byBits[j-1] = s.byBits[j-1], s.byBits[j]
		}
	}
	return s
}

// lookup returns the active ban covering a at now.
func (s *snapshot) lookup(a netip.Addr, now time.Time) (Ban, bool) {
	if s == nil || s.count == 0 || !a.IsValid() {
		return Ban{}, false
	}
	v4 := a.Is4()
	for i := range s.byBits {
		bs := &s.byBits[i]
		if bs.v4 != v4 {
			continue
		}
		p, err := a.Prefix(bs.bits)
		if err != nil {
			continue
		}
		if b, ok := bs.m[p]; ok && b.Active(now) {
			return b, true
		}
	}
	return Ban{}, false
}

// banTable holds the current snapshot.
type banTable struct{ cur atomic.Pointer[snapshot] }

func (t *banTable) load() *snapshot   { return t.cur.Load() }
func (t *banTable) store(s *snapshot) { t.cur.Store(s) }

// AllowList is the deployment's own networks, which are never banned
// (SECURITY: a detector fooled into banning the reverse proxy would lock
// out every user).
type AllowList []netip.Prefix

// Contains reports whether a is in one of the networks.
func (l AllowList) Contains(a netip.Addr) bool {
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Overlaps reports whether p overlaps one of the networks.
func (l AllowList) Overlaps(p netip.Prefix) bool {
	for _, q := range l {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}

// ParseAllowList reads a comma-separated list of addresses and networks
// (configuration). Loopback is always added: behind a reverse proxy on the
// same host whose address is not declared, every client looks like
// 127.0.0.1, and banning it would ban everyone.
func ParseAllowList(s string) (AllowList, error) {
	l := AllowList{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(part, "/") {
			p, err = netip.ParsePrefix(part)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(part); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, vigie.Invalidf("shield.ParseAllowList", "%q is not an address or a network (example: 10.0.0.0/8).", part)
		}
		l = append(l, canonical(p))
	}
	return l, nil
}
