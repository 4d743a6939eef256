package complaint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/blob"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
	"vigie/internal/mail"
	"vigie/internal/org"
	"vigie/internal/web"
)

// memJournal records what would be journaled.
type memJournal struct {
	mu   sync.Mutex
	recs []vigie.Record
}

func (j *memJournal) Record(ctx context.Context, tx *db.Tx, r vigie.Record) error {
	if r.Action == vigie.ActConsult && r.Motif == "" {
		return vigie.Invalidf("test.journal", "motif required")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
	return nil
}

func (j *memJournal) find(action, object, id string) []vigie.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []vigie.Record
	for _, r := range j.recs {
		if r.Action == action && r.Object == object && (id == "" || r.ObjectID == id) {
			out = append(out, r)
		}
	}
	return out
}

// mailbox records the e-mails queued (the SMTP sending itself is
// internal/mail's, tested there against a real SMTP server).
type mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
}

func (m *mailbox) Enqueue(ctx context.Context, tx *db.Tx, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// hooks records the calls of the case-file hooks.
type hooks struct {
	mu      sync.Mutex
	indexed map[int64][]ident.Identifier
	opened  []Accepted
	failIdx error
	moved   map[int64][2]string // complaint → dept, unit
}

func (h *hooks) move(ctx context.Context, tx *db.Tx, id int64, dept string, unit int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.moved[id] = [2]string{dept, strconv.FormatInt(unit, 10)}
	return nil
}

func (h *hooks) index(ctx context.Context, tx *db.Tx, id int64, dept string, unit int64, ids []ident.Identifier) error {
	if h.failIdx != nil {
		return h.failIdx
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.indexed[id] = append(h.indexed[id], ids...)
	return nil
}

func (h *hooks) open(ctx context.Context, tx *db.Tx, c Accepted) (int64, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opened = append(h.opened, c)
	return int64(len(h.opened)), fmt.Sprintf("2026-01-%06d", len(h.opened)), nil
}

// env is a complaint area on a real database with the demo organisation
// of département 01 (and 2A), the real authorization policy and a web
// server whose authenticator takes the user from a header.
type env struct {
	t       testing.TB
	d       *db.DB
	org     *org.Service
	svc     *Service
	journal *memJournal
	hooks   *hooks
	mail    *mailbox
	srv     *httptest.Server
	users   map[string]*vigie.User
	now     time.Time
}

func newEnv(t testing.TB, d *db.DB, depts ...string) *env {
	t.Helper()
	ctx := context.Background()
	if len(depts) == 0 {
		depts = []string{"01", "2A"}
	}
	if err := d.InTx(ctx, func(tx *db.Tx) error { return org.SeedDemo(ctx, tx, depts...) }); err != nil {
		t.Fatalf("org demo: %v", err)
	}
	j := &memJournal{}
	o := org.New(org.Config{DB: d, Journal: j})
	if err := o.Tree().Load(ctx); err != nil {
		t.Fatal(err)
	}
	h := &hooks{indexed: map[int64][]ident.Identifier{}, moved: map[int64][2]string{}}
	e := &env{t: t, d: d, org: o, journal: j, hooks: h, mail: &mailbox{}, now: time.Now()}
	store, err := blob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = New(Config{DB: d, Journal: j, Org: o, BaseURL: "https://vigie.example", CardKey: []byte("test card key"), Mail: e.mail, Blobs: store,
		IndexIdentifiers: h.index, OpenCase: h.open, MoveIdentifiers: h.move,
		Suggest: func(n string) (string, string, float64, []string) {
			return CatOnlineScam, "high", 0.8, []string{"the narrative mentions a transfer"}
		},
		AccountEmail: func(ctx context.Context, id int64) (string, error) {
			if id == 101 {
				return "jeanne.account@example.fr", nil
			}
			return "", nil
		},
		Colleagues: func(ctx context.Context, unit int64) ([]Colleague, error) {
			return []Colleague{{ID: 21, Name: "Gendarme Dupuis"}}, nil
		}})
	// Users: citizens, agents of the brigade of Bourg-en-Bresse and of a
	// Corsican brigade.
	_, bourg, err := o.RouteCommune(ctx, "01053")
	if err != nil {
		t.Fatal(err)
	}
	e.users = map[string]*vigie.User{
		"jeanne":   {ID: 101, Login: "jeanne", Name: "Jeanne Dupont", Role: vigie.RoleCitizen},
		"paul":     {ID: 102, Login: "paul", Name: "Paul Autre", Role: vigie.RoleCitizen},
		"agent":    {ID: 201, Login: "agent", Name: "Gendarme Martin", Role: vigie.RoleAgent, UnitID: bourg.ID, Dept: "01"},
		"admin01":  {ID: 301, Login: "admin01", Name: "Admin Ain", Role: vigie.RoleAdmin, Dept: "01"},
		"commande": {ID: 203, Login: "commande", Name: "Capitaine", Role: vigie.RoleCommander, UnitID: o.Tree().Parent(bourg.ID), Dept: "01"},
	}
	if slicesContains(depts, "2A") {
		_, ajaccio, err := o.RouteCommune(ctx, "2A004")
		if err != nil {
			t.Fatal(err)
		}
		e.users["agent2a"] = &vigie.User{ID: 202, Login: "agent2a", Name: "Gendarme Corse", Role: vigie.RoleAgent, UnitID: ajaccio.ID, Dept: "2A"}
	}
	return e
}

func slicesContains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// as returns a context acting as user login.
func (e *env) as(login string) context.Context {
	u := e.users[login]
	if u == nil {
		e.t.Fatalf("no test user %q", login)
	}
	return vigie.WithUser(context.Background(), u)
}

// serve starts the web server of the area.
func (e *env) serve() {
	e.t.Helper()
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	s.SetAuthenticator(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u := e.users[r.Header.Get("X-Test-User")]; u != nil {
				r = r.WithContext(vigie.WithUser(r.Context(), u))
			}
			next.ServeHTTP(w, r)
		})
	})
	motif := func(w http.ResponseWriter, r *http.Request) (string, bool, error) {
		m := r.FormValue("motif")
		if m == "" {
			if web.WantsJSON(r) {
				return "", false, vigie.Invalidf("test.motif", "A reason (motif) is required.")
			}
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "MOTIF PAGE")
			return "", false, nil
		}
		return m, true, nil
	}
	NewHandler(e.svc, auth.NewPolicy(nil, e.org.Tree()), e.org.Tree(), motif).Register(s)
	e.srv = httptest.NewServer(s.Handler())
	e.t.Cleanup(e.srv.Close)
}

// do sends a request as user (no redirects followed) and returns the
// response and its body.
func (e *env) do(user, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Referer", e.srv.URL+path)
	req.Header.Set("X-Test-User", user)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// goodForm is a complete, valid online-scam complaint placed in
// Bourg-en-Bresse.
func goodForm(now time.Time) Form {
	return Form{Emergency: "no", AuthorKnown: "no", Violence: "no", Category: CatOnlineScam,
		Narrative: "Un faux vendeur m'a demandé un virement de 450 euros pour une console, jamais livrée.",
		Commune:   "Bourg-en-Bresse (01053)", Address: "12 rue Bichat",
		From: now.Add(-72 * time.Hour).In(paris).Format("2006-01-02T15:04"), To: now.Add(-48 * time.Hour).In(paris).Format("2006-01-02T15:04"),
		VictimIs: "self", Victim: Person{Name: "Jeanne Dupont", Email: "jeanne@example.fr", Phone: "06 12 34 56 78"},
		Payments:  []Payment{{IBAN: "FR76 3000 6000 0112 3456 7890 189", Amount: "450", Date: now.Add(-60 * time.Hour).In(paris).Format("2006-01-02")}},
		ScamPhone: "07 56 12 34 98", Consent: "yes"}
}

// draft stores a draft with form f for owner.
func (e *env) draft(owner string, f Form) Draft {
	e.t.Helper()
	d, err := e.svc.NewDraft(context.Background(), e.users[owner].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	d.Form = f
	d.Step = FormReview
	if err := updateDraft(context.Background(), e.d, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// submit files a good complaint for owner and returns it.
func (e *env) submit(owner string) Complaint {
	e.t.Helper()
	d := e.draft(owner, goodForm(time.Now()))
	c, err := e.svc.Submit(e.as(owner), d.ID)
	if err != nil {
		e.t.Fatalf("Submit: %v", err)
	}
	// The receipt e-mail follows the submission (receiptmail.go); no
	// worker runs in these tests, so send it here.
	if _, err := e.svc.SendPendingReceipts(context.Background(), false); err != nil {
		e.t.Fatalf("SendPendingReceipts: %v", err)
	}
	return c
}

// upload posts a file as a multipart form, as user.
func (e *env) upload(user, path, name string, content []byte, fields url.Values) (*http.Response, string) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Test-User", user)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
