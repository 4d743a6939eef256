package waf

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"

	"vigie"
)

// Defaults of Config (the integrator's flags show these).
const (
	DefaultParanoia          = 1
	DefaultInboundThreshold  = 5
	DefaultOutboundThreshold = 4
	DefaultBodyLimit         = 32 << 20 // multipart (uploads)
	DefaultFormLimit         = 1 << 20  // any other body (forms, JSON, XML)
	// DefaultMethods adds a REST API's methods to CRS's GET HEAD POST OPTIONS.
	DefaultMethods = "GET HEAD POST OPTIONS PUT PATCH DELETE"
)

// Config configures the firewall. The zero value is Vigie's default:
// blocking, paranoia level 1, CRS thresholds (inbound 5, outbound 4).
type Config struct {
	// Paranoia is the CRS paranoia level, 1 (default) to 4. Higher levels
	// run more rules: more attacks caught, more legitimate text blocked.
	Paranoia int
	// InboundThreshold and OutboundThreshold are the anomaly scores at
	// which a request (response) is blocked; 0 means the default (5, 4).
	// A critical rule scores 5, an error 4, a warning 3, a notice 2.
	InboundThreshold  int
	OutboundThreshold int
	// Methods are the HTTP methods allowed (CRS rule 911100); empty:
	// DefaultMethods.
	Methods string
	// DetectOnly logs and reports verdicts without blocking anything.
	DetectOnly bool
	// BodyLimit bounds multipart bodies (uploads), FormLimit every other
	// body; a larger body is refused with 413 before it is inspected.
	BodyLimit int64
	FormLimit int64
	// InspectResponses runs the response rules (data leakage, phases 3
	// and 4) on buffered text responses. Off by default: Vigie renders its
	// own pages, and these rules (PHP, Java, IIS, SQL error pages) would
	// only find the text of complaints that quote such messages. The CRS
	// regression suite turns it on.
	InspectResponses bool
	// Rules are the virtual patches loaded at start (only enabled ones).
	Rules []Rule
	// Directives are extra SecLang directives loaded after Coraza's
	// settings and before CRS's (tests: the CRS regression suite's own
	// settings).
	Directives string
	// OnVerdict, when set, is called for every request that the firewall
	// interrupted or that matched a rule (intrusion detection feeds on it).
	// It runs on the request's goroutine: keep it quick.
	OnVerdict func(ctx context.Context, v Verdict)
	// OnMatch, when set, receives every matched rule that logs (the error
	// log of ModSecurity; the CRS regression suite reads it).
	OnMatch func(types.MatchedRule)
	// Log receives the firewall's own problems (nil: discarded).
	Log *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Paranoia == 0 {
		c.Paranoia = DefaultParanoia
	}
	if c.Paranoia < 1 || c.Paranoia > 4 {
		return c, vigie.Invalidf("waf.New", "The paranoia level must be between 1 and 4, not %d.", c.Paranoia)
	}
	if c.InboundThreshold == 0 {
		c.InboundThreshold = DefaultInboundThreshold
	}
	if c.OutboundThreshold == 0 {
		c.OutboundThreshold = DefaultOutboundThreshold
	}
	if c.InboundThreshold < 1 || c.OutboundThreshold < 1 {
		return c, vigie.Invalidf("waf.New", "Anomaly thresholds must be at least 1.")
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.FormLimit == 0 {
		c.FormLimit = DefaultFormLimit
	}
	if c.BodyLimit < 1024 || c.FormLimit < 1024 {
		return c, vigie.Invalidf("waf.New", "Body limits must be at least 1 KiB.")
	}
	if c.Methods == "" {
		c.Methods = DefaultMethods
	}
	if strings.ContainsAny(c.Methods, "'\"\\,") {
		return c, vigie.Invalidf("waf.New", "Methods must be plain words separated by spaces.")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Rule is a virtual patch: SecLang directives added on top of CRS.
type Rule struct {
	ID      int64
	Name    string
	SecLang string
	Enabled bool
}

// Firewall inspects requests and blocks attacks. It is built once (CRS
// compilation takes about half a second and 80 MB) and shared by every
// request; Reload swaps the rule set atomically.
type Firewall struct {
	cfg    Config
	waf    atomic.Pointer[coraza.WAF]
	reload sync.Mutex // one rebuild at a time
}

//go:embed vigie.conf
var vigieConf string

// New builds the firewall: Coraza with CRS, Vigie's exclusions and the
// enabled virtual patches. An error means the rule set did not load, and
// Vigie must not start unprotected.
func New(cfg Config) (*Firewall, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	registerOperators()
	f := &Firewall{cfg: cfg}
	w, err := f.build(cfg.Rules)
	if err != nil {
		return nil, err
	}
	f.waf.Store(&w)
	return f, nil
}

// Config returns the settings the firewall runs with (defaults filled in).
func (f *Firewall) Config() Config { return f.cfg }

// settings are Vigie's CRS settings (crs-setup): paranoia, thresholds,
// methods of a REST API.
func (f *Firewall) settings() string {
	engine := "On"
	if f.cfg.DetectOnly {
		engine = "DetectionOnly"
	}
	resp := "Off"
	if f.cfg.InspectResponses {
		resp = "On"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SecRuleEngine %s\n", engine)
	fmt.Fprintf(&b, "SecResponseBodyAccess %s\n", resp)
	// Coraza's own limits sit just above ours: the middleware refuses
	// larger bodies first, with a clear 413.
	fmt.Fprintf(&b, "SecRequestBodyLimit %d\n", f.cfg.BodyLimit+1)
	// SECURITY: deep JSON is refused (400) instead of walked.
	b.WriteString("SecRequestBodyJsonDepthLimit 64\n")
	b.WriteString("SecArgumentsLimit 1000\n")
	b.WriteString("SecUploadKeepFiles Off\n")
	return b.String()
}

func (f *Firewall) crsSettings() string {
	return fmt.Sprintf(`SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d"
SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=%d"
SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=%d"
SecAction "id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=%s'"
`, f.cfg.Paranoia, f.cfg.Paranoia, f.cfg.InboundThreshold, f.cfg.OutboundThreshold, f.cfg.Methods)
}

// build compiles a WAF: Coraza's recommended settings, Vigie's, extra
// directives, CRS setup, Vigie's exclusions, the virtual patches, CRS.
func (f *Firewall) build(rules []Rule) (coraza.WAF, error) {
	conf := coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives("Include @coraza.conf-recommended").
		WithDirectives(f.settings())
	if f.cfg.Directives != "" {
		conf = conf.WithDirectives(f.cfg.Directives)
	}
	before, _, _ := strings.Cut(vigieConf, "\n# @after-crs\n")
	conf = conf.WithDirectives("Include @crs-setup.conf.example").
		WithDirectives(f.crsSettings()).
		WithDirectives(before)
	for _, r := range rules {
		if r.Enabled {
			conf = conf.WithDirectives(r.SecLang)
		}
	}
	// CRS's attack rules, Vigie's adjustments, then the blocking
	// evaluation and the response rules.
	_, after, _ := strings.Cut(vigieConf, "\n# @after-crs\n")
	conf = conf.WithDirectives("Include @owasp_crs/REQUEST-9[0-3]*.conf").
		WithDirectives("Include @owasp_crs/REQUEST-94[0-4]-*.conf").
		WithDirectives(after).
		WithDirectives("Include @owasp_crs/REQUEST-949-*.conf").
		WithDirectives("Include @owasp_crs/REQUEST-999-*.conf").
		WithDirectives("Include @owasp_crs/RESPONSE-*.conf")
	if f.cfg.OnMatch != nil {
		conf = conf.WithErrorCallback(f.cfg.OnMatch)
	}
	w, err := coraza.NewWAF(conf)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "waf.build", "The firewall rules do not compile: "+err.Error(), err)
	}
	return w, nil
}

// Check compiles SecLang directives on top of CRS without changing the
// running rule set. The error (KindInvalid) carries the compiler's message.
func (f *Firewall) Check(rules string) error {
	if strings.TrimSpace(rules) == "" {
		return vigie.Invalidf("waf.Check", "The rule is empty.")
	}
	w, err := f.build([]Rule{{SecLang: rules, Enabled: true}})
	if err != nil {
		return err
	}
	closeWAF(w)
	return nil
}

// Reload rebuilds the firewall with the enabled rules among rules and
// swaps it in atomically; requests in flight finish on the old set. On
// error the running set stays.
func (f *Firewall) Reload(rules []Rule) error {
	f.reload.Lock()
	defer f.reload.Unlock()
	w, err := f.build(rules)
	if err != nil {
		return err
	}
	old := f.waf.Swap(&w)
	if old != nil {
		closeWAF(*old)
	}
	return nil
}

func closeWAF(w coraza.WAF) {
	// Release memoized regexes that only this WAF used; transactions in
	// flight keep their own references.
	if c, ok := w.(experimental.WAFCloser); ok {
		_ = c.Close()
	}
}

func (f *Firewall) current() coraza.WAF { return *f.waf.Load() }

// Reject reports whether err is the firewall's refusal of a rule set.
func Reject(err error) bool {
	var e *vigie.Error
	return errors.As(err, &e) && e.Kind == vigie.KindInvalid
}

func itoa(n int) string { return strconv.Itoa(n) }
