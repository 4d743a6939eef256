package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

const (
	testRPID   = "vigie.test"
	testOrigin = "https://vigie.test"
)

// newPasskeySite is the auth area with passkeys enabled for testRPID.
func newPasskeySite(t *testing.T, d *db.DB) *site {
	t.Helper()
	f := newFixture(t, d)
	p := NewPolicy(f.d, testTree())
	p.now = f.clk.Now
	a, err := New(context.Background(), f.d, p, f.j, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{Argon2: fastArgon, Now: f.clk.Now, WebAuthnRPID: testRPID, WebAuthnOrigins: []string{testOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	return newSite(t, f)
}

type jsonReply struct {
	status int
	body   []byte
}

func (s *site) postJSON(t *testing.T, c *http.Client, path string, body any) jsonReply {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
		b = []byte("{}")
	case json.RawMessage:
		b = v
	default:
		b = mustJSON(t, v)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return jsonReply{resp.StatusCode, rb}
}

func (r jsonReply) want(t *testing.T, what string, status int) jsonReply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

// registerPasskey runs a registration ceremony for the browser c (signed
// in) with authenticator k.
func (s *site) registerPasskey(t *testing.T, c *http.Client, k *softAuthenticator, name string) jsonReply {
	t.Helper()
	opts := s.postJSON(t, c, "/account/passkeys/begin", nil).want(t, "begin registration", http.StatusOK)
	return s.postJSON(t, c, "/account/passkeys", map[string]any{"name": name, "credential": k.create(t, opts.body)})
}

// passwordStep signs in with the password only, leaving a pending session.
func (s *site) passwordStep(t *testing.T, c *http.Client, login string) {
	t.Helper()
	p := s.post(t, c, "/login", url.Values{"login": {login}, "password": {"correct horse battery"}})
	if !strings.HasPrefix(p.path, "/login/mfa") {
		t.Fatalf("after password: at %s (%d), want /login/mfa", p.path, p.status)
	}
}

// assert runs the second-factor ceremony with k and returns the reply to
// the finish step, and the assertion posted (for replays).
func (s *site) assert(t *testing.T, c *http.Client, k *softAuthenticator) (jsonReply, json.RawMessage) {
	t.Helper()
	opts := s.postJSON(t, c, "/login/mfa/passkey/begin", nil).want(t, "begin assertion", http.StatusOK)
	a := k.get(t, opts.body)
	return s.postJSON(t, c, "/login/mfa/passkey?next=%2Faccount", a), a
}

func TestPasskeyCeremonies(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newPasskeySite(t, d)
		s.addUser(t, "agent", vigie.RoleAgent, 100, "01")
		c := s.browser(t)
		s.signIn(t, c, "agent")
		k := newSoftAuthenticator(t, testOrigin)

		// Registration from the account page.
		r := s.registerPasskey(t, c, k, "Clé bleue").want(t, "finish registration", http.StatusCreated)
		var pk Passkey
		if err := json.Unmarshal(r.body, &pk); err != nil || pk.Name != "Clé bleue" || pk.AAGUID == "" || pk.ID == 0 {
			t.Fatalf("registered passkey = %+v (%v)", pk, err)
		}
		p := s.get(t, c, "/account")
		if !strings.Contains(p.body, "Clé bleue") || !strings.Contains(p.body, "Clés d&#39;accès") || !strings.Contains(p.body, `src="/auth/webauthn.js"`) {
			t.Errorf("account page does not list the passkey in French with its script:\n%s", p.body)
		}
		// The same authenticator cannot be registered twice.
		s.registerPasskey(t, c, k, "Again").want(t, "register the same credential again", http.StatusConflict)

		// Second factor: the MFA page offers the passkey; the assertion signs in.
		c2 := s.browser(t)
		s.passwordStep(t, c2, "agent")
		if p := s.get(t, c2, "/login/mfa"); !strings.Contains(p.body, "Utiliser une clé d&#39;accès") {
			t.Errorf("MFA page does not offer the passkey:\n%s", p.body)
		}
		pending := cookieValue(c2, s.srv.URL)
		r, _ = s.assert(t, c2, k)
		r.want(t, "finish assertion", http.StatusOK)
		var next struct{ Redirect string }
		json.Unmarshal(r.body, &next)
		if next.Redirect != "/account" {
			t.Errorf("redirect = %q, want /account", next.Redirect)
		}
		if got := cookieValue(c2, s.srv.URL); got == pending || got == "" {
			t.Errorf("session id not rotated after the passkey")
		}
		if login, st := s.whoami(t, c2); login != "agent" {
			t.Errorf("after passkey: whoami = %q (%d), want agent", login, st)
		}
		var list struct{ Passkeys []Passkey }
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/account/passkeys", nil)
		resp, err := c2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list.Passkeys) != 1 || list.Passkeys[0].SignCount != k.count || list.Passkeys[0].LastUsed.IsZero() {
			t.Errorf("after use: %+v, want sign count %d and a last use", list.Passkeys, k.count)
		}

		// Rename, then delete; the MFA page no longer offers a passkey.
		id := itoa(pk.ID)
		if p := s.post(t, c, "/account/passkeys/"+id+"/rename", url.Values{"name": {"Clé rouge"}}); !strings.Contains(p.body, "Clé rouge") {
			t.Errorf("rename: at %s (%d)", p.path, p.status)
		}
		if p := s.post(t, c, "/account/passkeys/"+id+"/rename", url.Values{"name": {"  "}}); p.status != http.StatusBadRequest {
			t.Errorf("empty name: status %d, want 400", p.status)
		}
		s.post(t, c, "/account/passkeys/"+id+"/delete", nil)
		if p := s.post(t, c, "/account/passkeys/"+id+"/delete", nil); p.status != http.StatusNotFound {
			t.Errorf("delete twice: status %d, want 404", p.status)
		}
		c3 := s.browser(t)
		s.passwordStep(t, c3, "agent")
		if p := s.get(t, c3, "/login/mfa"); strings.Contains(p.body, "passkey-signin") {
			t.Errorf("MFA page offers a deleted passkey")
		}
		s.postJSON(t, c3, "/login/mfa/passkey/begin", nil).want(t, "begin without passkeys", http.StatusConflict)

		for _, w := range []string{"passkey registered: #", "sign-in (second factor: passkey #", "passkey renamed: #", "passkey deleted: #"} {
			if s.j.count(w) != 1 {
				t.Errorf("journal: %d records %q, want 1", s.j.count(w), w)
			}
		}
	})
}

func TestPasskeyRefusals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newPasskeySite(t, d)
		s.addUser(t, "agent", vigie.RoleAgent, 100, "01")
		c := s.browser(t)
		s.signIn(t, c, "agent")

		// Registration from another origin is refused, and nothing is stored.
		evil := newSoftAuthenticator(t, "https://evil.test")
		s.registerPasskey(t, c, evil, "Evil").want(t, "registration from a wrong origin", http.StatusBadRequest)

		// A registration response is good for one challenge only.
		k := newSoftAuthenticator(t, testOrigin)
		opts := s.postJSON(t, c, "/account/passkeys/begin", nil).want(t, "begin", http.StatusOK)
		cred := k.create(t, opts.body)
		s.postJSON(t, c, "/account/passkeys", map[string]any{"name": "K", "credential": cred}).want(t, "register", http.StatusCreated)
		s.postJSON(t, c, "/account/passkeys", map[string]any{"name": "K2", "credential": cred}).want(t, "replayed registration", http.StatusBadRequest)
		// Garbage is a 400, never a 500.
		s.postJSON(t, c, "/account/passkeys", json.RawMessage(`{"name":"x","credential":{"id":1}}`)).want(t, "garbage registration", http.StatusBadRequest)
		s.postJSON(t, c, "/account/passkeys", json.RawMessage(`[`)).want(t, "broken JSON", http.StatusBadRequest)

		// Assertion from a wrong origin: refused, counted, not signed in.
		b := s.browser(t)
		s.passwordStep(t, b, "agent")
		wrong := k.clone()
		wrong.origin = "https://evil.test"
		r, _ := s.assert(t, b, wrong)
		r.want(t, "assertion from a wrong origin", http.StatusBadRequest)
		if _, st := s.whoami(t, b); st != http.StatusUnauthorized {
			t.Errorf("after a wrong origin: whoami status %d, want 401", st)
		}

		// A good assertion works once; replayed (same challenge), it is refused.
		r, good := s.assert(t, b, k)
		r.want(t, "good assertion", http.StatusOK)
		b2 := s.browser(t)
		s.passwordStep(t, b2, "agent")
		s.postJSON(t, b2, "/login/mfa/passkey", good).want(t, "replay without a ceremony", http.StatusBadRequest)
		s.postJSON(t, b2, "/login/mfa/passkey/begin", nil).want(t, "begin", http.StatusOK)
		s.postJSON(t, b2, "/login/mfa/passkey", good).want(t, "replay against a new challenge", http.StatusBadRequest)

		// A clone (same key, counter behind) is refused and journaled.
		clone := k.clone()
		clone.count = 0
		r, _ = s.assert(t, b2, clone)
		r.want(t, "cloned authenticator", http.StatusBadRequest)
		if s.j.count("second factor refused: passkey #") != 1 || !strings.Contains(lastDetail(s.j), "cloned") {
			t.Errorf("clone not journaled: %q", lastDetail(s.j))
		}
		// The genuine authenticator still works.
		r, _ = s.assert(t, b2, k)
		r.want(t, "genuine authenticator after the clone", http.StatusOK)

		// A ceremony older than its lifetime is void.
		b3 := s.browser(t)
		s.passwordStep(t, b3, "agent")
		opts = s.postJSON(t, b3, "/login/mfa/passkey/begin", nil).want(t, "begin", http.StatusOK)
		s.clk.Add(ceremonyTTL + time.Second)
		s.postJSON(t, b3, "/login/mfa/passkey", k.get(t, opts.body)).want(t, "expired ceremony", http.StatusBadRequest)

		// Refusals count like wrong codes: 5 lock the account.
		if n := s.j.count("second factor refused"); n != 5 {
			t.Errorf("refusals journaled: %d, want 5 (%+v)", n, s.j.recs)
		}
	})
}

func lastDetail(j *fakeJournal) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.recs) - 1; i >= 0; i-- {
		if strings.HasPrefix(j.recs[i].Detail, "second factor refused") {
			return j.recs[i].Detail
		}
	}
	return ""
}

func TestPasskeyAccess(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newPasskeySite(t, d)
		s.addUser(t, "agent", vigie.RoleAgent, 100, "01")
		s.addUser(t, "other", vigie.RoleAgent, 100, "01")
		anon := s.browser(t)
		s.postJSON(t, anon, "/account/passkeys/begin", nil).want(t, "anonymous begin", http.StatusUnauthorized)
		s.postJSON(t, anon, "/login/mfa/passkey/begin", nil).want(t, "begin without a pending session", http.StatusUnauthorized)

		// A pending session (password only) cannot register a passkey.
		half := s.browser(t)
		s.passwordStep(t, half, "agent")
		s.postJSON(t, half, "/account/passkeys/begin", nil).want(t, "begin before the second factor", http.StatusUnauthorized)

		// One cannot rename or delete another account's passkey.
		c := s.browser(t)
		s.signIn(t, c, "agent")
		var pk Passkey
		json.Unmarshal(s.registerPasskey(t, c, newSoftAuthenticator(t, testOrigin), "Mine").want(t, "register", http.StatusCreated).body, &pk)
		o := s.browser(t)
		s.signIn(t, o, "other")
		if p := s.post(t, o, "/account/passkeys/"+itoa(pk.ID)+"/delete", nil); p.status != http.StatusNotFound {
			t.Errorf("delete another's passkey: status %d, want 404", p.status)
		}
		if p := s.post(t, o, "/account/passkeys/"+itoa(pk.ID)+"/rename", url.Values{"name": {"Theirs"}}); p.status != http.StatusNotFound {
			t.Errorf("rename another's passkey: status %d, want 404", p.status)
		}

		// Tokens and citizens may not manage passkeys.
		ctx := context.Background()
		for _, u := range []*vigie.User{
			{ID: 1, Login: "agent", Role: vigie.RoleAgent, Via: "token"},
			{ID: 1, Login: "citizen", Role: vigie.RoleCitizen, Via: "session", SessionID: "x"},
		} {
			if _, err := s.a.BeginPasskeyRegistration(vigie.WithUser(ctx, u)); vigie.KindOf(err) != vigie.KindForbidden {
				t.Errorf("%s via %s: err %v, want forbidden", u.Role, u.Via, err)
			}
		}
	})
}

func TestPasskeysDisabled(t *testing.T) {
	f := newFixture(t, dbtest.OpenSQLite(t))
	s := newSite(t, f)
	f.addUser(t, "agent", vigie.RoleAgent, 100, "01")
	c := s.browser(t)
	s.signIn(t, c, "agent")
	if p := s.get(t, c, "/account"); strings.Contains(p.body, "passkey") || strings.Contains(p.body, "webauthn.js") {
		t.Errorf("account page shows passkeys while they are disabled")
	}
	s.postJSON(t, c, "/account/passkeys/begin", nil).want(t, "begin while disabled", http.StatusNotFound)
	if _, err := newRelyingParty(Config{WebAuthnRPID: "vigie.test"}); err == nil {
		t.Errorf("an RP id without origins was accepted")
	}
}

func TestPasskeyName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Clé bleue", "Clé bleue", true},
		{"  YubiKey 5  ", "YubiKey 5", true},
		{"", "", false},
		{"   ", "", false},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{strings.Repeat("é", 101), "", false},
		{"tab\there", "", false},
		{"bad\xffutf8", "", false},
	} {
		got, err := passkeyName(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("passkeyName(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzPasskeyName(f *testing.F) {
	for _, s := range []string{"Clé", "", " x ", "\x00", strings.Repeat("a", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := passkeyName(s)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("kind %v", vigie.KindOf(err))
			}
			return
		}
		if got == "" || got != strings.TrimSpace(got) || len([]rune(got)) > 100 {
			t.Fatalf("accepted %q", got)
		}
	})
}

// FuzzPasskeyAssertion posts arbitrary bytes as an assertion: the answer
// is always the user's to fix (never an internal error).
func FuzzPasskeyAssertion(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`))
	f.Add([]byte(`[`))
	d := dbtest.OpenSQLite(f)
	fx := newFixture(f, d)
	a, err := New(context.Background(), d, NewPolicy(d, testTree()), fx.j, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config{Argon2: fastArgon, Now: fx.clk.Now, WebAuthnRPID: testRPID, WebAuthnOrigins: []string{testOrigin}, MaxFailures: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	fx.a = a
	fx.addUser(f, "agent", vigie.RoleAgent, 100, "01")
	in, err := a.SignIn(context.Background(), "agent", "correct horse battery")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := a.FinishPasskeyMFA(context.Background(), in.Token, body)
		switch vigie.KindOf(err) {
		case vigie.KindInvalid, vigie.KindUnauthenticated:
		default:
			t.Fatalf("body %q: %v (kind %v)", body, err, vigie.KindOf(err))
		}
	})
}
