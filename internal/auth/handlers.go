package auth

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/web"
)

//go:embed templates/*.html templates/messages.fr.json
var templates embed.FS

// Register adds the sign-in, account and account-administration routes,
// pages and API, to s.
func (a *Auth) Register(s *web.Server) error {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		return err
	}
	if err := s.AddTemplates("auth", sub); err != nil {
		return err
	}
	h := &handler{a: a, s: s}
	s.Route("GET /login", h.loginPage)
	s.Route("POST /login", h.login)
	s.Route("GET /login/mfa", h.mfaPage)
	s.Route("POST /login/mfa", h.mfa)
	s.Route("GET /mfa/enroll", h.enrollPage)
	s.Route("POST /mfa/enroll", h.mfa)
	s.Route("POST /logout", h.logout)
	s.Route("GET /account", h.accountPage)
	s.Route("POST /account/sessions/{id}/revoke", h.revokeSession)
	s.Route("POST /account/tokens", h.createToken)
	s.Route("POST /account/tokens/{id}/revoke", h.revokeToken)
	if a.oidc != nil {
		s.Route("GET /login/oidc", h.oidcStart)
		s.Route("GET /login/oidc/callback", h.oidcCallback)
	}
	h.registerWebAuthn()
	h.registerAdmin()
	s.AddNav(web.NavItem{Path: "/admin/users", Label: "Accounts", Roles: []vigie.Role{vigie.RoleAdmin}})
	return nil
}

type handler struct {
	a *Auth
	s *web.Server
}

// loginForm is what the sign-in form posts.
type loginForm struct {
	Login    string
	Password string
	Next     string
}

// parseLoginForm reads and bounds the sign-in form. SECURITY: the
// password is capped before hashing (Argon2 on megabytes would be a cheap
// denial of service) and next is kept only when it is a local path.
func parseLoginForm(v url.Values) (loginForm, error) {
	f := loginForm{Login: normLogin(v.Get("login")), Password: v.Get("password"), Next: safeNext(v.Get("next"))}
	if f.Login == "" || f.Password == "" {
		return f, vigie.Invalidf("auth.login", "Enter your login and your password.")
	}
	if len(f.Login) > 254 || len(f.Password) > 1024 {
		return f, vigie.Invalidf("auth.login", "The login or the password is too long.")
	}
	return f, nil
}

// safeNext returns p when it is a path of this site, else "".
func safeNext(p string) string {
	if p == "" || len(p) > 2000 || !web.LocalPath(p) {
		return ""
	}
	return p
}

type loginData struct {
	Login string
	Next  string
	Error string
	OIDC  bool
	// FranceConnect: citizens may sign in through FranceConnect.
	FranceConnect bool
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if vigie.UserFrom(r.Context()) != nil {
		http.Redirect(w, r, orHome(safeNext(r.URL.Query().Get("next"))), http.StatusSeeOther)
		return nil
	}
	return h.s.Render(w, r, "auth/login.html", loginData{Next: safeNext(r.URL.Query().Get("next")), OIDC: h.a.oidc != nil, FranceConnect: h.a.franceConnect.Load()})
}

func orHome(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// formError renders a form again with the message of err when err is the
// user's to fix (invalid, refused, throttled); other errors go to the
// server's one error page.
func (h *handler) formError(w http.ResponseWriter, r *http.Request, page string, err error, data func(msg string) any) error {
	switch vigie.KindOf(err) {
	case vigie.KindInvalid, vigie.KindUnauthenticated, vigie.KindTooMany, vigie.KindConflict, vigie.KindForbidden:
		return h.s.RenderStatus(w, r, web.StatusOf(err), page, data(web.T(web.Lang(r), vigie.MessageOf(err))))
	}
	return err
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.login", "The form could not be read.", err)
	}
	f, err := parseLoginForm(r.PostForm)
	if err == nil {
		var in *SignedIn
		if in, err = h.a.SignIn(r.Context(), f.Login, f.Password); err == nil {
			h.a.setCookie(w, r, in.Token)
			http.Redirect(w, r, stepPath(in.Step, f.Next), http.StatusSeeOther)
			return nil
		}
	}
	return h.formError(w, r, "auth/login.html", err, func(msg string) any {
		return loginData{Login: f.Login, Next: f.Next, Error: msg, OIDC: h.a.oidc != nil, FranceConnect: h.a.franceConnect.Load()}
	})
}

// stepPath is where the browser goes after a sign-in step.
func stepPath(s Step, next string) string {
	q := ""
	if next != "" {
		q = "?next=" + url.QueryEscape(next)
	}
	switch s {
	case StepMFA:
		return "/login/mfa" + q
	case StepEnroll:
		return "/mfa/enroll" + q
	}
	return orHome(next)
}

type mfaData struct {
	Next    string
	Error   string
	Passkey bool // offer the passkey next to the code
	Enroll  *Enrollment
	QR      template.URL
}

// enrollData builds the enrolment page. The QR code is a data: URI made
// here from our own PNG, hence safe to mark as a URL for the template.
func enrollData(next, msg string, en *Enrollment) mfaData {
	return mfaData{Next: next, Error: msg, Enroll: en, QR: template.URL(en.QR)}
}

func (h *handler) mfaPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if _, _, err := h.a.pending(r.Context(), sessionCookie(r)); err != nil {
		return h.restart(w, r, err, next)
	}
	return h.s.Render(w, r, "auth/mfa.html", mfaData{Next: next, Passkey: h.a.HasPasskeys(r.Context(), sessionCookie(r))})
}

// restart sends the browser back to the password step when the pending
// session is gone (expired, locked, unknown).
func (h *handler) restart(w http.ResponseWriter, r *http.Request, err error, next string) error {
	if vigie.KindOf(err) != vigie.KindUnauthenticated {
		return err
	}
	q := ""
	if next != "" {
		q = "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, "/login"+q, http.StatusSeeOther)
	return nil
}

func (h *handler) enrollPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	en, err := h.a.EnrollKey(r.Context(), sessionCookie(r))
	if err != nil {
		if vigie.KindOf(err) == vigie.KindConflict {
			http.Redirect(w, r, stepPath(StepMFA, next), http.StatusSeeOther)
			return nil
		}
		return h.restart(w, r, err, next)
	}
	return h.s.Render(w, r, "auth/enroll.html", enrollData(next, "", en))
}

// mfa checks the code posted from the code page or the enrolment page.
func (h *handler) mfa(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.mfa", "The form could not be read.", err)
	}
	next := safeNext(r.PostForm.Get("next"))
	in, err := h.a.VerifyMFA(r.Context(), sessionCookie(r), r.PostForm.Get("code"))
	if err == nil {
		h.a.setCookie(w, r, in.Token)
		http.Redirect(w, r, orHome(next), http.StatusSeeOther)
		return nil
	}
	if err == errNoPending {
		return h.restart(w, r, err, next)
	}
	page := "auth/mfa.html"
	var en *Enrollment
	if r.URL.Path == "/mfa/enroll" {
		page = "auth/enroll.html"
		if en, _ = h.a.EnrollKey(r.Context(), sessionCookie(r)); en == nil {
			return h.restart(w, r, errNoPending, next)
		}
	}
	return h.formError(w, r, page, err, func(msg string) any {
		if en != nil {
			return enrollData(next, msg, en)
		}
		return mfaData{Next: next, Error: msg, Passkey: h.a.HasPasskeys(r.Context(), sessionCookie(r))}
	})
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.a.SignOut(r.Context(), sessionCookie(r)); err != nil {
		return err
	}
	h.a.setCookie(w, r, "")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

type accountData struct {
	Sessions []Session
	Tokens   []Token
	NewToken string
	Error    string
	Passkeys *accountPasskeys // nil: passkeys disabled or not for this account
}

func (h *handler) account(w http.ResponseWriter, r *http.Request, code int, d accountData) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	var err error
	if d.Sessions, err = h.a.MySessions(r.Context()); err != nil {
		return err
	}
	if d.Tokens, err = h.a.MyTokens(r.Context()); err != nil {
		return err
	}
	if d.Passkeys, err = h.accountPasskeys(r); err != nil {
		return err
	}
	return h.s.RenderStatus(w, r, code, "auth/account.html", d)
}

func (h *handler) accountPage(w http.ResponseWriter, r *http.Request) error {
	return h.account(w, r, 0, accountData{})
}

func (h *handler) revokeSession(w http.ResponseWriter, r *http.Request) error {
	if err := h.a.RevokeSession(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err != nil || days < 1 || days > 366 {
		return h.account(w, r, http.StatusBadRequest, accountData{Error: web.T(web.Lang(r), "The validity must be a number of days between 1 and 366.")})
	}
	tok, _, err := h.a.NewToken(r.Context(), r.PostFormValue("name"), time.Duration(days)*24*time.Hour)
	if err != nil {
		if vigie.KindOf(err) == vigie.KindInvalid {
			return h.account(w, r, http.StatusBadRequest, accountData{Error: web.T(web.Lang(r), vigie.MessageOf(err))})
		}
		return err
	}
	// The token is shown once, in this response, and never stored in clear.
	return h.account(w, r, http.StatusCreated, accountData{NewToken: tok})
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return vigie.Invalidf("auth.revokeToken", "Unknown token.")
	}
	if err := h.a.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}
