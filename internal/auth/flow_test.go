package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

// site is Vigie's web server with only the auth area, plus a page that
// shows who is signed in.
type site struct {
	*fixture
	srv *httptest.Server
}

func newSite(t *testing.T, f *fixture) *site {
	t.Helper()
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.Register(s); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticator(f.a.Middleware)
	s.Route("GET /whoami", func(w http.ResponseWriter, r *http.Request) error {
		if err := Require(r.Context()); err != nil {
			return err
		}
		u := vigie.UserFrom(r.Context())
		web.WriteJSON(w, http.StatusOK, map[string]any{"login": u.Login, "via": u.Via, "role": u.Role})
		return nil
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &site{fixture: f, srv: srv}
}

// browser is an HTTP client with a cookie jar that follows redirects.
func (s *site) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

type page struct {
	status int
	path   string
	body   string
}

func (s *site) get(t *testing.T, c *http.Client, path string) page {
	t.Helper()
	resp, err := c.Get(s.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

func (s *site) post(t *testing.T, c *http.Client, path string, form url.Values) page {
	t.Helper()
	resp, err := c.PostForm(s.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

func readPage(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, path: resp.Request.URL.RequestURI(), body: string(b)}
}

var secretRE = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)

func (s *site) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, s.clk.Now(), totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn signs a staff account (already enrolled with demoSecret) in.
func (s *site) signIn(t *testing.T, c *http.Client, login string) {
	t.Helper()
	p := s.post(t, c, "/login", url.Values{"login": {login}, "password": {"correct horse battery"}})
	if !strings.HasPrefix(p.path, "/login/mfa") {
		t.Fatalf("after password: at %s (%d), want /login/mfa", p.path, p.status)
	}
	s.clk.Add(30 * time.Second) // a fresh code for each sign-in
	p = s.post(t, c, "/login/mfa", url.Values{"code": {s.code(t, demoSecret)}})
	if p.path != "/" && p.status != http.StatusOK && p.status != http.StatusNotFound {
		t.Fatalf("after code: at %s (%d)", p.path, p.status)
	}
}

func (s *site) whoami(t *testing.T, c *http.Client) (login string, status int) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+"/whoami", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Login string }
	json.NewDecoder(resp.Body).Decode(&v)
	return v.Login, resp.StatusCode
}

func TestSignInFlow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		// An agent created by an administrator page: no TOTP yet.
		if _, _, err := f.a.CreateUser(Console(context.Background(), "test"), NewUser{Login: "Martin.D", Name: "Dominique Martin",
			Role: vigie.RoleAgent, UnitID: 100, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		c := s.browser(t)

		// A protected page sends the browser to /login, keeping where it was going.
		p := s.get(t, c, "/account")
		if p.path != "/login?next=%2Faccount" {
			t.Fatalf("anonymous /account: at %s, want /login?next=%%2Faccount", p.path)
		}
		if !strings.Contains(p.body, `lang="fr"`) || !strings.Contains(p.body, "Mot de passe") {
			t.Errorf("login page is not in French")
		}

		// Password (the login is case-insensitive) → enrolment.
		p = s.post(t, c, "/login", url.Values{"login": {"MARTIN.d"}, "password": {"correct horse battery"}, "next": {"/account"}})
		if !strings.HasPrefix(p.path, "/mfa/enroll") {
			t.Fatalf("after password: at %s, want /mfa/enroll", p.path)
		}
		if !strings.Contains(p.body, `src="data:image/png;base64,`) {
			t.Errorf("enrolment page shows no QR code")
		}
		m := secretRE.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("enrolment page shows no secret:\n%s", p.body)
		}
		secret := m[1]
		// Half-way, the staff member is not signed in.
		if _, st := s.whoami(t, c); st != http.StatusUnauthorized {
			t.Errorf("before the second factor: whoami status %d, want 401", st)
		}

		// A wrong code keeps them on the enrolment page.
		p = s.post(t, c, "/mfa/enroll", url.Values{"code": {"000000"}, "next": {"/account"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ce code n") {
			t.Errorf("wrong code: status %d, want 400 with a French message", p.status)
		}
		pendingCookie := cookieValue(c, s.srv.URL)

		// The right code → signed in, at /account, with a new session id.
		good := s.code(t, secret)
		p = s.post(t, c, "/mfa/enroll", url.Values{"code": {good}, "next": {"/account"}})
		if p.path != "/account" || p.status != http.StatusOK {
			t.Fatalf("after enrolment: at %s (%d), want /account (200)", p.path, p.status)
		}
		if got := cookieValue(c, s.srv.URL); got == pendingCookie || got == "" {
			t.Errorf("session id not rotated after the second factor")
		}
		if login, _ := s.whoami(t, c); login != "martin.d" {
			t.Errorf("whoami = %q, want martin.d", login)
		}

		// The same code cannot be used again (another browser, same window).
		c2 := s.browser(t)
		p = s.post(t, c2, "/login", url.Values{"login": {"martin.d"}, "password": {"correct horse battery"}})
		if !strings.HasPrefix(p.path, "/login/mfa") {
			t.Fatalf("enrolled account: at %s, want /login/mfa", p.path)
		}
		p = s.post(t, c2, "/login/mfa", url.Values{"code": {good}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "déjà été utilisé") {
			t.Errorf("replayed code: status %d, want 400 'already used'", p.status)
		}
		f.clk.Add(30 * time.Second)
		p = s.post(t, c2, "/login/mfa", url.Values{"code": {s.code(t, secret)}})
		if p.path != "/" {
			t.Errorf("next code: at %s, want /", p.path)
		}

		// Restart: a new Auth on the same database knows the session.
		f.a = f.newAuth(t)
		s2 := newSite(t, f)
		c.Jar.SetCookies(mustURL(s2.srv.URL), c.Jar.Cookies(mustURL(s.srv.URL)))
		if login, st := s2.whoami(t, c); login != "martin.d" {
			t.Errorf("after restart: whoami = %q (%d), want martin.d", login, st)
		}

		// Sign-out deletes the session.
		s2.post(t, c, "/logout", nil)
		if _, st := s2.whoami(t, c); st != http.StatusUnauthorized {
			t.Errorf("after sign-out: status %d, want 401", st)
		}
		if f.j.count("sign-in (second factor)") != 2 || f.j.count("authenticator app enrolled") != 1 || f.j.count("sign-out") != 1 {
			t.Errorf("journal: %+v", f.j.recs)
		}
	})
}

func cookieValue(c *http.Client, base string) string {
	for _, ck := range c.Jar.Cookies(mustURL(base)) {
		if ck.Name == CookieName {
			return ck.Value
		}
	}
	return ""
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestLockOut(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		f.addUser(t, "lea", vigie.RoleCitizen, 0, "")
		c := s.browser(t)
		wrong := url.Values{"login": {"lea"}, "password": {"wrong password!"}}
		var unknown page
		for i := 0; i < 5; i++ {
			p := s.post(t, c, "/login", wrong)
			if p.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, p.status)
			}
			unknown = s.post(t, c, "/login", url.Values{"login": {"nobody"}, "password": {"wrong password!"}})
		}
		// Locked: the right password is refused, with the same message as
		// for an unknown login.
		p := s.post(t, c, "/login", url.Values{"login": {"lea"}, "password": {"correct horse battery"}})
		if p.status != http.StatusUnauthorized {
			t.Fatalf("locked account: status %d, want 401", p.status)
		}
		if msg(p.body) != msg(unknown.body) || msg(p.body) == "" {
			t.Errorf("locked and unknown differ: %q vs %q", msg(p.body), msg(unknown.body))
		}
		if f.j.count("sign-in refused: wrong password; account locked until") != 1 {
			t.Errorf("lock-out not journaled")
		}
		// After 15 minutes the lock lifts; a second lock lasts twice as long.
		f.clk.Add(16 * time.Minute)
		for i := 0; i < 5; i++ {
			s.post(t, c, "/login", wrong)
		}
		f.clk.Add(16 * time.Minute)
		if p := s.post(t, c, "/login", url.Values{"login": {"lea"}, "password": {"correct horse battery"}}); p.status != http.StatusUnauthorized {
			t.Errorf("second lock after 16 min: status %d, want still locked", p.status)
		}
		f.clk.Add(15 * time.Minute)
		if p := s.post(t, c, "/login", url.Values{"login": {"lea"}, "password": {"correct horse battery"}}); p.path != "/" {
			t.Errorf("after the second lock: at %s (%d), want signed in at /", p.path, p.status)
		}
	})
}

var alertRE = regexp.MustCompile(`role="alert"><p>([^<]*)</p>`)

func msg(body string) string {
	m := alertRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestIPThrottle(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		c := s.browser(t)
		for i := 0; i < 20; i++ {
			s.post(t, c, "/login", url.Values{"login": {"user" + itoa(int64(i))}, "password": {"guess guess guess"}})
		}
		if p := s.post(t, c, "/login", url.Values{"login": {"x1x"}, "password": {"guess guess guess"}}); p.status != http.StatusTooManyRequests {
			t.Errorf("21st failure from one address: status %d, want 429", p.status)
		}
		f.clk.Add(11 * time.Minute)
		if p := s.post(t, c, "/login", url.Values{"login": {"x1x"}, "password": {"guess guess guess"}}); p.status != http.StatusUnauthorized {
			t.Errorf("after the window: status %d, want 401", p.status)
		}
	})
}

func TestTokenAndDisabled(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		ctx := Console(context.Background(), "test")
		f.addUser(t, "script.owner", vigie.RoleAnalyst, 10, "")
		tok, err := f.a.CreateToken(ctx, "script.owner", "nightly export", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		call := func(header string) (int, string) {
			req, _ := http.NewRequest("GET", s.srv.URL+"/whoami", nil)
			req.Header.Set("Authorization", header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var v struct{ Login, Via string }
			json.NewDecoder(resp.Body).Decode(&v)
			return resp.StatusCode, v.Via
		}
		if st, via := call("Bearer " + tok); st != http.StatusOK || via != "token" {
			t.Errorf("valid token: %d via %q, want 200 via token", st, via)
		}
		// Change the last character (to something else than it was: a
		// token ending in "A" would otherwise stay valid one time in 64).
		altered := tok[:len(tok)-1] + "A"
		if altered == tok {
			altered = tok[:len(tok)-1] + "B"
		}
		if st, _ := call("Bearer " + altered); st != http.StatusUnauthorized {
			t.Errorf("altered token: %d, want 401", st)
		}
		if st, _ := call("Basic Zm9vOmJhcg=="); st != http.StatusUnauthorized {
			t.Errorf("other scheme: %d, want 401", st)
		}
		// A disabled account's token and sessions stop working at once.
		c := s.browser(t)
		s.signIn(t, c, "script.owner")
		if err := f.a.DisableUser(ctx, "script.owner"); err != nil {
			t.Fatal(err)
		}
		if st, _ := call("Bearer " + tok); st != http.StatusUnauthorized {
			t.Errorf("token of a disabled account: %d, want 401", st)
		}
		if _, st := s.whoami(t, c); st != http.StatusUnauthorized {
			t.Errorf("session of a disabled account: %d, want 401", st)
		}
		p := s.post(t, c, "/login", url.Values{"login": {"script.owner"}, "password": {"correct horse battery"}})
		if p.status != http.StatusUnauthorized {
			t.Errorf("sign-in of a disabled account: %d, want 401", p.status)
		}
		// Expiry.
		if err := f.a.EnableUser(ctx, "script.owner"); err != nil {
			t.Fatal(err)
		}
		if st, _ := call("Bearer " + tok); st != http.StatusOK {
			t.Errorf("re-enabled: %d, want 200", st)
		}
		f.clk.Add(25 * time.Hour)
		if st, _ := call("Bearer " + tok); st != http.StatusUnauthorized {
			t.Errorf("expired token: %d, want 401", st)
		}
	})
}

func TestSessionTimeouts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		f.addUser(t, "idle", vigie.RoleAgent, 100, "")
		c := s.browser(t)
		s.signIn(t, c, "idle")
		f.clk.Add(29 * time.Minute)
		if _, st := s.whoami(t, c); st != http.StatusOK {
			t.Fatalf("after 29 idle minutes: %d, want 200", st)
		}
		f.clk.Add(31 * time.Minute)
		if _, st := s.whoami(t, c); st != http.StatusUnauthorized {
			t.Errorf("after 31 idle minutes: %d, want 401", st)
		}
		// Absolute lifetime: active every 20 minutes, out after 12 hours.
		s.signIn(t, c, "idle")
		for i := 0; i < 35; i++ {
			f.clk.Add(20 * time.Minute)
			if _, st := s.whoami(t, c); st != http.StatusOK {
				t.Fatalf("active session refused after %d min", (i+1)*20)
			}
		}
		f.clk.Add(20 * time.Minute)
		if _, st := s.whoami(t, c); st != http.StatusUnauthorized {
			t.Errorf("after 12 h: %d, want 401", st)
		}
	})
}

func TestNextIsLocal(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := newSite(t, f)
		f.addUser(t, "camille", vigie.RoleCitizen, 0, "")
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
			c := s.browser(t)
			p := s.post(t, c, "/login", url.Values{"login": {"camille"}, "password": {"correct horse battery"}, "next": {next}})
			if p.path != "/" || !strings.HasPrefix(s.srv.URL+p.path, s.srv.URL) {
				t.Errorf("next=%q: ended at %s, want /", next, p.path)
			}
		}
	})
}
