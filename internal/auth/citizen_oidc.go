package auth

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/web"
)

// FranceConnect: citizens sign in through the State's identity federation
// (OpenID Connect), a second provider beside the staff one (oidc.go), with
// its own routes:
//
//	GET /login/franceconnect           → the provider (state, nonce, PKCE)
//	GET /login/franceconnect/callback  ← back: account found or created
//
// The account is a citizen account whose login is the e-mail address, as
// sign-up makes them (signup.go): a citizen who signed up with the same
// (verified) address signs in to that account; otherwise one is created
// from the email, given_name and family_name claims. SECURITY: it never
// signs anyone in to a staff account (staff use their own sign-in), and an
// address the provider does not vouch for (email_verified) is refused,
// unless TrustEmail says this provider's addresses are verified by design.

// FranceConnectConfig configures citizens' sign-in through FranceConnect
// (or any OpenID Connect provider for citizens).
type FranceConnectConfig struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	RedirectURL  string // https://vigie.example/login/franceconnect/callback
	// TrustEmail accepts the email claim without email_verified: the
	// FranceConnect identity providers (impots.gouv.fr, ameli.fr...) send
	// the address they hold for the person and no such claim.
	TrustEmail bool
}

// FranceConnect is the citizens' OpenID Connect sign-in.
type FranceConnect struct {
	a      *Auth
	client *oidcClient
	cfg    FranceConnectConfig
}

// fcNoncePrefix marks the sign-ins begun here; the staff callback refuses
// them (oidc.go), and this one refuses the others: the two flows share the
// oidc_states table.
const fcNoncePrefix = "fc."

//go:embed templates/franceconnect
var franceConnectTemplates embed.FS

// NewFranceConnect returns the citizens' sign-in. It does no I/O: the
// provider is discovered at the first sign-in.
func (a *Auth) NewFranceConnect(cfg FranceConnectConfig) (*FranceConnect, error) {
	c, err := newOIDCClient(context.Background(), OIDCConfig{IssuerURL: cfg.IssuerURL, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		Scopes: []string{oidc.ScopeOpenID, "email", "given_name", "family_name"}})
	if err != nil {
		return nil, vigie.Invalidf("auth.FranceConnect", "FranceConnect needs an issuer URL, a client id and a redirect URL.")
	}
	return &FranceConnect{a: a, client: c, cfg: cfg}, nil
}

var errFC = vigie.E(vigie.KindUnauthenticated, "auth.FranceConnect", "FranceConnect refused or failed the sign-in. Please try again.", nil)

// Start begins a sign-in and returns where to send the browser.
func (f *FranceConnect) Start(ctx context.Context, next string) (string, error) {
	oc, _, err := f.client.ready(ctx)
	if err != nil {
		return "", err
	}
	now := f.a.now()
	state, nonce, verifier := randomToken(32), fcNoncePrefix+randomToken(32), oauth2.GenerateVerifier()
	if err := insertOIDCState(ctx, f.a.d, hashSecret(state),
		oidcState{Nonce: nonce, Verifier: verifier, Next: safeNext(next), ExpiresAt: now.Add(10 * time.Minute)}, now); err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

type fcClaims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
}

// Callback completes a sign-in: state, code exchange with PKCE, ID token
// and nonce; then the citizen account is found or created and signed in.
// It returns the session and the local path to go to.
func (f *FranceConnect) Callback(ctx context.Context, q url.Values) (*SignedIn, string, error) {
	oc, verifier, err := f.client.ready(ctx)
	if err != nil {
		return nil, "", err
	}
	st, err := takeOIDCState(ctx, f.a.d, hashSecret(q.Get("state")))
	if err != nil || !st.ExpiresAt.After(f.a.now()) || !strings.HasPrefix(st.Nonce, fcNoncePrefix) {
		return nil, "", errFC
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		return nil, st.Next, errFC
	}
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, st.Next, errors.Join(errFC, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, st.Next, errors.Join(errFC, err)
	}
	if idt.Nonce != st.Nonce {
		return nil, st.Next, errFC
	}
	var c fcClaims
	if err := idt.Claims(&c); err != nil {
		return nil, st.Next, errors.Join(errFC, err)
	}
	out, err := f.signIn(ctx, c)
	return out, st.Next, err
}

var (
	errFCEmail = vigie.E(vigie.KindForbidden, "auth.FranceConnect",
		"FranceConnect did not give a verified e-mail address. Create an account with your e-mail address instead.", nil)
	errFCStaff = vigie.E(vigie.KindForbidden, "auth.FranceConnect",
		"This address belongs to a staff account: use the staff sign-in.", nil)
	errFCDisabled = vigie.E(vigie.KindForbidden, "auth.FranceConnect", "This account is disabled.", nil)
	errFCLink     = vigie.E(vigie.KindForbidden, "auth.FranceConnect",
		"An account with a password already uses this address: sign in with your password.", nil)
)

// signIn finds the citizen account of the address, or creates it, and
// opens a session.
func (f *FranceConnect) signIn(ctx context.Context, c fcClaims) (*SignedIn, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	explicit := c.EmailVerified != nil && *c.EmailVerified
	verified := explicit || (c.EmailVerified == nil && f.cfg.TrustEmail)
	if email == "" || !verified || !validEmail(email) {
		return nil, errFCEmail
	}
	name := strings.TrimSpace(strings.Join(strings.Fields(c.GivenName+" "+c.FamilyName), " "))
	if name == "" {
		name = email
	}
	if len(name) > 200 {
		name = truncate(name, 200)
	}
	now := f.a.now()
	var out *SignedIn
	err := f.a.d.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByLogin(ctx, tx, email)
		created := false
		switch {
		case vigie.KindOf(err) == vigie.KindNotFound:
			uid, err := insertUser(ctx, tx, NewUser{Login: email, Email: email, Name: name, Role: vigie.RoleCitizen, Lang: "fr"}, "", "", now)
			if err != nil {
				return err
			}
			if u, err = userByID(ctx, tx, uid); err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		case u.Role != vigie.RoleCitizen:
			return errFCStaff
		case u.Disabled || u.LockedUntil.After(now):
			return errFCDisabled
		case u.PasswordHash != "" && !explicit:
			// SECURITY: an address the provider did not say it verified
			// (TrustEmail) may create an account, never take over one
			// that somebody opened with a password.
			return errFCLink
		}
		tok, err := f.a.newSession(ctx, tx, u, true, "franceconnect", now)
		if err != nil {
			return err
		}
		out = &SignedIn{Token: tok, Step: StepDone, User: u.User("session")}
		if created {
			if err := f.a.record(ctx, tx, out.User, vigie.Record{Action: vigie.ActCollect, Object: "user", ObjectID: itoa(u.ID),
				Detail: "citizen account created through FranceConnect"}); err != nil {
				return err
			}
		}
		return f.a.record(ctx, tx, out.User, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Detail: "sign-in through FranceConnect"})
	})
	if errors.Is(err, errFCStaff) {
		// Journaled as a refused sign-in (and counted against the address).
		if ferr := f.a.failed(ctx, nil, email, "FranceConnect identity matches a staff account"); ferr != errSignIn {
			return nil, ferr
		}
	}
	return out, err
}

// Register adds the FranceConnect routes to w.
func (f *FranceConnect) Register(w *web.Server) error {
	sub, err := fs.Sub(franceConnectTemplates, "templates/franceconnect")
	if err != nil {
		return err
	}
	if err := w.AddTemplates("franceconnect", sub); err != nil {
		return err
	}
	h := &fcHandler{f: f, w: w}
	w.Route("GET /login/franceconnect", h.start)
	w.Route("GET /login/franceconnect/callback", h.callback)
	f.a.franceConnect.Store(true)
	return nil
}

type fcHandler struct {
	f *FranceConnect
	w *web.Server
}

func (h *fcHandler) start(w http.ResponseWriter, r *http.Request) error {
	to, err := h.f.Start(r.Context(), r.URL.Query().Get("next"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (h *fcHandler) callback(w http.ResponseWriter, r *http.Request) error {
	in, next, err := h.f.Callback(r.Context(), r.URL.Query())
	if err != nil {
		msg := vigie.MessageOf(err)
		if msg == "" {
			msg = vigie.MessageOf(errFC)
		}
		return h.w.RenderStatus(w, r, http.StatusUnauthorized, "franceconnect/failed.html",
			map[string]string{"Error": web.T(web.Lang(r), msg)})
	}
	h.f.a.setCookie(w, r, in.Token)
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
