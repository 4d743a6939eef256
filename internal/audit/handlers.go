package audit

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"vigie"
	"vigie/internal/web"
)

//go:embed templates
var templates embed.FS

// authorizer decides whether the acting user may do p on t (internal/auth).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

// Handler serves the security officers' pages and the journal API.
type Handler struct {
	j     *Journal
	authz authorizer
	s     *web.Server
}

// NewHandler returns the handler of the journal's pages and API.
func NewHandler(j *Journal, authz authorizer) *Handler { return &Handler{j: j, authz: authz} }

// Register adds the journal's templates (including the motif page that
// RequireMotif renders for every area) and routes to s.
func (h *Handler) Register(s *web.Server) error {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		return err
	}
	if err := s.AddTemplates("audit", sub); err != nil {
		return err
	}
	h.s = s
	s.Route("GET /audit", h.searchPage)
	s.Route("GET /audit/{seq}", h.entryPage)
	s.Route("GET /audit/status", h.statusPage)
	s.Route("POST /audit/verify", h.startVerify)
	s.Route("GET /audit/export", h.export)
	s.Route("GET /api/v1/audit", h.searchAPI)
	s.Route("GET /api/v1/audit/export", h.export)
	s.Route("GET /api/v1/audit/status", h.statusAPI)
	s.Route("GET /api/v1/audit/{seq}", h.entryAPI)
	s.AddNav(web.NavItem{Path: "/audit", Label: "Journal", Roles: []vigie.Role{vigie.RoleSecurity}})
	return nil
}

// MotifFrom returns the canonical motif of a request: the "motif" form or
// query value (a case number such as 2026-01-000123, a reason code, or
// "code:case number"), with an optional case number in "dossier". It
// returns a KindInvalid error that tells the user what to give.
func MotifFrom(r *http.Request) (string, error) {
	return ParseMotif(r.FormValue("motif"), r.FormValue("dossier"))
}

// RequireMotif is the motif gate for handlers that show personal data:
//
//	motif, ok, err := audit.RequireMotif(s, w, r)
//	if !ok {
//		return err // the motif page was rendered (err nil), or an API error
//	}
//	// journal the consultation with motif, then show the data
//
// For pages it renders a form asking for the motif that resubmits (GET) to
// the same URL with the same query; for API calls it returns the
// KindInvalid error. The motif page belongs to this package: the journal's
// Register must have run on s.
func RequireMotif(s *web.Server, w http.ResponseWriter, r *http.Request) (string, bool, error) {
	m, err := MotifFrom(r)
	if err == nil {
		return m, true, nil
	}
	if web.WantsJSON(r) {
		return "", false, err
	}
	q := r.URL.Query()
	given := q.Get("motif") != "" || q.Get("dossier") != ""
	page := motifPage{Action: r.URL.Path, Reasons: Reasons, Motif: q.Get("motif"), Dossier: q.Get("dossier")}
	for k, vs := range q {
		if k == "motif" || k == "dossier" {
			continue
		}
		for _, v := range vs {
			page.Hidden = append(page.Hidden, [2]string{k, v})
		}
	}
	code := http.StatusOK
	if given {
		page.Error = vigie.MessageOf(err)
		code = http.StatusBadRequest
	}
	return "", false, s.RenderStatus(w, r, code, "audit/motif.html", page)
}

type motifPage struct {
	Action  string
	Hidden  [][2]string
	Reasons []Reason
	Motif   string
	Dossier string
	Error   string
}

// actor returns the signed-in user or an error.
func actor(r *http.Request) (*vigie.User, error) {
	u := vigie.UserFrom(r.Context())
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	return u, nil
}

// searchQuery parses and authorizes a search. Pages default to the user's
// département; a national search needs a national scope.
func (h *Handler) searchQuery(r *http.Request, p vigie.Perm, page bool) (Query, error) {
	u, err := actor(r)
	if err != nil {
		return Query{}, err
	}
	v := r.URL.Query()
	q, err := ParseQuery(v)
	if err != nil {
		return q, err
	}
	if page && !v.Has("dept") && u.Dept != "" {
		q.Dept = u.Dept
	}
	return q, h.authz.Check(r.Context(), p, vigie.Target{Dept: q.Dept, Kind: "journal"})
}

type searchData struct {
	Q       Query
	Motif   string
	Entries []*Entry
	Next    string // query string of the next page, "" if none
	Export  string // query string for exports
	// Links for the page, built here from our own encoding.
	NextURL, ExportCSV, ExportJSON template.URL
	Actions                        []string
}

func (h *Handler) search(r *http.Request, page bool) (*searchData, error) {
	q, err := h.searchQuery(r, vigie.PermJournalRead, page)
	if err != nil {
		return nil, err
	}
	return &searchData{Q: q, Actions: Actions()}, nil
}

func (h *Handler) runSearch(r *http.Request, data *searchData) error {
	q := data.Q
	if err := h.j.RecordTx(r.Context(), vigie.Record{Action: vigie.ActConsult, Object: "journal", Dept: q.Dept,
		Motif: data.Motif, Detail: clip("search "+q.Values().Encode(), maxDetail)}); err != nil {
		return err
	}
	err := search(r.Context(), h.j.db, q, q.Limit+1, func(e *Entry) error {
		data.Entries = append(data.Entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	if len(data.Entries) > q.Limit {
		data.Entries = data.Entries[:q.Limit]
		next := q
		next.Before = data.Entries[len(data.Entries)-1].Seq
		v := next.Values()
		v.Set("motif", data.Motif)
		data.Next = v.Encode()
	}
	ev := q.Values()
	ev.Del("before")
	ev.Del("limit")
	ev.Set("motif", data.Motif)
	data.Export = ev.Encode()
	if data.Next != "" {
		data.NextURL = template.URL("/audit?" + data.Next)
	}
	data.ExportCSV = template.URL("/audit/export?" + data.Export + "&format=csv")
	data.ExportJSON = template.URL("/audit/export?" + data.Export + "&format=json")
	return nil
}

func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request) error {
	data, err := h.search(r, true)
	if err != nil {
		return err
	}
	motif, ok, err := RequireMotif(h.s, w, r)
	if !ok {
		return err
	}
	data.Motif = motif
	if err := h.runSearch(r, data); err != nil {
		return err
	}
	return h.s.Render(w, r, "audit/search.html", data)
}

func (h *Handler) searchAPI(w http.ResponseWriter, r *http.Request) error {
	data, err := h.search(r, false)
	if err != nil {
		return err
	}
	if data.Motif, err = MotifFrom(r); err != nil {
		return err
	}
	if err := h.runSearch(r, data); err != nil {
		return err
	}
	out := struct {
		Entries []*Entry `json:"entries"`
		Next    string   `json:"next,omitempty"`
	}{Entries: data.Entries}
	if out.Entries == nil {
		out.Entries = []*Entry{}
	}
	if data.Next != "" {
		out.Next = "/api/v1/audit?" + data.Next
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// entry loads, authorizes and journals the reading of one entry.
func (h *Handler) entry(w http.ResponseWriter, r *http.Request) (*Entry, string, bool, error) {
	if _, err := actor(r); err != nil {
		return nil, "", false, err
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq <= 0 {
		return nil, "", false, vigie.Invalidf("audit.entry", "The entry number must be a positive whole number.")
	}
	e, err := getEntry(r.Context(), h.j.db, seq)
	if err != nil {
		return nil, "", false, err
	}
	if err := h.authz.Check(r.Context(), vigie.PermJournalRead, vigie.Target{Dept: e.Dept, Kind: "journal", ID: strconv.FormatInt(seq, 10)}); err != nil {
		return nil, "", false, err
	}
	motif, ok, err := RequireMotif(h.s, w, r)
	if !ok {
		return nil, "", false, err
	}
	err = h.j.RecordTx(r.Context(), vigie.Record{Action: vigie.ActConsult, Object: "journal", ObjectID: strconv.FormatInt(seq, 10), Dept: e.Dept, Motif: motif})
	return e, motif, err == nil, err
}

func (h *Handler) entryPage(w http.ResponseWriter, r *http.Request) error {
	e, motif, ok, err := h.entry(w, r)
	if !ok {
		return err
	}
	reason, caseNo, _ := ReasonOf(e.Motif)
	return h.s.Render(w, r, "audit/entry.html", struct {
		E      *Entry
		Motif  string
		Reason Reason
		Case   string
	}{e, motif, reason, caseNo})
}

func (h *Handler) entryAPI(w http.ResponseWriter, r *http.Request) error {
	e, _, ok, err := h.entry(w, r)
	if !ok {
		return err
	}
	web.WriteJSON(w, http.StatusOK, e)
	return nil
}

// Status is what the status page and API show.
type Status struct {
	HeadSeq        int64       `json:"head_seq"`
	LastCheckpoint *Checkpoint `json:"last_checkpoint,omitempty"`
	AnchorSeq      int64       `json:"anchor_seq,omitempty"`
	PurgedBefore   time.Time   `json:"purged_before,omitzero"`
	LastVerify     *Report     `json:"last_verification,omitempty"`
	Running        bool        `json:"verifying"`
	Done           int64       `json:"verified"`
	Total          int64       `json:"to_verify"`
	KeyID          string      `json:"key_id"`
}

// Status returns the state of the journal: head, last checkpoint, purge
// anchor, last verification and the one in progress in this process.
func (j *Journal) Status(ctx context.Context) (*Status, error) {
	st := &Status{KeyID: j.keyID}
	var err error
	if st.HeadSeq, _, err = readHead(ctx, j.db); err != nil {
		return nil, err
	}
	if st.LastCheckpoint, err = lastCheckpoint(ctx, j.db); err != nil {
		return nil, err
	}
	a, err := readAnchor(ctx, j.db)
	if err != nil {
		return nil, err
	}
	if a != nil {
		st.AnchorSeq, st.PurgedBefore = a.Seq, a.Before
	}
	if st.LastVerify, err = lastVerification(ctx, j.db); err != nil {
		return nil, err
	}
	st.Running, st.Done, st.Total = j.Progress()
	return st, nil
}

func (h *Handler) status(r *http.Request) (*Status, error) {
	if _, err := actor(r); err != nil {
		return nil, err
	}
	if err := h.authz.Check(r.Context(), vigie.PermJournalRead, vigie.Target{Kind: "journal"}); err != nil {
		return nil, err
	}
	return h.j.Status(r.Context())
}

func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request) error {
	st, err := h.status(r)
	if err != nil {
		return err
	}
	return h.s.Render(w, r, "audit/status.html", st)
}

func (h *Handler) statusAPI(w http.ResponseWriter, r *http.Request) error {
	st, err := h.status(r)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

// startVerify runs a verification in the background; the status page shows
// its progress. Only one runs at a time in a process.
func (h *Handler) startVerify(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.status(r); err != nil {
		return err
	}
	if running, _, _ := h.j.Progress(); !running {
		if err := h.j.RecordTx(r.Context(), vigie.Record{Action: vigie.ActAdmin, Object: "journal", Detail: "verification started"}); err != nil {
			return err
		}
		h.j.setVerifying(true, nil) // before the redirect, so the page shows it
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Hour)
		h.j.bg.Go(func() {
			defer cancel()
			if _, err := h.j.Verify(ctx, nil); err != nil {
				h.j.log.Error("audit: verification failed", "err", err)
			}
		})
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, http.StatusAccepted, map[string]string{"status": "/api/v1/audit/status"})
		return nil
	}
	http.Redirect(w, r, "/audit/status", http.StatusSeeOther)
	return nil
}
