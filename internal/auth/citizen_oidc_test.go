package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

// TestFranceConnect: citizens sign in through an OpenID Connect provider
// running in the test (the same as the staff one's, oidc_test.go): an
// account is created from the claims, found again the next time, linked to
// a sign-up account of the same address; staff accounts, unverified
// addresses and staff-flow crossings are refused with a clear message.
func TestFranceConnect(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		op := newProvider(t)
		f := &fixture{d: d, j: &fakeJournal{}, clk: &clock{t: time.Now()}}
		var h http.Handler
		vs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		t.Cleanup(vs.Close)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := New(ctx, d, NewPolicy(d, testTree()), f.j, log, Config{Argon2: fastArgon, Now: f.clk.Now,
			OIDC: &OIDCConfig{IssuerURL: op.srv.URL, ClientID: "vigie", ClientSecret: "s3cret", RedirectURL: vs.URL + "/login/oidc/callback"}})
		if err != nil {
			t.Fatal(err)
		}
		f.a = a
		if _, err := a.NewFranceConnect(FranceConnectConfig{ClientID: "vigie"}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("without issuer: %v", err)
		}
		fc, err := a.NewFranceConnect(FranceConnectConfig{IssuerURL: op.srv.URL, ClientID: "vigie", ClientSecret: "s3cret",
			RedirectURL: vs.URL + "/login/franceconnect/callback"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := web.New(web.Config{}, log, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Register(s); err != nil {
			t.Fatal(err)
		}
		if err := fc.Register(s); err != nil {
			t.Fatal(err)
		}
		s.SetAuthenticator(a.Middleware)
		s.Route("GET /whoami", func(w http.ResponseWriter, r *http.Request) error {
			if err := Require(r.Context()); err != nil {
				return err
			}
			web.WriteJSON(w, 200, map[string]string{"login": vigie.UserFrom(r.Context()).Login})
			return nil
		})
		h = s.Handler()
		st := &site{fixture: f, srv: vs}
		f.addUser(t, "marie.curie@example.fr", vigie.RoleCitizen, 0, "") // signed up with her address
		f.addUser(t, "chef@gendarmerie.example", vigie.RoleCommander, 10, "")
		f.addUser(t, "jean.dupont", vigie.RoleCommander, 10, "")

		tests := []struct {
			name     string
			claims   map[string]any
			wantPath string
			wantUser string
			wantMsg  string
		}{
			{"new citizen", map[string]any{"email": "Lucie.Bernard@example.fr", "email_verified": true, "given_name": "Lucie", "family_name": "Bernard"},
				"/complaints", "lucie.bernard@example.fr", ""},
			{"same citizen again", map[string]any{"email": "lucie.bernard@example.fr", "email_verified": true, "given_name": "Lucie", "family_name": "Bernard"},
				"/complaints", "lucie.bernard@example.fr", ""},
			{"linked to a sign-up account", map[string]any{"email": "marie.curie@example.fr", "email_verified": true, "given_name": "Marie", "family_name": "Curie"},
				"/complaints", "marie.curie@example.fr", ""},
			{"staff account refused", map[string]any{"email": "chef@gendarmerie.example", "email_verified": true, "given_name": "Chef"},
				"/login/franceconnect/callback", "", "compte d’agent"},
			{"unverified address", map[string]any{"email": "x@example.fr", "email_verified": false, "given_name": "X"},
				"/login/franceconnect/callback", "", "adresse électronique vérifiée"},
			{"no email_verified claim", map[string]any{"email": "y@example.fr", "given_name": "Y"},
				"/login/franceconnect/callback", "", "adresse électronique vérifiée"},
			{"no address", map[string]any{"given_name": "Z"}, "/login/franceconnect/callback", "", "adresse électronique vérifiée"},
		}
		for _, tt := range tests {
			op.signInAs(tt.claims)
			c := st.browser(t)
			pg := st.get(t, c, "/login/franceconnect?next=%2Fcomplaints")
			if !strings.HasPrefix(pg.path, tt.wantPath) {
				t.Errorf("%s: ended at %s (%d), want %s", tt.name, pg.path, pg.status, tt.wantPath)
				continue
			}
			login, _ := st.whoami(t, c)
			if login != tt.wantUser {
				t.Errorf("%s: signed in as %q, want %q", tt.name, login, tt.wantUser)
			}
			if tt.wantMsg != "" && (pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, tt.wantMsg)) {
				t.Errorf("%s: %d, no clear message", tt.name, pg.status)
			}
		}
		// A provider trusted for its addresses without email_verified (real
		// FranceConnect) may create accounts, never take over one that was
		// opened with a password.
		trusted, err := a.NewFranceConnect(FranceConnectConfig{IssuerURL: op.srv.URL, ClientID: "vigie", ClientSecret: "s3cret",
			RedirectURL: vs.URL + "/login/franceconnect/callback", TrustEmail: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trusted.signIn(ctx, fcClaims{Email: "marie.curie@example.fr", GivenName: "Marie"}); !errors.Is(err, errFCLink) {
			t.Errorf("trusted address onto a password account: %v, want refused", err)
		}
		if got, err := trusted.signIn(ctx, fcClaims{Email: "paul.neuf@example.fr", GivenName: "Paul"}); err != nil || got.User.Login != "paul.neuf@example.fr" {
			t.Errorf("trusted address, new account: %+v, %v", got, err)
		}
		var n int
		var name, role string
		d.QueryRow(ctx, `SELECT COUNT(*), MIN(name), MIN(role) FROM users WHERE login = 'lucie.bernard@example.fr'`).Scan(&n, &name, &role)
		if n != 1 || name != "Lucie Bernard" || role != string(vigie.RoleCitizen) {
			t.Errorf("created account: %d rows, %q, %q", n, name, role)
		}
		d.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE login IN ('x@example.fr', 'y@example.fr', 'chef@gendarmerie.example') AND role = 'citizen'`).Scan(&n)
		if n != 0 {
			t.Errorf("%d citizen accounts created from refused identities", n)
		}
		// A citizen created this way has no password: the password sign-in
		// refuses any.
		c := st.browser(t)
		if pg := st.post(t, c, "/login", map[string][]string{"login": {"lucie.bernard@example.fr"}, "password": {""}}); strings.HasPrefix(pg.path, "/complaints") {
			t.Error("password sign-in with an empty password")
		}
		if login, _ := st.whoami(t, c); login != "" {
			t.Errorf("signed in by password as %q", login)
		}

		// A FranceConnect state brought to the staff callback (same
		// provider) does not sign a staff member in, and the other way.
		cross, err := a.NewFranceConnect(FranceConnectConfig{IssuerURL: op.srv.URL, ClientID: "vigie", ClientSecret: "s3cret",
			RedirectURL: vs.URL + "/login/oidc/callback"})
		if err != nil {
			t.Fatal(err)
		}
		op.signInAs(map[string]any{"preferred_username": "jean.dupont", "amr": []string{"mfa"}, "email": "jd@example.fr", "email_verified": true})
		to, err := cross.Start(ctx, "/account")
		if err != nil {
			t.Fatal(err)
		}
		c = st.browser(t)
		resp, err := c.Get(to)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if login, _ := st.whoami(t, c); login != "" {
			t.Errorf("LEAK: a FranceConnect sign-in ended in the staff callback as %q", login)
		}
		staffToFC, err := a.OIDCStart(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// The staff flow's authorization, answered at the FranceConnect callback.
		staffToFC = strings.Replace(staffToFC, escURL(vs.URL+"/login/oidc/callback"), escURL(vs.URL+"/login/franceconnect/callback"), 1)
		c = st.browser(t)
		if resp, err = c.Get(staffToFC); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if login, _ := st.whoami(t, c); login != "" {
			t.Errorf("a staff-flow state signed in at the FranceConnect callback as %q", login)
		}
		if pg := st.get(t, st.browser(t), "/login/franceconnect/callback?state=forged&code=x"); pg.status != http.StatusUnauthorized {
			t.Errorf("forged state: %d, want 401", pg.status)
		}
	})
}

// escURL is the query-escaped form of u, as it appears in an authorization URL.
func escURL(u string) string {
	return strings.NewReplacer(":", "%3A", "/", "%2F").Replace(u)
}
