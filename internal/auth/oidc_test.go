package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

// provider is a small but real OpenID Connect provider: discovery, JWKS,
// an authorization endpoint that signs in whoever the test says, and a
// token endpoint that checks the client secret and PKCE and signs RS256
// ID tokens.
type provider struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	codes  map[string]grant
	// who is signed in at the provider for the next /authorize.
	claims map[string]any
}

type grant struct {
	nonce, challenge, redirect string
	claims                     map[string]any
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, signer: signer, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "vigie" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := randomToken(16)
		p.mu.Lock()
		p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: p.claims}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		if id != "vigie" || secret != "s3cret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		g, ok := p.codes[r.PostFormValue("code")]
		delete(p.codes, r.PostFormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostFormValue("redirect_uri") != g.redirect {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": p.srv.URL, "aud": "vigie", "sub": "person-1", "nonce": g.nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		for k, v := range g.claims {
			claims[k] = v
		}
		idt, err := jwt.Signed(p.signer).Claims(claims).Serialize()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + randomToken(8), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) signInAs(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

func TestOIDC(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		op := newProvider(t)
		f := &fixture{d: d, j: &fakeJournal{}, clk: &clock{t: time.Now()}}
		// Vigie's own server, whose URL must be known for the redirect URL.
		var h http.Handler
		vs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		t.Cleanup(vs.Close)
		p := NewPolicy(d, testTree())
		a, err := New(context.Background(), d, p, f.j, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{
			Argon2: fastArgon, Now: f.clk.Now,
			OIDC: &OIDCConfig{IssuerURL: op.srv.URL, ClientID: "vigie", ClientSecret: "s3cret",
				RedirectURL: vs.URL + "/login/oidc/callback", MFAACR: []string{"eidas2"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		f.a = a
		s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Register(s); err != nil {
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
		f.addUser(t, "jean.dupont", vigie.RoleCommander, 10, "")
		f.a.d.Exec(context.Background(), `UPDATE users SET email = 'jd@gendarmerie.example' WHERE login = 'jean.dupont'`)
		f.addUser(t, "citoyen", vigie.RoleCitizen, 0, "")

		tests := []struct {
			name     string
			claims   map[string]any
			wantPath string
			wantUser string
		}{
			{"login claim, amr mfa", map[string]any{"preferred_username": "Jean.Dupont", "amr": []string{"pwd", "mfa"}}, "/account", "jean.dupont"},
			{"acr asserts mfa", map[string]any{"preferred_username": "jean.dupont", "acr": "eidas2"}, "/account", "jean.dupont"},
			{"no mfa: ask TOTP", map[string]any{"preferred_username": "jean.dupont", "amr": []string{"pwd"}}, "/login/mfa?next=%2Faccount", ""},
			{"verified e-mail", map[string]any{"email": "jd@gendarmerie.example", "email_verified": true, "amr": []string{"otp"}}, "/account", "jean.dupont"},
			{"unverified e-mail", map[string]any{"email": "jd@gendarmerie.example", "email_verified": false, "amr": []string{"otp"}}, "/login/oidc/callback", ""},
			{"unknown person", map[string]any{"preferred_username": "inconnu", "amr": []string{"mfa"}}, "/login/oidc/callback", ""},
			{"citizen account refused", map[string]any{"preferred_username": "citoyen", "amr": []string{"mfa"}}, "/login/oidc/callback", ""},
		}
		for _, tt := range tests {
			op.signInAs(tt.claims)
			c := st.browser(t)
			pg := st.get(t, c, "/login/oidc?next=%2Faccount")
			if !strings.HasPrefix(pg.path, tt.wantPath) {
				t.Errorf("%s: ended at %s (%d), want %s", tt.name, pg.path, pg.status, tt.wantPath)
				continue
			}
			login, _ := st.whoami(t, c)
			if login != tt.wantUser {
				t.Errorf("%s: signed in as %q, want %q", tt.name, login, tt.wantUser)
			}
			if tt.wantUser == "" && strings.HasPrefix(pg.path, "/login/oidc/callback") && !strings.Contains(pg.body, "pas connu de Vigie") {
				t.Errorf("%s: no clear message: %s", tt.name, msg(pg.body))
			}
		}

		// A callback with a forged or replayed state is refused.
		c := st.browser(t)
		if pg := st.get(t, c, "/login/oidc/callback?state=forged&code=x"); pg.status != http.StatusUnauthorized {
			t.Errorf("forged state: %d, want 401", pg.status)
		}
		// The password step of a provider without MFA still requires TOTP.
		op.signInAs(map[string]any{"preferred_username": "jean.dupont"})
		st.get(t, c, "/login/oidc")
		f.clk.Add(30 * time.Second)
		pg := st.post(t, c, "/login/mfa", url.Values{"code": {st.code(t, demoSecret)}})
		if pg.path != "/" {
			t.Errorf("TOTP after OIDC: at %s, want /", pg.path)
		}
		if login, _ := st.whoami(t, c); login != "jean.dupont" {
			t.Errorf("after TOTP: %q", login)
		}
	})
}
