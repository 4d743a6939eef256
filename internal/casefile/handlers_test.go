package casefile

import (
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

type client struct {
	t *testing.T
	h http.Handler
}

func (c client) do(method, path string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	c.t.Helper()
	r := httptest.NewRequest(method, path, body)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Referer", "http://example.com/cases")
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

func (c client) form(path string, v url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.do("POST", path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// TestPages drives the pages as an agent: the list, the motif gate, the
// forms of each section, the document download, the PV, the API.
func TestPages(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.open(t, f.b01, 1, scamComplaint("Camille Martin"))
		f.open(t, f.b2A, 2, scamComplaint("Ange Santoni"))
		agent := client{t, newWeb(t, f, vigie.UserFrom(f.as(1, vigie.RoleAgent, f.b01))).Handler()}
		other := client{t, newWeb(t, f, vigie.UserFrom(f.as(2, vigie.RoleAgent, f.b2A))).Handler()}
		path := "/cases/" + strconv.FormatInt(c.ID, 10)

		if w := agent.do("GET", "/cases", nil, ""); w.Code != 200 || !strings.Contains(w.Body.String(), c.Number) {
			t.Fatalf("list: %d", w.Code)
		}
		w := agent.do("GET", path, nil, "")
		if w.Code != 200 || strings.Contains(w.Body.String(), "Camille Martin") || !strings.Contains(w.Body.String(), `name="motif"`) {
			t.Fatalf("motif gate: %d", w.Code)
		}
		if w := other.do("GET", path, nil, ""); w.Code != http.StatusForbidden {
			t.Errorf("another département's agent gets %d before the motif gate, want 403", w.Code)
		}
		posts := []struct {
			path string
			form url.Values
		}{
			{"/parties", url.Values{"role": {"witness"}, "name": {"Paul Témoin"}, "phone": {"06 99 88 77 66"}}},
			{"/items", url.Values{"kind": {"vehicle"}, "identifier": {"AB-123-CD"}, "extra": {"VF1ABC"}}},
			{"/notes", url.Values{"body": {"Appel du témoin au 07 98 76 54 32."}}},
			{"/tasks", url.Values{"title": {"Réquisition opérateur"}, "due": {"2026-01-10"}, "assignee": {"OPJ Bernard"}}},
			{"/status", url.Values{"status": {"investigating"}, "note": {"début d'enquête"}}},
			{"/classify", url.Values{"category": {"online_scam"}, "priority": {"high"}}},
		}
		for _, p := range posts {
			p.form.Set("motif", "plainte")
			w := agent.form(path+p.path, p.form)
			if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), path+"?motif=plainte") {
				t.Errorf("POST %s: %d to %q: %s", p.path, w.Code, w.Header().Get("Location"), w.Body.String())
			}
		}
		// A refused form goes back to the page with the reason in a flash.
		w = agent.form(path+"/items", url.Values{"kind": {"money"}, "amount": {"12"}, "iban": {"FR76 3000 6000 0112 3456 7890 180"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/cases" || !strings.Contains(w.Header().Get("Set-Cookie"), "vigie_flash") {
			t.Errorf("bad IBAN: %d to %q", w.Code, w.Header().Get("Location"))
		}
		if w := other.form(path+"/notes", url.Values{"body": {"intrusion"}}); w.Code != http.StatusForbidden {
			t.Errorf("another département's agent adds a note: %d", w.Code)
		}
		// A document, uploaded and downloaded as an attachment.
		var body strings.Builder
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "audition.txt")
		fw.Write([]byte("Procès-verbal d'audition : le témoin confirme.\n"))
		mw.WriteField("motif", "plainte")
		mw.Close()
		if w := agent.do("POST", path+"/documents", strings.NewReader(body.String()), mw.FormDataContentType()); w.Code != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", w.Code, w.Body.String())
		}
		w = agent.do("GET", path+"?motif=plainte", nil, "")
		page := w.Body.String()
		for _, want := range []string{"Camille Martin", "Paul Témoin", "AB-123-CD", "Réquisition opérateur", "Appel du témoin",
			"audition.txt", "En cours d’enquête", "Identifiants rapprochés", "Demander l’accès", "Brigade d&#39;Ajaccio", "Suggestion de qualification",
			"Chronologie"} {
			if !strings.Contains(page, want) {
				t.Errorf("the case page lacks %q", want)
			}
		}
		if strings.Contains(page, "Ange Santoni") {
			t.Error("LEAK: the linked 2A case's victim is on the page")
		}
		dt, _ := f.svc.Get(f.as(1, vigie.RoleAgent, f.b01), c.ID, "plainte")
		doc := dt.Documents[len(dt.Documents)-1]
		w = agent.do("GET", path+"/documents/"+strconv.FormatInt(doc.ID, 10)+"?motif=plainte", nil, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(w.Body.String(), "audition") {
			t.Errorf("download: %d %q", w.Code, w.Header().Get("Content-Disposition"))
		}
		w = agent.do("GET", path+"/pv.pdf?motif=plainte", nil, "")
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/pdf" {
			t.Errorf("PV: %d", w.Code)
		}
		// The API and the identifier search page.
		if w := agent.do("GET", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10), nil, ""); w.Code != http.StatusBadRequest {
			t.Errorf("API without motif: %d", w.Code)
		}
		if w := agent.do("GET", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10)+"?motif=plainte", nil, ""); w.Code != 200 ||
			!strings.Contains(w.Body.String(), `"links"`) {
			t.Errorf("API case: %d", w.Code)
		}
		if w := other.do("GET", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10)+"?motif=plainte", nil, ""); w.Code != http.StatusForbidden {
			t.Errorf("API case of another département: %d", w.Code)
		}
		w = agent.do("GET", "/cases/links?kind=iban&value="+url.QueryEscape(scamIBAN)+"&motif=plainte", nil, "")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "2 plaintes") && !strings.Contains(w.Body.String(), "dossiers mentionnent") {
			t.Errorf("search page: %d", w.Code)
		}
		w = agent.do("GET", "/cases/links?kind=iban&value=FR00&motif=plainte", nil, "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "fr-alert--error") {
			t.Errorf("search of a bad IBAN: %d", w.Code)
		}
		if w := agent.do("GET", "/cases/999999?motif=plainte", nil, ""); w.Code != http.StatusNotFound {
			t.Errorf("unknown case: %d", w.Code)
		}
		if w := agent.do("GET", "/cases/abc", nil, ""); w.Code != http.StatusNotFound {
			t.Errorf("bad id: %d", w.Code)
		}
	})
}
