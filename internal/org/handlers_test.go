package org

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

// fakePolicy lets an admin administer their own département, or every
// département when they belong to none (national admin).
type fakePolicy struct{}

func (fakePolicy) Check(ctx context.Context, p vigie.Perm, t vigie.Target) error {
	u := vigie.UserFrom(ctx)
	if u != nil && p == vigie.PermOrgAdmin && u.Role == vigie.RoleAdmin && (u.Dept == "" || u.Dept == t.Dept) {
		return nil
	}
	return vigie.ErrForbidden
}

var users = map[string]*vigie.User{
	"national": {ID: 1, Name: "Admin national", Role: vigie.RoleAdmin},
	"admin01":  {ID: 2, Name: "Admin Ain", Role: vigie.RoleAdmin, Dept: "01"},
	"agent":    {ID: 3, Name: "Gendarme", Role: vigie.RoleAgent, Dept: "01"},
	"citizen":  {ID: 4, Name: "Usager", Role: vigie.RoleCitizen},
}

type env struct {
	t       *testing.T
	d       *db.DB
	svc     *Service
	journal *memJournal
	srv     *httptest.Server
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	j := &memJournal{}
	svc := New(Config{DB: d, Journal: j})
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticator(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u := users[r.Header.Get("X-Test-User")]; u != nil {
				r = r.WithContext(vigie.WithUser(r.Context(), u))
			}
			next.ServeHTTP(w, r)
		})
	})
	NewHandler(svc, fakePolicy{}).Register(s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, d: d, svc: svc, journal: j, srv: srv}
}

// do sends a request as user and returns the status and body.
func (e *env) do(user, method, path, contentType string, body io.Reader) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Test-User", user)
	if contentType == "application/json" {
		req.Header.Set("Accept-Language", "en") // messages checked in English
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) json(user, method, path string, v any) (int, string) {
	e.t.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	return e.do(user, method, path, "application/json", body)
}

func TestAPI(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		seed(t, d, "01", "2A")
		e := newEnv(t, d)
		ctx := context.Background()
		units, _ := e.svc.Units(ctx, "01")
		var groupement01, compagnie01 Unit
		for _, u := range units {
			switch u.Kind {
			case Groupement:
				groupement01 = u
			case Compagnie:
				if compagnie01.ID == 0 {
					compagnie01 = u
				}
			}
		}
		units2A, _ := e.svc.Units(ctx, "2A")

		access := []struct {
			name, user, method, path string
			body                     any
			want                     int
			contains                 string
		}{
			{"anonymous list", "", "GET", "/api/v1/departements", nil, 401, ""},
			{"citizen list", "citizen", "GET", "/api/v1/departements", nil, 403, ""},
			{"agent list", "agent", "GET", "/api/v1/departements", nil, 200, `"code": "2A"`},
			{"agent one", "agent", "GET", "/api/v1/departements/2a", nil, 200, `"time_zone": "Europe/Paris"`},
			{"unknown dept", "agent", "GET", "/api/v1/departements/75", nil, 404, "75"},
			{"units", "agent", "GET", "/api/v1/units?dept=01", nil, 200, "Brigade de Bourg-en-Bresse"},
			{"bad dept filter", "agent", "GET", "/api/v1/units?dept=xyz", nil, 400, ""},
			{"unit", "agent", "GET", fmt.Sprintf("/api/v1/units/%d", groupement01.ID), nil, 200, "Groupement de gendarmerie départementale de l'Ain"},
			{"bad unit id", "agent", "GET", "/api/v1/units/abc", nil, 400, ""},
			{"missing unit", "agent", "GET", "/api/v1/units/999999", nil, 404, ""},
			{"route point", "agent", "GET", "/api/v1/route?lon=5.2256&lat=46.2052", nil, 200, `"insee": "01053"`},
			{"route insee", "agent", "GET", "/api/v1/route?insee=2A004", nil, 200, "Ajaccio"},
			{"route outside", "agent", "GET", "/api/v1/route?lon=2.3522&lat=48.8566", nil, 404, "no commune"},
			{"route garbage", "agent", "GET", "/api/v1/route?lon=abc&lat=1", nil, 400, "decimal degrees"},
			{"route nothing", "agent", "GET", "/api/v1/route", nil, 400, ""},
			{"agent cannot create", "agent", "POST", "/api/v1/units", map[string]any{"kind": "compagnie", "parent_id": groupement01.ID, "name": "X", "code": "X1"}, 403, ""},
			{"admin01 cannot create in 2A", "admin01", "POST", "/api/v1/units", map[string]any{"kind": "compagnie", "parent_id": units2A[0].ID, "name": "X", "code": "X1"}, 403, ""},
			{"second groupement", "national", "POST", "/api/v1/units", map[string]any{"dept": "01", "kind": "groupement", "name": "G2", "code": "G2"}, 409, ""},
			{"brigade under groupement", "admin01", "POST", "/api/v1/units", map[string]any{"kind": "brigade", "parent_id": groupement01.ID, "name": "B", "code": "B1"}, 400, "must be placed under a compagnie"},
			{"bad kind", "admin01", "POST", "/api/v1/units", map[string]any{"kind": "escadron", "parent_id": groupement01.ID, "name": "B", "code": "B1"}, 400, "groupement, compagnie or brigade"},
			{"unknown field", "admin01", "POST", "/api/v1/units", map[string]any{"kinds": "brigade"}, 400, "unknown field"},
			{"missing parent", "admin01", "POST", "/api/v1/units", map[string]any{"kind": "brigade", "parent_id": 999999, "name": "B", "code": "B1"}, 400, "does not exist"},
			{"delete non-empty", "admin01", "DELETE", fmt.Sprintf("/api/v1/units/%d", compagnie01.ID), nil, 409, "units under it"},
			{"territory from another dept", "admin01", "PUT", fmt.Sprintf("/api/v1/units/%d/communes", mustBrigadeOf(t, d, "01053")), map[string]any{"communes": []string{"01053", "2A004"}}, 400, "2A004"},
			{"territory of a compagnie", "admin01", "PUT", fmt.Sprintf("/api/v1/units/%d/communes", compagnie01.ID), map[string]any{"communes": []string{"01053"}}, 400, "Only a brigade"},
		}
		for _, tt := range access {
			t.Run(tt.name, func(t *testing.T) {
				code, body := e.json(tt.user, tt.method, tt.path, tt.body)
				if code != tt.want || !strings.Contains(body, tt.contains) {
					t.Errorf("%s %s as %q = %d %s; want %d containing %q", tt.method, tt.path, tt.user, code, body, tt.want, tt.contains)
				}
			})
		}
		if n := len(e.journal.records()); n != 0 {
			t.Errorf("refused requests wrote %d journal records", n)
		}

		// Create, rename, move, give a territory, delete: each change is
		// journaled and has its event in the outbox.
		code, body := e.json("admin01", "POST", "/api/v1/units", map[string]any{"kind": "brigade", "parent_id": compagnie01.ID, "name": "Brigade de test", "code": "br-test"})
		if code != 201 {
			t.Fatalf("create brigade: %d %s", code, body)
		}
		var b Unit
		json.Unmarshal([]byte(body), &b)
		if b.Dept != "01" || b.Code != "BR-TEST" || !e.svc.Tree().Within(b.ID, groupement01.ID) {
			t.Errorf("created %+v; want a brigade of 01 with code BR-TEST, in the tree", b)
		}
		code, body = e.json("admin01", "PATCH", fmt.Sprintf("/api/v1/units/%d", b.ID), map[string]any{"name": "Brigade d'essai"})
		if code != 200 || !strings.Contains(body, "Brigade d'essai") {
			t.Errorf("rename: %d %s", code, body)
		}
		code, body = e.json("admin01", "PATCH", fmt.Sprintf("/api/v1/units/%d", b.ID), map[string]any{"name": ""})
		if code != 400 {
			t.Errorf("empty name: %d %s, want 400", code, body)
		}
		code, body = e.json("admin01", "PUT", fmt.Sprintf("/api/v1/units/%d/communes", b.ID), map[string]any{"communes": []string{"01053"}})
		if code != 200 || !strings.Contains(body, "Bourg-en-Bresse") {
			t.Errorf("territory: %d %s", code, body)
		}
		if _, u, err := e.svc.Route(ctx, 5.2256, 46.2052); err != nil || u.ID != b.ID {
			t.Errorf("after the territory change, Bourg-en-Bresse routes to %d (%v), want %d", u.ID, err, b.ID)
		}
		code, body = e.json("admin01", "DELETE", fmt.Sprintf("/api/v1/units/%d", b.ID), nil)
		if code != 409 {
			t.Errorf("delete a brigade with communes: %d %s, want 409", code, body)
		}
		e.json("admin01", "PUT", fmt.Sprintf("/api/v1/units/%d/communes", b.ID), map[string]any{"communes": []string{}})
		if code, body = e.json("admin01", "DELETE", fmt.Sprintf("/api/v1/units/%d", b.ID), nil); code != 204 {
			t.Errorf("delete: %d %s", code, body)
		}
		if e.svc.Tree().Kind(b.ID) != "" {
			t.Errorf("the deleted unit is still in the tree")
		}
		recs := e.journal.records()
		if len(recs) != 5 {
			t.Errorf("%d journal records, want 5 (create, rename, territory, territory, delete): %+v", len(recs), recs)
		}
		for _, r := range recs {
			if r.Action != vigie.ActAdmin || r.Object != "unit" || r.Dept != "01" {
				t.Errorf("journal record %+v", r)
			}
		}
		var events int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE subject LIKE 'vigie.01.org.unit.%'`).Scan(&events); err != nil || events != 5 {
			t.Errorf("%d unit events in the outbox (%v), want 5", events, err)
		}
	})
}

// TestChangeRollsBackWithJournal: when the journal refuses, nothing changes.
func TestChangeRollsBackWithJournal(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	seed(t, d, "974")
	j := &memJournal{fail: vigie.E(vigie.KindUnavailable, "audit", "down", nil)}
	svc := New(Config{DB: d, Journal: j})
	units, _ := svc.Units(context.Background(), "974")
	if _, err := svc.UpdateUnit(context.Background(), units[0].ID, UnitChange{Name: new("Autre nom")}); err == nil {
		t.Fatal("UpdateUnit succeeded although the journal failed")
	}
	u, _ := svc.Unit(context.Background(), units[0].ID)
	if u.Name != units[0].Name {
		t.Errorf("name changed to %q without a journal record", u.Name)
	}
}

func TestPages(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	seed(t, d, "01", "974")
	e := newEnv(t, d)
	brigade := mustBrigadeOf(t, d, "01053")
	pages := []struct {
		user, path string
		want       int
		contains   []string
	}{
		{"national", "/admin/org", 200, []string{"Organisation", "La Réunion", "Importer un département"}},
		{"admin01", "/admin/org", 200, []string{"Ain"}},
		{"agent", "/admin/org", 403, nil},
		{"national", "/admin/org/01", 200, []string{"<svg", "<path", "<title>Bourg-en-Bresse (01053) — Brigade de Bourg-en-Bresse</title>", "Carte des circonscriptions", "Ajouter une unité"}},
		{"national", "/admin/org/974", 200, []string{"Saint-Denis (97411)"}},
		{"admin01", "/admin/org/974", 403, nil},
		{"national", "/admin/org/75", 404, nil},
		{"national", fmt.Sprintf("/admin/org/units/%d", brigade), 200, []string{"Brigade de Bourg-en-Bresse", "01053", "Enregistrer la circonscription"}},
		{"national", "/admin/org/import", 200, []string{`enctype="multipart/form-data"`}},
	}
	for _, tt := range pages {
		code, body := e.do(tt.user, "GET", tt.path, "", nil)
		if code != tt.want {
			t.Errorf("GET %s as %s = %d, want %d", tt.path, tt.user, code, tt.want)
		}
		for _, s := range tt.contains {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s: the page lacks %q", tt.path, s)
			}
		}
	}

	// Rename through the form, then check it shows.
	form := "name=Brigade+de+Bourg&code=BR-01053&parent_id="
	units, _ := e.svc.Units(context.Background(), "01")
	for _, u := range units {
		if u.ID == brigade {
			form += fmt.Sprint(u.ParentID)
		}
	}
	code, _ := e.do("admin01", "POST", fmt.Sprintf("/admin/org/units/%d", brigade), "application/x-www-form-urlencoded", strings.NewReader(form))
	if code != http.StatusSeeOther {
		t.Errorf("rename form: %d, want 303", code)
	}
	if u, _ := e.svc.Unit(context.Background(), brigade); u.Name != "Brigade de Bourg" {
		t.Errorf("after the form, name = %q", u.Name)
	}
}

func TestImportThroughForm(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	e := newEnv(t, d)
	geo, err := pilotGeoJSON("2A")
	if err != nil {
		t.Fatal(err)
	}
	// Pretend Corse-du-Sud is new: import it under its own code.
	post := func(user, code string, geo []byte) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("code", code)
		mw.WriteField("name", "Corse-du-Sud")
		fw, _ := mw.CreateFormFile("communes", "communes.geojson")
		fw.Write(geo)
		mw.Close()
		return e.do(user, "POST", "/admin/org/import", mw.FormDataContentType(), &buf)
	}
	if code, body := post("admin01", "2A", geo); code != 403 {
		t.Errorf("import by a département admin: %d %s, want 403", code, body)
	}
	if code, body := post("national", "2A", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"01053","nom":"X"},"geometry":null}]}`)); code != 400 || !strings.Contains(body, "01053") {
		t.Errorf("import with a wrong prefix: %d, want 400 naming the code", code)
	}
	if code, body := post("national", "2A", geo); code != http.StatusSeeOther {
		t.Fatalf("import: %d %s", code, body)
	}
	dp, err := e.svc.Departement(context.Background(), "2A")
	if err != nil || dp.Communes != 124 || dp.Assigned != 0 {
		t.Errorf("after import: %+v %v, want 124 communes, none assigned", dp, err)
	}
	// The commune is found; it has no brigade yet.
	c, _, err := e.svc.Route(context.Background(), 8.7369, 41.9192)
	if c.INSEE != "2A004" || vigie.KindOf(err) != vigie.KindNotFound {
		t.Errorf("Route in an imported département = %s, %v; want 2A004 and not found (no brigade)", c.INSEE, err)
	}
}

func TestAPICreateDepartement(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		tests := []struct {
			user string
			body any
			want int
			in   string
		}{
			{"admin01", map[string]any{"code": "2B", "name": "Haute-Corse"}, 403, ""},
			{"national", map[string]any{"code": "2B", "name": "Haute-Corse"}, 201, `"time_zone": "Europe/Paris"`},
			{"national", map[string]any{"code": "2b", "name": "Haute-Corse"}, 409, "already exists"},
			{"national", map[string]any{"code": "976", "name": "Mayotte"}, 201, `"Indian/Mayotte"`},
			{"national", map[string]any{"code": "20", "name": "Corse"}, 400, "not valid"},
			{"national", map[string]any{"code": "971", "name": "Guadeloupe", "time_zone": "Mars/Olympus"}, 400, "time zone"},
			{"national", map[string]any{"code": "972", "name": "Martinique", "communes": map[string]any{"type": "FeatureCollection", "features": []any{}}}, 400, "no commune"},
			{"national", map[string]any{"code": "972", "name": "Martinique", "communes": json.RawMessage(collection(feature("97209", "Fort-de-France", `{"type":"Polygon","coordinates":[[[-61.1,14.6],[-61,14.6],[-61,14.7],[-61.1,14.7],[-61.1,14.6]]]}`)))}, 201, `"communes": 1`},
		}
		for _, tt := range tests {
			code, body := e.json(tt.user, "POST", "/api/v1/departements", tt.body)
			if code != tt.want || !strings.Contains(body, tt.in) {
				t.Errorf("POST %v as %s = %d %s; want %d with %q", tt.body, tt.user, code, body, tt.want, tt.in)
			}
		}
		code, body := e.json("agent", "GET", "/api/v1/route?lon=-61.05&lat=14.65", nil)
		if code != 404 || !strings.Contains(body, "not yet in the territory") {
			t.Errorf("route in the imported Martinique: %d %s, want 404 (no brigade yet)", code, body)
		}
	})
}

func TestSeedDemoPostgresTime(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			if testing.Short() {
				t.Skip("seeds the 12 départements")
			}
			d := dbtest.Open(t, e)
			start := time.Now()
			seed(t, d)
			t.Logf("SeedDemo of the 12 pilot départements on %s: %v", e, time.Since(start))
		})
	}
}
