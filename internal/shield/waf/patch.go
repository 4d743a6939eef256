package waf

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
)

// Virtual patches: SecLang rules that a security officer adds, tests,
// enables, disables and rolls back without a restart. They are versioned
// in table waf_rule (migration 00010, append-only), every change is
// journaled (vigie.ActAdmin) and announced on the bus
// (vigie.<national>.waf.rules.changed), and every replica reloads the
// enabled rules within seconds of a change (Sync, run by Run).

// Patch is one version of a virtual patch.
type Patch struct {
	RuleID    int64     `json:"rule_id"`
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	SecLang   string    `json:"seclang"`
	Enabled   bool      `json:"enabled"`
	Note      string    `json:"note,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// journaler writes the journal in the change's transaction.
type journaler interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// Patches manages the virtual patches of a firewall.
type Patches struct {
	db      *db.DB
	fw      *Firewall
	journal journaler
	outbox  *bus.Outbox
	log     *slog.Logger

	mu      sync.Mutex
	loaded  int64 // highest waf_rule.id loaded into fw
	pending atomic.Bool
}

// NewPatches returns the virtual patches of fw, stored in d. outbox may be
// nil (no event).
func NewPatches(d *db.DB, fw *Firewall, journal journaler, outbox *bus.Outbox, log *slog.Logger) *Patches {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Patches{db: d, fw: fw, journal: journal, outbox: outbox, log: log}
}

// Patch rule ids: a virtual patch may only use ids 20000-29999, so that it
// can neither replace nor collide with CRS's rules or Vigie's.
const (
	MinPatchID = 20000
	MaxPatchID = 29999
)

var (
	idAction = regexp.MustCompile(`\bid\s*:\s*'?(\d+)`)
	// SECURITY: only rule directives; no engine switches (SecRuleEngine
	// Off), no Include, no removal of other rules.
	allowedDirectives = map[string]bool{"secrule": true, "secaction": true, "secmarker": true}
)

// validate checks what the compiler does not: size, directives, ids.
func validate(name, seclang string) error {
	const op = "waf.patch"
	if strings.TrimSpace(name) == "" || len(name) > 120 {
		return vigie.Invalidf(op, "Give the rule a name (at most 120 characters).")
	}
	if strings.TrimSpace(seclang) == "" {
		return vigie.Invalidf(op, "The rule is empty.")
	}
	if len(seclang) > 64<<10 {
		return vigie.Invalidf(op, "The rule is too long (at most 64 KiB).")
	}
	joined := strings.ReplaceAll(strings.ReplaceAll(seclang, "\r\n", "\n"), "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, _, _ := strings.Cut(line, " ")
		if !allowedDirectives[strings.ToLower(word)] {
			return vigie.Invalidf(op, "Only SecRule, SecAction and SecMarker are allowed in a virtual patch.")
		}
	}
	for _, m := range idAction.FindAllStringSubmatch(joined, -1) {
		id, _ := strconv.Atoi(m[1])
		if id < MinPatchID || id > MaxPatchID {
			return vigie.Invalidf(op, "Rule ids of virtual patches must be between 20000 and 29999.")
		}
	}
	return nil
}

const patchCols = "rule_id, version, name, seclang, enabled, note, created_by, created_at"

func scanPatch(sc interface{ Scan(...any) error }) (Patch, error) {
	var p Patch
	var enabled int
	var at int64
	err := sc.Scan(&p.RuleID, &p.Version, &p.Name, &p.SecLang, &enabled, &p.Note, &p.CreatedBy, &at)
	p.Enabled, p.CreatedAt = enabled != 0, db.Time(at)
	return p, err
}

// List returns the current version of every virtual patch.
func (s *Patches) List(ctx context.Context) ([]Patch, error) {
	rows, err := s.db.Query(ctx, `SELECT `+patchCols+` FROM waf_rule w
		WHERE version = (SELECT MAX(version) FROM waf_rule v WHERE v.rule_id = w.rule_id)
		ORDER BY rule_id`)
	if err != nil {
		return nil, fmt.Errorf("waf: list patches: %w", err)
	}
	defer rows.Close()
	var out []Patch
	for rows.Next() {
		p, err := scanPatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// History returns every version of a patch, newest first.
func (s *Patches) History(ctx context.Context, ruleID int64) ([]Patch, error) {
	rows, err := s.db.Query(ctx, `SELECT `+patchCols+` FROM waf_rule WHERE rule_id = ? ORDER BY version DESC`, ruleID)
	if err != nil {
		return nil, fmt.Errorf("waf: patch history: %w", err)
	}
	defer rows.Close()
	var out []Patch
	for rows.Next() {
		p, err := scanPatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, vigie.E(vigie.KindNotFound, "waf.History", "No such virtual patch.", nil)
	}
	return out, nil
}

// Create adds a virtual patch. It must compile on top of the rule set; the
// compiler's message is returned otherwise, and nothing changes.
func (s *Patches) Create(ctx context.Context, name, seclang, note string, enabled bool) (Patch, error) {
	if err := validate(name, seclang); err != nil {
		return Patch{}, err
	}
	if err := s.fw.Check(seclang); err != nil {
		return Patch{}, err
	}
	p := Patch{Version: 1, Name: name, SecLang: seclang, Enabled: enabled, Note: note}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var max sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT MAX(rule_id) FROM waf_rule`).Scan(&max); err != nil {
			return err
		}
		p.RuleID = max.Int64 + 1
		return s.insert(ctx, tx, &p, "created")
	})
	if db.IsUniqueViolation(err) {
		return Patch{}, vigie.E(vigie.KindConflict, "waf.Create", "Someone changed this virtual patch at the same time; reload and try again.", err)
	}
	if err != nil {
		return Patch{}, err
	}
	return p, s.Sync(ctx)
}

// Change makes a new version of a patch from its current one: new text
// (seclang != ""), enabled or disabled (enabled != nil).
func (s *Patches) Change(ctx context.Context, ruleID int64, seclang string, enabled *bool, note string) (Patch, error) {
	return s.newVersion(ctx, ruleID, 0, func(p *Patch) error {
		what := []string{}
		if seclang != "" && seclang != p.SecLang {
			if err := validate(p.Name, seclang); err != nil {
				return err
			}
			p.SecLang = seclang
			what = append(what, "text")
		}
		if enabled != nil && *enabled != p.Enabled {
			p.Enabled = *enabled
			what = append(what, map[bool]string{true: "enabled", false: "disabled"}[*enabled])
		}
		if len(what) == 0 {
			return vigie.Invalidf("waf.Change", "Nothing to change.")
		}
		p.Note = note
		return nil
	})
}

// Rollback makes a new version that restores an earlier one (text and
// enabled state).
func (s *Patches) Rollback(ctx context.Context, ruleID int64, version int, note string) (Patch, error) {
	if version < 1 {
		return Patch{}, vigie.Invalidf("waf.Rollback", "Give the version to restore.")
	}
	return s.newVersion(ctx, ruleID, version, func(p *Patch) error {
		p.Note = note
		if p.Note == "" {
			p.Note = fmt.Sprintf("rollback to version %d", version)
		}
		return nil
	})
}

// newVersion reads the current version (or version from, when > 0),
// applies change, compiles the result and stores it as the next version.
func (s *Patches) newVersion(ctx context.Context, ruleID int64, from int, change func(*Patch) error) (Patch, error) {
	hist, err := s.History(ctx, ruleID)
	if err != nil {
		return Patch{}, err
	}
	base := hist[0]
	if from > 0 {
		found := false
		for _, h := range hist {
			if h.Version == from {
				base, found = h, true
			}
		}
		if !found {
			return Patch{}, vigie.E(vigie.KindNotFound, "waf.Rollback", "This virtual patch has no such version.", nil)
		}
	}
	p := base
	if err := change(&p); err != nil {
		return Patch{}, err
	}
	if p.Enabled {
		if err := s.fw.Check(p.SecLang); err != nil {
			return Patch{}, err
		}
	}
	p.Version = hist[0].Version + 1
	err = s.db.InTx(ctx, func(tx *db.Tx) error { return s.insert(ctx, tx, &p, "changed") })
	if db.IsUniqueViolation(err) {
		return Patch{}, vigie.E(vigie.KindConflict, "waf.Change", "Someone changed this virtual patch at the same time; reload and try again.", err)
	}
	if err != nil {
		return Patch{}, err
	}
	return p, s.Sync(ctx)
}

// insert stores p, journals the change and announces it, in tx.
func (s *Patches) insert(ctx context.Context, tx *db.Tx, p *Patch, what string) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	p.CreatedBy, p.CreatedAt = u.Login, time.Now().UTC().Truncate(time.Millisecond)
	enabled := 0
	if p.Enabled {
		enabled = 1
	}
	if _, err := tx.Exec(ctx, `INSERT INTO waf_rule (`+patchCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.RuleID, p.Version, p.Name, p.SecLang, enabled, p.Note, p.CreatedBy, db.Millis(p.CreatedAt)); err != nil {
		return fmt.Errorf("waf: store patch: %w", err)
	}
	id := strconv.FormatInt(p.RuleID, 10)
	if s.journal != nil {
		if err := s.journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "waf-rule", ObjectID: id,
			Detail: fmt.Sprintf("virtual patch %q %s, version %d, enabled %v", p.Name, what, p.Version, p.Enabled)}); err != nil {
			return err
		}
	}
	if s.outbox != nil {
		return s.outbox.Enqueue(ctx, tx, bus.Event{Area: "waf", Type: "rules.changed", Subject: id,
			Data: map[string]any{"rule_id": p.RuleID, "version": p.Version, "enabled": p.Enabled}})
	}
	return nil
}

// Sync reloads the firewall when the stored rule set changed since the
// last load (on this replica or another).
func (s *Patches) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var max sql.NullInt64
	if err := s.db.QueryRow(ctx, `SELECT MAX(id) FROM waf_rule`).Scan(&max); err != nil {
		return fmt.Errorf("waf: rule set version: %w", err)
	}
	if max.Int64 == s.loaded {
		return nil
	}
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	var rules []Rule
	for _, p := range list {
		rules = append(rules, Rule{ID: p.RuleID, Name: p.Name, SecLang: p.SecLang, Enabled: p.Enabled})
	}
	if err := s.fw.Reload(rules); err != nil {
		// A stored rule that no longer compiles (a CRS upgrade): keep the
		// running set and say so.
		return fmt.Errorf("waf: reload virtual patches: %w", err)
	}
	s.loaded = max.Int64
	s.log.Info("firewall rules reloaded", "patches", len(rules), "version", max.Int64)
	return nil
}

// Run keeps this replica's firewall in step with the stored rules until
// ctx ends (every period; a change made here is loaded at once).
func (s *Patches) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sync(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("firewall rules sync", "err", err)
			}
		}
	}
}

// Sample is a request to test a rule against.
type Sample struct {
	Method      string            `json:"method"`
	Target      string            `json:"target"` // path and query
	Headers     map[string]string `json:"headers,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Body        string            `json:"body,omitempty"`
}

// TestResult says what the firewall, with the rule added, does to a sample.
type TestResult struct {
	Status int   `json:"status"`  // 200: let through
	Rules  []Hit `json:"matched"` // rules that matched
	Score  int   `json:"score"`
}

// Test compiles seclang on top of the rule set and runs the sample request
// through that firewall (the running one is untouched).
func (s *Patches) Test(ctx context.Context, seclang string, sample Sample) (TestResult, error) {
	if err := validate("test", seclang); err != nil {
		return TestResult{}, err
	}
	if sample.Method == "" {
		sample.Method = http.MethodGet
	}
	if !strings.HasPrefix(sample.Target, "/") || len(sample.Body) > 1<<20 {
		return TestResult{}, vigie.Invalidf("waf.Test", "The sample needs a path starting with / (and a body under 1 MiB).")
	}
	w, err := s.fw.build([]Rule{{SecLang: seclang, Enabled: true}})
	if err != nil {
		return TestResult{}, err
	}
	defer closeWAF(w)
	var res TestResult
	cfg := s.fw.cfg
	cfg.OnVerdict = func(_ context.Context, v Verdict) { res.Rules, res.Score = v.Rules, v.Score }
	tmp := &Firewall{cfg: cfg}
	tmp.waf.Store(&w)
	var body *strings.Reader
	if sample.Body != "" {
		body = strings.NewReader(sample.Body)
	} else {
		body = strings.NewReader("")
	}
	r, err := http.NewRequestWithContext(ctx, sample.Method, "http://localhost"+sample.Target, body)
	if err != nil {
		return TestResult{}, vigie.E(vigie.KindInvalid, "waf.Test", "The sample request is not valid.", err)
	}
	r.RequestURI = sample.Target
	r.RemoteAddr = "192.0.2.1:1234"
	for k, v := range sample.Headers {
		r.Header.Set(k, v)
	}
	if sample.ContentType != "" {
		r.Header.Set("Content-Type", sample.ContentType)
	}
	if sample.Body != "" {
		r.Header.Set("Content-Length", strconv.Itoa(len(sample.Body)))
	}
	rec := httptest.NewRecorder()
	tmp.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })).ServeHTTP(rec, r)
	res.Status = rec.Code
	return res, nil
}

// Changed asks for a Sync soon, without waiting (the bus subscriber calls
// it on vigie.national.waf.rules.changed). Calls while one is pending are
// merged.
func (s *Patches) Changed(ctx context.Context) {
	if !s.pending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		s.pending.Store(false)
		if err := s.Sync(ctx); err != nil {
			s.log.Warn("firewall rules sync", "err", err)
		}
	}()
}
