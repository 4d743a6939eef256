package analytics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/db"
	"vigie/internal/org"
)

// journal writes the consultation journal (internal/audit) in the
// transaction of the action it records.
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// orgReader gives the organisation the maps are drawn on (internal/org).
type orgReader interface {
	Unit(ctx context.Context, id int64) (org.Unit, error)
	Units(ctx context.Context, dept string) ([]org.Unit, error)
	Communes(ctx context.Context, dept string, geometry bool) ([]org.Commune, error)
	Departement(ctx context.Context, code string) (org.Departement, error)
}

// unitTree answers "which units are under this one" (org.Tree).
type unitTree interface {
	Below(unit int64) []int64
	Kind(unit int64) org.Kind
}

// ServiceConfig holds what Service needs.
type ServiceConfig struct {
	DB      *db.DB
	Journal journal
	Outbox  *bus.Outbox // nil is fine
	Org     orgReader
	Tree    unitTree
	Log     *slog.Logger
	// Model is the model the shipping rule offers (main builds it from
	// ShippedModel with the model sub-package); Cards the model cards.
	Model Model
	// Candidates are the models a département backtest compares (main
	// passes model.All()); the risk map of a département uses the one its
	// latest backtest offers (ModelFor), Model when none is stored.
	Candidates []Model
	Cards      []Card
	Now        func() time.Time
}

// Service is the users' side of analytics: stored sources, risk maps,
// patrol plans. Its methods do not check permissions; handlers do, before
// calling them.
type Service struct {
	cfg ServiceConfig
	mu  sync.Mutex
	// areas caches each unit's geometry: parsing a département's communes
	// takes a few hundred milliseconds and changes rarely.
	areas map[int64]cachedArea
	// shipped caches each département's offered model name.
	shipped map[string]shippedName
}

type cachedArea struct {
	a  *Area
	at time.Time
}

// areaTTL bounds how stale a cached area may be after a territory change.
const areaTTL = 10 * time.Minute

// ShippedModel is the default model: the one the shipping rule (DefaultRule)
// offers on the real-data backtest of docs/analytics.md (Chicago 2019, 52
// weeks), where no model beat the count baseline by more than the weekly
// noise. A département's maps use it until a backtest of the département's
// own offences (RunBacktest) offers another.
const ShippedModel = "counts-all"

// New returns the service. It does no I/O.
func New(cfg ServiceConfig) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Model == nil {
		cfg.Model = Counts{}
	}
	return &Service{cfg: cfg, areas: map[int64]cachedArea{}, shipped: map[string]shippedName{}}
}

// Model is the default model of the maps (see ModelFor).
func (s *Service) Model() Model { return s.cfg.Model }

// Cards are the model cards.
func (s *Service) Cards() []Card { return s.cfg.Cards }

// Area returns the geometry of a unit's territory (cached).
func (s *Service) Area(ctx context.Context, u org.Unit) (*Area, error) {
	s.mu.Lock()
	c, ok := s.areas[u.ID]
	s.mu.Unlock()
	if ok && s.cfg.Now().Sub(c.at) < areaTTL {
		return c.a, nil
	}
	communes, err := s.cfg.Org.Communes(ctx, u.Dept, true)
	if err != nil {
		return nil, err
	}
	if u.Kind != org.Groupement {
		below := map[int64]bool{}
		for _, id := range s.cfg.Tree.Below(u.ID) {
			below[id] = true
		}
		communes = slices.DeleteFunc(communes, func(c org.Commune) bool { return !below[c.BrigadeID] })
	}
	a, err := NewArea(u, communes)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.areas[u.ID] = cachedArea{a: a, at: s.cfg.Now()}
	s.mu.Unlock()
	return a, nil
}

// Location returns the time zone of a département (Paris when unknown).
func (s *Service) Location(ctx context.Context, dept string) *time.Location {
	d, err := s.cfg.Org.Departement(ctx, dept)
	if err == nil {
		if l, err := time.LoadLocation(d.TimeZone); err == nil {
			return l
		}
	}
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}

// ImportResult says what an import did.
type ImportResult struct {
	Stored  int            `json:"stored"`
	Skipped map[string]int `json:"skipped"` // reason → rows
	Batch   string         `json:"batch"`
}

// Import reads a CSV or GeoJSON file of source events for unit's territory
// and stores the usable rows. Policy (documented in docs/riskmap.md): every
// good row is stored and every bad row is counted by reason; a file with no
// good row stores nothing and is an error. Rows outside the unit's
// territory are refused (SkipOutsideUnit): a unit imports only its own
// places.
func (s *Service) Import(ctx context.Context, u org.Unit, def Source, r io.Reader) (ImportResult, error) {
	const op = "analytics.Import"
	now := s.cfg.Now()
	recs, skipped, err := ParseRecords(r, def, now)
	if err != nil {
		return ImportResult{}, err
	}
	a, err := s.Area(ctx, u)
	if err != nil {
		return ImportResult{}, err
	}
	kept := recs[:0]
	for _, rec := range recs {
		i := a.Locate(rec.Lon, rec.Lat)
		if i < 0 {
			skipped[SkipOutsideUnit]++
			continue
		}
		rec.Dept, rec.UnitID = a.Dept, a.Communes[i].BrigadeID
		kept = append(kept, rec)
	}
	res := ImportResult{Stored: len(kept), Skipped: skipped, Batch: "import-" + strconv.FormatInt(now.UnixMilli(), 36)}
	if len(kept) == 0 {
		return res, vigie.E(vigie.KindInvalid, op, fmt.Sprintf("No row of the file could be used (%d refused); nothing was stored.", skipped.Total()), nil)
	}
	err = s.cfg.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := insertRecords(ctx, tx, kept, res.Batch, now); err != nil {
			return err
		}
		if err := s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: a.Dept, Area: "analytics", Type: "events.imported", Subject: res.Batch,
			Data: map[string]any{"unit_id": u.ID, "stored": res.Stored, "skipped": skipped.Total()}}); err != nil {
			return err
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "analytics_events", ObjectID: res.Batch,
			Dept: a.Dept, UnitID: u.ID, Detail: fmt.Sprintf("import of %d events (%d rows refused)", res.Stored, skipped.Total())})
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// Counts returns the number of stored events of dept by source.
func (s *Service) Counts(ctx context.Context, dept string) (map[Source]int, error) {
	return countRecords(ctx, s.cfg.DB, dept)
}

// RiskMap computes the forecast of a unit's territory and journals the
// consultation. The map holds no personal data; the journal's rule that a
// consultation states its reason is met with the fixed motif
// "statistiques".
func (s *Service) RiskMap(ctx context.Context, u org.Unit, opts ForecastOptions) (*Area, *Forecast, error) {
	a, err := s.Area(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = s.cfg.Now()
	}
	recs, err := loadRecords(ctx, s.cfg.DB, u.Dept, time.Unix(0, 0), opts.Now.Add(opts.Horizon.Duration()))
	if err != nil {
		return nil, nil, err
	}
	f := ForecastArea(a, s.ModelFor(ctx, u.Dept), recs, opts)
	err = s.cfg.DB.InTx(ctx, func(tx *db.Tx) error {
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "risk_map", ObjectID: strconv.FormatInt(u.ID, 10),
			Dept: u.Dept, UnitID: u.ID, Motif: StatsMotif,
			Detail: fmt.Sprintf("risk map, %s, model %s, %d flagged cells", opts.Horizon, f.Model, len(f.Flagged))})
	})
	return a, f, err
}

// Viewed journals the consultation of a plan or its briefing sheet
// (aggregated figures: motif StatsMotif).
func (s *Service) Viewed(ctx context.Context, p Plan, detail string) error {
	return s.cfg.DB.InTx(ctx, func(tx *db.Tx) error {
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "patrol_plan", ObjectID: strconv.FormatInt(p.ID, 10),
			Dept: p.Dept, UnitID: p.UnitID, Motif: StatsMotif, Detail: detail})
	})
}

// StatsMotif is the journal motif of consultations of aggregated figures
// (no personal data, nothing to justify case by case).
const StatsMotif = "statistiques"

// CreatePlan plans the patrols of unit for the shift starting at start,
// from the forecast of that shift, and stores the plan.
func (s *Service) CreatePlan(ctx context.Context, u org.Unit, p PlanParams, start time.Time) (Plan, error) {
	if err := p.Validate(); err != nil {
		return Plan{}, err
	}
	a, err := s.Area(ctx, u)
	if err != nil {
		return Plan{}, err
	}
	sx, sy := a.StartX, a.StartY
	if p.StartLon != 0 || p.StartLat != 0 {
		if a.Locate(p.StartLon, p.StartLat) < 0 {
			return Plan{}, vigie.Invalidf("analytics.CreatePlan", "The start point is outside the unit's territory.")
		}
		sx, sy = a.Grid.Proj.Forward(p.StartLon, p.StartLat)
	} else {
		p.StartLon, p.StartLat = a.StartLon, a.StartLat
	}
	end := start.Add(time.Duration(p.Minutes) * time.Minute)
	recs, err := loadRecords(ctx, s.cfg.DB, u.Dept, time.Unix(0, 0), start)
	if err != nil {
		return Plan{}, err
	}
	f := ForecastArea(a, s.ModelFor(ctx, u.Dept), recs, ForecastOptions{Horizon: HorizonShift, Now: start})
	if f.TooLittle {
		return Plan{}, vigie.Invalidf("analytics.CreatePlan", "No plan can be made: %s.", f.Why)
	}
	visited := map[int]int{}
	if p.AvoidPlans > 0 {
		prev, err := recentPlans(ctx, s.cfg.DB, u.ID, p.AvoidPlans)
		if err != nil {
			return Plan{}, err
		}
		for _, pl := range prev {
			if pl.CellSize != a.Grid.Size {
				continue // another grid: cells are not comparable
			}
			for _, c := range pl.Cells() {
				visited[c]++
			}
		}
	}
	plan := Plan{Dept: u.Dept, UnitID: u.ID, ShiftStart: start, ShiftEnd: end, Model: f.Model, CellSize: a.Grid.Size,
		Params: p, Patrols: PlanPatrols(a, f.Scores, p, sx, sy, visited), CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
	if user := vigie.UserFrom(ctx); user != nil {
		plan.CreatedBy = user.ID
	}
	err = s.cfg.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := insertPlan(ctx, tx, &plan); err != nil {
			return err
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "patrol_plan", ObjectID: strconv.FormatInt(plan.ID, 10),
			Dept: u.Dept, UnitID: u.ID, Detail: fmt.Sprintf("%d patrols, %d places", len(plan.Patrols), len(plan.Cells()))})
	})
	return plan, err
}

// PlanForecast is the forecast a plan was made from (the shift's, from the
// history known at its start), to draw under its routes.
func (s *Service) PlanForecast(ctx context.Context, a *Area, p Plan) (*Forecast, error) {
	recs, err := loadRecords(ctx, s.cfg.DB, p.Dept, time.Unix(0, 0), p.ShiftStart)
	if err != nil {
		return nil, err
	}
	return ForecastArea(a, s.modelNamed(p.Model), recs, ForecastOptions{Horizon: HorizonShift, Now: p.ShiftStart}), nil
}

// Plan returns a stored plan.
func (s *Service) Plan(ctx context.Context, id int64) (Plan, error) {
	return getPlan(ctx, s.cfg.DB, id)
}

// Plans returns a unit's last n plans.
func (s *Service) Plans(ctx context.Context, unit int64, n int) ([]Plan, error) {
	return recentPlans(ctx, s.cfg.DB, unit, n)
}

// Report records the patrol report of a plan: the stops visited (patrol
// index, stop index) become "patrol" events over the shift. A plan is
// reported once.
func (s *Service) Report(ctx context.Context, p Plan, visited [][2]int) (int, error) {
	const op = "analytics.Report"
	var recs []Record
	for _, v := range visited {
		if v[0] < 0 || v[0] >= len(p.Patrols) || v[1] < 0 || v[1] >= len(p.Patrols[v[0]].Stops) {
			return 0, vigie.Invalidf(op, "The place %d.%d is not in this plan.", v[0]+1, v[1]+1)
		}
		st := p.Patrols[v[0]].Stops[v[1]]
		at := p.ShiftStart.Add(time.Duration(st.Arrive) * time.Minute)
		recs = append(recs, Record{Dept: p.Dept, UnitID: p.UnitID, Source: SourcePatrol, Category: "patrol",
			Start: at, End: at.Add(time.Duration(p.Params.DwellMinutes) * time.Minute), Lon: st.Lon, Lat: st.Lat, PlanID: p.ID})
	}
	now := s.cfg.Now()
	err := s.cfg.DB.InTx(ctx, func(tx *db.Tx) error {
		ok, err := markReported(ctx, tx, p.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.E(vigie.KindConflict, op, "This plan's patrol report was already filed.", nil)
		}
		if err := insertRecords(ctx, tx, recs, "plan-"+strconv.FormatInt(p.ID, 10), now); err != nil {
			return err
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "patrol_plan", ObjectID: strconv.FormatInt(p.ID, 10),
			Dept: p.Dept, UnitID: p.UnitID, Detail: fmt.Sprintf("patrol report: %d places visited", len(recs))})
	})
	return len(recs), err
}

// PlanCapture measures a plan once its shift is over: the share of the
// offences of the shift and of the following day that fell in the planned
// cells, against the share of the area they make.
type PlanCapture struct {
	Ready     bool
	Events    int
	Hits      int
	HitRate   float64
	AreaShare float64
	// RankHits is what the risk ranking alone would have caught: the
	// offences of the same period in the forecast's top cells, as many as
	// the plan has places (the plan spreads its places and must drive
	// between them; the ranking does not).
	RankHits    int
	RankHitRate float64
}

// Capture measures p (Ready false while the measured period is not over).
func (s *Service) Capture(ctx context.Context, p Plan, a *Area) (PlanCapture, error) {
	to := p.ShiftEnd.Add(24 * time.Hour)
	if s.cfg.Now().Before(to) || a.Grid.Size != p.CellSize {
		return PlanCapture{}, nil
	}
	recs, err := loadRecords(ctx, s.cfg.DB, p.Dept, p.ShiftStart, to)
	if err != nil {
		return PlanCapture{}, err
	}
	ev, hits, hr, share := Capture(recs, a.Grid, p.Cells(), p.ShiftStart, to)
	c := PlanCapture{Ready: true, Events: ev, Hits: hits, HitRate: hr, AreaShare: share}
	f, err := s.PlanForecast(ctx, a, p)
	if err != nil {
		return PlanCapture{}, err
	}
	if !f.TooLittle {
		var top []int
		for _, cell := range positive(topCells(f.Scores, len(p.Cells())), f.Scores) {
			top = append(top, int(cell))
		}
		_, c.RankHits, c.RankHitRate, _ = Capture(recs, a.Grid, top, p.ShiftStart, to)
	}
	return c, nil
}

// WeekCapture sums up the measured plans of one week (Monday to Sunday in
// the département's time zone).
type WeekCapture struct {
	Week        string // Monday's date, 02/01/2006
	Plans       int
	Events      int
	Hits        int
	HitRate     float64 // percent of the offences in planned places
	AreaShare   float64 // mean percent of the territory planned
	RankHits    int
	RankHitRate float64 // percent the risk ranking alone would have caught
}

// CapturesByWeek groups measured plans by the week of their shift's start,
// most recent week first. plans and caps are parallel; plans not Ready are
// left out.
func CapturesByWeek(plans []Plan, caps []PlanCapture, loc *time.Location) []WeekCapture {
	var out []WeekCapture
	idx := map[string]int{}
	for i, p := range plans {
		if i >= len(caps) || !caps[i].Ready {
			continue
		}
		l := p.ShiftStart.In(loc)
		monday := time.Date(l.Year(), l.Month(), l.Day()-(int(l.Weekday())+6)%7, 0, 0, 0, 0, loc)
		key := monday.Format("2006-01-02")
		k, ok := idx[key]
		if !ok {
			k = len(out)
			idx[key] = k
			out = append(out, WeekCapture{Week: monday.Format("02/01/2006")})
		}
		w, c := &out[k], caps[i]
		w.Plans++
		w.Events += c.Events
		w.Hits += c.Hits
		w.RankHits += c.RankHits
		w.AreaShare += c.AreaShare
	}
	for i := range out {
		w := &out[i]
		w.AreaShare /= float64(w.Plans)
		if w.Events > 0 {
			w.HitRate = 100 * float64(w.Hits) / float64(w.Events)
			w.RankHitRate = 100 * float64(w.RankHits) / float64(w.Events)
		}
	}
	slices.SortStableFunc(out, func(a, b WeekCapture) int {
		ta, _ := time.Parse("02/01/2006", a.Week)
		tb, _ := time.Parse("02/01/2006", b.Week)
		return tb.Compare(ta)
	})
	return out
}
