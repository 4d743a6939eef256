package auth

// Citizen sign-up with e-mail verification.
//
// /signup takes a name, an e-mail address and a password (the staff
// password rules, CheckPassword). Nothing is created yet: a pending
// sign-up (table signups) keeps the name, the address and the password's
// Argon2id hash, with the SHA-256 of a single-use token (256 random bits)
// that a link e-mailed to the address carries, valid 24 hours. Following
// the link shows a page whose button (a POST: mail scanners that fetch
// links do not consume the token) creates the citizen account (role
// citizen, login = the address) and signs it in.
//
// SECURITY: no account enumeration. Whether the address already has an
// account or not, the page says the same thing ("if this address can
// receive e-mail, a message was sent") and the request costs the same (the
// password is hashed in both cases); the owner of an existing account
// receives a message saying so instead of a link. An address typed by
// someone else never blocks its owner: the pending sign-up is replaced by
// the next request for the same address. Requests are throttled per client
// address and per e-mail address (table signup_attempts, shared by
// replicas), which also bounds how much mail one can make Vigie send to a
// stranger. Sign-ups and account creations are journaled (collect).

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie"
	"vigie/internal/db"
	vmail "vigie/internal/mail"
	"vigie/internal/web"
)

// The sign-up pages and their French catalog live in templates/signup/, an
// area of their own ("signup/signup.html"...), apart from the auth area's.
//
//go:embed templates/signup/*.html templates/signup/messages.fr.json
var signupTemplates embed.FS

// Messages users read, in English; templates/signup/messages.fr.json has
// their French (checked by TestSignupTemplatesTranslated).
const (
	msgFixFields     = "Please correct the fields marked below."
	msgNoName        = "Enter your name."
	msgLongName      = "The name must have at most 200 characters."
	msgBadName       = "The name contains characters that are not allowed."
	msgNoEmail       = "Enter your e-mail address."
	msgBadEmail      = "The e-mail address is not valid: it looks like name@example.fr."
	msgPasswords     = "The two passwords differ."
	msgTooMany       = "Too many sign-up requests. Please wait an hour before trying again."
	msgBadLink       = "This link is not valid or has expired. Sign up again to receive a new one."
	msgBusy          = "A sign-up for this address is being processed. Please try again in a moment."
	msgTaken         = "An account already exists for this address. Sign in with it."
	msgUnreadable    = "The form could not be read."
	msgResent        = "If a sign-up is waiting for this address, a new link has been sent to it."
	msgVerified      = "Your address is verified and your account is ready."
	msgMailHello     = "Hello %s,"
	msgMailLink      = "To finish creating your Vigie account, open this link within 24 hours:"
	msgMailIgnore    = "If you did not ask for an account, ignore this message: nothing will be created."
	msgMailSign      = "Vigie — online complaints of the Gendarmerie"
	msgMailSubject   = "Confirm your e-mail address"
	msgMailHasAcct   = "Someone asked to create a Vigie account with this e-mail address. You already have one: sign in here:"
	msgMailNotYou    = "If it was not you, ignore this message: nothing has changed."
	msgMailAcctTitle = "Your Vigie account"
)

// mailQueue queues an e-mail in the caller's transaction (internal/mail).
type mailQueue interface {
	Enqueue(ctx context.Context, tx *db.Tx, msg vmail.Message) error
}

// SignupConfig configures citizen sign-up. Zero values take the defaults
// documented on each field.
type SignupConfig struct {
	// BaseURL is the public address of Vigie, for the links in e-mails
	// ("https://vigie.example"); required.
	BaseURL string
	// TokenTTL is how long a verification link is valid (24 h).
	TokenTTL time.Duration
	// IPMax requests from one client address within Window (10 in 1 h),
	// EmailMax for one e-mail address (3 in 1 h).
	IPMax, EmailMax int
	Window          time.Duration
}

func (c *SignupConfig) defaults() {
	if c.TokenTTL <= 0 {
		c.TokenTTL = 24 * time.Hour
	}
	if c.IPMax <= 0 {
		c.IPMax = 10
	}
	if c.EmailMax <= 0 {
		c.EmailMax = 3
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
}

// Signup is citizen self-registration.
type Signup struct {
	a    *Auth
	mail mailQueue
	cfg  SignupConfig
}

// NewSignup returns the sign-up service; m sends the verification e-mails.
func (a *Auth) NewSignup(m mailQueue, cfg SignupConfig) (*Signup, error) {
	cfg.defaults()
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, vigie.E(vigie.KindInvalid, "auth.NewSignup", "", fmt.Errorf("the public base URL %q is not valid: sign-up e-mails need it for their links", cfg.BaseURL))
	}
	if m == nil {
		return nil, vigie.E(vigie.KindInvalid, "auth.NewSignup", "", errors.New("sign-up needs an e-mail queue"))
	}
	return &Signup{a: a, mail: m, cfg: cfg}, nil
}

// SignupForm is what /signup posts.
type SignupForm struct {
	Name     string
	Email    string
	Password string
	Confirm  string
	Lang     string // of the page: the account's language and the e-mail's
}

// FieldErrors maps a form field to what is wrong with it (English; the
// page translates).
type FieldErrors map[string]string

// errFields is the error Start returns for a form with field errors.
type errFields struct{ fields FieldErrors }

func (e *errFields) Error() string { return "auth.signup: invalid form" }

// fieldsOf returns the field errors carried by err, if any.
func fieldsOf(err error) FieldErrors {
	var fe *errFields
	if errors.As(err, &fe) {
		return fe.fields
	}
	return nil
}

// validate normalises the form and says, field by field, what is wrong.
func (f *SignupForm) validate() FieldErrors {
	errs := FieldErrors{}
	f.Name = strings.Join(strings.Fields(f.Name), " ")
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	switch {
	case f.Name == "":
		errs["name"] = msgNoName
	case utf8.RuneCountInString(f.Name) > 200:
		errs["name"] = msgLongName
	case strings.IndexFunc(f.Name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) >= 0:
		errs["name"] = msgBadName
	}
	switch {
	case f.Email == "":
		errs["email"] = msgNoEmail
	case !validEmail(f.Email):
		errs["email"] = msgBadEmail
	}
	if err := CheckPassword(f.Email, f.Password); err != nil {
		errs["password"] = vigie.MessageOf(err)
	} else if f.Confirm != f.Password {
		errs["confirm"] = msgPasswords
	}
	if f.Lang != "en" {
		f.Lang = "fr"
	}
	return errs
}

// validEmail accepts a bare address (no display name), at most 254 bytes,
// whose domain has a dot and whose local part is ASCII (internal/mail
// cannot send to others: not every relay offers SMTPUTF8).
func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return false
	}
	at := strings.LastIndexByte(e, '@')
	for i := 0; i < at; i++ {
		if e[i] >= utf8.RuneSelf {
			return false
		}
	}
	return strings.Contains(e[at+1:], ".")
}

var (
	errSignupTooMany = vigie.E(vigie.KindTooMany, "auth.Signup", msgTooMany, nil)
	errSignupLink    = vigie.E(vigie.KindInvalid, "auth.Signup", msgBadLink, nil)
	errSignupBusy    = vigie.E(vigie.KindConflict, "auth.Signup", msgBusy, nil)
	errSignupTaken   = vigie.E(vigie.KindConflict, "auth.Signup", msgTaken, nil)
)

// Start registers a sign-up request and e-mails the verification link (or,
// for an address that has an account already, a message saying so). Field
// errors come back as a KindInvalid error (fieldsOf tells which fields);
// the answer is otherwise the same whatever the address.
func (s *Signup) Start(ctx context.Context, f SignupForm) error {
	const op = "auth.Signup"
	if errs := f.validate(); len(errs) > 0 {
		return vigie.E(vigie.KindInvalid, op, msgFixFields, &errFields{errs})
	}
	// Hash first, whatever comes next: the same cost for every address.
	hash, err := s.a.hash(f.Password)
	if err != nil {
		return err
	}
	now := s.a.now()
	return s.a.d.InTx(ctx, func(tx *db.Tx) error {
		if err := s.throttle(ctx, tx, f.Email, now); err != nil {
			return err
		}
		u, err := userByLogin(ctx, tx, f.Email)
		if err != nil && vigie.KindOf(err) != vigie.KindNotFound {
			return err
		}
		if u != nil {
			return s.alreadyRegistered(ctx, tx, u, f.Lang)
		}
		tok := randomToken(32)
		if _, err := tx.Exec(ctx, `DELETE FROM signups WHERE email = ? OR expires_at < ?`, f.Email, db.Millis(now)); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO signups (email, name, lang, password_hash, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.Email, f.Name, f.Lang, hash, hashSecret(tok),
			db.Millis(now), db.Millis(now.Add(s.cfg.TokenTTL))).Scan(&id); err != nil {
			if db.IsUniqueViolation(err) {
				// Two requests for one address at the same instant.
				return errSignupBusy
			}
			return err
		}
		if err := s.sendLink(ctx, tx, f.Email, f.Name, f.Lang, tok); err != nil {
			return err
		}
		return s.a.record(ctx, tx, anonymous(f.Email), vigie.Record{Action: vigie.ActCollect, Object: "signup",
			ObjectID: itoa(id), Detail: "citizen sign-up requested: name and e-mail address collected, verification e-mailed"})
	})
}

// Resend e-mails a new link for a pending sign-up (the previous one stops
// working), or the "you have an account" message. It answers the same for
// an unknown address, and is throttled like Start.
func (s *Signup) Resend(ctx context.Context, email, lang string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if !validEmail(email) {
		return vigie.E(vigie.KindInvalid, "auth.Signup", msgBadEmail, nil)
	}
	now := s.a.now()
	return s.a.d.InTx(ctx, func(tx *db.Tx) error {
		if err := s.throttle(ctx, tx, email, now); err != nil {
			return err
		}
		var id int64
		var name, plang string
		err := tx.QueryRow(ctx, `SELECT id, name, lang FROM signups WHERE email = ?`, email).Scan(&id, &name, &plang)
		switch {
		case err == nil:
			tok := randomToken(32)
			if _, err := tx.Exec(ctx, `UPDATE signups SET token_hash = ?, expires_at = ? WHERE id = ?`,
				hashSecret(tok), db.Millis(now.Add(s.cfg.TokenTTL)), id); err != nil {
				return err
			}
			return s.sendLink(ctx, tx, email, name, plang, tok)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		u, err := userByLogin(ctx, tx, email)
		if err != nil {
			if vigie.KindOf(err) == vigie.KindNotFound {
				return nil // nothing to send; the same answer
			}
			return err
		}
		return s.alreadyRegistered(ctx, tx, u, lang)
	})
}

// Verify consumes a verification token: the citizen account is created and
// signed in. The token works once, within TokenTTL.
func (s *Signup) Verify(ctx context.Context, token string) (*SignedIn, error) {
	if token == "" || len(token) > 100 {
		return nil, errSignupLink
	}
	now := s.a.now()
	var out *SignedIn
	err := s.a.d.InTx(ctx, func(tx *db.Tx) error {
		var id, expires int64
		var n NewUser
		var hash string
		err := tx.QueryRow(ctx, `SELECT id, email, name, lang, password_hash, expires_at FROM signups WHERE token_hash = ?`,
			hashSecret(token)).Scan(&id, &n.Email, &n.Name, &n.Lang, &hash, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return errSignupLink
		}
		if err != nil {
			return err
		}
		if expires <= db.Millis(now) {
			return errSignupLink
		}
		// Single use: the row goes with the account's creation.
		if _, err := tx.Exec(ctx, `DELETE FROM signups WHERE id = ?`, id); err != nil {
			return err
		}
		n.Login, n.Role = n.Email, vigie.RoleCitizen
		uid, err := insertUser(ctx, tx, n, hash, "", now)
		if vigie.KindOf(err) == vigie.KindConflict {
			return errSignupTaken
		}
		if err != nil {
			return err
		}
		u, err := userByID(ctx, tx, uid)
		if err != nil {
			return err
		}
		tok, err := s.a.newSession(ctx, tx, u, true, "signup", now)
		if err != nil {
			return err
		}
		out = &SignedIn{Token: tok, Step: StepDone, User: u.User("session")}
		return s.a.record(ctx, tx, out.User, vigie.Record{Action: vigie.ActCollect, Object: "user", ObjectID: itoa(uid),
			Detail: "citizen account created after e-mail verification"})
	})
	if errors.Is(err, errSignupLink) || errors.Is(err, errSignupTaken) {
		// An expired link, or one for an address taken meanwhile, is
		// spent all the same.
		s.a.d.Exec(ctx, `DELETE FROM signups WHERE token_hash = ?`, hashSecret(token))
	}
	return out, err
}

// Prune deletes expired sign-ups (a name, an address and a password hash
// nobody confirmed) and throttle counts past their window; main runs it
// periodically.
func (s *Signup) Prune(ctx context.Context) error {
	now := s.a.now()
	if _, err := s.a.d.Exec(ctx, `DELETE FROM signups WHERE expires_at <= ?`, db.Millis(now)); err != nil {
		return fmt.Errorf("auth.Signup.Prune: %w", err)
	}
	if _, err := s.a.d.Exec(ctx, `DELETE FROM signup_attempts WHERE at < ?`, db.Millis(now.Add(-s.cfg.Window))); err != nil {
		return fmt.Errorf("auth.Signup.Prune: %w", err)
	}
	return nil
}

// throttle counts the request against the client address and the e-mail
// address, refusing past the limits. Old rows are pruned on the way.
func (s *Signup) throttle(ctx context.Context, tx *db.Tx, email string, now time.Time) error {
	ip := vigie.ClientFrom(ctx).IP
	since := db.Millis(now.Add(-s.cfg.Window))
	eh := hashSecret("signup:" + email)
	if _, err := tx.Exec(ctx, `DELETE FROM signup_attempts WHERE at < ?`, since); err != nil {
		return err
	}
	var byIP, byEmail int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM signup_attempts WHERE ip = ? AND at >= ?`, ip, since).Scan(&byIP); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM signup_attempts WHERE email_hash = ? AND at >= ?`, eh, since).Scan(&byEmail); err != nil {
		return err
	}
	if byIP >= s.cfg.IPMax || byEmail >= s.cfg.EmailMax {
		return errSignupTooMany
	}
	_, err := tx.Exec(ctx, `INSERT INTO signup_attempts (ip, email_hash, at) VALUES (?, ?, ?)`, ip, eh, db.Millis(now))
	return err
}

// anonymous is the actor of a sign-up: nobody is signed in yet; the
// address is kept (truncated) as the journal's login.
func anonymous(email string) *vigie.User {
	return &vigie.User{Login: truncate(email, 64), Role: vigie.RoleCitizen, Via: "signup"}
}

func (s *Signup) sendLink(ctx context.Context, tx *db.Tx, email, name, lang, tok string) error {
	link := s.cfg.BaseURL + "/signup/verify?token=" + url.QueryEscape(tok)
	T := func(m string) string { return web.T(lang, m) }
	text := web.Tf(lang, msgMailHello, name) + "\n\n" + T(msgMailLink) + "\n\n" + link + "\n\n" +
		T(msgMailIgnore) + "\n\n" + T(msgMailSign) + "\n"
	return s.mail.Enqueue(ctx, tx, vmail.Message{To: email, Subject: T(msgMailSubject), Text: text})
}

func (s *Signup) alreadyRegistered(ctx context.Context, tx *db.Tx, u *userRow, lang string) error {
	if u.Lang == "fr" || u.Lang == "en" {
		lang = u.Lang
	}
	T := func(m string) string { return web.T(lang, m) }
	text := web.Tf(lang, msgMailHello, u.Name) + "\n\n" + T(msgMailHasAcct) + "\n\n" + s.cfg.BaseURL + "/login\n\n" +
		T(msgMailNotYou) + "\n\n" + T(msgMailSign) + "\n"
	if err := s.mail.Enqueue(ctx, tx, vmail.Message{To: u.Email, Subject: T(msgMailAcctTitle), Text: text}); err != nil {
		// An account without a usable address (created by an
		// administrator) gets nothing; the answer is the same.
		if vigie.KindOf(err) == vigie.KindInvalid {
			return nil
		}
		return err
	}
	return s.a.record(ctx, tx, anonymous(u.Login), vigie.Record{Action: vigie.ActCollect, Object: "user", ObjectID: itoa(u.ID),
		Dept: u.Dept, UnitID: u.UnitID, Detail: "sign-up requested for an address that has an account: notice e-mailed"})
}

// Register adds the sign-up pages to w.
func (s *Signup) Register(w *web.Server) error {
	sub, err := fs.Sub(signupTemplates, "templates/signup")
	if err != nil {
		return err
	}
	if err := w.AddTemplates("signup", sub); err != nil {
		return err
	}
	h := &signupHandler{s: s, w: w}
	w.Route("GET /signup", h.page)
	w.Route("POST /signup", h.start)
	w.Route("GET /signup/sent", h.sent)
	w.Route("POST /signup/resend", h.resend)
	w.Route("GET /signup/verify", h.verifyPage)
	w.Route("POST /signup/verify", h.verify)
	return nil
}

type signupHandler struct {
	s *Signup
	w *web.Server
}

type signupData struct {
	Form   SignupForm
	Errors FieldErrors // field → message, translated
	Error  string
	Email  string // sent page: the resend form
	Token  string // verify page
	Done   string
}

func (h *signupHandler) page(w http.ResponseWriter, r *http.Request) error {
	if vigie.UserFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return h.w.Render(w, r, "signup/signup.html", signupData{})
}

func (h *signupHandler) start(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.signup", msgUnreadable, err)
	}
	lang := web.Lang(r)
	f := SignupForm{Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Confirm: r.PostForm.Get("confirm"), Lang: lang}
	err := h.s.Start(r.Context(), f)
	if err == nil {
		http.Redirect(w, r, "/signup/sent", http.StatusSeeOther)
		return nil
	}
	switch vigie.KindOf(err) {
	case vigie.KindInvalid, vigie.KindTooMany, vigie.KindConflict:
	default:
		return err
	}
	d := signupData{Form: SignupForm{Name: f.Name, Email: f.Email}, Error: web.T(lang, vigie.MessageOf(err))}
	if fe := fieldsOf(err); fe != nil {
		d.Errors = FieldErrors{}
		for k, v := range fe {
			d.Errors[k] = web.T(lang, v)
		}
	}
	return h.w.RenderStatus(w, r, web.StatusOf(err), "signup/signup.html", d)
}

func (h *signupHandler) sent(w http.ResponseWriter, r *http.Request) error {
	return h.w.Render(w, r, "signup/sent.html", signupData{})
}

func (h *signupHandler) resend(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.signup", msgUnreadable, err)
	}
	lang := web.Lang(r)
	email := r.PostForm.Get("email")
	err := h.s.Resend(r.Context(), email, lang)
	switch vigie.KindOf(err) {
	case vigie.KindOther:
		if err != nil {
			return err
		}
		return h.w.Render(w, r, "signup/sent.html", signupData{Email: email, Done: web.T(lang, msgResent)})
	case vigie.KindInvalid, vigie.KindTooMany:
		return h.w.RenderStatus(w, r, web.StatusOf(err), "signup/sent.html", signupData{Email: email, Error: web.T(lang, vigie.MessageOf(err))})
	}
	return err
}

func (h *signupHandler) verifyPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if tok == "" || len(tok) > 100 {
		return h.w.RenderStatus(w, r, http.StatusBadRequest, "signup/verify.html", signupData{Error: web.T(web.Lang(r), vigie.MessageOf(errSignupLink))})
	}
	return h.w.Render(w, r, "signup/verify.html", signupData{Token: tok})
}

func (h *signupHandler) verify(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return vigie.E(vigie.KindInvalid, "auth.signup", msgUnreadable, err)
	}
	in, err := h.s.Verify(r.Context(), r.PostForm.Get("token"))
	if err != nil {
		switch vigie.KindOf(err) {
		case vigie.KindInvalid, vigie.KindConflict:
			return h.w.RenderStatus(w, r, web.StatusOf(err), "signup/verify.html", signupData{Error: web.T(web.Lang(r), vigie.MessageOf(err))})
		}
		return err
	}
	h.s.a.setCookie(w, r, in.Token)
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), msgVerified))
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
