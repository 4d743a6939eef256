package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

// fakeAuthz lets security officers read their own département's journal,
// and national officers (no département) everything.
type fakeAuthz struct{}

func (fakeAuthz) Check(ctx context.Context, p vigie.Perm, t vigie.Target) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if u.Role != vigie.RoleSecurity || (p != vigie.PermJournalRead && p != vigie.PermJournalExport) {
		return vigie.ErrForbidden
	}
	if u.Dept != "" && u.Dept != t.Dept {
		return vigie.ErrForbidden
	}
	return nil
}

var (
	officer35 = &vigie.User{ID: 2, Login: "rssi.35", Role: vigie.RoleSecurity, Dept: "35", UnitID: 1}
	national  = &vigie.User{ID: 3, Login: "rssi.nat", Role: vigie.RoleSecurity}
)

type testServer struct {
	*httptest.Server
	j *Journal
	d *db.DB
}

// newServer serves the journal's routes with the user named by the
// X-Test-User header ("35", "nat", "agent"; none: signed out).
func newServer(t *testing.T) *testServer {
	t.Helper()
	d := dbtest.OpenSQLite(t)
	j := newJournal(t, d)
	s, err := web.New(web.Config{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewHandler(j, fakeAuthz{}).Register(s); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticator(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			users := map[string]*vigie.User{"35": officer35, "nat": national, "agent": agent}
			if u := users[r.Header.Get("X-Test-User")]; u != nil {
				r = r.WithContext(vigie.WithUser(r.Context(), u))
			}
			next.ServeHTTP(w, r)
		})
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, j: j, d: d}
}

func (ts *testServer) do(t *testing.T, method, path, user string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, nil)
	req.Header.Set("X-Test-User", user)
	req.Header.Set("Accept-Language", "fr")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// lastEntry returns the newest journal entry.
func (ts *testServer) lastEntry(t *testing.T) *Entry {
	t.Helper()
	seq, _, _ := ts.j.Head(context.Background())
	return entry(t, ts.d, seq)
}

func TestSearchPages(t *testing.T) {
	ts := newServer(t)
	fill(t, ts.j, 3) // three consultations in the 35
	if err := ts.j.RecordTx(userCtx(), vigie.Record{Action: vigie.ActChange, Object: "case", ObjectID: "9", Dept: "29"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, user string
		code             int
		want             []string
		journaled        string // detail prefix of the entry the request must add
	}{
		{"signed out", "/audit", "", http.StatusSeeOther, nil, ""},
		{"not an officer", "/audit?motif=plainte", "agent", http.StatusForbidden, nil, ""},
		{"motif asked", "/audit?actor=j.dupont", "35", http.StatusOK,
			[]string{"Motif de la consultation", `name="actor" value="j.dupont"`, `name="motif"`, `action="/audit"`}, ""},
		{"bad motif", "/audit?motif=curiosite", "35", http.StatusBadRequest, []string{"ne figure pas dans la liste"}, ""},
		{"search own département", "/audit?motif=controle-hierarchique", "35", http.StatusOK,
			[]string{"Journal des consultations", "j.dupont", "case 1000", "case 1002"}, "search dept=35"},
		{"other département refused", "/audit?dept=29&motif=plainte", "35", http.StatusForbidden, nil, ""},
		{"national search refused", "/audit?dept=&motif=plainte", "35", http.StatusForbidden, nil, ""},
		{"national officer", "/audit?dept=29&motif=controle-hierarchique", "nat", http.StatusOK, []string{"case 9"}, "search dept=29"},
		{"bad filter", "/audit?motif=plainte&from=yesterday", "35", http.StatusBadRequest, []string{"2026-01-31"}, ""},
		{"entry", "/audit/1?motif=plainte", "35", http.StatusOK, []string{"Entrée 1 du journal", "192.0.2.10", "Traitement d&#39;une plainte"}, ""},
		{"entry of another département", "/audit/4?motif=plainte", "35", http.StatusForbidden, nil, ""},
		{"entry not a number", "/audit/abc?motif=plainte", "35", http.StatusBadRequest, nil, ""},
		{"no such entry", "/audit/999?motif=plainte", "35", http.StatusNotFound, nil, ""},
		{"status", "/audit/status", "nat", http.StatusOK, []string{"Intégrité du journal", "pas encore été vérifié"}, ""},
		{"status needs national scope", "/audit/status", "35", http.StatusForbidden, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.lastEntry(t).Seq
			resp, body := ts.do(t, "GET", tc.path, tc.user)
			if resp.StatusCode != tc.code {
				t.Fatalf("GET %s = %d, want %d\n%s", tc.path, resp.StatusCode, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: body lacks %q", tc.path, w)
				}
			}
			last := ts.lastEntry(t)
			if tc.journaled != "" {
				if last.Seq != before+1 || last.Object != "journal" || last.Action != vigie.ActConsult || !strings.HasPrefix(last.Detail, tc.journaled) {
					t.Errorf("journal after GET %s: %+v, want a consult of the journal %q", tc.path, last, tc.journaled)
				}
			} else if tc.code != http.StatusOK && last.Seq != before {
				t.Errorf("GET %s refused but journaled %+v", tc.path, last)
			}
		})
	}
}

func TestSearchPaginates(t *testing.T) {
	ts := newServer(t)
	fill(t, ts.j, 5)
	_, body := ts.do(t, "GET", "/audit?motif=plainte&object=case&limit=2", "35")
	if !strings.Contains(body, ">5<") || !strings.Contains(body, ">4<") || strings.Contains(body, ">3<") {
		t.Errorf("first page should hold entries 5 and 4 only")
	}
	m := regexp.MustCompile(`href="(/audit\?[^"]*before=4[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link to the next page in\n%s", body)
	}
	_, body = ts.do(t, "GET", strings.ReplaceAll(m[1], "&amp;", "&"), "35")
	if !strings.Contains(body, ">3<") || !strings.Contains(body, ">2<") || strings.Contains(body, ">4<") {
		t.Errorf("second page should hold entries 3 and 2")
	}
}

func TestSearchAPI(t *testing.T) {
	ts := newServer(t)
	fill(t, ts.j, 3)
	resp, body := ts.do(t, "GET", "/api/v1/audit?dept=35&object_id=1001&motif=plainte", "35")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct{ Entries []Entry }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Entries) != 1 || out.Entries[0].ObjectID != "1001" || len(out.Entries[0].Hash) != 32 {
		t.Errorf("entries = %+v, want entry of object 1001", out.Entries)
	}
	resp, body = ts.do(t, "GET", "/api/v1/audit?dept=35", "35")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "motif") {
		t.Errorf("API without motif = %d %s, want 400 naming the motif", resp.StatusCode, body)
	}
}

func TestExport(t *testing.T) {
	ts := newServer(t)
	fill(t, ts.j, 3)
	exec(t, ts.d, `UPDATE audit_entry SET detail = '=HYPERLINK("x")' WHERE seq = 2`)
	resp, body := ts.do(t, "GET", "/audit/export?dept=35&motif=audit-securite&format=csv", "35")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// header, the export's own journal entry (written first), entries 3, 2, 1.
	if len(recs) != 5 || recs[1][10] != "journal" || recs[2][0] != "3" {
		t.Fatalf("csv = %q, want a header, the export entry and entries 3, 2, 1", recs)
	}
	if got := recs[3][15]; got != `'=HYPERLINK("x")` {
		t.Errorf("formula cell exported as %q, want it defused", got)
	}
	last := ts.lastEntry(t)
	if last.Action != vigie.ActCommunicate || last.Object != "journal" || last.Motif != "audit-securite" {
		t.Errorf("export journaled as %+v", last)
	}
	resp, body = ts.do(t, "GET", "/api/v1/audit/export?dept=35&motif=audit-securite", "35")
	var entries []Entry
	if err := json.Unmarshal([]byte(body), &entries); err != nil || len(entries) != 5 {
		t.Errorf("JSON export = %d %v (%d entries), want 5 entries (3 and the two exports)", resp.StatusCode, err, len(entries))
	}
	if resp, _ := ts.do(t, "GET", "/audit/export?dept=35&motif=plainte&format=xml", "35"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("export as xml = %d, want 400", resp.StatusCode)
	}
}

func TestVerifyFromStatusPage(t *testing.T) {
	ts := newServer(t)
	fill(t, ts.j, 3)
	resp, _ := ts.do(t, "POST", "/audit/verify", "nat")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /audit/verify = %d, want 303", resp.StatusCode)
	}
	ts.j.bg.Wait() // the background verification
	_, body := ts.do(t, "GET", "/audit/status", "nat")
	if !strings.Contains(body, "Le journal est intègre") {
		t.Errorf("status after verification lacks the result:\n%s", body)
	}
}

func TestTemplatesAreTranslated(t *testing.T) {
	newServer(t) // loads the catalog
	re := regexp.MustCompile(`\{\{-?\s*tf?\s+"((?:[^"\\]|\\.)*)"`)
	files, _ := templates.ReadDir("templates")
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".html") {
			continue
		}
		b, _ := templates.ReadFile("templates/" + f.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !web.HasFrench(m[1]) {
				t.Errorf("%s: %q has no French translation", f.Name(), m[1])
			}
		}
	}
	for _, r := range Reasons {
		if !web.HasFrench(r.Label) {
			t.Errorf("reason %q has no French label", r.Label)
		}
	}
	for _, m := range []string{msgMotifMissing, msgMotifUnknown, msgCaseBad} {
		if !web.HasFrench(m) {
			t.Errorf("message %q has no French translation", m)
		}
	}
}
