package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"vigie"
	"vigie/internal/db"
)

// OIDCConfig configures staff sign-in through an OpenID Connect provider
// (Keycloak, ProConnect...). The provider authenticates the person; Vigie
// matches them to an existing staff account and never creates one.
type OIDCConfig struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	RedirectURL  string // https://vigie.example/login/oidc/callback
	// LoginClaim names the claim matched to the account login
	// ("preferred_username"); when absent from the ID token, the "email"
	// claim is matched to the account e-mail (verified e-mails only).
	LoginClaim string
	// MFAACR lists acr values that assert multi-factor authentication
	// (e.g. "eidas2"); an amr claim with "mfa", "otp", "hwk" or "sc" also
	// does. Otherwise Vigie asks for its own TOTP code.
	MFAACR []string
	// Scopes asked for (default: openid, profile, email).
	Scopes []string
}

// oidcClient discovers the provider lazily, so that Vigie starts (and its
// password sign-in works) while the provider is unreachable.
type oidcClient struct {
	cfg      OIDCConfig
	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newOIDCClient(ctx context.Context, c OIDCConfig) (*oidcClient, error) {
	if c.IssuerURL == "" || c.ClientID == "" || c.RedirectURL == "" {
		return nil, vigie.Invalidf("auth.OIDC", "OpenID Connect needs an issuer URL, a client id and a redirect URL.")
	}
	if c.LoginClaim == "" {
		c.LoginClaim = "preferred_username"
	}
	return &oidcClient{cfg: c}, nil
}

var errOIDC = vigie.E(vigie.KindUnauthenticated, "auth.OIDC", "The identity provider refused or failed the sign-in. Please try again.", nil)

func (o *oidcClient) ready(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	p, err := oidc.NewProvider(ctx, o.cfg.IssuerURL)
	if err != nil {
		return nil, nil, vigie.E(vigie.KindUnavailable, "auth.OIDC", "The identity provider cannot be reached; please try again later.", err)
	}
	scopes := o.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: scopes}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// OIDCStart begins a sign-in at the provider and returns where to send the
// browser. SECURITY: state (CSRF), nonce (ID-token replay) and PKCE (code
// interception) are all used; state is stored hashed, usable once, 10 min.
func (a *Auth) OIDCStart(ctx context.Context, next string) (string, error) {
	if a.oidc == nil {
		return "", vigie.ErrNotFound
	}
	oc, _, err := a.oidc.ready(ctx)
	if err != nil {
		return "", err
	}
	now := a.now()
	state, nonce, verifier := randomToken(32), randomToken(32), oauth2.GenerateVerifier()
	err = insertOIDCState(ctx, a.d, hashSecret(state),
		oidcState{Nonce: nonce, Verifier: verifier, Next: safeNext(next), ExpiresAt: now.Add(10 * time.Minute)}, now)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

type oidcClaims struct {
	Login         string   `json:"-"`
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	ACR           string   `json:"acr"`
	AMR           []string `json:"amr"`
}

// OIDCCallback completes a sign-in: it checks the state, exchanges the
// code, verifies the ID token and its nonce, matches a staff account, and
// opens a session, complete when the provider asserts MFA. It returns the
// sign-in step and the local path to go to afterwards.
func (a *Auth) OIDCCallback(ctx context.Context, q url.Values) (*SignedIn, string, error) {
	if a.oidc == nil {
		return nil, "", vigie.ErrNotFound
	}
	oc, verifier, err := a.oidc.ready(ctx)
	if err != nil {
		return nil, "", err
	}
	st, err := takeOIDCState(ctx, a.d, hashSecret(q.Get("state")))
	if err != nil || !st.ExpiresAt.After(a.now()) {
		return nil, "", errOIDC
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		return nil, st.Next, errOIDC
	}
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, st.Next, errors.Join(errOIDC, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, st.Next, errors.Join(errOIDC, err)
	}
	// A state begun for FranceConnect (citizen_oidc.go) is not a staff
	// sign-in, whatever the provider says.
	if idt.Nonce != st.Nonce || strings.HasPrefix(st.Nonce, fcNoncePrefix) {
		return nil, st.Next, errOIDC
	}
	var c oidcClaims
	var all map[string]any
	if err := idt.Claims(&c); err != nil {
		return nil, st.Next, errors.Join(errOIDC, err)
	}
	if err := idt.Claims(&all); err != nil {
		return nil, st.Next, errors.Join(errOIDC, err)
	}
	c.Login, _ = all[a.oidc.cfg.LoginClaim].(string)
	u, err := a.oidcAccount(ctx, c)
	if err == errOIDCUnknown {
		who := c.Login
		if who == "" {
			who = c.Email
		}
		if ferr := a.failed(ctx, nil, who, "identity provider account not matched"); ferr != errSignIn {
			return nil, st.Next, ferr
		}
	}
	if err != nil {
		return nil, st.Next, err
	}
	mfa := slices.Contains(a.oidc.cfg.MFAACR, c.ACR) || slices.ContainsFunc(c.AMR, func(m string) bool {
		return m == "mfa" || m == "otp" || m == "hwk" || m == "sc"
	})
	out, err := a.oidcSession(ctx, u, mfa)
	return out, st.Next, err
}

var errOIDCUnknown = vigie.E(vigie.KindForbidden, "auth.OIDC", "Your account is not known to Vigie. Ask your administrator to create it.", nil)

// oidcAccount matches the person to an existing, enabled staff account.
func (a *Auth) oidcAccount(ctx context.Context, c oidcClaims) (*userRow, error) {
	var u *userRow
	var err error
	switch {
	case c.Login != "":
		u, err = userByLogin(ctx, a.d, c.Login)
	case c.Email != "" && c.EmailVerified != nil && *c.EmailVerified:
		u, err = userByEmail(ctx, a.d, c.Email)
	default:
		return nil, errOIDCUnknown
	}
	if vigie.KindOf(err) == vigie.KindNotFound {
		return nil, errOIDCUnknown
	}
	if err != nil {
		return nil, err
	}
	if !u.Role.Staff() || u.Disabled || u.LockedUntil.After(a.now()) {
		return nil, errOIDCUnknown
	}
	return u, nil
}

func (a *Auth) oidcSession(ctx context.Context, u *userRow, mfa bool) (*SignedIn, error) {
	now := a.now()
	var out *SignedIn
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		step := StepDone
		switch {
		case mfa:
		case u.MFAEnrolled:
			step = StepMFA
		default:
			step = StepEnroll
		}
		tok, err := a.newSession(ctx, tx, u, step == StepDone, "oidc", now)
		if err != nil {
			return err
		}
		detail := "sign-in through the identity provider"
		if step == StepDone {
			detail += " (multi-factor asserted)"
			if err := clearFailures(ctx, tx, u.ID); err != nil {
				return err
			}
		} else {
			detail += ", second factor pending"
		}
		out = &SignedIn{Token: tok, Step: step, User: u.User("session")}
		return a.record(ctx, tx, out.User, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: detail})
	})
	return out, err
}

func (h *handler) oidcStart(w http.ResponseWriter, r *http.Request) error {
	to, err := h.a.OIDCStart(r.Context(), r.URL.Query().Get("next"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (h *handler) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	in, next, err := h.a.OIDCCallback(r.Context(), r.URL.Query())
	if err != nil {
		return h.formError(w, r, "auth/login.html", err, func(msg string) any {
			return loginData{Next: next, Error: msg, OIDC: true, FranceConnect: h.a.franceConnect.Load()}
		})
	}
	h.a.setCookie(w, r, in.Token)
	http.Redirect(w, r, stepPath(in.Step, next), http.StatusSeeOther)
	return nil
}
