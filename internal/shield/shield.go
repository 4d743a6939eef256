package shield

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
)

// journal writes the consultation journal (internal/audit) in the
// transaction of the change it records.
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
	RecordTx(ctx context.Context, r vigie.Record) error
}

// UnitTree answers whether a unit lies under another (internal/org's Tree).
type UnitTree interface {
	Within(unit, ancestor int64) bool
}

// Config holds what Shield needs. Zero durations take the defaults.
type Config struct {
	DB         *db.DB
	Journal    journal     // required: bans, lifts and acknowledgements are journaled
	Outbox     *bus.Outbox // nil is fine: events reach the outbox all the same
	Log        *slog.Logger
	Allow      AllowList       // never banned; loopback is always added by ParseAllowList
	Ladder     []time.Duration // automatic ban durations on repeat (DefaultLadder)
	Thresholds Thresholds
	Insider    InsiderThresholds
	Tree       UnitTree      // for "records outside their units"; nil: that detector is off
	Refresh    time.Duration // how often the ban snapshot is checked against the database (1 s)
	Tail       time.Duration // how often the journal is read for failed sign-ins (250 ms)
	InsiderRun time.Duration // how often the insider detectors run (10 min)
	Replica    string        // this process's name among the replicas (leases)
	// LockAccount locks an account under attack (internal/auth's
	// LockUnderAttack, wired in main) for AccountLock (30 min; negative:
	// never lock, alert only). Nil: alert only.
	LockAccount func(ctx context.Context, accountID int64, d time.Duration, why string) (time.Time, error)
	AccountLock time.Duration
	Now         func() time.Time
}

// Shield is the defence around the firewall: bans, detectors, alerts.
type Shield struct {
	cfg   Config
	db    *db.DB
	log   *slog.Logger
	now   func() time.Time
	det   *Detector
	bans  banTable
	found chan []Finding

	evMu   sync.Mutex
	events []Event
	lost   atomic.Int64 // timeline events dropped under load

	refused atomic.Int64 // requests refused by a ban since start
	reload  sync.Mutex

	lockMu sync.Mutex
	locked map[int64]time.Time // accounts this replica locked, until when

	tailMu      sync.Mutex
	tailCursor  int64
	tailStarted bool
	tailLeaseAt time.Time
}

// Event is one line of the security timeline.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // waf, detection, ban, lift
	Source string    `json:"source"`
	Rule   string    `json:"rule"`
	Path   string    `json:"path"`
	Detail string    `json:"detail"`
}

// Timeline event kinds.
const (
	EventWAF       = "waf"
	EventDetection = "detection"
	EventBan       = "ban"
	EventLift      = "lift"
)

// New returns the shield. It does no I/O; Load reads the bans.
func New(cfg Config) *Shield {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.Tail <= 0 {
		cfg.Tail = 250 * time.Millisecond
	}
	if cfg.InsiderRun <= 0 {
		cfg.InsiderRun = 10 * time.Minute
	}
	if cfg.Replica == "" {
		cfg.Replica = "vigie"
	}
	if len(cfg.Ladder) == 0 {
		cfg.Ladder = DefaultLadder
	}
	if cfg.Allow == nil {
		cfg.Allow, _ = ParseAllowList("")
	}
	if cfg.AccountLock == 0 {
		cfg.AccountLock = DefaultAccountLock
	}
	cfg.Insider = cfg.Insider.withDefaults()
	return &Shield{cfg: cfg, db: cfg.DB, log: cfg.Log, now: cfg.Now, locked: map[int64]time.Time{},
		det: NewDetector(cfg.Thresholds, cfg.Allow), found: make(chan []Finding, 1024)}
}

// Load reads the active bans into this replica's snapshot.
func (s *Shield) Load(ctx context.Context) error { return s.refresh(ctx, true) }

// refresh reloads the snapshot when the bans changed (or always with force).
func (s *Shield) refresh(ctx context.Context, force bool) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	v, err := readVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("shield: read version: %w", err)
	}
	if cur := s.bans.load(); !force && cur != nil && cur.version == v {
		return nil
	}
	bans, err := activeBans(ctx, s.db, s.now())
	if err != nil {
		return err
	}
	s.bans.store(newSnapshot(bans, v))
	return nil
}

// Banned returns the active ban covering addr, from memory.
func (s *Shield) Banned(addr netip.Addr) (Ban, bool) {
	return s.bans.load().lookup(addr, s.now())
}

// Refused returns how many requests bans refused since start.
func (s *Shield) Refused() int64 { return s.refused.Load() }

// Allowed returns the allow-list.
func (s *Shield) Allowed() AllowList { return s.cfg.Allow }

// BanRequest asks for a ban.
type BanRequest struct {
	Prefix  netip.Prefix
	Reason  string
	For     time.Duration // 0: the escalation ladder decides
	Origin  string        // OriginAuto or OriginManual
	AlertID int64
}

// MaxBan is the longest ban a person may set.
const MaxBan = 365 * 24 * time.Hour

// Ban bans a network, journals it and refreshes this replica's snapshot
// at once (the others within Refresh). An automatic ban of a network that
// is already banned changes nothing and returns the ban in force.
func (s *Shield) Ban(ctx context.Context, req BanRequest) (Ban, error) {
	const op = "shield.Ban"
	if !req.Prefix.IsValid() {
		return Ban{}, vigie.Invalidf(op, "Give an address (203.0.113.7) or a network (203.0.113.0/24).")
	}
	req.Prefix = canonical(req.Prefix)
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return Ban{}, vigie.Invalidf(op, "Say why this address is banned.")
	}
	if len(req.Reason) > 300 {
		return Ban{}, vigie.Invalidf(op, "The reason is too long (300 characters at most).")
	}
	if req.For < 0 || req.For > MaxBan {
		return Ban{}, vigie.Invalidf(op, "A ban lasts at most a year.")
	}
	if s.cfg.Allow.Overlaps(req.Prefix) {
		return Ban{}, vigie.Invalidf(op, "This address belongs to the deployment's own networks (allow-list): it cannot be banned.")
	}
	if req.Origin == "" {
		req.Origin = OriginManual
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	by := actorName(ctx)
	var out Ban
	var existing bool
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		old, ok, err := activeBanOn(ctx, tx, req.Prefix, now)
		if err != nil {
			return err
		}
		if ok {
			if req.Origin == OriginAuto {
				out, existing = old, true
				return nil
			}
			return vigie.E(vigie.KindConflict, op, "This address or network is already banned: lift the ban first to change it.", fmt.Errorf("ban %d until %s", old.ID, old.ExpiresAt))
		}
		level, err := bansSince(ctx, tx, req.Prefix, now.Add(-banMemory))
		if err != nil {
			return fmt.Errorf("%s: count: %w", op, err)
		}
		d := req.For
		if d == 0 {
			d = escalate(s.cfg.Ladder, level)
		}
		out = Ban{Prefix: req.Prefix, Reason: req.Reason, Origin: req.Origin, Level: level, AlertID: req.AlertID,
			CreatedBy: by, CreatedAt: now, ExpiresAt: now.Add(d)}
		if err := insertBan(ctx, tx, &out); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, []Event{{At: now, Kind: EventBan, Source: req.Prefix.String(), Rule: req.Origin,
			Detail: fmt.Sprintf("%s (%s)", req.Reason, d)}}); err != nil {
			return err
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "ban", ObjectID: strconv.FormatInt(out.ID, 10),
			Detail: clip(fmt.Sprintf("banned %s for %s (%s, level %d): %s", req.Prefix, d, req.Origin, level, req.Reason), 1000)}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Area: "shield", Type: "ban.created", Subject: strconv.FormatInt(out.ID, 10), Data: out})
	})
	if err != nil {
		return Ban{}, err
	}
	if !existing {
		s.addLocal(out)
	}
	return out, nil
}

// addLocal puts a ban made here in force at once, without reading every
// ban back (under a botnet, thousands of bans a minute). The snapshot keeps
// its old version, so the next refresh tick reloads from the database once.
func (s *Shield) addLocal(b Ban) {
	s.reload.Lock()
	defer s.reload.Unlock()
	cur := s.bans.load()
	var bans []Ban
	var version int64
	if cur != nil {
		now := s.now()
		bans = make([]Ban, 0, len(cur.bans)+1)
		for _, x := range cur.bans {
			if x.Active(now) {
				bans = append(bans, x)
			}
		}
		version = cur.version
	}
	s.bans.store(newSnapshot(append(bans, b), version))
}

// banMemory is how long past bans count for escalation.
const banMemory = 30 * 24 * time.Hour

// Lift ends a ban by hand.
func (s *Shield) Lift(ctx context.Context, id int64) (Ban, error) {
	const op = "shield.Lift"
	now := s.now().UTC().Truncate(time.Millisecond)
	var b Ban
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if b, err = banByID(ctx, tx, id); err != nil {
			return err
		}
		ok, err := liftBan(ctx, tx, id, actorName(ctx), now)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.E(vigie.KindConflict, op, "This ban has already ended.", nil)
		}
		b.LiftedAt, b.LiftedBy = now, actorName(ctx)
		if err := insertEvents(ctx, tx, []Event{{At: now, Kind: EventLift, Source: b.Prefix.String(), Rule: "manual", Detail: "lifted by " + b.LiftedBy}}); err != nil {
			return err
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "ban", ObjectID: strconv.FormatInt(id, 10),
			Detail: "lifted the ban of " + b.Prefix.String()}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Area: "shield", Type: "ban.lifted", Subject: strconv.FormatInt(id, 10), Data: b})
	})
	if err != nil {
		return Ban{}, err
	}
	if err := s.refresh(ctx, true); err != nil {
		s.log.Warn("shield: refresh after lift", "err", err)
	}
	return b, nil
}

// Bans lists the active bans, then the most recent ended ones.
func (s *Shield) Bans(ctx context.Context, limit int) (active, ended []Ban, err error) {
	all, err := recentBans(ctx, s.db, limit)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	for _, b := range all {
		if b.Active(now) {
			active = append(active, b)
		} else {
			ended = append(ended, b)
		}
	}
	return active, ended, nil
}

// GetBan returns one ban.
func (s *Shield) GetBan(ctx context.Context, id int64) (Ban, error) { return banByID(ctx, s.db, id) }

func actorName(ctx context.Context) string {
	if u := vigie.UserFrom(ctx); u != nil {
		return u.Login
	}
	return "system"
}

// handle turns findings into alerts (grown once per key) and automatic
// bans. It runs on a worker, never on the request path.
func (s *Shield) handle(ctx context.Context, fs []Finding) {
	type group struct {
		f    Finding
		hits int
	}
	var order []string
	byKey := map[string]*group{}
	for _, f := range fs {
		g, ok := byKey[f.Key]
		if !ok {
			g = &group{}
			byKey[f.Key] = g
			order = append(order, f.Key)
		}
		g.f = f // the latest carries the fullest evidence
		g.hits++
	}
	for _, k := range order {
		g := byKey[k]
		id, err := s.raise(ctx, g.f, g.hits)
		if err != nil {
			s.log.Warn("shield: raise alert", "kind", g.f.Kind, "err", err)
			continue
		}
		if g.f.Account != 0 {
			s.lockAccount(ctx, g.f)
		}
		if g.f.Ban.IsValid() && !s.cfg.Allow.Overlaps(g.f.Ban) {
			if _, banned := s.bans.load().lookup(g.f.Ban.Addr(), s.now()); banned && g.f.Ban.Bits() == g.f.Ban.Addr().BitLen() {
				continue
			}
			if _, err := s.Ban(ctx, BanRequest{Prefix: g.f.Ban, Reason: g.f.Summary, Origin: OriginAuto, AlertID: id}); err != nil {
				s.log.Warn("shield: automatic ban", "prefix", g.f.Ban, "err", err)
			}
		}
	}
}

// raise opens or grows the alert of f.
func (s *Shield) raise(ctx context.Context, f Finding, hits int) (int64, error) {
	if f.At.IsZero() {
		f.At = s.now()
	}
	ev, err := json.Marshal(f.Evidence)
	if err != nil {
		return 0, fmt.Errorf("shield: evidence: %w", err)
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var isNew bool
		var err error
		id, isNew, err = upsertAlert(ctx, tx, f, string(ev), hits)
		if err != nil || !isNew {
			return err
		}
		if err := insertEvents(ctx, tx, []Event{{At: f.At, Kind: EventDetection, Source: f.Subject, Rule: f.Kind, Detail: f.Summary}}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: f.Dept, Area: "shield", Type: "alert.raised", Subject: strconv.FormatInt(id, 10),
			Data: map[string]any{"id": id, "kind": f.Kind, "severity": f.Severity, "subject": f.Subject, "summary": f.Summary}})
	})
	return id, err
}

// submit hands findings from the request path to the worker without ever
// blocking: under a flood, findings are dropped (the attack keeps
// producing them).
func (s *Shield) submit(fs []Finding) {
	if len(fs) == 0 {
		return
	}
	select {
	case s.found <- fs:
	default:
		s.lost.Add(1)
	}
}

// note adds a timeline event to the batch written every second.
func (s *Shield) note(e Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if len(s.events) >= maxBatch {
		s.lost.Add(1)
		return
	}
	s.events = append(s.events, e)
}

const maxBatch = 2000

func (s *Shield) flushEvents(ctx context.Context) error {
	s.evMu.Lock()
	evs := s.events
	s.events = nil
	s.evMu.Unlock()
	if len(evs) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error { return insertEvents(ctx, tx, evs) })
}

// WAFBlocked records a request the firewall blocked and feeds the
// repeated-blocks detector. It never blocks the caller.
func (s *Shield) WAFBlocked(ctx context.Context, h WAFHit) {
	if h.At.IsZero() {
		h.At = s.now()
	}
	src := ""
	if h.Addr.IsValid() {
		src = h.Addr.String()
	}
	s.note(Event{At: h.At, Kind: EventWAF, Source: src, Rule: h.Rule, Path: h.Path, Detail: "score " + strconv.Itoa(h.Score)})
	s.submit(s.det.Blocked(h))
}

// Run runs the shield's background work until ctx ends: the ban snapshot
// refresh, the findings worker, the journal tail (failed sign-ins), the
// insider detectors, the timeline writer and the purge.
func (s *Shield) Run(ctx context.Context) {
	var wg sync.WaitGroup
	loop := func(every time.Duration, what string, f func(context.Context) error) {
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := f(ctx); err != nil && ctx.Err() == nil {
						s.log.Warn("shield: "+what, "err", err)
					}
				}
			}
		})
	}
	loop(s.cfg.Refresh, "refresh bans", func(ctx context.Context) error { return s.refresh(ctx, false) })
	loop(s.cfg.Tail, "read failed sign-ins", s.TailJournal)
	loop(time.Second, "write timeline", s.flushEvents)
	loop(s.cfg.InsiderRun, "insider detectors", func(ctx context.Context) error { _, err := s.RunInsider(ctx); return err })
	loop(5*time.Minute, "sweep", func(ctx context.Context) error { s.det.Sweep(s.now()); return nil })
	loop(time.Hour, "purge", s.Purge)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case fs := <-s.found:
				batch := fs
			drain:
				for len(batch) < 1000 {
					select {
					case more := <-s.found:
						batch = append(batch, more...)
					default:
						break drain
					}
				}
				s.handle(ctx, batch)
			}
		}
	})
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.flushEvents(fctx)
}

// Purge deletes timeline events older than 90 days and bans that ended
// more than banMemory ago.
func (s *Shield) Purge(ctx context.Context) error {
	now := s.now()
	if _, err := s.db.Exec(ctx, "DELETE FROM shield_event WHERE at < ?", db.Millis(now.Add(-90*24*time.Hour))); err != nil {
		return err
	}
	_, err := purgeBans(ctx, s.db, now.Add(-banMemory))
	return err
}

// Report raises or grows the alerts of findings made elsewhere (another
// area's own checks, tests) and applies their automatic response, at once.
func (s *Shield) Report(ctx context.Context, fs []Finding) { s.handle(ctx, fs) }
