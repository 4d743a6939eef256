package casefile

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/blob"
	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/web"
)

//go:embed all:templates
var templates embed.FS

// Handler serves the case-file pages and API.
type Handler struct {
	svc *Service
	s   *web.Server
}

// NewHandler returns the handler of the case-file area.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// staffRoles see the menu entry.
var staffRoles = []vigie.Role{vigie.RoleAgent, vigie.RoleInvestigator, vigie.RoleCommander}

// Register adds the area's templates, menu entries and routes to s.
func (h *Handler) Register(s *web.Server) error {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		return err
	}
	if err := s.AddTemplates("casefile", sub); err != nil {
		return fmt.Errorf("casefile: templates: %w", err)
	}
	h.s = s
	s.AddNav(web.NavItem{Path: "/cases", Label: "Case files", Roles: staffRoles})

	s.Route("GET /cases", h.pageList)
	s.Route("GET /cases/access", h.pageAccess)
	s.FormRoute("POST /cases/access", h.formRequestAccess)
	s.FormRoute("POST /cases/access/{id}/decide", h.formDecide)
	s.Route("GET /cases/links", h.pageLinks)
	s.Route("GET /cases/{id}", h.pageCase)
	s.Route("GET /cases/{id}/pv.pdf", h.pv)
	s.Route("GET /cases/{id}/documents/{doc}", h.document)
	s.FormRoute("POST /cases/{id}/status", h.formStatus)
	s.FormRoute("POST /cases/{id}/parties", h.formParty)
	s.FormRoute("POST /cases/{id}/items", h.formItem)
	s.FormRoute("POST /cases/{id}/notes", h.formNote)
	s.FormRoute("POST /cases/{id}/tasks", h.formTask)
	s.FormRoute("POST /cases/{id}/tasks/{task}/done", h.formTaskDone)
	s.FormRoute("POST /cases/{id}/documents", h.formDocument)
	s.FormRoute("POST /cases/{id}/classify", h.formClassify)

	s.Route("GET /api/v1/cases", h.apiList)
	s.Route("GET /api/v1/cases/{id}", h.apiCase)
	s.Route("GET /api/v1/links", h.apiLinks)
	return nil
}

func pathInt(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "casefile.path", "Not found.", nil)
	}
	return id, nil
}

type listPage struct {
	Pending  int // access requests awaiting the reader's decision
	Cases    []Case
	Status   Status
	Statuses []Status
	Offset   int
	Next     int
}

func (h *Handler) pageList(w http.ResponseWriter, r *http.Request) error {
	status := Status(r.URL.Query().Get("status"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	cs, err := h.svc.List(r.Context(), status, 100, offset)
	if err != nil {
		return err
	}
	p := listPage{Cases: cs, Status: status, Statuses: Statuses, Offset: offset}
	if _, toDecide, err := h.svc.AccessRequests(r.Context()); err == nil {
		p.Pending = len(toDecide)
	}
	if len(cs) == 100 {
		p.Next = offset + 100
	}
	return h.s.Render(w, r, "casefile/list.html", p)
}

type casePage struct {
	Detail
	Motif      string
	Next       []Status
	Groups     []Group
	Suggestion *triage.Suggestion
	Categories []string
	Priorities []string
	Roles      []string
	ItemKinds  []string
	Now        time.Time
	CanWrite   bool
	SuggestPct int
	Reasons    []string // the suggestion's words, word pairs written with a space
}

// caseMotif passes the motif gate and returns the motif.
func (h *Handler) caseMotif(w http.ResponseWriter, r *http.Request, id int64) (string, bool, error) {
	// The right comes first: nobody is asked why they want a case they may
	// not read, and the gate does not reveal whether it exists.
	if _, err := h.svc.caseFor(r.Context(), id, vigie.PermRead); err != nil {
		return "", false, err
	}
	return audit.RequireMotif(h.s, w, r)
}

func (h *Handler) pageCase(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	motif, ok, err := h.caseMotif(w, r, id)
	if !ok {
		return err
	}
	d, err := h.svc.Get(ctx, id, motif)
	if err != nil {
		return err
	}
	groups, err := h.svc.links.Related(ctx, d.Case)
	if err != nil {
		return err
	}
	p := casePage{Detail: d, Motif: motif, Next: d.Case.Status.Next(), Groups: groups, Categories: Categories,
		Priorities: Priorities, Roles: PartyRoles, ItemKinds: ItemKinds, Now: h.svc.now(),
		CanWrite: d.Case.Status != StatusClosed && h.svc.authz.Check(ctx, vigie.PermWrite, d.Case.Target()) == nil}
	if t := h.svc.cfg.Triage; t != nil && d.Case.Narrative != "" {
		sg := t.Suggest(d.Case.Narrative)
		p.Suggestion = &sg
		p.SuggestPct = int(sg.Confidence*100 + 0.5)
		for _, r := range sg.Reasons {
			p.Reasons = append(p.Reasons, strings.ReplaceAll(r, "_", " "))
		}
	}
	return h.s.Render(w, r, "casefile/case.html", p)
}

// back returns to the case page with the motif the form carried.
func back(w http.ResponseWriter, r *http.Request, id int64, anchor string) {
	u := "/cases/" + strconv.FormatInt(id, 10)
	if m := r.PostFormValue("motif"); m != "" {
		u += "?motif=" + url.QueryEscape(m)
	}
	http.Redirect(w, r, u+anchor, http.StatusSeeOther)
}

func (h *Handler) formStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.SetStatus(r.Context(), id, Status(r.PostFormValue("status")), r.PostFormValue("note")); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The status of the case was changed."))
	back(w, r, id, "")
	return nil
}

func (h *Handler) formParty(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	p := Party{Role: r.PostFormValue("role"), Name: r.PostFormValue("name"), BirthDate: r.PostFormValue("birth_date"),
		Address: r.PostFormValue("address"), Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email"),
		Details: r.PostFormValue("details")}
	if _, err := h.svc.AddParty(r.Context(), id, p); err != nil {
		return err
	}
	back(w, r, id, "#parties")
	return nil
}

func itemFromForm(r *http.Request) ItemInput {
	return ItemInput{Kind: r.PostFormValue("kind"), Description: r.PostFormValue("description"),
		Identifier: r.PostFormValue("identifier"), Extra: r.PostFormValue("extra"), Amount: r.PostFormValue("amount"),
		Date: r.PostFormValue("date"), IBAN: r.PostFormValue("iban")}
}

func (h *Handler) formItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.AddItem(r.Context(), id, itemFromForm(r)); err != nil {
		return err
	}
	back(w, r, id, "#items")
	return nil
}

func (h *Handler) formNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.AddNote(r.Context(), id, r.PostFormValue("body")); err != nil {
		return err
	}
	back(w, r, id, "#notes")
	return nil
}

// parseDue reads a due date (YYYY-MM-DD, end of that day in Paris).
func parseDue(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, paris)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return time.Time{}, vigie.Invalidf("casefile.AddTask", "The due date must be a date such as 2026-03-14.")
	}
	return d.Add(24*time.Hour - time.Minute), nil
}

func (h *Handler) formTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	due, err := parseDue(r.PostFormValue("due"))
	if err != nil {
		return err
	}
	t := Task{Title: r.PostFormValue("title"), DueAt: due, Assignee: strings.TrimSpace(r.PostFormValue("assignee"))}
	if err := checkText("casefile.AddTask", "The assignee", t.Assignee, maxName, false); err != nil {
		return err
	}
	if _, err := h.svc.AddTask(r.Context(), id, t); err != nil {
		return err
	}
	back(w, r, id, "#tasks")
	return nil
}

func (h *Handler) formTaskDone(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	task, err := pathInt(r, "task")
	if err != nil {
		return err
	}
	if err := h.svc.CompleteTask(r.Context(), id, task); err != nil {
		return err
	}
	back(w, r, id, "#tasks")
	return nil
}

func (h *Handler) formDocument(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, DocumentLimits.MaxSize+1<<20)
	f, fh, err := r.FormFile("file")
	if err != nil {
		return vigie.E(vigie.KindInvalid, "casefile.AddDocument", "Choose a file to add (at most 20 MiB).", err)
	}
	defer f.Close()
	if _, err := h.svc.AddDocument(r.Context(), id, fh.Filename, f); err != nil {
		return err
	}
	back(w, r, id, "#documents")
	return nil
}

func (h *Handler) formClassify(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.Classify(r.Context(), id, r.PostFormValue("category"), r.PostFormValue("priority")); err != nil {
		return err
	}
	back(w, r, id, "")
	return nil
}

func (h *Handler) document(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	docID, err := pathInt(r, "doc")
	if err != nil {
		return err
	}
	motif, ok, err := h.caseMotif(w, r, id)
	if !ok {
		return err
	}
	d, rc, err := h.svc.OpenDocument(r.Context(), id, docID, motif)
	if err != nil {
		return err
	}
	defer rc.Close()
	// SECURITY: never inline from our origin (blob.ServeAttachment sets
	// attachment, nosniff and a sandbox CSP).
	blob.ServeAttachment(w, r, rc, blob.Object{SHA256: d.SHA256, Size: d.Size, Type: d.Type, Name: d.Name})
	return nil
}

func (h *Handler) pv(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	motif, ok, err := h.caseMotif(w, r, id)
	if !ok {
		return err
	}
	var buf bytes.Buffer
	if err := h.svc.PV(r.Context(), id, motif, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="pv-brouillon-`+strconv.FormatInt(id, 10)+`.pdf"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

type accessPage struct {
	Mine, ToDecide []AccessRequest
}

func (h *Handler) pageAccess(w http.ResponseWriter, r *http.Request) error {
	mine, toDecide, err := h.svc.AccessRequests(r.Context())
	if err != nil {
		return err
	}
	return h.s.Render(w, r, "casefile/access.html", accessPage{Mine: mine, ToDecide: toDecide})
}

func (h *Handler) formRequestAccess(w http.ResponseWriter, r *http.Request) error {
	srcID, err := strconv.ParseInt(r.PostFormValue("source_id"), 10, 64)
	if err != nil || srcID <= 0 {
		return vigie.Invalidf("casefile.RequestAccess", "Name the record you ask access to.")
	}
	src := Source{Kind: r.PostFormValue("source_kind"), ID: srcID}
	// From one of the agent's cases, or from a complaint's page.
	if v := r.PostFormValue("from_complaint"); v != "" {
		from, err := strconv.ParseInt(v, 10, 64)
		if err != nil || from <= 0 {
			return vigie.Invalidf("casefile.RequestAccess", "The request must come from one of your cases or complaints.")
		}
		_, err = h.svc.RequestAccessFromComplaint(r.Context(), from, src, r.PostFormValue("reason"))
		if err != nil {
			return err
		}
	} else {
		from, err := strconv.ParseInt(r.PostFormValue("from_case"), 10, 64)
		if err != nil || from <= 0 {
			return vigie.Invalidf("casefile.RequestAccess", "The request must come from one of your cases.")
		}
		if _, err := h.svc.RequestAccess(r.Context(), from, src, r.PostFormValue("reason")); err != nil {
			return err
		}
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your request was sent to the holding unit."))
	http.Redirect(w, r, "/cases/access", http.StatusSeeOther)
	return nil
}

func (h *Handler) formDecide(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		return vigie.Invalidf("casefile.DecideAccess", "Choose to approve or refuse the request.")
	}
	if _, err := h.svc.DecideAccess(r.Context(), id, approve, r.PostFormValue("note")); err != nil {
		return err
	}
	http.Redirect(w, r, "/cases/access", http.StatusSeeOther)
	return nil
}

type kindOption struct{ Value, Label string }

type linksPage struct {
	Kinds []kindOption
	Kind  string
	Value string
	Group *Group
	Error string
}

// pageLinks searches the index for an identifier typed by the agent. A
// search names a person's phone or account: it asks for a motif and is
// journaled.
func (h *Handler) pageLinks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() || u.UnitID == 0 {
		return vigie.ErrForbidden
	}
	p := linksPage{Kind: r.URL.Query().Get("kind"), Value: r.URL.Query().Get("value")}
	for _, k := range ident.Kinds {
		p.Kinds = append(p.Kinds, kindOption{Value: string(k), Label: KindLabel(k)})
	}
	if p.Value == "" {
		return h.s.Render(w, r, "casefile/links.html", p)
	}
	motif, ok, err := audit.RequireMotif(h.s, w, r)
	if !ok {
		return err
	}
	g, err := h.svc.SearchLinks(ctx, p.Kind, p.Value, motif)
	if vigie.KindOf(err) == vigie.KindInvalid {
		p.Error = vigie.MessageOf(err)
		return h.s.RenderStatus(w, r, http.StatusBadRequest, "casefile/links.html", p)
	}
	if err != nil {
		return err
	}
	p.Group = &g
	return h.s.Render(w, r, "casefile/links.html", p)
}
