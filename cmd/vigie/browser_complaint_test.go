package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserComplaint files a complaint as a citizen in a real headless
// Chromium, step by step, then processes it as the gendarme of the place:
// queue, motif, request for information, the citizen's answer, acceptance.
func TestBrowserComplaint(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("browser tests skipped: install chromium (apt-get install chromium)")
	}
	ta := newTestApp(t, "01", "2A", "974")
	b := startBrowser(t, exe, ta.srv.URL)

	// The citizen.
	tb := b.newTab(t)
	tb.open("/")
	signInCitizen(tb, "citoyen")
	tb.click(link(`nav[contains(@class,"fr-nav")]`, "Mes plaintes"))
	tb.wantText("h1", "Mes plaintes")
	tb.click(button("Déposer une plainte"))
	tb.wantText("h1", "Avant de commencer")
	for _, q := range []string{"emergency", "author_known", "violence"} {
		tb.run("answer "+q, chromedp.Click(`label[for="f-`+q+`-no"]`, chromedp.NodeVisible))
	}
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Ce qui s’est passé")
	tb.run("choose the offence", chromedp.Click(`label[for="cat-online_scam"]`, chromedp.NodeVisible))
	tb.typeIn("f-narrative", "trop court")
	tb.click(button("Enregistrer et continuer"))
	// Refused next to the field, the text kept.
	tb.wantText("#e-narrative", "20 caractères au moins")
	if v := eval[string](tb, `document.getElementById("f-narrative").value`); v != "trop court" {
		t.Errorf("the refused narrative became %q", v)
	}
	tb.typeIn("f-narrative", " : un faux vendeur m'a fait virer 450 euros pour une console jamais livrée.")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Où")
	// The commune map: shown by the server, a click sets the position.
	tb.run("open the position", chromedp.Click(`//summary[contains(., "latitude")]`, chromedp.NodeVisible))
	tb.run("choose the Ain's map", chromedp.SetValue("#f-map_dept", "01"))
	tb.click(button("Afficher la carte"))
	tb.wantText("h1", "Où")
	tb.run("click on the map", chromedp.Click("#place-map path", chromedp.NodeVisible))
	lat, _ := strconv.ParseFloat(eval[string](tb, `document.getElementById("f-lat").value`), 64)
	lon, _ := strconv.ParseFloat(eval[string](tb, `document.getElementById("f-lon").value`), 64)
	if lat < 45.5 || lat > 46.6 || lon < 4.7 || lon > 6.2 {
		t.Errorf("a click on the map of the Ain set %.5f, %.5f", lat, lon)
	}
	if eval[string](tb, `document.getElementById("place-marker").getAttribute("visibility")`) != "visible" {
		t.Error("no marker where the map was clicked")
	}
	tb.check("place step with its map")
	fill(tb, "f-lat", "")
	fill(tb, "f-lon", "")
	tb.typeIn("f-commune", "Bourg-en-Bresse (01053)")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Quand")
	now := time.Now()
	fill(tb, "f-from", now.Add(-30*time.Hour).Format("2006-01-02T15:04"))
	fill(tb, "f-to", now.Add(-26*time.Hour).Format("2006-01-02T15:04"))
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Qui a subi les faits")
	tb.run("the victim is me", chromedp.Click(`label[for="vi-self"]`, chromedp.NodeVisible))
	fill(tb, "f-victim.name", "Jeanne Dupont")
	fill(tb, "f-victim.email", "jeanne.dupont@example.fr")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Ce qui a été volé ou dégradé")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Les paiements")
	fill(tb, "f-pay.amount", "450")
	fill(tb, "f-pay.iban", "FR76 3000 6000 0112 3456 7890 188")
	tb.click(button("Ajouter ce paiement"))
	tb.wantText(`[id="e-pay.iban"]`, "clé de contrôle")
	fill(tb, "f-pay.iban", "FR76 3000 6000 0112 3456 7890 189")
	tb.click(button("Ajouter ce paiement"))
	tb.wantText("main table", "FR76 3000 6000 0112 3456 7890 189")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Témoins")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Pièces jointes")
	tb.click(button("Enregistrer et continuer"))
	tb.wantText("h1", "Vérifier et envoyer")
	tb.run("certify", chromedp.Click(`label[for="f-consent"]`, chromedp.NodeVisible))
	tb.click(button("Envoyer ma plainte"))
	tb.wantText("h1", "Votre plainte a été envoyée")
	main := tb.text("main")
	number := regexp.MustCompile(`PL-\d{4}-01-\d{6}`).FindString(main)
	code := regexp.MustCompile(`[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}`).FindString(main)
	if number == "" || code == "" || tb.count(".vigie-qr svg") != 1 {
		t.Fatalf("receipt without number, code or QR code: %q", main)
	}
	tb.screenshot("complaint-1-receipt")
	tb.click(link("main", "Suivre ma plainte"))
	tb.wantText("h1", number)
	id := strings.TrimPrefix(tb.path(), "/complaints/")
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("tracking page at %s", tb.path())
	}

	// Anyone checks the receipt.
	anon := b.newTab(t)
	anon.open("/verify")
	anon.typeIn("code", strings.ToLower(code))
	anon.click(button("Vérifier"))
	anon.wantText("main", "Ce récépissé est authentique")
	anon.wantText("main", number)
	if strings.Contains(anon.text("main"), "Jeanne") {
		t.Error("the verification page shows the victim's name")
	}

	// The gendarme of Bourg-en-Bresse.
	ag := b.newTab(t)
	ag.open("/")
	ag.signIn("agent")
	ag.click(link(`nav[contains(@class,"fr-nav")]`, "Plaintes"))
	ag.wantText("h1", "Plaintes en ligne")
	ag.click(link("main", number))
	ag.wantText("h1", "Motif de la consultation")
	ag.run("choose the reason", chromedp.Click(`//label[normalize-space()="Traitement d'une plainte"]`, chromedp.NodeVisible))
	ag.click(button("Continuer"))
	ag.wantText("h1", number)
	ag.wantText("main", "Jeanne Dupont")
	ag.click(button("Prendre en charge"))
	ag.wantText("main", "En cours de traitement")
	ag.typeIn("a-text", "Pouvez-vous envoyer la capture de l'annonce ?")
	ag.click(button("Demander des informations"))
	ag.wantText("main", "Informations demandées")
	ag.screenshot("complaint-2-agent")

	// The citizen answers.
	tb.open("/complaints/" + id)
	tb.wantText("main", "Pouvez-vous envoyer la capture de l'annonce ?")
	tb.typeIn("reply", "Je l'ai, je la joins dès que possible.")
	tb.click(button("Envoyer"))
	tb.wantText("main", "Votre message a été envoyé à la brigade.")

	// The gendarme accepts.
	ag.open("/complaints/" + id + "?motif=plainte")
	ag.wantText("main", "Je l'ai, je la joins dès que possible.")
	ag.click(button("Accepter et ouvrir un dossier"))
	ag.wantText("h1", "Plaintes en ligne")
	tb.open("/complaints/" + id)
	// The step's badge is in capitals (CSS); the text is the step's name.
	if h1 := strings.ToLower(tb.text("h1")); !strings.Contains(h1, "plainte enregistrée") {
		t.Errorf("after acceptance the citizen reads %q, want the step “Plainte enregistrée”", h1)
	}
	tb.wantText("main", "dossier")
	tb.screenshot("complaint-3-registered")
}

// fill sets the value of the field with this id (ids with dots, dates).
func fill(tb *tab, id, value string) {
	tb.t.Helper()
	js := `(() => { const el = document.getElementById(` + strconv.Quote(id) + `); el.value = ` + strconv.Quote(value) + `; return el.value; })()`
	if got := eval[string](tb, js); got != value {
		tb.t.Fatalf("field %s holds %q after filling %q", id, got, value)
	}
}

// signInCitizen signs a citizen in: a password, no second factor.
func signInCitizen(tb *tab, login string) {
	tb.t.Helper()
	tb.click(link(headerTools, "Se connecter"))
	tb.typeIn("login", login)
	tb.typeIn("password", demoPassword)
	tb.click(`//main//form//button[@type="submit"]`)
	if p := tb.path(); p != "/" {
		tb.t.Fatalf("after the password of %s: page %s (%s), want /", login, p, tb.text(".fr-alert"))
	}
}
