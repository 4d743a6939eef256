package shield

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/web"
)

// authorizer decides whether the acting user may do something
// (internal/auth's policy; main wires it).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

//go:embed all:templates
var templates embed.FS

// Handler serves the security centre.
type Handler struct {
	sh    *Shield
	auth  authorizer
	vulns *VulnWatch
	web   *web.Server
}

// NewHandler returns the security centre's handler. vulns may be nil.
func NewHandler(sh *Shield, auth authorizer, vulns *VulnWatch) *Handler {
	return &Handler{sh: sh, auth: auth, vulns: vulns}
}

// Register adds the security centre's templates, menu entry and routes.
// The journal's handler must be registered on s first (the motif page).
func (h *Handler) Register(s *web.Server) error {
	sub, _ := fs.Sub(templates, "templates")
	if err := s.AddTemplates("shield", sub); err != nil {
		return fmt.Errorf("shield: templates: %w", err)
	}
	h.web = s
	s.AddNav(web.NavItem{Path: "/security", Label: "Security centre", Roles: []vigie.Role{vigie.RoleSecurity, vigie.RoleAdmin}})
	s.Route("GET /security", h.pageOverview)
	s.Route("GET /security/alerts", h.pageAlerts)
	s.Route("GET /security/alerts/{id}", h.pageAlert)
	s.FormRoute("POST /security/alerts/{id}/ack", h.formAck)
	s.Route("GET /security/bans", h.pageBans)
	s.FormRoute("POST /security/bans", h.formBan)
	s.FormRoute("POST /security/bans/{id}/lift", h.formLift)

	s.Route("GET /api/v1/security/alerts", h.apiAlerts)
	s.Route("GET /api/v1/security/alerts/{id}", h.apiAlert)
	s.Route("POST /api/v1/security/alerts/{id}/ack", h.apiAck)
	s.Route("GET /api/v1/security/bans", h.apiBans)
	s.Route("POST /api/v1/security/bans", h.apiBan)
	s.Route("DELETE /api/v1/security/bans/{id}", h.apiLift)
	s.Route("GET /api/v1/security/indicators", h.apiIndicators)
	return nil
}

// nationalTarget is what bans and the firewall's timeline belong to: the
// whole deployment.
var nationalTarget = vigie.Target{Kind: "security"}

// canOperate: bans and the timeline are the deployment's defence, for
// security officers and administrators with national scope.
func (h *Handler) canOperate(ctx context.Context) error {
	return h.auth.Check(ctx, vigie.PermSecurity, nationalTarget)
}

// canSeeAlerts: alerts need the security permission on the reader's own
// scope; each alert is then checked on its own.
func (h *Handler) canSeeAlerts(ctx context.Context) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() {
		return vigie.ErrForbidden
	}
	return h.auth.Check(ctx, vigie.PermSecurity, vigie.Target{Dept: u.Dept, UnitID: u.UnitID, Kind: "security-alert"})
}

// consult journals a read of the security centre (it shows addresses,
// logins and agents' activity: personal data) with its motif.
func (h *Handler) consult(w http.ResponseWriter, r *http.Request, object, id string) (bool, error) {
	motif, ok, err := audit.RequireMotif(h.web, w, r)
	if !ok {
		return false, err
	}
	return true, h.sh.cfg.Journal.RecordTx(r.Context(), vigie.Record{Action: vigie.ActConsult, Object: object, ObjectID: id, Motif: motif})
}

type overviewPage struct {
	O       *Overview
	Vulns   *VulnSummary
	Watched bool
	Motif   string
}

func (h *Handler) pageOverview(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "security-centre", ""); !ok || err != nil {
		return err
	}
	o, err := h.sh.Overview(r.Context())
	if err != nil {
		return err
	}
	return h.web.Render(w, r, "shield/overview.html", overviewPage{O: o, Vulns: h.vulns.Summary(), Watched: h.vulns != nil && h.vulns.path != "", Motif: r.FormValue("motif")})
}

// visibleAlerts lists the alerts the reader may see.
func (h *Handler) visibleAlerts(r *http.Request) ([]Alert, string, error) {
	ctx := r.Context()
	if err := h.canSeeAlerts(ctx); err != nil {
		return nil, "", err
	}
	status := r.URL.Query().Get("status")
	if status == "" && !web.WantsJSON(r) {
		status = "open"
	}
	all, err := h.sh.Alerts(ctx, AlertFilter{Status: status, Limit: 500})
	if err != nil {
		return nil, "", err
	}
	var out []Alert
	for _, a := range all {
		if err := h.auth.Check(ctx, vigie.PermSecurity, a.Target()); err == nil {
			out = append(out, a)
		} else if vigie.KindOf(err) == vigie.KindUnavailable {
			return nil, "", err
		}
	}
	return out, status, nil
}

type alertsPage struct {
	Alerts []Alert
	Status string
	Motif  string
	Now    time.Time
}

func (h *Handler) pageAlerts(w http.ResponseWriter, r *http.Request) error {
	if err := h.canSeeAlerts(r.Context()); err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "security-alert", ""); !ok || err != nil {
		return err
	}
	as, status, err := h.visibleAlerts(r)
	if err != nil {
		return err
	}
	return h.web.Render(w, r, "shield/alerts.html", alertsPage{Alerts: as, Status: status, Motif: r.FormValue("motif"), Now: h.sh.now()})
}

// alertInPath loads the alert of the path, for a reader who may see it
// (anyone else gets "not found": alerts of other units do not exist for
// them).
func (h *Handler) alertInPath(r *http.Request) (Alert, error) {
	if err := h.canSeeAlerts(r.Context()); err != nil {
		return Alert{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return Alert{}, err
	}
	a, err := h.sh.GetAlert(r.Context(), id)
	if err != nil {
		return Alert{}, err
	}
	if err := h.auth.Check(r.Context(), vigie.PermSecurity, a.Target()); err != nil {
		if vigie.KindOf(err) == vigie.KindForbidden {
			return Alert{}, vigie.ErrNotFound
		}
		return Alert{}, err
	}
	return a, nil
}

type alertPage struct {
	A     Alert
	Motif string
}

func (h *Handler) pageAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := h.alertInPath(r)
	if err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "security-alert", strconv.FormatInt(a.ID, 10)); !ok || err != nil {
		return err
	}
	return h.web.Render(w, r, "shield/alert.html", alertPage{A: a, Motif: r.FormValue("motif")})
}

func (h *Handler) formAck(w http.ResponseWriter, r *http.Request) error {
	a, err := h.alertInPath(r)
	if err != nil {
		return err
	}
	if _, err := h.sh.Acknowledge(r.Context(), a.ID, r.PostFormValue("comment"), r.PostFormValue("close") != ""); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The alert was updated."))
	http.Redirect(w, r, "/security/alerts?motif="+url.QueryEscape(r.PostFormValue("motif")), http.StatusSeeOther)
	return nil
}

type bansPage struct {
	Active, Ended []Ban
	Allow         AllowList
	Motif         string
}

func (h *Handler) pageBans(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "ban", ""); !ok || err != nil {
		return err
	}
	active, ended, err := h.sh.Bans(r.Context(), 300)
	if err != nil {
		return err
	}
	return h.web.Render(w, r, "shield/bans.html", bansPage{Active: active, Ended: ended, Allow: h.sh.Allowed(), Motif: r.FormValue("motif")})
}

// banInput is a ban asked for by a person (page or API).
type banInput struct {
	Target string `json:"target"`   // address or network
	Reason string `json:"reason"`   // why
	For    string `json:"duration"` // "" (escalation), "15m", "2h", "7d"
}

func (in banInput) request() (BanRequest, error) {
	p, err := ParsePrefix(in.Target)
	if err != nil {
		return BanRequest{}, err
	}
	d, err := ParseBanDuration(in.For)
	if err != nil {
		return BanRequest{}, err
	}
	return BanRequest{Prefix: p, Reason: in.Reason, For: d, Origin: OriginManual}, nil
}

// ParseBanDuration reads a ban duration typed by a person: empty (the
// escalation ladder decides), a Go duration ("90m", "2h") or days ("7d").
func ParseBanDuration(s string) (time.Duration, error) {
	const op = "shield.ParseBanDuration"
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	bad := vigie.Invalidf(op, "%q is not a duration: write 15m, 2h or 7d.", clip(s, 20))
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 365 {
			return 0, bad
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < time.Minute {
		return 0, vigie.Invalidf(op, "A ban lasts at least a minute.")
	}
	if d > MaxBan {
		return 0, vigie.Invalidf(op, "A ban lasts at most a year.")
	}
	return d, nil
}

func (h *Handler) formBan(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	req, err := banInput{Target: r.PostFormValue("target"), Reason: r.PostFormValue("reason"), For: r.PostFormValue("duration")}.request()
	if err != nil {
		return err
	}
	b, err := h.sh.Ban(r.Context(), req)
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.Tf(web.Lang(r), "%s is banned until %s UTC.", b.Prefix.String(), b.ExpiresAt.Format("2006-01-02 15:04")))
	http.Redirect(w, r, "/security/bans?motif="+url.QueryEscape(r.PostFormValue("motif")), http.StatusSeeOther)
	return nil
}

// lift lifts the ban named in the path: the page and the API share it.
func (h *Handler) lift(r *http.Request) (Ban, error) {
	if err := h.canOperate(r.Context()); err != nil {
		return Ban{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return Ban{}, err
	}
	return h.sh.Lift(r.Context(), id)
}

func (h *Handler) formLift(w http.ResponseWriter, r *http.Request) error {
	b, err := h.lift(r)
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.Tf(web.Lang(r), "The ban of %s is lifted.", b.Prefix.String()))
	http.Redirect(w, r, "/security/bans?motif="+url.QueryEscape(r.PostFormValue("motif")), http.StatusSeeOther)
	return nil
}

// ---- JSON API ----

type apiAlert struct {
	Alert
	Evidence any `json:"evidence"`
}

func (h *Handler) apiAlerts(w http.ResponseWriter, r *http.Request) error {
	if err := h.canSeeAlerts(r.Context()); err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "security-alert", ""); !ok || err != nil {
		return err
	}
	as, _, err := h.visibleAlerts(r)
	if err != nil {
		return err
	}
	out := make([]apiAlert, 0, len(as))
	for _, a := range as {
		out = append(out, apiAlert{Alert: a, Evidence: a.EvidenceJSON()})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"alerts": out})
	return nil
}

func (h *Handler) apiAlert(w http.ResponseWriter, r *http.Request) error {
	a, err := h.alertInPath(r)
	if err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "security-alert", strconv.FormatInt(a.ID, 10)); !ok || err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, apiAlert{Alert: a, Evidence: a.EvidenceJSON()})
	return nil
}

func (h *Handler) apiAck(w http.ResponseWriter, r *http.Request) error {
	a, err := h.alertInPath(r)
	if err != nil {
		return err
	}
	var in struct {
		Comment string `json:"comment"`
		Close   bool   `json:"close"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	a, err = h.sh.Acknowledge(r.Context(), a.ID, in.Comment, in.Close)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, apiAlert{Alert: a, Evidence: a.EvidenceJSON()})
	return nil
}

func (h *Handler) apiBans(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	if ok, err := h.consult(w, r, "ban", ""); !ok || err != nil {
		return err
	}
	active, ended, err := h.sh.Bans(r.Context(), 300)
	if err != nil {
		return err
	}
	if active == nil {
		active = []Ban{}
	}
	if ended == nil {
		ended = []Ban{}
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"active": active, "ended": ended})
	return nil
}

func (h *Handler) apiBan(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	var in banInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	req, err := in.request()
	if err != nil {
		return err
	}
	b, err := h.sh.Ban(r.Context(), req)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, b)
	return nil
}

func (h *Handler) apiLift(w http.ResponseWriter, r *http.Request) error {
	b, err := h.lift(r)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, b)
	return nil
}

// apiIndicators exports the bans in force as a STIX 2.1 bundle for
// partners (CERTs, allied forces). Sending data outside is journaled as a
// communication.
func (h *Handler) apiIndicators(w http.ResponseWriter, r *http.Request) error {
	if err := h.canOperate(r.Context()); err != nil {
		return err
	}
	tlp, err := ParseTLP(r.URL.Query().Get("tlp"))
	if err != nil {
		return err
	}
	active, _, err := h.sh.Bans(r.Context(), 10000)
	if err != nil {
		return err
	}
	if err := h.sh.cfg.Journal.RecordTx(r.Context(), vigie.Record{Action: vigie.ActCommunicate, Object: "ban",
		Detail: fmt.Sprintf("STIX 2.1 export of %d indicators, %s", len(active), tlpMarkings[tlp].Name)}); err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, STIXBundle(active, tlp, "Vigie "+r.Host, h.sh.now()))
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "shield", "Not found.", errors.New("bad id"))
	}
	return id, nil
}
