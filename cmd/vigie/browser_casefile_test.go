package main

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// fileScamComplaint files, through the pages (HTTP), an online scam with
// the demo's serial IBAN at Bourg-en-Bresse as the citizen signed in on c,
// and returns the complaint's id.
func fileScamComplaint(t *testing.T, ta *testApp, citizen *http.Client) int64 {
	t.Helper()
	res := ta.post(t, citizen, "/complaint-drafts", url.Values{})
	base := strings.TrimSuffix(res.Header.Get("Location"), "eligibility")
	now := time.Now()
	steps := []struct {
		step string
		form url.Values
	}{
		{"eligibility", url.Values{"emergency": {"no"}, "author_known": {"no"}, "violence": {"no"}}},
		{"facts", url.Values{"category": {"online_scam"}, "narrative": {"Un faux vendeur m'a fait virer 450 euros pour une console jamais livrée."}}},
		{"place", url.Values{"commune": {"Bourg-en-Bresse (01053)"}}},
		{"when", url.Values{"from": {now.Add(-30 * time.Hour).Format("2006-01-02T15:04")}, "to": {now.Add(-26 * time.Hour).Format("2006-01-02T15:04")}}},
		{"victim", url.Values{"victim_is": {"self"}, "victim.name": {"Jeanne Dupont"}, "victim.email": {"jeanne.dupont@example.fr"}}},
		{"items", url.Values{}},
		{"money", url.Values{"go": {"add"}, "pay.amount": {"450"}, "pay.iban": {"FR76 3000 6000 0112 3456 7890 189"}}},
		{"money", url.Values{}},
		{"witnesses", url.Values{}},
		{"evidence", url.Values{}},
		{"review", url.Values{"consent": {"yes"}}},
	}
	var loc string
	for _, s := range steps {
		if s.form.Get("go") == "" {
			s.form.Set("go", "next")
		}
		res := ta.post(t, citizen, base+s.step, s.form)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("step %s: status %d", s.step, res.StatusCode)
		}
		loc = res.Header.Get("Location")
	}
	m := regexp.MustCompile(`^/complaints/(\d+)/receipt$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after sending: %q", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// TestBrowserCasefile: in a real headless Chromium, the gendarme of the
// place sees on a new complaint the other complaints that share its IBAN
// (the demo's serial scam), accepts it, opens the case file behind the
// motif gate, sees the linked identifier, adds a task and a note, and
// downloads the PV draft.
func TestBrowserCasefile(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests skipped: install chromium (apt-get install chromium)")
	}
	ta := newTestApp(t)
	id := fileScamComplaint(t, ta, ta.signIn(t, "citoyen"))
	b := startBrowser(t, exe, ta.srv.URL)

	ag := b.newTab(t)
	ag.open("/")
	ag.signIn("agent")
	ag.open("/complaints/" + strconv.FormatInt(id, 10))
	ag.wantText("h1", "Motif de la consultation")
	ag.run("choose the reason", chromedp.Click(`//label[normalize-space()="Traitement d'une plainte"]`, chromedp.NodeVisible))
	ag.click(button("Continuer"))
	// The complaint's linked records, before any case file exists.
	ag.wantText("main", "Plaintes et dossiers liés")
	ag.wantText("main", "autres plaintes")
	ag.wantText("main", "détenu par")
	ag.check("complaint with its links")
	ag.screenshot("casefile-1-complaint-links")
	ag.click(button("Accepter et ouvrir un dossier"))
	ag.wantText("h1", "Plaintes en ligne")

	var caseID int64
	var caseNumber string
	if err := ta.db.QueryRow(context.Background(), `SELECT case_id, case_number FROM complaints WHERE id = ?`, id).Scan(&caseID, &caseNumber); err != nil || caseID == 0 {
		t.Fatalf("no case file after acceptance: %d, %v", caseID, err)
	}
	// From the list of the unit's cases, behind the motif gate.
	ag.open("/cases")
	ag.click(link("main", caseNumber))
	ag.wantText("h1", "Motif de la consultation")
	ag.run("choose the reason", chromedp.Click(`//label[normalize-space()="Traitement d'une plainte"]`, chromedp.NodeVisible))
	ag.click(button("Continuer"))
	ag.wantText("h1", caseNumber)
	ag.wantText("#links ~ .fr-card", "IBAN")
	ag.wantText("main", "mentionnent cet identifiant")

	ag.typeIn("ttitle", "Réquisition à la banque du bénéficiaire")
	ag.click(button("Ajouter la tâche"))
	ag.wantText("main", "Réquisition à la banque du bénéficiaire")
	ag.typeIn("nbody", "La victime a transmis le relevé bancaire.")
	ag.click(button("Ajouter la note"))
	ag.wantText("main", "La victime a transmis le relevé bancaire.")
	ag.check("case with a task and a note")
	ag.screenshot("casefile-2-case")

	// The PV draft, fetched by the page's own link (the browser's session).
	ctx, cancel := context.WithTimeout(ag.ctx, step)
	defer cancel()
	js := `fetch(document.querySelector('a[href*="/pv.pdf"]').href).then(r => r.ok && r.headers.get("Content-Type") === "application/pdf" ? r.arrayBuffer() : Promise.reject(r.status)).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 5)))`
	head, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("PV draft download: %v", err)
	}
	if head != "%PDF-" {
		t.Errorf("PV draft starts with %q", head)
	}
	var n int
	ta.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'case' AND object_id = ?`,
		strconv.FormatInt(caseID, 10)).Scan(&n)
	if n < 2 { // the page and the PV draft
		t.Errorf("consultations of the case journaled: %d, want at least 2", n)
	}
}
