package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"vigie/internal/web"
)

// The browser tests walk the main journeys of Vigie as a person does, in a
// real headless Chromium: clicks on visible French labels, typing in the
// fields, pages that load one after the other. On every page they also run
// smoke checks of accessibility and of the security headers' effect: a
// language on <html>, one <h1>, a label for every field, no console error,
// no CSP violation, no request to any host but the server (SECURITY: Vigie
// must work air-gapped, and a request elsewhere would leak who reads what).
//
// Set VIGIE_SCREENSHOTS to a directory to keep the screenshot of each
// journey; otherwise they go to a temporary directory removed at the end.

// step bounds one browser action. It is generous on purpose: the tests run
// on busy two-core machines, and no assertion depends on how long a step takes.
const step = 90 * time.Second

func TestBrowserJourneys(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests skipped: install chromium (apt-get install chromium)")
	}
	ta := newTestApp(t)
	b := startBrowser(t, exe, ta.srv.URL)

	// The journeys run in order: the security officer looks for the
	// sign-ins of the journeys before hers.
	t.Run("Administrator", b.journeyAdmin)
	t.Run("Gendarme", b.journeyAgent)
	t.Run("SecurityOfficer", b.journeySecurity)
	t.Run("SignInFailures", b.journeyFailures)
	t.Run("NarrowScreen", b.journeyNarrow)
}

// TestBrowserChecks shows that the smoke checks catch what they look for,
// on pages made to break each rule: a check that cannot fail proves nothing.
func TestBrowserChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests skipped: install chromium (apt-get install chromium)")
	}
	pages := map[string]string{
		// Under Vigie's CSP, inline code without the nonce must be refused.
		"/csp": `<!doctype html><html lang="fr"><head><title>t</title><style>h1{color:red}</style></head>
<body><h1>CSP</h1><script>document.title = "ran"</script></body></html>`,
		"/bad": `<!doctype html><html><head><title>t</title></head><body><h1>one</h1><h1>two</h1>
<input id="nameless"><label>Orphan</label><input id="named" aria-label="Named">
<img src="http://localhost:1/tracker.png" alt="">
<script>console.error("boom"); throw new Error("oops")</script></body></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/csp" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-abc'; style-src 'self' 'nonce-abc'")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	b := startBrowser(t, exe, srv.URL)
	tb := b.newTab(t)

	tests := []struct {
		path string
		want []string
	}{
		{"/csp", []string{"CSP violation: script-src", "CSP violation: style-src"}},
		{"/bad", []string{`<html lang="">`, "2 <h1> elements", `field without a label: <input id="nameless">`,
			"console.error: boom", "uncaught", "oops", "request to another host: http://localhost:1/tracker.png"}},
	}
	for _, tt := range tests {
		tb.load("open "+tt.path, chromedp.Navigate(srv.URL+tt.path))
		got := strings.Join(tb.problems(tt.path), "\n")
		t.Logf("problems found on %s:\n%s", tt.path, got)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("problems of %s:\n%s\nwant one with %q", tt.path, got, w)
			}
		}
		if strings.Contains(got, "Named") {
			t.Errorf("problems of %s:\n%s\nthe field named by aria-label is reported", tt.path, got)
		}
	}
}

// browser is one Chromium for the whole test. Each journey opens its own
// browser context (its own cookies), as another person at another desk.
type browser struct {
	ctx   context.Context
	base  string
	shots string
}

func startBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// A French browser: the pages follow Accept-Language until the user
		// chooses with the header button.
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first run starts the browser; it must not carry a timeout, which
	// would stop the whole browser when it expires.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	shots := os.Getenv("VIGIE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{ctx: ctx, base: base, shots: shots}
}

// tab is one person's browser window. It records, from the browser's
// events, every problem that no page may have; check reports them.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	b    *browser

	mu      sync.Mutex
	seen    []string // problems from the browser's events, not yet reported
	urls    map[network.RequestID]string
	pending map[network.RequestID]bool // requests not finished, to explain a page that never loads
}

// probe runs before any script of each page and keeps, in the page, what
// the page reports: CSP violations, uncaught errors, console.error calls.
// Kept in the page, they are told for the page they happen on.
const probe = `(() => {
  const seen = window.__vigie = {csp: [], errors: []};
  document.addEventListener("securitypolicyviolation", e =>
    seen.csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));
  addEventListener("error", e => {
    if (e.target === window) seen.errors.push("uncaught " + e.message + " at " + e.filename + ":" + e.lineno + ":" + e.colno);
  });
  addEventListener("unhandledrejection", e => seen.errors.push("unhandled rejection: " + e.reason));
  const consoleError = console.error;
  console.error = (...args) => { seen.errors.push("console.error: " + args.join(" ")); consoleError.apply(console, args); };
})()`

func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	tb := &tab{t: t, base: b.base, b: b, urls: map[network.RequestID]string{}, pending: map[network.RequestID]bool{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.onEvent))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The first run opens the tab, which lives as long as the context of
	// that run: it must not carry the step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	sctx, stop := context.WithTimeout(ctx, step)
	defer stop()
	if _, err := chromedp.Call(sctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe}); err != nil {
		t.Fatalf("install the page probe: %v", err)
	}
	return tb
}

// onEvent runs on the tab's event loop: it must only record.
func (tb *tab) onEvent(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		tb.urls[ev.RequestID] = u
		tb.pending[ev.RequestID] = true
		if !tb.local(u) && !strings.HasPrefix(u, "data:") {
			tb.seen = append(tb.seen, "request to another host: "+u)
		}
	case *network.EventResponseReceived:
		// Documents may be refusals the journey expects (403, 422); the
		// journey checks their status. Anything else must load.
		if ev.Type != network.ResourceTypeDocument && ev.Response.Status >= 400 && !tb.mayBeMissing(ev.Response.URL) {
			tb.seen = append(tb.seen, fmt.Sprintf("%s: status %d", ev.Response.URL, ev.Response.Status))
		}
	case *network.EventLoadingFinished:
		delete(tb.pending, ev.RequestID)
	case *network.EventLoadingFailed:
		delete(tb.pending, ev.RequestID)
		if ev.Type != network.ResourceTypeDocument && !ev.Canceled && !tb.mayBeMissing(tb.urls[ev.RequestID]) {
			tb.seen = append(tb.seen, fmt.Sprintf("%s: %s %s", tb.urls[ev.RequestID], ev.ErrorText, ev.BlockedReason))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		switch {
		case e.Source == log.EntrySourceNetwork:
			// "Failed to load resource": the network events above judge it.
		case e.Source == log.EntrySourceSecurity || e.Source == log.EntrySourceViolation ||
			strings.Contains(e.Text, "Content Security Policy"):
			tb.seen = append(tb.seen, "browser "+string(e.Source)+": "+e.Text)
		case e.Level == log.EntryLevelError:
			tb.seen = append(tb.seen, "browser error ("+string(e.Source)+"): "+e.Text)
		}
	}
}

func (tb *tab) local(u string) bool {
	return u == tb.base || strings.HasPrefix(u, tb.base+"/")
}

// mayBeMissing: the DSFR assets exist only after `npm ci`; a build without
// them must still work, only without the DSFR look.
func (tb *tab) mayBeMissing(u string) bool {
	return !web.HasDSFR() && strings.HasPrefix(u, tb.base+"/static/dsfr/")
}

// run runs actions with a bound.
func (tb *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs actions that load a new page (a click on a link or a
// button, an address typed in), waits for the page, checks it, and returns
// the status of the document.
func (tb *tab) navigate(what string, actions ...chromedp.Action[chromedp.Void]) int {
	tb.t.Helper()
	status := tb.load(what, actions...)
	tb.check(what)
	return status
}

// load runs actions that load a new page and waits for it.
func (tb *tab) load(what string, actions ...chromedp.Action[chromedp.Void]) int {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.mu.Lock()
		var pending []string
		for id := range tb.pending {
			pending = append(pending, tb.urls[id])
		}
		tb.mu.Unlock()
		tb.t.Fatalf("%s: %v (requests not finished: %q)", what, err, pending)
	}
	return int(res.Status)
}

// open types an address in the address bar.
func (tb *tab) open(path string) int {
	tb.t.Helper()
	return tb.navigate("open "+path, chromedp.Navigate(tb.base+path))
}

// click clicks the element that sel finds (CSS selector or XPath) and
// waits for the page it leads to.
func (tb *tab) click(sel string) int {
	tb.t.Helper()
	return tb.navigate("click "+sel, chromedp.Click(sel, chromedp.NodeVisible))
}

// typeIn types text into the field with this id, as a keyboard does.
func (tb *tab) typeIn(id, text string) {
	tb.t.Helper()
	tb.run("type in #"+id, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible), chromedp.SendKeys(chromedp.ID(id), text, chromedp.NodeVisible))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// text returns the visible text of the elements a CSS selector finds,
// joined by newlines; "" when there is none.
func (tb *tab) text(css string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.innerText.trim()).join("\n")`, css))
}

func (tb *tab) count(css string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, css))
}

func (tb *tab) path() string {
	tb.t.Helper()
	return eval[string](tb, `location.pathname`)
}

// pageFacts is what the smoke checks read from a page.
type pageFacts struct {
	URL        string   `json:"url"`
	Lang       string   `json:"lang"`
	H1         int      `json:"h1"`
	Unlabelled []string `json:"unlabelled"`
	CSP        []string `json:"csp"`
	Errors     []string `json:"errors"`
}

const factsJS = `(() => {
  const unlabelled = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button", "reset", "image"].includes(el.type)) continue;
    const byLabel = [...(el.labels || [])].some(l => l.textContent.trim() !== "");
    const byAria = (el.getAttribute("aria-label") || "").trim() !== "" ||
      (el.getAttribute("aria-labelledby") || "").split(/\s+/).some(id => id && document.getElementById(id));
    if (!byLabel && !byAria) unlabelled.push(el.outerHTML.slice(0, 160));
  }
  return {url: location.href, lang: document.documentElement.lang,
    h1: document.querySelectorAll("h1").length, unlabelled,
    csp: window.__vigie ? window.__vigie.csp : ["the page probe did not run"], errors: window.__vigie ? window.__vigie.errors : []};
})()`

// settleJS waits for the load event, then two animation frames, when the
// DSFR starts its components. A hidden page gets no frame: the timer
// bounds the wait, which only decides when problems are read.
const settleJS = `new Promise(done => {
  const finish = () => setTimeout(() => done(true), 0);
  const after = () => { requestAnimationFrame(() => requestAnimationFrame(finish)); setTimeout(finish, 2000); };
  if (document.readyState === "complete") after(); else addEventListener("load", after);
})`

// check runs the smoke checks on the page now shown, and reports the
// problems the browser saw since the last check.
func (tb *tab) check(what string) {
	tb.t.Helper()
	for _, p := range tb.problems(what) {
		tb.t.Error(p)
	}
}

// problems returns what is wrong with the page now shown, and what the
// browser saw go wrong since the last call.
func (tb *tab) problems(what string) []string {
	tb.t.Helper()
	// Let the page's scripts start, so that what they report is reported
	// for this page and not the next one.
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settleJS, chromedp.EvalAwaitPromise)); err != nil {
		tb.t.Fatalf("%s: wait for the page: %v", what, err)
	}
	f := eval[pageFacts](tb, factsJS)
	where := what + " (" + strings.TrimPrefix(f.URL, tb.base) + "): "
	var out []string
	if f.Lang != "fr" && f.Lang != "en" {
		out = append(out, fmt.Sprintf("%s<html lang=%q>, want fr or en", where, f.Lang))
	}
	if f.H1 != 1 {
		out = append(out, fmt.Sprintf("%s%d <h1> elements, want exactly one", where, f.H1))
	}
	for _, in := range f.Unlabelled {
		out = append(out, where+"field without a label: "+in)
	}
	for _, v := range f.CSP {
		out = append(out, where+"CSP violation: "+strings.ReplaceAll(v, tb.base, ""))
	}
	for _, e := range f.Errors {
		out = append(out, where+strings.ReplaceAll(e, tb.base, ""))
	}
	tb.mu.Lock()
	seen := tb.seen
	tb.seen = nil
	tb.mu.Unlock()
	for _, p := range seen {
		out = append(out, where+p)
	}
	return out
}

// wantText fails unless the text of css holds want.
func (tb *tab) wantText(css, want string) {
	tb.t.Helper()
	if got := tb.text(css); !strings.Contains(got, want) {
		tb.t.Errorf("%s on %s: text %q, want it to contain %q", css, tb.path(), got, want)
	}
}

// screenshot saves the whole page as <name>.png.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(tb.b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", file)
}

// xpath of a visible button or link by its exact text.
func button(label string) string {
	return fmt.Sprintf(`//button[normalize-space()=%q]`, label)
}

// headerTools is the header's own button group; on small screens the DSFR
// script copies it into the menu, so "the header's sign-in button" has two
// copies and tests use the original.
const headerTools = `*[contains(@class, "fr-header__tools-links")]`

func link(scope, label string) string {
	return fmt.Sprintf(`//%s//a[normalize-space()=%q]`, scope, label)
}

// totpCode is the current code of a demo account's authenticator.
func totpCode(t *testing.T, login string) string {
	t.Helper()
	for _, d := range demoAccounts {
		if d.Login == login {
			code, err := totp.GenerateCode(d.Secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
	}
	t.Fatalf("no demo account %q", login)
	return ""
}

// signIn goes from the current page to the home page of login, through the
// header's sign-in button, the password form and the second factor. It
// returns the TOTP code it typed.
func (tb *tab) signIn(login string) string {
	tb.t.Helper()
	tb.click(link(headerTools, "Se connecter"))
	if p := tb.path(); p != "/login" {
		tb.t.Fatalf("the sign-in button led to %s, want /login", p)
	}
	tb.wantText("h1", "Connexion à Vigie")
	tb.typeIn("login", login)
	tb.typeIn("password", demoPassword)
	tb.click(`//main//form//button[@type="submit"]`)
	if p := tb.path(); p != "/login/mfa" {
		tb.t.Fatalf("after the password of %s: page %s (%s), want /login/mfa", login, p, tb.text(".fr-alert"))
	}
	tb.wantText("h1", "Code de vérification")
	code := totpCode(tb.t, login)
	tb.typeIn("code", code)
	tb.click(button("Vérifier"))
	if p := tb.path(); p != "/" {
		tb.t.Fatalf("after the code of %s: page %s (%s), want /", login, p, tb.text(".fr-alert"))
	}
	return code
}

func (tb *tab) signOut() {
	tb.t.Helper()
	tb.click(`//` + headerTools + `//button[normalize-space()="Se déconnecter"]`)
	if n := tb.count(`.fr-header__tools-links a[href="/login"]`); n != 1 {
		tb.t.Errorf("after signing out: %d sign-in buttons in the header, want 1", n)
	}
}

func (b *browser) journeyAdmin(t *testing.T) {
	tb := b.newTab(t)
	tb.open("/")
	tb.wantText("h1", "Vigie")
	tb.signIn("admin")
	tb.wantText("h1", "Bonjour, Administrateur national")
	tb.wantText("header .fr-header__service-tagline", "Système d'information sécurisé de la gendarmerie")

	tb.click(link(`nav[contains(@class,"fr-nav")]`, "Organisation"))
	if p := tb.path(); p != "/admin/org" {
		t.Fatalf("the Organisation menu led to %s", p)
	}
	tb.wantText("h1", "Organisation")
	tb.click(`//main//table//a[starts-with(@href,"/admin/org/01")]`)
	if p := tb.path(); p != "/admin/org/01" {
		t.Fatalf("the link of département 01 led to %s", p)
	}
	tb.wantText("h1", "(01)")
	tb.wantText("main h2", "Carte des circonscriptions")
	if n := tb.count("main figure svg path"); n <= 100 {
		t.Errorf("map of département 01: %d <path> elements, want more than 100 (one per commune)", n)
	}
	if n := tb.count(`main a[href^="/admin/org/units/"]`); n < 3 {
		t.Errorf("unit tree of département 01: %d units listed, want a groupement, compagnies and brigades", n)
	}
	if n := tb.count("main ul ul li"); n == 0 {
		t.Errorf("unit tree of département 01: no nested unit; the tree is flat")
	}
	tb.screenshot("1-admin-departement-01")
	tb.signOut()
}

func (b *browser) journeyAgent(t *testing.T) {
	tb := b.newTab(t)
	tb.open("/")
	tb.signIn("agent")
	tb.wantText("h1", "Bonjour, Gendarme Camille Martin")
	menu := tb.text("nav.fr-nav")
	for _, hidden := range []string{"Organisation", "Journal"} {
		if strings.Contains(menu, hidden) {
			t.Errorf("menu of a gendarme %q shows %q", menu, hidden)
		}
	}
	if status := tb.open("/admin/org"); status != 403 {
		t.Errorf("/admin/org for a gendarme: status %d, want 403", status)
	}
	tb.wantText("h1", "Accès refusé")
	tb.wantText("main", "Erreur 403")

	tb.click(`//` + headerTools + `//button[normalize-space()="English"]`)
	if lang := eval[string](tb, "document.documentElement.lang"); lang != "en" {
		t.Errorf("after the English button: <html lang=%q>, want en", lang)
	}
	tb.wantText("h1", "Access denied")
	tb.wantText("header", "Sign out")
	tb.screenshot("2-agent-access-denied-en")
	tb.click(link("header", "Vigie"))
	tb.wantText("h1", "Hello, Gendarme Camille Martin")
	tb.wantText("nav.fr-nav", "Home")
	tb.click(`//` + headerTools + `//button[normalize-space()="Français"]`)
	tb.wantText("h1", "Bonjour")
	tb.signOut()
}

func (b *browser) journeySecurity(t *testing.T) {
	tb := b.newTab(t)
	tb.open("/")
	tb.signIn("securite")
	tb.click(link(`nav[contains(@class,"fr-nav")]`, "Journal"))
	// The journal holds personal data: a reason first.
	if tb.count(`input[name="motif"][type="radio"]`) > 0 {
		tb.wantText("h1", "Motif de la consultation")
		tb.run("choose the reason", chromedp.Click(`//label[normalize-space()="Contrôle de sécurité du journal"]`, chromedp.NodeVisible))
		tb.click(button("Continuer"))
	}
	if p := tb.path(); p != "/audit" {
		t.Fatalf("the Journal menu led to %s", p)
	}
	tb.wantText("h1", "Journal des consultations")
	tb.typeIn("f-actor", "admin")
	tb.click(button("Rechercher"))
	who := tb.text("main table tbody td:nth-child(3)")
	if !strings.Contains("\n"+who+"\n", "\nadmin\n") {
		t.Errorf("journal filtered on admin: column Who is %q, want the sign-ins of admin", who)
	}
	tb.screenshot("3-securite-journal")

	tb.click(link("main", "Intégrité du journal"))
	tb.wantText("h1", "Intégrité du journal")
	tb.click(button("Vérifier maintenant"))
	// The verification runs in the background; a person refreshes until it
	// ends. The bound is generous and only stops a verification that hangs.
	deadline := time.Now().Add(3 * time.Minute)
	for tb.count("main progress") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the verification of the journal did not end")
		}
		time.Sleep(200 * time.Millisecond)
		tb.click(link("main", "Actualiser"))
	}
	tb.wantText("main .fr-alert", "Le journal est intègre")
	tb.screenshot("3-securite-integrity")
	tb.signOut()
}

func (b *browser) journeyFailures(t *testing.T) {
	tb := b.newTab(t)
	tb.open("/login")
	tb.typeIn("login", "opj")
	tb.typeIn("password", "not the password")
	tb.click(`//main//form//button[@type="submit"]`)
	if p := tb.path(); p != "/login" {
		t.Fatalf("a wrong password led to %s, want the form again", p)
	}
	tb.wantText("main [role=alert]", "Identifiant ou mot de passe incorrect.")
	if v := eval[string](tb, `document.getElementById("login").value`); v != "opj" {
		t.Errorf("the form after a wrong password shows login %q, want it kept", v)
	}
	tb.screenshot("4-wrong-password")

	// A TOTP code works once: typed again in another sign-in, it is refused.
	tb.typeIn("password", demoPassword)
	tb.click(`//main//form//button[@type="submit"]`)
	code := totpCode(t, "opj")
	tb.typeIn("code", code)
	tb.click(button("Vérifier"))
	if p := tb.path(); p != "/" {
		t.Fatalf("after the code of opj: page %s, want /", p)
	}
	tb.signOut()
	tb.open("/login")
	tb.typeIn("login", "opj")
	tb.typeIn("password", demoPassword)
	tb.click(`//main//form//button[@type="submit"]`)
	tb.typeIn("code", code)
	tb.click(button("Vérifier"))
	if p := tb.path(); p != "/login/mfa" {
		t.Fatalf("a reused code led to %s, want the code form again", p)
	}
	// Normally the code is refused as used; when the sign-ins straddle the
	// end of its validity window, it is refused as expired: either way, no
	// second session.
	if got := tb.text("main [role=alert]"); !strings.Contains(got, "Ce code a déjà été utilisé.") && !strings.Contains(got, "Ce code n'est pas valide.") {
		t.Errorf("a reused code: alert %q, want it refused as already used", got)
	}
}

// journeyNarrow: on a phone-sized screen, a person can still find how to
// sign in and change the language (the DSFR moves the header's buttons into
// the menu behind the "Menu" button).
func (b *browser) journeyNarrow(t *testing.T) {
	tb := b.newTab(t)
	tb.run("narrow the screen", chromedp.EmulateViewport(390, 844))
	tb.open("/")
	reachable := func(label string) bool {
		return eval[bool](tb, fmt.Sprintf(`[...document.querySelectorAll("header a, header button")].some(e =>
  e.innerText.trim() === %q && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")`, label)) ||
			eval[bool](tb, `[...document.querySelectorAll("header button[aria-controls]")].some(e => e.getClientRects().length > 0)`)
	}
	for _, label := range []string{"Se connecter", "English"} {
		if !reachable(label) {
			t.Errorf("on a 390px-wide screen, the header shows neither %q nor a menu button that leads to it", label)
		}
	}
	tb.screenshot("5-narrow-home")
}
