package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// api calls the JSON API with a bearer token and decodes the answer.
func (s *site) api(t *testing.T, tok, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if out != nil {
		json.Unmarshal(buf.Bytes(), out)
	}
	return resp.StatusCode
}

func TestUsersAPI(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		ctx := context.Background()
		f.addUser(t, "admin01", vigie.RoleAdmin, 0, "01")
		f.addUser(t, "admin00", vigie.RoleAdmin, 0, "")
		agentID := f.addUser(t, "agent100", vigie.RoleAgent, 100, "")
		otherID := f.addUser(t, "agent200", vigie.RoleAgent, 200, "")
		tok := func(login string) string {
			k, err := f.a.CreateToken(ctx, login, "test", 0)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		dept, nat, agent := tok("admin01"), tok("admin00"), tok("agent100")

		var acc Account
		if st := s.api(t, dept, "POST", "/api/v1/users", `{"login":"New.Agent","name":"Nouvel Agent","role":"agent","unit_id":101,"password":"correct horse battery"}`, &acc); st != http.StatusCreated {
			t.Fatalf("create in own département: %d", st)
		}
		if acc.Login != "new.agent" || acc.Dept != "01" || acc.UnitID != 101 {
			t.Errorf("created %+v, want new.agent in 01/101", acc)
		}
		tests := []struct {
			name, tok, method, path, body string
			want                          int
		}{
			{"create in another département", dept, "POST", "/api/v1/users", `{"login":"x.y","name":"X","role":"agent","unit_id":200,"password":"correct horse battery"}`, 403},
			{"create a national admin", dept, "POST", "/api/v1/users", `{"login":"boss","name":"Boss","role":"admin","password":"correct horse battery"}`, 403},
			{"national admin creates one", nat, "POST", "/api/v1/users", `{"login":"boss","name":"Boss","role":"admin","password":"correct horse battery"}`, 201},
			{"duplicate login, other case", nat, "POST", "/api/v1/users", `{"login":"BOSS","name":"Boss","role":"admin","password":"correct horse battery"}`, 409},
			{"weak password", dept, "POST", "/api/v1/users", `{"login":"weak","name":"W","role":"agent","unit_id":100,"password":"azerty"}`, 400},
			{"unknown unit", dept, "POST", "/api/v1/users", `{"login":"u.u","name":"U","role":"agent","unit_id":999,"password":"correct horse battery"}`, 400},
			{"unknown role", dept, "POST", "/api/v1/users", `{"login":"u.u","name":"U","role":"king","password":"correct horse battery"}`, 400},
			{"bad JSON", dept, "POST", "/api/v1/users", `{"login":`, 400},
			{"unknown field", dept, "POST", "/api/v1/users", `{"login":"a.b","admin":true}`, 400},
			{"agent creates", agent, "POST", "/api/v1/users", `{"login":"z.z","name":"Z","role":"agent","unit_id":100,"password":"correct horse battery"}`, 403},
			{"get in scope", dept, "GET", "/api/v1/users/" + itoa(agentID), "", 200},
			{"get out of scope", dept, "GET", "/api/v1/users/" + itoa(otherID), "", 403},
			{"get unknown", dept, "GET", "/api/v1/users/99999", "", 404},
			{"get bad id", dept, "GET", "/api/v1/users/abc", "", 404},
			{"move out of scope", dept, "PATCH", "/api/v1/users/" + itoa(agentID), `{"unit_id":200}`, 403},
			{"promote to national", dept, "PATCH", "/api/v1/users/" + itoa(agentID), `{"unit_id":0,"dept":""}`, 403},
			{"rename", dept, "PATCH", "/api/v1/users/" + itoa(agentID), `{"name":"Agent Renommé"}`, 200},
			{"empty patch", dept, "PATCH", "/api/v1/users/" + itoa(agentID), `{}`, 400},
			{"reset MFA", dept, "POST", "/api/v1/users/" + itoa(agentID) + "/reset-mfa", "", 200},
			{"disable out of scope", dept, "POST", "/api/v1/users/" + itoa(otherID) + "/disable", "", 403},
			{"disable", dept, "POST", "/api/v1/users/" + itoa(agentID) + "/disable", "", 200},
			{"disabled agent's token", agent, "GET", "/api/v1/users", "", 401},
		}
		for _, tt := range tests {
			if st := s.api(t, tt.tok, tt.method, tt.path, tt.body, nil); st != tt.want {
				t.Errorf("%s: status %d, want %d", tt.name, st, tt.want)
			}
		}
		var list struct{ Users []Account }
		if st := s.api(t, dept, "GET", "/api/v1/users?role=agent", "", &list); st != 200 {
			t.Fatalf("list: %d", st)
		}
		var logins []string
		for _, u := range list.Users {
			logins = append(logins, u.Login)
		}
		if got := strings.Join(logins, ","); got != "agent100,new.agent" {
			t.Errorf("département admin lists %q, want agent100,new.agent", got)
		}
		u, err := userByID(ctx, d, agentID)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Disabled || u.MFAEnrolled || u.TOTPSecret != "" || u.Name != "Agent Renommé" {
			t.Errorf("after the changes: %+v", u.Account)
		}
		if f.j.count("account disabled") != 1 || f.j.count("two-factor authentication reset") != 1 || f.j.count("account changed: name") != 1 {
			t.Errorf("changes not journaled: %+v", f.j.recs)
		}
	})
}

func TestSeedDemoUser(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var id int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			id, err = f.a.SeedDemoUser(ctx, tx, NewUser{Login: "demo.agent", Name: "Agent Démo", Role: vigie.RoleAgent,
				UnitID: 100, Password: "demo password 2026", TOTPSecret: demoSecret})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		u, err := userByID(ctx, d, id)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Demo || !u.MFAEnrolled || u.TOTPSecret != demoSecret || u.Dept != "01" {
			t.Errorf("demo account %+v", u.Account)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := f.a.SeedDemoUser(ctx, tx, NewUser{Login: "demo.nosecret", Name: "X", Role: vigie.RoleAgent, UnitID: 100, Password: "demo password 2026"})
			return err
		})
		if vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("staff demo without secret: %v, want invalid", err)
		}
	})
}

// TestPagesRender: every page of the area renders for a signed-in
// administrator, in French.
func TestPagesRender(t *testing.T) {
	f := newFixture(t, dbtest.OpenSQLite(t))
	s := newSite(t, f)
	id := f.addUser(t, "admin01", vigie.RoleAdmin, 0, "01")
	agent := f.addUser(t, "agent100", vigie.RoleAgent, 100, "")
	c := s.browser(t)
	s.signIn(t, c, "admin01")
	for _, path := range []string{"/account", "/admin/users", "/admin/users?q=agent&role=agent&status=active", "/admin/users/new", "/admin/users/" + itoa(agent), "/admin/users/" + itoa(id)} {
		p := s.get(t, c, path)
		if p.status != http.StatusOK || !strings.Contains(p.body, "</html>") {
			t.Errorf("%s: status %d", path, p.status)
		}
	}
	p := s.post(t, c, "/account/tokens", map[string][]string{"name": {"export"}, "days": {"30"}})
	if p.status != http.StatusCreated || !strings.Contains(p.body, `<code id="new-token">vig_`) {
		t.Errorf("token creation page: %d", p.status)
	}
	p = s.post(t, c, "/admin/users/"+itoa(agent)+"/disable", nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, "désactivé") {
		t.Errorf("disable from the page: %d", p.status)
	}
	p = s.post(t, c, "/admin/users", map[string][]string{"login": {"x"}, "name": {"X"}, "role": {"agent"}, "unit": {"100"}, "password": {"correct horse battery"}})
	if p.status != http.StatusBadRequest || msg(p.body) == "" {
		t.Errorf("bad login on the form: %d %q", p.status, msg(p.body))
	}
}
