package shield

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Thresholds are the detectors' settings. The defaults (DefaultThresholds)
// are documented in docs/security-detection.md with their reasons.
type Thresholds struct {
	Window time.Duration // sliding window of the fast detectors

	AddrFailures   int // failed sign-ins from one address in Window: ban the address
	StuffingLogins int // ... with at least this many distinct logins: called credential stuffing
	NetFailures    int // failed sign-ins from one /24 or /64 in Window...
	NetAddrs       int // ... from at least this many addresses: ban the network
	AcctFailures   int // failed sign-ins on one account in Window...
	AcctAddrs      int // ... from at least this many addresses: account under attack
	MFAFailures    int // refused second factors on one account in Window: MFA guessing or fatigue

	SlowWindow       time.Duration // slow distributed attempts
	SlowAcctFailures int           // failures on one account in SlowWindow, any source
	SlowFailures     int           // failures overall in SlowWindow...
	SlowAddrs        int           // ... from at least this many addresses: campaign

	ScanWindow time.Duration // burst window of the scanning detector
	ScanErrors int           // 401/403/404/405 answers to one address in ScanWindow: ban
	ScanPaths  int           // requests for known scanner paths in Window: ban
	WAFBlocks  int           // firewall blocks of one address in Window: ban
}

// DefaultThresholds are tuned so that a person who mistypes a password, a
// forgotten bookmark or a page reloaded in a hurry never gets banned.
var DefaultThresholds = Thresholds{
	Window:         10 * time.Minute,
	AddrFailures:   10,
	StuffingLogins: 5,
	NetFailures:    30,
	NetAddrs:       3,
	AcctFailures:   10,
	AcctAddrs:      3,
	MFAFailures:    5,

	SlowWindow:       6 * time.Hour,
	SlowAcctFailures: 20,
	SlowFailures:     200,
	SlowAddrs:        50,

	ScanWindow: time.Minute,
	ScanErrors: 30,
	ScanPaths:  3,
	WAFBlocks:  5,
}

// Severities, in increasing order.
const (
	SevLow    = "low"
	SevMedium = "medium"
	SevHigh   = "high"
)

// Alert kinds.
const (
	KindStuffing      = "credential-stuffing"
	KindGuessing      = "password-guessing"
	KindNetwork       = "network-attack"
	KindAccount       = "account-under-attack"
	KindMFA           = "mfa-guessing"
	KindSlow          = "slow-distributed"
	KindScan          = "scanning"
	KindScannerTool   = "scanner-tool"
	KindWAF           = "waf-repeated"
	KindInsiderVolume = "insider-volume"
	KindInsiderExport = "insider-export"
	KindInsiderJourn  = "insider-journal"
	KindInsiderScope  = "insider-outside-unit"
	KindSessionReuse  = "session-reused"
)

// Finding is what a detector concludes: an alert to raise or grow, and
// perhaps a network to ban.
type Finding struct {
	Kind     string
	Severity string
	Key      string // deduplication: one attack, one alert
	Subject  string // the address, network or account concerned
	Summary  string // English, one sentence
	Dept     string // scope of the alert ("" national)
	UnitID   int64
	Evidence map[string]any
	Ban      netip.Prefix // valid: ban it (automatic response)
	Once     bool         // never reopen an alert of this key once closed
	At       time.Time
	// Account is the account under attack (KindAccount): the automatic
	// response locks it (Config.LockAccount).
	Account int64
}

// AuthFailure is a refused sign-in, as the journal records it.
type AuthFailure struct {
	At        time.Time
	Addr      netip.Addr
	Login     string // attempted login (known or not)
	AccountID int64  // 0 when the login is unknown
	Dept      string
	UnitID    int64
	MFA       bool // a refused second factor, not a password
	Seq       int64
}

// Hit is an answer the request stream gave.
type Hit struct {
	At        time.Time
	Addr      netip.Addr
	Method    string
	Path      string
	Status    int
	UserAgent string
}

// WAFHit is a request the firewall blocked.
type WAFHit struct {
	At    time.Time
	Addr  netip.Addr
	Rule  string
	Path  string
	Score int
}

// Detector holds the sliding windows of the fast detectors, in memory. It
// is safe for concurrent use. Memory is bounded: windows keep at most a
// few times their threshold of timestamps, and Sweep drops idle keys.
type Detector struct {
	th    Thresholds
	allow AllowList

	mu       sync.Mutex
	addr     map[netip.Addr]*series   // sign-in failures per address
	net      map[netip.Prefix]*series // per /24 or /64
	acct     map[string]*series       // per login
	mfa      map[string]*series       // refused second factors per login
	slowAcct map[string]*series
	slow     *series
	scan     map[netip.Addr]*series // 4xx per address
	probe    map[netip.Addr]*series // scanner paths per address
	waf      map[netip.Addr]*series
}

// series is the timestamps of recent events under one key, with the
// distinct values seen (logins, addresses) and when each was last seen.
type series struct {
	times  []time.Time
	values map[string]time.Time
	total  int
}

func (s *series) add(at time.Time, value string, horizon time.Duration, keep int) {
	cut := at.Add(-horizon)
	i := 0
	for i < len(s.times) && s.times[i].Before(cut) {
		i++
	}
	s.times = append(s.times[i:], at)
	if len(s.times) > keep {
		s.times = s.times[len(s.times)-keep:]
	}
	s.total++
	if value != "" {
		if s.values == nil {
			s.values = map[string]time.Time{}
		}
		for v, t := range s.values {
			if t.Before(cut) {
				delete(s.values, v)
			}
		}
		if len(s.values) < 1000 {
			s.values[value] = at
		} else if _, ok := s.values[value]; ok {
			s.values[value] = at
		}
	}
}

func (s *series) count() int    { return len(s.times) }
func (s *series) distinct() int { return len(s.values) }

// sample returns up to n distinct values, sorted, for evidence.
func (s *series) sample(n int) []string {
	out := make([]string, 0, min(n, len(s.values)))
	for v := range s.values {
		out = append(out, v)
	}
	slices.Sort(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func (s *series) last() time.Time {
	if len(s.times) == 0 {
		return time.Time{}
	}
	return s.times[len(s.times)-1]
}

// NewDetector returns a detector with thresholds th (zero fields take the
// defaults) that never bans an address of allow.
func NewDetector(th Thresholds, allow AllowList) *Detector {
	return &Detector{th: th.withDefaults(), allow: allow,
		addr: map[netip.Addr]*series{}, net: map[netip.Prefix]*series{}, acct: map[string]*series{},
		mfa: map[string]*series{}, slowAcct: map[string]*series{}, slow: &series{},
		scan: map[netip.Addr]*series{}, probe: map[netip.Addr]*series{}, waf: map[netip.Addr]*series{}}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD(&t.Window, d.Window)
	pick(&t.AddrFailures, d.AddrFailures)
	pick(&t.StuffingLogins, d.StuffingLogins)
	pick(&t.NetFailures, d.NetFailures)
	pick(&t.NetAddrs, d.NetAddrs)
	pick(&t.AcctFailures, d.AcctFailures)
	pick(&t.AcctAddrs, d.AcctAddrs)
	pick(&t.MFAFailures, d.MFAFailures)
	pickD(&t.SlowWindow, d.SlowWindow)
	pick(&t.SlowAcctFailures, d.SlowAcctFailures)
	pick(&t.SlowFailures, d.SlowFailures)
	pick(&t.SlowAddrs, d.SlowAddrs)
	pickD(&t.ScanWindow, d.ScanWindow)
	pick(&t.ScanErrors, d.ScanErrors)
	pick(&t.ScanPaths, d.ScanPaths)
	pick(&t.WAFBlocks, d.WAFBlocks)
	return t
}

func get[K comparable](m map[K]*series, k K) *series {
	s, ok := m[k]
	if !ok {
		if len(m) >= maxKeys {
			clear(m)
		}
		s = &series{}
		m[k] = s
	}
	return s
}

// maxKeys bounds each map: under a flood of spoofed sources the detector
// forgets the idlest keys rather than grow without end.
const maxKeys = 200_000

// AuthFailed feeds a refused sign-in and returns the findings it completes.
func (d *Detector) AuthFailed(f AuthFailure) []Finding {
	th := d.th
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Finding
	login := strings.ToLower(f.Login)
	ipText := ""
	if f.Addr.IsValid() {
		ipText = f.Addr.String()
	}
	allowed := !f.Addr.IsValid() || d.allow.Contains(f.Addr)

	// Per address: guessing (few logins) or stuffing (many).
	if !allowed {
		s := get(d.addr, f.Addr)
		s.add(f.At, login, th.Window, th.AddrFailures*4)
		if s.count() >= th.AddrFailures {
			kind, sev, what := KindGuessing, SevMedium, "Password guessing"
			if s.distinct() >= th.StuffingLogins {
				kind, sev, what = KindStuffing, SevHigh, "Credential stuffing"
			}
			out = append(out, Finding{Kind: kind, Severity: sev, Key: kind + ":" + ipText, Subject: ipText,
				Summary:  fmt.Sprintf("%s from %s: %d failed sign-ins on %d accounts in %s.", what, ipText, s.count(), s.distinct(), th.Window),
				Evidence: map[string]any{"address": ipText, "failures": s.count(), "logins": s.distinct(), "sample_logins": s.sample(20), "window": th.Window.String()},
				Ban:      HostPrefix(f.Addr), At: f.At})
		}
		// Per network: several addresses of one /24 or /64.
		np := NetworkOf(f.Addr)
		if !d.allow.Overlaps(np) {
			ns := get(d.net, np)
			ns.add(f.At, ipText, th.Window, th.NetFailures*4)
			if ns.count() >= th.NetFailures && ns.distinct() >= th.NetAddrs {
				out = append(out, Finding{Kind: KindNetwork, Severity: SevHigh, Key: KindNetwork + ":" + np.String(), Subject: np.String(),
					Summary:  fmt.Sprintf("Failed sign-ins from network %s: %d from %d addresses in %s.", np, ns.count(), ns.distinct(), th.Window),
					Evidence: map[string]any{"network": np.String(), "failures": ns.count(), "addresses": ns.distinct(), "sample_addresses": ns.sample(20), "window": th.Window.String()},
					Ban:      np, At: f.At})
			}
		}
	}
	if login != "" {
		// Per account, from several addresses: the account is under attack
		// (auth locks it after a few failures; this tells a person).
		key := login
		src := ipText
		if f.MFA {
			ms := get(d.mfa, key)
			ms.add(f.At, src, th.Window, th.MFAFailures*4)
			if ms.count() >= th.MFAFailures {
				out = append(out, Finding{Kind: KindMFA, Severity: SevHigh, Key: KindMFA + ":" + key, Subject: login,
					Summary: fmt.Sprintf("Second factor refused %d times in %s for account %s: its password is probably known to someone else.", ms.count(), th.Window, login),
					Dept:    f.Dept, UnitID: f.UnitID,
					Evidence: map[string]any{"login": login, "account_id": f.AccountID, "refusals": ms.count(), "addresses": ms.sample(20), "window": th.Window.String()},
					At:       f.At})
			}
		}
		as := get(d.acct, key)
		as.add(f.At, src, th.Window, th.AcctFailures*4)
		if f.AccountID != 0 && as.count() >= th.AcctFailures && as.distinct() >= th.AcctAddrs {
			out = append(out, Finding{Kind: KindAccount, Severity: SevHigh, Key: KindAccount + ":" + key, Subject: login,
				Summary: fmt.Sprintf("Account %s under attack: %d failed sign-ins from %d addresses in %s.", login, as.count(), as.distinct(), th.Window),
				Dept:    f.Dept, UnitID: f.UnitID,
				Evidence: map[string]any{"login": login, "account_id": f.AccountID, "failures": as.count(), "addresses": as.distinct(), "sample_addresses": as.sample(20), "window": th.Window.String()},
				At:       f.At, Account: f.AccountID})
		}
		sl := get(d.slowAcct, key)
		sl.add(f.At, src, th.SlowWindow, th.SlowAcctFailures*2)
		if f.AccountID != 0 && sl.count() >= th.SlowAcctFailures {
			out = append(out, Finding{Kind: KindSlow, Severity: SevMedium, Key: KindSlow + ":" + key, Subject: login,
				Summary: fmt.Sprintf("Slow attack on account %s: %d failed sign-ins in %s.", login, sl.count(), th.SlowWindow),
				Dept:    f.Dept, UnitID: f.UnitID,
				Evidence: map[string]any{"login": login, "account_id": f.AccountID, "failures": sl.count(), "addresses": sl.distinct(), "sample_addresses": sl.sample(20), "window": th.SlowWindow.String()},
				At:       f.At})
		}
	}
	// Overall: a campaign spread thin over many addresses, each below the
	// per-address threshold.
	d.slow.add(f.At, ipText, th.SlowWindow, th.SlowFailures*2)
	if d.slow.count() >= th.SlowFailures && d.slow.distinct() >= th.SlowAddrs {
		out = append(out, Finding{Kind: KindSlow, Severity: SevHigh, Key: KindSlow + ":*", Subject: "*",
			Summary:  fmt.Sprintf("Distributed sign-in campaign: %d failures from %d addresses in %s.", d.slow.count(), d.slow.distinct(), th.SlowWindow),
			Evidence: map[string]any{"failures": d.slow.count(), "addresses": d.slow.distinct(), "sample_addresses": d.slow.sample(20), "window": th.SlowWindow.String()},
			At:       f.At})
	}
	return out
}

// scannerAgents are substrings of the user agents of attack tools (lower
// case). Legitimate browsers and API clients never send them.
var scannerAgents = []string{"sqlmap", "nikto", "nmap", "masscan", "zgrab", "gobuster", "dirbuster", "wpscan", "nuclei",
	"acunetix", "nessus", "openvas", "wfuzz", "ffuf", "feroxbuster", "arachni", "w3af", "netsparker", "jorgee", "hydra", "whatweb"}

// ScannerAgent returns the attack tool a user agent names, or "".
func ScannerAgent(ua string) string {
	if ua == "" {
		return ""
	}
	l := strings.ToLower(ua)
	for _, s := range scannerAgents {
		if strings.Contains(l, s) {
			return s
		}
	}
	return ""
}

// probePrefixes and probeParts are paths that only scanners ask a Go
// application for (secrets files, other products' admin pages).
var (
	probePrefixes = []string{"/.env", "/.git", "/.svn", "/.hg", "/.aws", "/.ssh", "/.ds_store", "/wp-", "/wordpress",
		"/phpmyadmin", "/pma/", "/myadmin", "/xmlrpc", "/cgi-bin", "/actuator", "/server-status", "/vendor/phpunit",
		"/boaform", "/hnap1", "/owa/", "/solr/", "/jenkins", "/manager/html", "/console/", "/autodiscover", "/.htaccess", "/.htpasswd", "/config.json", "/web.config"}
	probeParts = []string{"../", "..%2f", "/etc/passwd", "win.ini", ".php", ".asp", ".jsp", ".cgi"}
)

// ProbePath returns the scanner signature a path matches, or "".
func ProbePath(path string) string {
	l := strings.ToLower(path)
	for _, p := range probePrefixes {
		if strings.HasPrefix(l, p) {
			return p
		}
	}
	for _, p := range probeParts {
		if strings.Contains(l, p) {
			return p
		}
	}
	return ""
}

// Observe feeds one answer of the request stream.
func (d *Detector) Observe(h Hit) []Finding {
	if !h.Addr.IsValid() || d.allow.Contains(h.Addr) {
		return nil
	}
	th := d.th
	ipText := h.Addr.String()
	tool := ScannerAgent(h.UserAgent)
	probe := ProbePath(h.Path)
	errorStatus := h.Status == 401 || h.Status == 403 || h.Status == 404 || h.Status == 405
	if tool == "" && probe == "" && !errorStatus {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Finding
	if tool != "" {
		out = append(out, Finding{Kind: KindScannerTool, Severity: SevHigh, Key: KindScannerTool + ":" + ipText, Subject: ipText,
			Summary:  fmt.Sprintf("Attack tool %s used from %s.", tool, ipText),
			Evidence: map[string]any{"address": ipText, "tool": tool, "user_agent": clip(h.UserAgent, 200), "path": clip(h.Path, 200)},
			Ban:      HostPrefix(h.Addr), At: h.At})
	}
	if probe != "" {
		s := get(d.probe, h.Addr)
		s.add(h.At, clip(h.Path, 100), th.Window, th.ScanPaths*4)
		if s.count() >= th.ScanPaths {
			out = append(out, Finding{Kind: KindScan, Severity: SevMedium, Key: KindScan + ":" + ipText, Subject: ipText,
				Summary:  fmt.Sprintf("Scanning from %s: %d requests for paths only attack tools ask for.", ipText, s.count()),
				Evidence: map[string]any{"address": ipText, "probes": s.count(), "sample_paths": s.sample(20), "window": th.Window.String()},
				Ban:      HostPrefix(h.Addr), At: h.At})
		}
	}
	if errorStatus {
		s := get(d.scan, h.Addr)
		s.add(h.At, clip(h.Path, 100), th.ScanWindow, th.ScanErrors*2)
		if s.count() >= th.ScanErrors {
			out = append(out, Finding{Kind: KindScan, Severity: SevMedium, Key: KindScan + ":" + ipText, Subject: ipText,
				Summary:  fmt.Sprintf("Scanning from %s: %d refused or missing pages in %s.", ipText, s.count(), th.ScanWindow),
				Evidence: map[string]any{"address": ipText, "errors": s.count(), "paths": s.distinct(), "sample_paths": s.sample(20), "window": th.ScanWindow.String()},
				Ban:      HostPrefix(h.Addr), At: h.At})
		}
	}
	return out
}

// Blocked feeds one block of the web application firewall.
func (d *Detector) Blocked(w WAFHit) []Finding {
	if !w.Addr.IsValid() || d.allow.Contains(w.Addr) {
		return nil
	}
	th := d.th
	ipText := w.Addr.String()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := get(d.waf, w.Addr)
	s.add(w.At, w.Rule, th.Window, th.WAFBlocks*4)
	if s.count() < th.WAFBlocks {
		return nil
	}
	return []Finding{{Kind: KindWAF, Severity: SevHigh, Key: KindWAF + ":" + ipText, Subject: ipText,
		Summary:  fmt.Sprintf("The firewall blocked %s %d times in %s.", ipText, s.count(), th.Window),
		Evidence: map[string]any{"address": ipText, "blocks": s.count(), "rules": s.sample(20), "last_path": clip(w.Path, 200), "window": th.Window.String()},
		Ban:      HostPrefix(w.Addr), At: w.At}}
}

// Sweep forgets keys idle for longer than their window; run it every few
// minutes. When a map is still over maxKeys, it is emptied: a flood of
// spoofed sources must not exhaust memory (the attack that matters keeps
// coming back and is counted again).
func (d *Detector) Sweep(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sweep(d.addr, now.Add(-d.th.Window))
	sweep(d.net, now.Add(-d.th.Window))
	sweep(d.acct, now.Add(-d.th.Window))
	sweep(d.mfa, now.Add(-d.th.Window))
	sweep(d.slowAcct, now.Add(-d.th.SlowWindow))
	sweep(d.scan, now.Add(-d.th.ScanWindow))
	sweep(d.probe, now.Add(-d.th.Window))
	sweep(d.waf, now.Add(-d.th.Window))
}

func sweep[K comparable](m map[K]*series, cut time.Time) {
	for k, s := range m {
		if s.last().Before(cut) {
			delete(m, k)
		}
	}
	if len(m) > maxKeys {
		clear(m)
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
