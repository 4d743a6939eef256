package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/org"
)

// TestNoLeakAcrossUnits walks every route of the running application, for
// every role and unit, with identifiers that point at other units and
// départements, and proves two things:
//
//   - no response shows personal data (account names, logins in the journal)
//     of a département outside the reader's scope — checked with "canary"
//     strings planted in each département;
//   - no request changes anything outside the actor's scope — checked by
//     comparing snapshots of units, territories and accounts.
//
// Positive controls make sure the canaries are visible to those entitled to
// them (otherwise the test could not fail).
func TestNoLeakAcrossUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every route for every role: skipped in -short mode")
	}
	ta := newTestApp(t)
	ctx := cliContext(context.Background())

	unitOf := func(where string) org.Unit {
		u, err := ta.demoUnit(context.Background(), where)
		if err != nil {
			t.Fatalf("unit %s: %v", where, err)
		}
		return u
	}
	bourg := unitOf("brigade:01053")
	g01, g2A := unitOf("groupement:01"), unitOf("groupement:2A")
	// A sibling brigade of Bourg-en-Bresse in 01: Ambérieu-en-Bugey (01004).
	sibling := unitOf("brigade:01004")
	if sibling.ID == bourg.ID {
		t.Fatal("fixture: the sibling brigade is Bourg's own")
	}

	// Extra accounts: département-scoped administrators and security
	// officers, and a gendarme of the sibling brigade.
	extra := map[string]string{}     // login → TOTP secret
	extraName := map[string]string{} // login → display name
	add := func(login, name string, role vigie.Role, unit org.Unit) int64 {
		secret := strings.ToUpper(strings.Repeat("AB", 16))[:32-len(login)%4*2] + strings.Repeat("Q", len(login)%4*2)
		acc, _, err := ta.auth.AddUser(ctx, auth.NewUser{Login: login, Name: name, Role: role, UnitID: unit.ID,
			Dept: unit.Dept, Password: demoPassword, TOTPSecret: secret, Lang: "fr"})
		if err != nil {
			t.Fatalf("add %s: %v", login, err)
		}
		extra[login] = secret
		extraName[login] = name
		return acc.ID
	}
	add("admin01", "Admin Ain", vigie.RoleAdmin, g01)
	add("admin2a", "Admin Corse", vigie.RoleAdmin, g2A)
	add("secu01", "Securite Ain", vigie.RoleSecurity, g01)
	add("voisin", "Canari Voisin", vigie.RoleAgent, sibling)

	signIn := func(login string) *http.Client {
		secret, ok := extra[login]
		if !ok {
			return ta.signIn(t, login)
		}
		c := ta.client()
		ta.post(t, c, "/login", url.Values{"login": {login}, "password": {demoPassword}})
		code, _ := totp.GenerateCode(secret, time.Now())
		if res := ta.post(t, c, "/login/mfa", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("MFA of %s: %d", login, res.StatusCode)
		}
		return c
	}

	// Canaries: personal data that belongs to one département.
	canaries := map[string][]string{
		"01":  {"Camille Martin", "Canari Voisin"},
		"2A":  {"Ange Santoni", "agent2a"},
		"974": {"Hoarau", "agent974"},
	}
	// Sign everyone in first, so that the journal holds sign-ins of every
	// département (the journal's canaries are the logins).
	type walker struct {
		login  string
		dept   string // the département whose personal data it may see ("" none but its own name)
		writes string // the département it may change ("" nothing)
	}
	walkers := []walker{
		{"", "", ""}, // nobody signed in
		{"agent", "", ""}, {"opj", "", ""}, {"commandant", "", ""}, {"analyste", "", ""}, {"formateur", "", ""},
		{"citoyen", "", ""}, {"agent2a", "", ""}, {"agent974", "", ""}, {"voisin", "", ""},
		{"secu01", "01", ""}, {"admin01", "01", "01"}, {"admin2a", "2A", "2A"},
	}
	clients := map[string]*http.Client{"": ta.client()}
	for _, w := range walkers[1:] {
		clients[w.login] = signIn(w.login)
	}
	clients["admin"] = ta.signIn(t, "admin")
	clients["securite"] = ta.signIn(t, "securite")

	// Identifiers to try in every {wildcard}: other units, accounts,
	// journal entries and départements.
	var ids []string
	for _, u := range []org.Unit{bourg, sibling, g01, g2A, unitOf("brigade:2A004"), unitOf("brigade:97411"), unitOf("groupement:974")} {
		ids = append(ids, fmt.Sprint(u.ID))
	}
	rows, err := ta.db.Query(context.Background(), "SELECT id FROM users WHERE login IN ('agent2a', 'agent974', 'voisin', 'agent', 'admin')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, fmt.Sprint(id))
	}
	rows.Close()
	var seq2a int64
	if err := ta.db.QueryRow(context.Background(), "SELECT MAX(seq) FROM audit_entry WHERE actor_login = ?", "agent2a").Scan(&seq2a); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, fmt.Sprint(seq2a))
	values := map[string][]string{
		"id": ids, "seq": {fmt.Sprint(seq2a)}, "code": {"01", "2A", "974"}, "dept": {"01", "2A", "974"},
		"action": {"disable", "enable", "reset-mfa", "reset-password"},
	}

	skip := map[string]bool{ // flows that are public or end the walker's own session
		"POST /logout": true, "POST /login": true, "POST /login/mfa": true, "POST /mfa/enroll": true,
		"GET /login/oidc": true, "GET /login/oidc/callback": true, "POST /account/sessions/{id}/revoke": true,
	}
	routes := ta.web.Routes()
	sort.Strings(routes)
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered: the walk would prove little", len(routes))
	}

	walk := func(t *testing.T, login string, c *http.Client, check func(route, path string, code int, body string)) int {
		n := 0
		for _, route := range routes {
			if skip[route] {
				continue
			}
			method, pattern, _ := strings.Cut(route, " ")
			for _, path := range expand(pattern, values) {
				code, body := do(t, ta, c, method, path)
				check(route, path, code, body)
				n++
			}
		}
		return n
	}

	// Positive controls: national roles do see the canaries.
	seen := map[string]bool{}
	for _, login := range []string{"admin", "securite"} {
		walkGET := func(route, path string, code int, body string) {
			for _, cs := range canaries {
				for _, c := range cs {
					if strings.Contains(body, c) {
						seen[login+" "+c] = true
					}
				}
			}
		}
		for _, route := range routes {
			if method, pattern, _ := strings.Cut(route, " "); method == "GET" && !skip[route] {
				for _, path := range expand(pattern, values) {
					code, body := do(t, ta, clients[login], method, path)
					walkGET(route, path, code, body)
				}
			}
		}
	}
	for _, want := range []string{"admin Ange Santoni", "admin Hoarau", "securite agent2a", "securite agent974"} {
		if !seen[want] {
			t.Errorf("positive control: %q was never shown; the canaries prove nothing", strings.Replace(want, " ", " never saw ", 1))
		}
	}

	requests := 0
	for _, w := range walkers {
		name := w.login
		if name == "" {
			name = "anonymous"
		}
		t.Run(name, func(t *testing.T) {
			before := snapshot(t, ta)
			defer func() {
				// Nothing may change outside the walker's own département.
				after := snapshot(t, ta)
				for key, b := range before {
					if a, ok := after[key]; (!ok || a != b) && (w.writes == "" || !strings.HasSuffix(key, "dept="+w.writes)) {
						t.Errorf("CHANGED by %s outside its scope: %s\n  before %s\n  after  %s", name, key, b, a)
					}
				}
				for key, a := range after {
					if _, ok := before[key]; !ok && (w.writes == "" || !strings.HasSuffix(key, "dept="+w.writes)) {
						t.Errorf("CREATED by %s outside its scope: %s = %s", name, key, a)
					}
				}
			}()
			me := extraName[w.login]
			for _, d := range demoAccounts {
				if d.Login == w.login {
					me = d.Name
				}
			}
			requests += walk(t, w.login, clients[w.login], func(route, path string, code int, body string) {
				if code >= 500 {
					t.Errorf("%s as %s: status %d", path, w.login, code)
				}
				for dept, cs := range canaries {
					if dept == w.dept {
						continue
					}
					for _, c := range cs {
						if strings.Contains(body, c) && !strings.Contains(me, c) && c != w.login {
							t.Errorf("LEAK: %s %s shows %q (personal data of %s) to %s", route, path, c, dept, w.login)
						}
					}
				}
			})
		})
	}
	t.Logf("%d routes, %d walkers, %d requests", len(routes), len(walkers), requests)
}

// expand replaces each {name} of a route pattern by every value given.
func expand(pattern string, values map[string][]string) []string {
	i := strings.IndexByte(pattern, '{')
	if i < 0 {
		return []string{strings.TrimSuffix(pattern, "{$}")}
	}
	j := strings.IndexByte(pattern[i:], '}') + i
	name := strings.TrimSuffix(pattern[i+1:j], "...")
	if name == "$" {
		return []string{pattern[:i]}
	}
	vals := values[name]
	if len(vals) == 0 {
		vals = []string{"1"}
	}
	var out []string
	for _, v := range vals {
		out = append(out, expand(pattern[:i]+v+pattern[j+1:], values)...)
	}
	return out
}

// do sends one request with bodies that would change something if allowed.
func do(t *testing.T, ta *testApp, c *http.Client, method, path string) (int, string) {
	t.Helper()
	var body io.Reader
	ctype := ""
	if method != "GET" {
		if strings.HasPrefix(path, "/api/") {
			body, ctype = strings.NewReader(`{"name":"Pwned"}`), "application/json"
		} else {
			f := url.Values{"name": {"Pwned"}, "role": {"admin"}, "kind": {"brigade"}, "dept": {"974"},
				"login": {"pwned"}, "email": {"p@x.invalid"}, "password": {"Pwned-Pwned-2026"}, "communes": {"97411"},
				"motif": {"enquete"}, "lang": {"fr"}}
			body, ctype = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"
		}
	}
	if method == "GET" {
		// Pass the motif gate, so that a page that would show personal data
		// does show it when (and only when) the reader is entitled to it.
		path += "?motif=audit-securite"
	}
	req, _ := http.NewRequest(method, ta.srv.URL+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// snapshot reads what a walker must not change, keyed with its département.
func snapshot(t *testing.T, ta *testApp) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	q := func(query string) {
		rows, err := ta.db.Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			key := fmt.Sprintf("%s dept=%v", fmt.Sprint(vals[0]), vals[1])
			out[key] = fmt.Sprint(vals[2:]...)
		}
	}
	q("SELECT 'unit ' || CAST(id AS TEXT), dept, name, parent_id, kind FROM units")
	q("SELECT 'commune ' || c.insee, c.dept, bc.brigade_id FROM communes c LEFT JOIN brigade_communes bc ON bc.insee = c.insee")
	q("SELECT 'user ' || login, dept, name, role, unit_id, disabled, mfa_enrolled, email FROM users")
	q("SELECT 'dept ' || code, code, name FROM departements")
	return out
}
