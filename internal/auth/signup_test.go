package auth

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/mail"
	"vigie/internal/mail/mailtest"
	"vigie/internal/web"
)

// signupSite is the auth area and sign-up on a web server, with a real
// mail queue sending to a real SMTP server started in the test.
type signupSite struct {
	*site
	su     *Signup
	mailer *mail.Mailer
	smtp   *mailtest.Server
}

func newSignupSite(t *testing.T, d *db.DB, cfg SignupConfig) *signupSite {
	t.Helper()
	f := newFixture(t, d)
	smtp := mailtest.Start(t)
	m, err := mail.New(d, mail.Config{Addr: smtp.Addr, From: "Vigie <no-reply@vigie.example>", TLS: mail.TLSNone, Now: f.clk.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://vigie.example"
	}
	su, err := f.a.NewSignup(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.Register(s); err != nil {
		t.Fatal(err)
	}
	if err := su.Register(s); err != nil {
		t.Fatal(err)
	}
	s.SetAuthenticator(f.a.Middleware)
	s.Route("GET /whoami", func(w http.ResponseWriter, r *http.Request) error {
		if err := Require(r.Context()); err != nil {
			return err
		}
		u := vigie.UserFrom(r.Context())
		web.WriteJSON(w, http.StatusOK, map[string]any{"login": u.Login, "role": u.Role})
		return nil
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &signupSite{site: &site{fixture: f, srv: srv}, su: su, mailer: m, smtp: smtp}
}

// deliver sends the queued e-mail and returns the messages the SMTP server
// has received so far.
func (s *signupSite) deliver(t *testing.T, want int) []mailtest.Received {
	t.Helper()
	if _, _, err := s.mailer.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s.smtp.Wait(t, want, 5*time.Second)
}

var linkRE = regexp.MustCompile(`https://vigie\.example/signup/verify\?token=([A-Za-z0-9_-]+)`)

func linkIn(t *testing.T, m mailtest.Received) string {
	t.Helper()
	match := linkRE.FindStringSubmatch(m.Text())
	if match == nil {
		t.Fatalf("no verification link in %q", m.Text())
	}
	return "/signup/verify?token=" + match[1]
}

func signupForm(name, email, pw string) url.Values {
	return url.Values{"name": {name}, "email": {email}, "password": {pw}, "confirm": {pw}}
}

const citizenPW = "une phrase assez longue"

func TestSignupVerifiesTheAddress(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSignupSite(t, d, SignupConfig{})
		c := s.browser(t)
		if p := s.get(t, c, "/signup"); p.status != 200 || !strings.Contains(p.body, "Créer un compte") {
			t.Fatalf("GET /signup: %d", p.status)
		}
		p := s.post(t, c, "/signup", signupForm("Élodie Durand", "Elodie.Durand@Example.fr", citizenPW))
		if p.path != "/signup/sent" || p.status != 200 || !strings.Contains(p.body, "Consultez votre messagerie") {
			t.Fatalf("after sign-up: at %s (%d)", p.path, p.status)
		}
		// No account until the address is verified.
		if _, err := userByLogin(context.Background(), d, "elodie.durand@example.fr"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Fatalf("account exists before verification: %v", err)
		}
		if s.j.count("citizen sign-up requested") != 1 {
			t.Errorf("sign-up not journaled")
		}
		got := s.deliver(t, 1)[0]
		if got.To[0] != "elodie.durand@example.fr" || got.Subject() != "Confirmez votre adresse électronique" {
			t.Fatalf("e-mail to %v, subject %q", got.To, got.Subject())
		}
		if !strings.Contains(got.Text(), "Bonjour Élodie Durand,") {
			t.Errorf("e-mail text %q", got.Text())
		}
		link := linkIn(t, got)
		// Opening the link (as a mail scanner would) creates nothing.
		p = s.get(t, c, link)
		if p.status != 200 || !strings.Contains(p.body, "Confirmer et créer mon compte") {
			t.Fatalf("GET link: %d", p.status)
		}
		if _, err := userByLogin(context.Background(), d, "elodie.durand@example.fr"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Fatalf("GET created the account")
		}
		token := strings.TrimPrefix(link, "/signup/verify?token=")
		p = s.post(t, c, "/signup/verify", url.Values{"token": {token}})
		if p.path != "/" {
			t.Fatalf("after verification: at %s (%d)", p.path, p.status)
		}
		if login, code := s.whoami(t, c); login != "elodie.durand@example.fr" || code != 200 {
			t.Fatalf("signed in as %q (%d)", login, code)
		}
		u, err := userByLogin(context.Background(), d, "elodie.durand@example.fr")
		if err != nil || u.Role != vigie.RoleCitizen || u.Name != "Élodie Durand" || u.Email != "elodie.durand@example.fr" || u.UnitID != 0 || u.Dept != "" {
			t.Fatalf("account %+v, %v", u, err)
		}
		if s.j.count("citizen account created after e-mail verification") != 1 {
			t.Errorf("account creation not journaled")
		}
		// The link works once.
		p = s.post(t, s.browser(t), "/signup/verify", url.Values{"token": {token}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ce lien n&#39;est pas valide ou a expiré") {
			t.Fatalf("second use: %d", p.status)
		}
		// The password chosen at sign-up signs in.
		if in, err := s.a.SignIn(context.Background(), "Elodie.Durand@example.fr", citizenPW); err != nil || in.Step != StepDone {
			t.Fatalf("sign-in: %v", err)
		}
	})
}

// TestSignupDoesNotRevealAccounts: an address that has an account gets the
// same page and a notice instead of a link; nothing is created.
func TestSignupDoesNotRevealAccounts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSignupSite(t, d, SignupConfig{})
		if _, _, err := s.a.CreateUser(Console(context.Background(), "test"), NewUser{Login: "jeanne@example.fr", Name: "Jeanne Dupont",
			Email: "jeanne@example.fr", Role: vigie.RoleCitizen, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		known := s.post(t, s.browser(t), "/signup", signupForm("Jeanne D", "jeanne@example.fr", citizenPW))
		unknown := s.post(t, s.browser(t), "/signup", signupForm("Paul M", "paul@example.fr", citizenPW))
		nonce := regexp.MustCompile(`nonce="[^"]*"`)
		if known.status != unknown.status || known.path != unknown.path ||
			nonce.ReplaceAllString(known.body, "") != nonce.ReplaceAllString(unknown.body, "") {
			t.Fatalf("answers differ: %d %s vs %d %s", known.status, known.path, unknown.status, unknown.path)
		}
		got := s.deliver(t, 2)
		var notice mailtest.Received
		for _, g := range got {
			if g.To[0] == "jeanne@example.fr" {
				notice = g
			}
		}
		if notice.Data == nil || linkRE.MatchString(notice.Text()) || !strings.Contains(notice.Text(), "https://vigie.example/login") {
			t.Fatalf("notice to the account holder: %q", notice.Text())
		}
		var n int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signups WHERE email = ?`, "jeanne@example.fr").Scan(&n)
		if n != 0 {
			t.Fatalf("pending sign-up created for an existing account")
		}
	})
}

func TestSignupFieldErrors(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	s := newSignupSite(t, d, SignupConfig{})
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no name", signupForm(" ", "a@example.fr", citizenPW), "name", "Indiquez votre nom."},
		{"control characters", signupForm("Jean\u202eDupont", "a@example.fr", citizenPW), "name", "Le nom contient des caractères non autorisés."},
		{"no e-mail", signupForm("Jean", "", citizenPW), "email", "Indiquez votre adresse électronique."},
		{"not an e-mail", signupForm("Jean", "jean@", citizenPW), "email", "elle ressemble à nom@exemple.fr"},
		{"e-mail without a dot in the domain", signupForm("Jean", "jean@localhost", citizenPW), "email", "elle ressemble à nom@exemple.fr"},
		{"e-mail with a local part outside ASCII", signupForm("Jean", "élodie@example.fr", citizenPW), "email", "elle ressemble à nom@exemple.fr"},
		{"e-mail with a display name", signupForm("Jean", "Jean <jean@example.fr>", citizenPW), "email", "elle ressemble à nom@exemple.fr"},
		{"short password", signupForm("Jean", "a@example.fr", "court"), "password", "Le mot de passe doit comporter au moins 12 caractères."},
		{"common password", signupForm("Jean", "a@example.fr", "motdepasse123"), "password", "trop courant"},
		{"passwords differ", url.Values{"name": {"Jean"}, "email": {"a@example.fr"}, "password": {citizenPW}, "confirm": {citizenPW + "!"}}, "confirm", "Les deux mots de passe sont différents."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.post(t, s.browser(t), "/signup", tt.form)
			if p.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", p.status)
			}
			body := strings.ReplaceAll(p.body, "&#39;", "'")
			errPara := regexp.MustCompile(`<p class="fr-error-text" id="` + tt.field + `-error">([^<]*)</p>`).FindStringSubmatch(body)
			if errPara == nil || !strings.Contains(errPara[1], tt.want) {
				t.Fatalf("no message %q next to field %s", tt.want, tt.field)
			}
			// What was typed is kept, except passwords.
			if tt.form.Get("name") != " " && !strings.Contains(p.body, `value="`+strings.TrimSpace(tt.form.Get("name"))) && tt.field != "name" {
				t.Errorf("name not kept")
			}
			if strings.Contains(p.body, citizenPW) {
				t.Errorf("the password is echoed in the page")
			}
		})
	}
	if c, _ := s.mailer.Counts(context.Background()); len(c) != 0 {
		t.Errorf("mail queued for invalid forms: %v", c)
	}
}

func TestSignupLinkExpires(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	s := newSignupSite(t, d, SignupConfig{})
	s.post(t, s.browser(t), "/signup", signupForm("Jean", "jean@example.fr", citizenPW))
	link := linkIn(t, s.deliver(t, 1)[0])
	s.clk.Add(24*time.Hour + time.Second)
	_, err := s.su.Verify(context.Background(), strings.TrimPrefix(link, "/signup/verify?token="))
	if vigie.KindOf(err) != vigie.KindInvalid {
		t.Fatalf("expired link: %v", err)
	}
	var n int
	d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signups`).Scan(&n)
	if n != 0 {
		t.Errorf("expired sign-up kept")
	}
	if _, err := userByLogin(context.Background(), d, "jean@example.fr"); vigie.KindOf(err) != vigie.KindNotFound {
		t.Errorf("account created from an expired link")
	}
	// Sign-ups nobody confirms are deleted by Prune, with the throttle rows.
	s.post(t, s.browser(t), "/signup", signupForm("Paul", "paul@example.fr", citizenPW))
	if err := s.su.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signups`).Scan(&n)
	if n != 1 {
		t.Fatalf("Prune deleted a sign-up still valid (%d left)", n)
	}
	s.clk.Add(25 * time.Hour)
	if err := s.su.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	var attempts int
	d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signups`).Scan(&n)
	d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signup_attempts`).Scan(&attempts)
	if n != 0 || attempts != 0 {
		t.Fatalf("after Prune: %d sign-ups, %d attempts", n, attempts)
	}
}

// TestSignupResendAndSquatting: a new request or a resend replaces the
// link; someone who typed another person's address cannot block them.
func TestSignupResendAndSquatting(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	s := newSignupSite(t, d, SignupConfig{})
	// Someone else signs up with Marie's address first.
	s.post(t, s.browser(t), "/signup", signupForm("Intrus", "marie@example.fr", "un autre mot de passe"))
	first := linkIn(t, s.deliver(t, 1)[0])
	// Marie signs up herself, then asks for a new link.
	c := s.browser(t)
	s.post(t, c, "/signup", signupForm("Marie Curie", "marie@example.fr", citizenPW))
	second := linkIn(t, s.deliver(t, 2)[1])
	p := s.post(t, c, "/signup/resend", url.Values{"email": {"marie@example.fr"}})
	if p.status != 200 || !strings.Contains(p.body, "un nouveau lien vient de lui être envoyé") {
		t.Fatalf("resend: %d", p.status)
	}
	third := linkIn(t, s.deliver(t, 3)[2])
	for _, old := range []string{first, second} {
		if _, err := s.su.Verify(context.Background(), strings.TrimPrefix(old, "/signup/verify?token=")); vigie.KindOf(err) != vigie.KindInvalid {
			t.Fatalf("a replaced link still works: %v", err)
		}
	}
	if _, err := s.su.Verify(context.Background(), strings.TrimPrefix(third, "/signup/verify?token=")); err != nil {
		t.Fatal(err)
	}
	u, _ := userByLogin(context.Background(), d, "marie@example.fr")
	if u == nil || u.Name != "Marie Curie" {
		t.Fatalf("account %+v: want Marie's", u)
	}
	if in, err := s.a.SignIn(context.Background(), "marie@example.fr", citizenPW); err != nil || in == nil {
		t.Fatalf("Marie's password: %v", err)
	}
	// Resend for an unknown address answers the same and sends nothing.
	p = s.post(t, s.browser(t), "/signup/resend", url.Values{"email": {"nobody@example.fr"}})
	if p.status != 200 || !strings.Contains(p.body, "un nouveau lien vient de lui être envoyé") {
		t.Fatalf("resend unknown: %d", p.status)
	}
	if c, _ := s.mailer.Counts(context.Background()); c["queued"] != 0 {
		t.Fatalf("mail queued for an unknown address: %v", c)
	}
}

func TestSignupThrottled(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	s := newSignupSite(t, d, SignupConfig{IPMax: 4, EmailMax: 2, Window: time.Hour})
	ctx := vigie.WithClient(context.Background(), vigie.Client{IP: "203.0.113.7"})
	form := func(email string) SignupForm {
		return SignupForm{Name: "X", Email: email, Password: citizenPW, Confirm: citizenPW}
	}
	// Per address: the third request for one address is refused.
	for i, want := range []vigie.Kind{vigie.KindOther, vigie.KindOther, vigie.KindTooMany} {
		if err := s.su.Start(ctx, form("victim@example.fr")); vigie.KindOf(err) != want {
			t.Fatalf("request %d: %v, want kind %v", i+1, err, want)
		}
	}
	// Per client address: 4 accepted in the window, whatever the e-mail
	// (refused requests are not counted).
	for _, e := range []string{"b@example.fr", "c@example.fr"} {
		if err := s.su.Start(ctx, form(e)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.su.Start(ctx, form("e@example.fr")); vigie.KindOf(err) != vigie.KindTooMany {
		t.Fatalf("fifth request from one address: %v", err)
	}
	if err := s.su.Resend(ctx, "b@example.fr", "fr"); vigie.KindOf(err) != vigie.KindTooMany {
		t.Fatalf("resend past the limit: %v", err)
	}
	// Another network is not affected; the window slides.
	other := vigie.WithClient(context.Background(), vigie.Client{IP: "198.51.100.1"})
	if err := s.su.Start(other, form("d@example.fr")); err != nil {
		t.Fatal(err)
	}
	s.clk.Add(time.Hour + time.Second)
	if err := s.su.Start(ctx, form("victim@example.fr")); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Over HTTP, the refusal is a 429 with a message.
	s2 := newSignupSite(t, dbtest.OpenSQLite(t), SignupConfig{EmailMax: 1})
	s2.post(t, s2.browser(t), "/signup", signupForm("X", "x@example.fr", citizenPW))
	p := s2.post(t, s2.browser(t), "/signup", signupForm("X", "x@example.fr", citizenPW))
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Trop de demandes d&#39;inscription") {
		t.Fatalf("throttled page: %d", p.status)
	}
}

func TestSignupNeedsBaseURLAndMailer(t *testing.T) {
	f := newFixture(t, dbtest.OpenSQLite(t))
	m, _ := mail.New(f.d, mail.Config{From: "a@example.fr"}, nil)
	for _, base := range []string{"", "vigie.example", "ftp://vigie.example", "https://"} {
		if _, err := f.a.NewSignup(m, SignupConfig{BaseURL: base}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("base %q: %v", base, err)
		}
	}
	if _, err := f.a.NewSignup(nil, SignupConfig{BaseURL: "https://vigie.example"}); vigie.KindOf(err) != vigie.KindInvalid {
		t.Errorf("no mailer: %v", err)
	}
}

func TestSignupTemplatesTranslated(t *testing.T) {
	sub, err := fs.Sub(signupTemplates, "templates/signup")
	if err != nil {
		t.Fatal(err)
	}
	missing, err := web.Untranslated(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French translation: %s", m)
	}
	// The messages built in Go code too (the const block of signup.go).
	for _, m := range []string{msgFixFields, msgNoName, msgLongName, msgBadName, msgNoEmail, msgBadEmail, msgPasswords,
		msgTooMany, msgBadLink, msgBusy, msgTaken, msgUnreadable, msgResent, msgVerified, msgMailHello, msgMailLink,
		msgMailIgnore, msgMailSign, msgMailSubject, msgMailHasAcct, msgMailNotYou, msgMailAcctTitle} {
		if !web.HasFrench(m) {
			t.Errorf("no French translation: %s", m)
		}
	}
}

// FuzzSignupForm: whatever is posted, validation never panics, and a form
// it accepts has a plain lower-case address and a one-line printable name.
func FuzzSignupForm(f *testing.F) {
	f.Add("Élodie Durand", "Elodie@Example.fr", citizenPW, citizenPW)
	f.Add("a\u202eb", "a@b", "x", "y")
	f.Add("  ", "\"a b\"@example.fr", citizenPW, citizenPW)
	f.Add("Jean\nDupont", "jean@example.fr\r\nBcc: x@y.fr", citizenPW, citizenPW)
	f.Fuzz(func(t *testing.T, name, email, pw, confirm string) {
		form := SignupForm{Name: name, Email: email, Password: pw, Confirm: confirm}
		if errs := form.validate(); len(errs) > 0 {
			return
		}
		if form.Email != strings.ToLower(form.Email) || strings.ContainsAny(form.Email, " \r\n<>\"") {
			t.Fatalf("accepted address %q", form.Email)
		}
		// Whatever sign-up accepts, the mail queue can send to.
		if err := mail.ValidAddress(form.Email); err != nil {
			t.Fatalf("sign-up accepts %q, which the mail queue refuses: %v", form.Email, err)
		}
		if strings.ContainsAny(form.Name, "\r\n\t") || form.Name == "" || form.Name != strings.TrimSpace(form.Name) {
			t.Fatalf("accepted name %q", form.Name)
		}
		if form.Password != form.Confirm || len(form.Password) < 12 {
			t.Fatalf("accepted password")
		}
	})
}

// TestSignupAddressTakenMeanwhile: an account was created for the address
// between the request and the click: the link is refused and spent.
func TestSignupAddressTakenMeanwhile(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	s := newSignupSite(t, d, SignupConfig{})
	s.post(t, s.browser(t), "/signup", signupForm("Jean", "jean@example.fr", citizenPW))
	link := linkIn(t, s.deliver(t, 1)[0])
	if _, _, err := s.a.CreateUser(Console(context.Background(), "test"), NewUser{Login: "jean@example.fr", Name: "Jean (admin)",
		Role: vigie.RoleCitizen, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	p := s.post(t, s.browser(t), "/signup/verify", url.Values{"token": {strings.TrimPrefix(link, "/signup/verify?token=")}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "Un compte existe déjà pour cette adresse") {
		t.Fatalf("verify: %d", p.status)
	}
	var n int
	d.QueryRow(context.Background(), `SELECT COUNT(*) FROM signups`).Scan(&n)
	if n != 0 {
		t.Errorf("spent sign-up kept")
	}
	if in, err := s.a.SignIn(context.Background(), "jean@example.fr", citizenPW); err == nil || in != nil {
		t.Errorf("the sign-up password took over the existing account")
	}
}
