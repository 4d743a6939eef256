package waf

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"

	"vigie"
	"vigie/internal/web"
)

//go:embed all:templates
var templates embed.FS

// authorizer decides whether the acting user may do something
// (internal/auth's policy; main wires it).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

// Handler serves the virtual patches API.
type Handler struct {
	patches *Patches
	auth    authorizer
	web     *web.Server
}

// NewHandler returns the handler of the virtual patches.
func NewHandler(p *Patches, auth authorizer) *Handler { return &Handler{patches: p, auth: auth} }

// Register adds the pages and the API:
//
//	GET  /security/rules                         list, test form, add form
//	POST /security/rules                         add
//	POST /security/rules/test                    test a rule against a sample
//	GET  /security/rules/{id}                    versions, change, enable, roll back
//	POST /security/rules/{id}                    change (text, enabled)
//	POST /security/rules/{id}/rollback           restore a version
//	GET  /api/v1/security/rules                  current version of every patch
//	POST /api/v1/security/rules                  add {name, seclang, enabled, note}
//	POST /api/v1/security/rules/test             {seclang, sample}: what the firewall would do
//	GET  /api/v1/security/rules/{id}/versions    every version, newest first
//	POST /api/v1/security/rules/{id}             change {seclang?, enabled?, note}
//	POST /api/v1/security/rules/{id}/rollback    {version, note}
func (h *Handler) Register(s *web.Server) error {
	sub, _ := fs.Sub(templates, "templates")
	if err := s.AddTemplates("waf", sub); err != nil {
		return fmt.Errorf("waf: templates: %w", err)
	}
	h.web = s
	s.AddNav(web.NavItem{Path: "/security/rules", Label: "Firewall rules", Roles: []vigie.Role{vigie.RoleSecurity}})
	s.Route("GET /security/rules", h.pageRules)
	s.FormRoute("POST /security/rules", h.formCreate)
	s.Route("POST /security/rules/test", h.formTest)
	s.Route("GET /security/rules/{id}", h.pageRule)
	s.FormRoute("POST /security/rules/{id}", h.formChange)
	s.FormRoute("POST /security/rules/{id}/rollback", h.formRollback)

	s.Route("GET /api/v1/security/rules", h.list)
	s.Route("POST /api/v1/security/rules", h.create)
	s.Route("POST /api/v1/security/rules/test", h.test)
	s.Route("GET /api/v1/security/rules/{id}/versions", h.versions)
	s.Route("POST /api/v1/security/rules/{id}", h.change)
	s.Route("POST /api/v1/security/rules/{id}/rollback", h.rollback)
	return nil
}

type rulesPage struct {
	Patches []Patch
	SecLang string
	Sample  Sample
	Methods []string
	Result  *TestResult
}

func (h *Handler) renderRules(w http.ResponseWriter, r *http.Request, pg rulesPage) error {
	list, err := h.patches.List(r.Context())
	if err != nil {
		return err
	}
	pg.Patches, pg.Methods = list, []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	if pg.Sample.Method == "" {
		pg.Sample.Method = "GET"
	}
	return h.web.Render(w, r, "waf/rules.html", pg)
}

func (h *Handler) pageRules(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	return h.renderRules(w, r, rulesPage{})
}

func (h *Handler) formTest(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	pg := rulesPage{SecLang: r.PostFormValue("seclang"), Sample: Sample{Method: r.PostFormValue("method"), Target: r.PostFormValue("target"), Body: r.PostFormValue("body")}}
	if pg.Sample.Body != "" {
		pg.Sample.ContentType = "application/x-www-form-urlencoded"
	}
	res, err := h.patches.Test(r.Context(), pg.SecLang, pg.Sample)
	if err != nil {
		return err
	}
	pg.Result = &res
	return h.renderRules(w, r, pg)
}

func (h *Handler) formCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	p, err := h.patches.Create(r.Context(), r.PostFormValue("name"), r.PostFormValue("seclang"), r.PostFormValue("note"), r.PostFormValue("enabled") == "1")
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.Tf(web.Lang(r), "Virtual patch %q saved (version %d).", p.Name, p.Version))
	http.Redirect(w, r, "/security/rules/"+strconv.FormatInt(p.RuleID, 10), http.StatusSeeOther)
	return nil
}

type rulePage struct {
	Current  Patch
	Versions []Patch
}

func (h *Handler) pageRule(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	hist, err := h.patches.History(r.Context(), id)
	if err != nil {
		return err
	}
	return h.web.Render(w, r, "waf/rule.html", rulePage{Current: hist[0], Versions: hist})
}

func (h *Handler) formChange(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	var enabled *bool
	if v := r.PostFormValue("enabled"); v != "" {
		e := v == "1"
		enabled = &e
	}
	p, err := h.patches.Change(r.Context(), id, r.PostFormValue("seclang"), enabled, r.PostFormValue("note"))
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.Tf(web.Lang(r), "Virtual patch %q saved (version %d).", p.Name, p.Version))
	http.Redirect(w, r, "/security/rules/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) formRollback(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	p, err := h.patches.Rollback(r.Context(), id, version, r.PostFormValue("note"))
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.Tf(web.Lang(r), "Virtual patch %q saved (version %d).", p.Name, p.Version))
	http.Redirect(w, r, "/security/rules/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// securityTarget: the firewall is the whole deployment's defence.
var securityTarget = vigie.Target{Kind: "security"}

// canManage: the firewall's rules are the business of security officers and
// administrators of national scope (the security permission on the
// deployment, as the security centre).
func (h *Handler) canManage(ctx context.Context) error {
	return h.auth.Check(ctx, vigie.PermSecurity, securityTarget)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	list, err := h.patches.List(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []Patch{}
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"rules": list})
	return nil
}

type createBody struct {
	Name    string `json:"name"`
	SecLang string `json:"seclang"`
	Enabled bool   `json:"enabled"`
	Note    string `json:"note"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	var b createBody
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	p, err := h.patches.Create(r.Context(), b.Name, b.SecLang, b.Note, b.Enabled)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, p)
	return nil
}

type testBody struct {
	SecLang string `json:"seclang"`
	Sample  Sample `json:"sample"`
}

func (h *Handler) test(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	var b testBody
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	res, err := h.patches.Test(r.Context(), b.SecLang, b.Sample)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, res)
	return nil
}

func ruleID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "waf.rule", "No such virtual patch.", nil)
	}
	return id, nil
}

func (h *Handler) versions(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	hist, err := h.patches.History(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"versions": hist})
	return nil
}

type changeBody struct {
	SecLang string `json:"seclang"`
	Enabled *bool  `json:"enabled"`
	Note    string `json:"note"`
}

func (h *Handler) change(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	var b changeBody
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	p, err := h.patches.Change(r.Context(), id, b.SecLang, b.Enabled, b.Note)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, p)
	return nil
}

type rollbackBody struct {
	Version int    `json:"version"`
	Note    string `json:"note"`
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request) error {
	if err := h.canManage(r.Context()); err != nil {
		return err
	}
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	var b rollbackBody
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	p, err := h.patches.Rollback(r.Context(), id, b.Version, b.Note)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, p)
	return nil
}
