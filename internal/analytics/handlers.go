package analytics

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/org"
	"vigie/internal/web"
)

// authorizer decides whether the acting user may do something
// (internal/auth's policy; main wires it).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

//go:embed all:templates
var templates embed.FS

// Templates returns the area's templates (for tests of translations).
func Templates() fs.FS {
	sub, _ := fs.Sub(templates, "templates")
	return sub
}

// Handler serves the risk map, patrol plans, imports and model cards.
type Handler struct {
	svc  *Service
	auth authorizer
	s    *web.Server
}

// NewHandler returns the handler of the analytics area.
func NewHandler(svc *Service, auth authorizer) *Handler {
	return &Handler{svc: svc, auth: auth}
}

// Register adds the area's templates, menu entry and routes to s.
func (h *Handler) Register(s *web.Server) error {
	if err := s.AddTemplates("analytics", Templates()); err != nil {
		return fmt.Errorf("analytics: templates: %w", err)
	}
	h.s = s
	s.AddNav(web.NavItem{Path: "/analytics/risk", Label: "Risk map",
		Roles: []vigie.Role{vigie.RoleAgent, vigie.RoleInvestigator, vigie.RoleCommander, vigie.RoleAnalyst}})
	s.Route("GET /analytics/risk", h.pageRisk)
	s.Route("GET /analytics/import", h.pageImport)
	s.FormRoute("POST /analytics/import", h.formImport)
	s.Route("GET /analytics/plans", h.pagePlans)
	s.FormRoute("POST /analytics/plans", h.formPlan)
	s.Route("GET /analytics/plans/{id}", h.pagePlan)
	s.Route("GET /analytics/plans/{id}/pdf", h.planPDF)
	s.FormRoute("POST /analytics/plans/{id}/report", h.formReport)
	s.Route("GET /analytics/models", h.pageModels)
	s.Route("GET /analytics/backtest", h.pageBacktest)
	s.Route("POST /api/v1/analytics/events", h.apiImport)
	s.Route("GET /api/v1/analytics/risk", h.apiRisk)
	return nil
}

// unitFor reads the unit named by the "unit" parameter (the actor's own
// unit when absent) and checks that the actor may see its statistics.
func (h *Handler) unitFor(r *http.Request, value string) (org.Unit, error) {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u == nil {
		return org.Unit{}, vigie.ErrUnauthenticated
	}
	var id int64
	if value = strings.TrimSpace(value); value == "" {
		id = u.UnitID
	} else {
		var err error
		if id, err = strconv.ParseInt(value, 10, 64); err != nil || id <= 0 {
			return org.Unit{}, vigie.Invalidf("analytics.unit", "The unit number is not valid.")
		}
	}
	if id == 0 {
		return org.Unit{}, vigie.E(vigie.KindForbidden, "analytics.unit", "You are not allowed to do this.", nil)
	}
	unit, err := h.svc.cfg.Org.Unit(ctx, id)
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			// Same answer as a refusal: do not reveal which units exist.
			return org.Unit{}, vigie.E(vigie.KindForbidden, "analytics.unit", "You are not allowed to do this.", err)
		}
		return org.Unit{}, err
	}
	// SECURITY: every page and API call of the area goes through here.
	err = h.auth.Check(ctx, vigie.PermStats, vigie.Target{Dept: unit.Dept, UnitID: unit.ID, Kind: "unit", ID: strconv.FormatInt(unit.ID, 10)})
	return unit, err
}

func lang(r *http.Request) func(string, ...any) string {
	l := web.Lang(r)
	return func(f string, a ...any) string { return web.Tf(l, f, a...) }
}

// riskOptions reads the map's query: horizon, layers, police categories.
func riskOptions(q url.Values) (ForecastOptions, []Source) {
	opts := ForecastOptions{Horizon: Horizon(q.Get("horizon")), IncludePolice: q.Get("police") == "1"}
	if !opts.Horizon.Valid() {
		opts.Horizon = HorizonDay
	}
	var layers []Source
	for _, l := range q["layer"] {
		if s := Source(l); s.Valid() {
			layers = append(layers, s)
		}
	}
	return opts, layers
}

type flaggedRow struct {
	FlaggedCell
	Reasons []string
}

type riskPage struct {
	Unit        org.Unit
	Horizon     Horizon
	Horizons    []Horizon
	Sources     []Source
	Layers      map[Source]bool
	Police      bool
	Forecast    *Forecast
	Map         template.HTML
	Rows        []flaggedRow
	Repeat      string
	Classes     [][2]string
	Counts      map[string]int
	Colours     map[Source]string
	CellSize    float64
	Cells       int
	PeriodStart string // in the département's time zone
	PeriodEnd   string
	ByHorizon   bool // the model's ranking changes with the horizon
	More        int  // flagged cells not listed
}

// maxRows bounds the table of flagged cells; the map shows them all.
const maxRows = 40

func (h *Handler) pageRisk(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	opts, layers := riskOptions(r.URL.Query())
	a, f, err := h.svc.RiskMap(r.Context(), unit, opts)
	if err != nil {
		return err
	}
	tf := lang(r)
	p := riskPage{Unit: unit, Horizon: opts.Horizon, Horizons: []Horizon{HorizonShift, HorizonDay, HorizonWeek}, Sources: Sources,
		Layers: map[Source]bool{}, Police: opts.IncludePolice, Forecast: f, Classes: RiskClasses(), Colours: layerColours,
		CellSize: a.Grid.Size, Cells: a.Grid.Len(), ByHorizon: RanksByHorizon(h.svc.modelNamed(f.Model))}
	loc := h.svc.Location(r.Context(), unit.Dept)
	p.PeriodStart, p.PeriodEnd = localTime(f.Period.Start, loc), localTime(f.Period.End, loc)
	for _, l := range layers {
		p.Layers[l] = true
	}
	counts, err := h.svc.Counts(r.Context(), unit.Dept)
	if err != nil {
		return err
	}
	p.Counts = map[string]int{}
	for k, v := range counts {
		p.Counts[string(k)] = v
	}
	if !f.TooLittle {
		p.Map = DrawMap(MapInput{Title: tf("Risk map of %s", unit.Name), Area: a, Forecast: f, Layers: layers})
		for i, fc := range f.Flagged {
			if i == maxRows {
				p.More = len(f.Flagged) - maxRows
				break
			}
			row := flaggedRow{FlaggedCell: fc}
			for _, rs := range fc.Reasons {
				row.Reasons = append(row.Reasons, ReasonText(rs, tf))
			}
			p.Rows = append(p.Rows, row)
		}
		if !math.IsNaN(f.Repeat) {
			p.Repeat = fmt.Sprintf("%.0f", 100*f.Repeat)
		}
	}
	return h.s.Render(w, r, "analytics/risk.html", p)
}

// apiRisk is the risk map as JSON: the flagged cells with their centre,
// relative risk and reasons (English sentences).
func (h *Handler) apiRisk(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	opts, _ := riskOptions(r.URL.Query())
	a, f, err := h.svc.RiskMap(r.Context(), unit, opts)
	if err != nil {
		return err
	}
	type cell struct {
		Rank         int      `json:"rank"`
		Lon          float64  `json:"lon"`
		Lat          float64  `json:"lat"`
		Commune      string   `json:"commune"`
		Relative     float64  `json:"relative"`
		WeeksFlagged int      `json:"weeks_flagged"`
		Reasons      []string `json:"reasons"`
	}
	out := struct {
		Unit      int64     `json:"unit"`
		Model     string    `json:"model"`
		Horizon   Horizon   `json:"horizon"`
		From      time.Time `json:"from"`
		To        time.Time `json:"to"`
		CellSize  float64   `json:"cell_size"`
		Cells     int       `json:"cells"`
		TooLittle bool      `json:"too_little_history"`
		Why       string    `json:"why,omitempty"`
		Repeat    *float64  `json:"repeat_share,omitempty"`
		Flagged   []cell    `json:"flagged"`
	}{Unit: unit.ID, Model: f.Model, Horizon: opts.Horizon, From: f.Period.Start, To: f.Period.End, CellSize: a.Grid.Size,
		Cells: a.Grid.Len(), TooLittle: f.TooLittle, Why: f.Why, Flagged: []cell{}}
	if !math.IsNaN(f.Repeat) {
		v := math.Round(1000*f.Repeat) / 1000
		out.Repeat = &v
	}
	for _, fc := range f.Flagged {
		lon, lat := a.CellLonLat(fc.Cell)
		c := cell{Rank: fc.Rank, Lon: math.Round(lon*1e5) / 1e5, Lat: math.Round(lat*1e5) / 1e5, Commune: fc.Commune,
			Relative: math.Round(fc.Relative*100) / 100, WeeksFlagged: fc.WeeksFlagged, Reasons: []string{}}
		for _, rs := range fc.Reasons {
			c.Reasons = append(c.Reasons, ReasonText(rs, fmt.Sprintf))
		}
		out.Flagged = append(out.Flagged, c)
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

type importPage struct {
	Unit    org.Unit
	Sources []Source
	Result  *ImportResult
	Counts  map[Source]int
}

func (h *Handler) pageImport(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	p := importPage{Unit: unit, Sources: Sources}
	if p.Counts, err = h.svc.Counts(r.Context(), unit.Dept); err != nil {
		return err
	}
	return h.s.Render(w, r, "analytics/import.html", p)
}

// maxUpload bounds an uploaded file of events.
const maxUpload = 32 << 20

func (h *Handler) formImport(w http.ResponseWriter, r *http.Request) error {
	const op = "analytics.Import"
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return vigie.E(vigie.KindInvalid, op, "The form could not be read; the file may be too large (32 MB at most).", err)
	}
	unit, err := h.unitFor(r, r.FormValue("unit"))
	if err != nil {
		return err
	}
	src := Source(r.FormValue("source"))
	if r.FormValue("source") != "" && !src.Valid() {
		return vigie.Invalidf(op, "Choose a source.")
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return vigie.E(vigie.KindInvalid, op, "Choose the file to import.", err)
	}
	defer f.Close()
	res, err := h.svc.Import(r.Context(), unit, src, f)
	if err != nil {
		return err
	}
	p := importPage{Unit: unit, Sources: Sources, Result: &res}
	if p.Counts, err = h.svc.Counts(r.Context(), unit.Dept); err != nil {
		return err
	}
	return h.s.Render(w, r, "analytics/import.html", p)
}

// apiImport: POST /api/v1/analytics/events?unit=ID&source=offence with
// either a GeoJSON FeatureCollection body (application/json) or a
// multipart/form-data body whose "file" part is a CSV or GeoJSON file. (The
// firewall admits only the content types of the OWASP CRS list, which has
// neither text/csv nor application/geo+json.)
func (h *Handler) apiImport(w http.ResponseWriter, r *http.Request) error {
	const op = "analytics.Import"
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	src := Source(r.URL.Query().Get("source"))
	if src != "" && !src.Valid() {
		return vigie.Invalidf(op, "The source must be offence, call, lapi or patrol.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var body io.Reader
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return vigie.E(vigie.KindInvalid, op, "The body could not be read (32 MB at most).", err)
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, "Choose the file to import.", err)
		}
		defer f.Close()
		body = f
	} else {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, "The body could not be read (32 MB at most).", err)
		}
		body = bytes.NewReader(b)
	}
	res, err := h.svc.Import(r.Context(), unit, src, body)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, res)
	return nil
}

type plansPage struct {
	Unit    org.Unit
	Plans   []Plan
	Default PlanParams
	Start   string
	// Over the listed plans whose measured period is over: offences, those
	// in planned places, and the mean share of the territory planned.
	Measured, Events, Hits, RankHits int
	HitRate, AreaShare, RankHitRate  float64
	Weeks                            []WeekCapture
	Loc                              *time.Location // the département's time zone
}

// DefaultPlan are the form's defaults: two patrols of a 4-hour shift.
var DefaultPlan = PlanParams{Patrols: 2, Minutes: 240, SpeedKmh: 40, DwellMinutes: 20, AvoidPlans: 7}

func (h *Handler) pagePlans(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	plans, err := h.svc.Plans(r.Context(), unit.ID, 20)
	if err != nil {
		return err
	}
	loc := h.svc.Location(r.Context(), unit.Dept)
	start := h.svc.cfg.Now().In(loc).Truncate(time.Hour).Add(time.Hour)
	pg := plansPage{Unit: unit, Plans: plans, Default: DefaultPlan, Start: start.Format("2006-01-02T15:04"), Loc: loc}
	if len(plans) > 0 {
		a, err := h.svc.Area(r.Context(), unit)
		if err != nil {
			return err
		}
		caps := make([]PlanCapture, len(plans))
		for i, p := range plans {
			c, err := h.svc.Capture(r.Context(), p, a)
			if err != nil {
				return err
			}
			caps[i] = c
			if c.Ready {
				pg.Measured++
				pg.Events += c.Events
				pg.Hits += c.Hits
				pg.RankHits += c.RankHits
				pg.AreaShare += c.AreaShare
			}
		}
		if pg.Measured > 0 {
			pg.AreaShare /= float64(pg.Measured)
			if pg.Events > 0 {
				pg.HitRate = 100 * float64(pg.Hits) / float64(pg.Events)
				pg.RankHitRate = 100 * float64(pg.RankHits) / float64(pg.Events)
			}
		}
		pg.Weeks = CapturesByWeek(plans, caps, loc)
	}
	return h.s.Render(w, r, "analytics/plans.html", pg)
}

func (h *Handler) formPlan(w http.ResponseWriter, r *http.Request) error {
	const op = "analytics.Plan"
	unit, err := h.unitFor(r, r.PostFormValue("unit"))
	if err != nil {
		return err
	}
	num := func(name string, def float64) (float64, error) {
		v := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(name), ",", "."))
		if v == "" {
			return def, nil
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, vigie.Invalidf(op, "A number of the form is not valid.")
		}
		return x, nil
	}
	var p PlanParams
	var vals [7]float64
	for i, f := range []struct {
		name string
		def  float64
	}{{"patrols", 2}, {"minutes", 240}, {"speed", 40}, {"dwell", 20}, {"avoid", 7}, {"start_lon", 0}, {"start_lat", 0}} {
		if vals[i], err = num(f.name, f.def); err != nil {
			return err
		}
	}
	p.Patrols, p.Minutes, p.SpeedKmh, p.DwellMinutes, p.AvoidPlans = int(vals[0]), int(vals[1]), vals[2], int(vals[3]), int(vals[4])
	p.StartLon, p.StartLat = vals[5], vals[6]
	loc := h.svc.Location(r.Context(), unit.Dept)
	start, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("start"), loc)
	if err != nil {
		return vigie.Invalidf(op, "The start of the shift is not a valid date and time.")
	}
	plan, err := h.svc.CreatePlan(r.Context(), unit, p, start.UTC())
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/analytics/plans/"+strconv.FormatInt(plan.ID, 10), http.StatusSeeOther)
	return nil
}

// planFor loads the plan of the path and checks the actor may see its unit.
func (h *Handler) planFor(r *http.Request) (Plan, org.Unit, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return Plan{}, org.Unit{}, vigie.Invalidf("analytics.plan", "The plan number is not valid.")
	}
	p, err := h.svc.Plan(r.Context(), id)
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			return Plan{}, org.Unit{}, vigie.E(vigie.KindNotFound, "analytics.plan", "Not found.", err)
		}
		return Plan{}, org.Unit{}, err
	}
	unit, err := h.unitFor(r, strconv.FormatInt(p.UnitID, 10))
	if err != nil {
		// Another unit's plan is answered as missing.
		if vigie.KindOf(err) == vigie.KindForbidden {
			return Plan{}, org.Unit{}, vigie.E(vigie.KindNotFound, "analytics.plan", "Not found.", err)
		}
		return Plan{}, org.Unit{}, err
	}
	return p, unit, nil
}

type stopView struct {
	Stop
	N   int
	Key string // "patrol.stop", zero-based, the report form's value
}

type routeView struct {
	PatrolRoute
	N      int
	Colour string
	Stops  []stopView
}

type planPage struct {
	Plan    Plan
	Unit    org.Unit
	Map     template.HTML
	Capture PlanCapture
	Routes  []routeView
	Over    bool
	Loc     *time.Location
	Start   string
	End     string
}

func (h *Handler) pagePlan(w http.ResponseWriter, r *http.Request) error {
	p, unit, err := h.planFor(r)
	if err != nil {
		return err
	}
	a, err := h.svc.Area(r.Context(), unit)
	if err != nil {
		return err
	}
	pg := planPage{Plan: p, Unit: unit, Over: !h.svc.cfg.Now().Before(p.ShiftEnd)}
	if a.Grid.Size == p.CellSize {
		f, err := h.svc.PlanForecast(r.Context(), a, p)
		if err != nil {
			return err
		}
		pg.Map = DrawMap(MapInput{Title: lang(r)("Patrol plan %d", p.ID), Area: a, Forecast: f, Routes: p.Patrols})
	}
	for i, r := range p.Patrols {
		rv := routeView{PatrolRoute: r, N: i + 1, Colour: RouteColour(i)}
		for k, st := range r.Stops {
			rv.Stops = append(rv.Stops, stopView{Stop: st, N: k + 1, Key: strconv.Itoa(i) + "." + strconv.Itoa(k)})
		}
		pg.Routes = append(pg.Routes, rv)
	}
	if pg.Capture, err = h.svc.Capture(r.Context(), p, a); err != nil {
		return err
	}
	if err := h.svc.Viewed(r.Context(), p, "plan page"); err != nil {
		return err
	}
	loc := h.svc.Location(r.Context(), unit.Dept)
	pg.Start, pg.End = p.ShiftStart.In(loc).Format("02/01/2006 15:04"), p.ShiftEnd.In(loc).Format("02/01/2006 15:04")
	return h.s.Render(w, r, "analytics/plan.html", pg)
}

func (h *Handler) planPDF(w http.ResponseWriter, r *http.Request) error {
	p, unit, err := h.planFor(r)
	if err != nil {
		return err
	}
	a, err := h.svc.Area(r.Context(), unit)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WritePlanPDF(&buf, &p, a, unit.Name, h.svc.Location(r.Context(), unit.Dept), lang(r)); err != nil {
		return fmt.Errorf("plan %d: pdf: %w", p.ID, err)
	}
	if err := h.svc.Viewed(r.Context(), p, "briefing sheet (PDF)"); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="plan-%d.pdf"`, p.ID))
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *Handler) formReport(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.planFor(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return vigie.Invalidf("analytics.Report", "The form could not be read.")
	}
	var visited [][2]int
	for _, v := range r.PostForm["visited"] {
		a, b, ok := strings.Cut(v, ".")
		i, err1 := strconv.Atoi(a)
		k, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return vigie.Invalidf("analytics.Report", "A visited place is not valid.")
		}
		visited = append(visited, [2]int{i, k})
	}
	if _, err := h.svc.Report(r.Context(), p, visited); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The patrol report is recorded."))
	http.Redirect(w, r, "/analytics/plans/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
	return nil
}

// localTime formats t in loc with its offset from UTC, e.g.
// "30/11/2026 05:00 (UTC+04:00)" in La Réunion.
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("02/01/2006 15:04 (UTC-07:00)")
}

type modelsPage struct {
	Cards   []Card
	Shipped string
	Unit    org.Unit
	// Backtest is the département's latest backtest (nil: none yet).
	Backtest *DeptBacktest
	Verdicts map[string]string
	Loc      *time.Location
}

// pageModels shows the model cards to anyone who may see a risk map, with
// the figures of the latest backtest of the unit's département.
func (h *Handler) pageModels(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	b, err := h.lastBacktest(r.Context(), unit.Dept)
	if err != nil {
		return err
	}
	p := modelsPage{Cards: CardsWith(h.svc.Cards(), b), Shipped: h.svc.ModelFor(r.Context(), unit.Dept).Name(), Unit: unit,
		Backtest: b, Verdicts: verdicts(b), Loc: h.svc.Location(r.Context(), unit.Dept)}
	return h.s.Render(w, r, "analytics/models.html", p)
}

// lastBacktest is the département's latest backtest, nil when none.
func (h *Handler) lastBacktest(ctx context.Context, dept string) (*DeptBacktest, error) {
	b, err := h.svc.LastBacktest(ctx, dept)
	if vigie.KindOf(err) == vigie.KindNotFound {
		return nil, nil
	}
	return b, err
}

func verdicts(b *DeptBacktest) map[string]string {
	out := map[string]string{}
	if b != nil {
		for _, m := range b.Methods {
			out[m.Name] = m.Decision.Verdict(DefaultRule)
		}
	}
	return out
}

// CardsWith fills each card's figures from a département backtest (cards
// of models it did not run keep none).
func CardsWith(cards []Card, b *DeptBacktest) []Card {
	out := make([]Card, len(cards))
	for i, c := range cards {
		c.Metrics = nil
		if b != nil {
			if m, ok := b.Method(c.Name); ok {
				c.Metrics = &CardMetrics{From: b.From.Format("2006-01-02"), To: b.To.AddDate(0, 0, -1).Format("2006-01-02"),
					Weeks: b.Weeks, Cells: b.Cells, CellSize: b.CellSize, Coverages: b.Coverages, HitRate: m.HitRate,
					PAI: m.PAI, PEI: m.PEI, AUC: m.AUC, WeeklySD: m.WeeklySD, Decision: m.Decision}
			}
		}
		out[i] = c
	}
	return out
}

type backtestRow struct {
	DeptMethod
	Verdict         string
	HR5, PAI5, PEI5 float64
	Repeat          string
}

type backtestPage struct {
	Unit      org.Unit
	Backtest  *DeptBacktest
	Rows      []backtestRow
	Coverages []string
	Shipped   string
	Rule      Rule
	AlphaPct  float64
	From, To  string
	RanAt     string
	Seconds   float64
}

// pageBacktest shows the latest backtest of the unit's département: every
// model's figures on the département's own offences and the rule's
// decision, which sets the model of the risk maps.
func (h *Handler) pageBacktest(w http.ResponseWriter, r *http.Request) error {
	unit, err := h.unitFor(r, r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	b, err := h.lastBacktest(r.Context(), unit.Dept)
	if err != nil {
		return err
	}
	p := backtestPage{Unit: unit, Backtest: b, Shipped: h.svc.ModelFor(r.Context(), unit.Dept).Name(), Rule: DefaultRule,
		AlphaPct: 100 * DefaultRule.Alpha}
	if b != nil {
		loc := h.svc.Location(r.Context(), unit.Dept)
		p.From, p.To = b.From.In(loc).Format("02/01/2006"), b.To.In(loc).AddDate(0, 0, -1).Format("02/01/2006")
		p.RanAt, p.Seconds = b.RanAt.In(loc).Format("02/01/2006 15:04"), b.Duration.Seconds()
		for _, c := range b.Coverages {
			p.Coverages = append(p.Coverages, strconv.FormatFloat(100*c, 'f', -1, 64))
		}
		k := b.Key()
		for _, m := range b.Methods {
			row := backtestRow{DeptMethod: m, Verdict: m.Decision.Verdict(DefaultRule)}
			if k >= 0 && k < len(m.HitRate) && k < len(m.PAI) && k < len(m.PEI) {
				row.HR5, row.PAI5, row.PEI5 = m.HitRate[k], m.PAI[k], m.PEI[k]
			}
			if m.Repeat >= 0 {
				row.Repeat = fmt.Sprintf("%.0f", 100*m.Repeat)
			}
			p.Rows = append(p.Rows, row)
		}
	}
	return h.s.Render(w, r, "analytics/backtest.html", p)
}
