package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/internal/mail/mailtest"
)

// TestComplaintJourney: a citizen files an online complaint through the
// pages of the running application, gets a receipt that anyone can check,
// and the brigade of the place finds it in its queue, opens it with a
// motif (journaled), asks for information and accepts it.
func TestComplaintJourney(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	citizen := ta.signIn(t, "citoyen")
	id := fileComplaint(t, ta, citizen)
	code, body := ta.get(t, citizen, "/complaints/"+id+"/receipt")
	number := regexp.MustCompile(`PL-\d{4}-01-\d{6}`).FindString(body)
	verify := regexp.MustCompile(`[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}`).FindString(body)
	if code != 200 || number == "" || verify == "" {
		t.Fatalf("receipt: %d, number %q, code %q", code, number, verify)
	}
	// Anyone can check the receipt; nothing else shows.
	code, body = ta.get(t, ta.client(), "/verify/"+verify)
	if code != 200 || !strings.Contains(body, number) || strings.Contains(body, "Jeanne") || strings.Contains(body, "téléphone") {
		t.Fatalf("verification: %d", code)
	}
	// The brigade of Bourg-en-Bresse.
	agent := ta.signIn(t, "agent")
	_, body = ta.get(t, agent, "/complaints/queue?sort=recent")
	if !strings.Contains(body, number) {
		t.Fatal("the complaint is not in the brigade's queue")
	}
	_, body = ta.get(t, agent, "/complaints/"+id)
	if !strings.Contains(body, "Motif de la consultation") || strings.Contains(body, "Jeanne Dupont") {
		t.Fatal("opening the complaint did not ask for the motif first")
	}
	code, body = ta.get(t, agent, "/complaints/"+id+"?motif=plainte")
	if code != 200 || !strings.Contains(body, "Jeanne Dupont") || !strings.Contains(body, "490154203237518") {
		t.Fatalf("complaint page with a motif: %d", code)
	}
	var n int
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'complaint' AND object_id = ? AND motif = 'plainte' AND actor_login = 'agent'`, id).Scan(&n)
	if n != 1 {
		t.Errorf("consultations journaled: %d, want 1", n)
	}
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE action = 'collect' AND object = 'complaint' AND object_id = ? AND actor_login = 'citoyen'`, id).Scan(&n)
	if n != 1 {
		t.Errorf("submission journaled: %d, want 1", n)
	}
	if res := ta.post(t, agent, "/complaints/"+id+"/act", url.Values{"action": {"request_info"}, "text": {"Avez-vous la facture du téléphone ?"}}); res.StatusCode != 303 {
		t.Fatalf("request information: %d", res.StatusCode)
	}
	_, body = ta.get(t, citizen, "/complaints/"+id)
	if !strings.Contains(body, "Avez-vous la facture du téléphone ?") {
		t.Error("the citizen does not see the brigade's question")
	}
	if res := ta.post(t, citizen, "/complaints/"+id+"/reply", url.Values{"text": {"Oui, je l'apporterai."}}); res.StatusCode != 303 {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	if res := ta.post(t, agent, "/complaints/"+id+"/act", url.Values{"action": {"accept"}}); res.StatusCode != 303 {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	_, body = ta.get(t, citizen, "/complaints/"+id)
	if !strings.Contains(body, "Plainte enregistrée") {
		t.Error("the citizen does not see the complaint registered")
	}
	// Accepting opened the case file (the case-file area's hook).
	var caseNumber string
	ta.db.QueryRow(ctx, `SELECT case_number FROM complaints WHERE id = ?`, id).Scan(&caseNumber)
	if caseNumber == "" || !strings.Contains(body, caseNumber) {
		t.Errorf("case file of the accepted complaint: %q (shown to the citizen: %v)", caseNumber, strings.Contains(body, caseNumber))
	}
	// Another gendarme, of Corsica, sees none of it.
	agent2a := ta.signIn(t, "agent2a")
	if code, body := ta.get(t, agent2a, "/complaints/"+id+"?motif=plainte"); code != 404 || strings.Contains(body, "Jeanne") {
		t.Errorf("a Corsican gendarme opening the complaint: %d", code)
	}
	if _, body := ta.get(t, agent2a, "/complaints/queue?step=all"); strings.Contains(body, number) {
		t.Error("the complaint shows in a Corsican queue")
	}
}

// TestComplaintDemo: the demo carries a history in every département,
// its canaries, and the serial scam shared by several départements.
func TestComplaintDemo(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	for _, dept := range []string{"01", "2A", "974"} {
		var n, closed int
		ta.db.QueryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN closed_at > 0 THEN 1 ELSE 0 END) FROM complaints WHERE dept = ?`, dept).Scan(&n, &closed)
		if n < 100 || closed < n/3 {
			t.Errorf("département %s: %d demo complaints, %d closed", dept, n, closed)
		}
	}
	for dept, name := range map[string]string{"01": "Camille Martin", "2A": "Ange Santoni", "974": "Hoarau"} {
		var n int
		ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM complaints WHERE dept = ? AND data LIKE ?`, dept, "%"+name+"%").Scan(&n)
		if n == 0 {
			t.Errorf("no canary %q in %s", name, dept)
		}
	}
	// The serial scam: the same IBAN in complaints of several départements,
	// in the link index with the case files that carry it too.
	var depts, links int
	ta.db.QueryRow(ctx, `SELECT COUNT(DISTINCT dept) FROM ident_links WHERE kind = 'iban' AND value = 'FR7630006000011234567890189' AND source_kind = 'complaint'`).Scan(&depts)
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM ident_links WHERE kind = 'iban' AND value = 'FR7630006000011234567890189'`).Scan(&links)
	if depts < 2 || links < 5 {
		t.Errorf("serial scam: complaints of %d départements, %d links in all", depts, links)
	}
	commander := ta.signIn(t, "commandant")
	code, body := ta.get(t, commander, "/complaints/delays")
	if code != 200 || !strings.Contains(body, "<svg") || !strings.Contains(body, "Délai de prise en charge") {
		t.Errorf("delays dashboard: %d", code)
	}
	citizen := ta.signIn(t, "citoyen")
	_, body = ta.get(t, citizen, "/complaints")
	if strings.Count(body, "/complaints/") < 3 {
		t.Error("the demo citizen has no complaint to follow")
	}
}

// fileComplaint goes through the steps of the form as the citizen signed in
// on c and returns the id of the complaint sent.
func fileComplaint(t *testing.T, ta *testApp, citizen *http.Client) string {
	t.Helper()
	res := ta.post(t, citizen, "/complaint-drafts", url.Values{})
	base := res.Header.Get("Location")
	if !regexp.MustCompile(`^/complaint-drafts/\d+/eligibility$`).MatchString(base) {
		t.Fatalf("new draft: %d %q", res.StatusCode, base)
	}
	base = strings.TrimSuffix(base, "eligibility")
	now := time.Now()
	steps := []struct {
		step string
		form url.Values
	}{
		{"eligibility", url.Values{"emergency": {"no"}, "author_known": {"no"}, "violence": {"no"}}},
		{"facts", url.Values{"category": {"theft"}, "narrative": {"On m'a volé mon téléphone dans le bus ce matin, sans que je voie qui."}}},
		{"place", url.Values{"commune": {"Bourg-en-Bresse (01053)"}}},
		{"when", url.Values{"from": {now.Add(-5 * time.Hour).Format("2006-01-02T15:04")}, "to": {now.Add(-3 * time.Hour).Format("2006-01-02T15:04")}}},
		{"victim", url.Values{"victim_is": {"self"}, "victim.name": {"Jeanne Dupont"}, "victim.email": {"jeanne.dupont@example.fr"}}},
		{"items", url.Values{"go": {"add"}, "item.kind": {"phone"}, "item.description": {"Téléphone gris"}, "item.imei": {"490154203237518"}}},
		{"items", url.Values{}},
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
		loc = res.Header.Get("Location")
		if res.StatusCode != 303 {
			t.Fatalf("step %s: status %d", s.step, res.StatusCode)
		}
	}
	m := regexp.MustCompile(`^/complaints/(\d+)/receipt$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after sending: %q", loc)
	}
	id := m[1]
	return id
}

// TestComplaintReceiptMailed: the receipt e-mail, its PDF attached, reaches
// a real SMTP server through the running application's workers.
func TestComplaintReceiptMailed(t *testing.T) {
	smtp := mailtest.Start(t)
	ta := newTestAppWith(t, func(c *Config) {
		c.SMTPAddr, c.SMTPTLS, c.SMTPFrom = smtp.Addr, "none", "Vigie <no-reply@vigie.example>"
	})
	citizen := ta.signIn(t, "citoyen")
	id := fileComplaint(t, ta, citizen)
	var number, email string
	if err := ta.db.QueryRow(context.Background(), `SELECT c.number, u.email FROM complaints c JOIN users u ON u.id = c.owner_id WHERE c.id = ?`, id).Scan(&number, &email); err != nil {
		t.Fatal(err)
	}
	got := smtp.Wait(t, 1, 20*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != email || !strings.Contains(got.Subject(), number) {
		t.Fatalf("receipt e-mail to %v, subject %q; want %s, %s", got.To, got.Subject(), email, number)
	}
	parts, err := got.Parts()
	if err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	for _, p := range parts {
		if p.Type == "application/pdf" && p.Filename == "recepisse-"+number+".pdf" {
			pdf = p.Body
		}
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("no PDF receipt attached: %d parts", len(parts))
	}
}

// TestComplaintPageLinks: the agent's page of a complaint lists the other
// complaints and cases that share an identifier (the demo's serial scam
// IBAN), with the case page's scope rules: another département's records
// show their holding unit and an access request, never their content; the
// request made from the complaint reaches the holding unit.
func TestComplaintPageLinks(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	// The demo's commander of the Ain reads the complaints of their
	// subtree; the serial scam has complaints there and in 2A.
	var agentUnit int64
	if err := ta.db.QueryRow(ctx, `SELECT unit_id FROM users WHERE login = 'commandant'`).Scan(&agentUnit); err != nil {
		t.Fatal(err)
	}
	below := ta.org.Tree().Below(agentUnit)
	const ibanValue = "FR7630006000011234567890189"
	var mine, other int64
	rows, err := ta.db.Query(ctx, `SELECT source_id, unit_id FROM ident_links WHERE kind = 'iban' AND value = ? AND source_kind = 'complaint'
		AND dept = '01' ORDER BY source_id`, ibanValue)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, unit int64
		rows.Scan(&id, &unit)
		if mine == 0 && slices.Contains(below, unit) {
			mine = id
		}
	}
	rows.Close()
	if mine == 0 {
		t.Fatal("no demo complaint of the commander's subtree with the scam IBAN")
	}
	if err := ta.db.QueryRow(ctx, `SELECT source_id FROM ident_links WHERE kind = 'iban' AND value = ? AND source_kind = 'complaint'
		AND dept = '2A' ORDER BY source_id LIMIT 1`, ibanValue).Scan(&other); err != nil {
		t.Fatalf("no demo complaint of 2A with the scam IBAN: %v", err)
	}
	var victim2A string
	if err := ta.db.QueryRow(ctx, `SELECT data FROM complaints WHERE id = ?`, other).Scan(&victim2A); err != nil {
		t.Fatal(err)
	}
	victim2A = regexp.MustCompile(`"name":"([^"]+)"`).FindStringSubmatch(victim2A)[1]

	agent := ta.signIn(t, "commandant")
	path := "/complaints/" + strconv.FormatInt(mine, 10)
	code, body := ta.get(t, agent, path+"?motif=plainte")
	if code != 200 || !strings.Contains(body, "Plaintes et dossiers liés") || !strings.Contains(body, "autres plaintes") {
		t.Fatalf("complaint page: %d, no linked records", code)
	}
	if !strings.Contains(body, "détenu par") || !strings.Contains(body, `name="from_complaint" value="`+strconv.FormatInt(mine, 10)+`"`) {
		t.Error("the 2A complaint is not offered for an access request")
	}
	if strings.Contains(body, victim2A) || strings.Contains(body, `href="/complaints/`+strconv.FormatInt(other, 10)+`"`) {
		t.Error("LEAK: the complaint page shows the 2A complaint's content or link")
	}

	// Asking from a complaint one cannot read is refused.
	res := ta.post(t, agent, "/cases/access", url.Values{"from_complaint": {strconv.FormatInt(other, 10)}, "source_kind": {"complaint"},
		"source_id": {strconv.FormatInt(mine, 10)}, "reason": {"même IBAN"}})
	if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/cases/access" {
		t.Error("an access request from a complaint of 2A was accepted for the agent of 01")
	}
	// From the agent's own complaint: sent to the holding unit.
	res = ta.post(t, agent, "/cases/access", url.Values{"from_complaint": {strconv.FormatInt(mine, 10)}, "source_kind": {"complaint"},
		"source_id": {strconv.FormatInt(other, 10)}, "reason": {"même IBAN, escroquerie en série"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cases/access" {
		t.Fatalf("access request from the complaint: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	var n int
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM access_requests r JOIN users u ON u.id = r.requester_id WHERE u.login = 'commandant'
		AND r.source_kind = 'complaint' AND r.source_id = ? AND r.holder_dept = '2A' AND r.link_kind = 'iban' AND r.status = 'pending'`, other).Scan(&n)
	if n != 1 {
		t.Errorf("access requests recorded: %d, want 1", n)
	}
}

// TestComplaintHearingInPerson: when the eligibility answers need a
// hearing in person, the citizen books a free slot of the brigade of the
// commune in the running application; the confirmation reaches a real SMTP
// server, the brigade sees the booking in its slots page, and cancelling
// frees the slot.
func TestComplaintHearingInPerson(t *testing.T) {
	smtp := mailtest.Start(t)
	ta := newTestAppWith(t, func(c *Config) {
		c.SMTPAddr, c.SMTPTLS, c.SMTPFrom = smtp.Addr, "none", "Vigie <no-reply@vigie.example>"
	})
	ctx := context.Background()
	citizen := ta.signIn(t, "citoyen")
	res := ta.post(t, citizen, "/complaint-drafts", url.Values{})
	base := strings.TrimSuffix(res.Header.Get("Location"), "eligibility")
	res = ta.post(t, citizen, base+"eligibility", url.Values{"go": {"next"}, "emergency": {"no"}, "author_known": {"no"}, "violence": {"yes"}})
	if res.StatusCode != 200 {
		t.Fatalf("eligibility: %d, want the in-person page", res.StatusCode)
	}
	code, body := ta.get(t, citizen, base+"hearing?commune="+url.QueryEscape("Bourg-en-Bresse (01053)"))
	slot := regexp.MustCompile(`name="slot" value="(\d+)"`).FindStringSubmatch(body)
	if code != 200 || slot == nil {
		t.Fatalf("hearing page: %d, no free slot offered", code)
	}
	if res := ta.post(t, citizen, base+"hearing", url.Values{"commune": {"Bourg-en-Bresse (01053)"}, "slot": {slot[1]}}); res.StatusCode != 303 || res.Header.Get("Location") != "/complaints" {
		t.Fatalf("booking: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var hid, unit int64
	var email string
	if err := ta.db.QueryRow(ctx, `SELECT h.id, h.unit_id, u.email FROM hearing_requests h JOIN users u ON u.id = h.owner_id WHERE h.slot_id = ?`, slot[1]).Scan(&hid, &unit, &email); err != nil {
		t.Fatal(err)
	}
	got := smtp.Wait(t, 1, 20*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != email || !strings.Contains(got.Subject(), "audition") {
		t.Errorf("confirmation to %v, subject %q", got.To, got.Subject())
	}
	_, body = ta.get(t, citizen, "/complaints")
	if !strings.Contains(body, "/hearings/"+strconv.FormatInt(hid, 10)+"/cancel") {
		t.Error("the hearing is not on the citizen's page")
	}
	agent := ta.signIn(t, "agent")
	if code, body := ta.get(t, agent, "/complaints/slots?unit="+strconv.FormatInt(unit, 10)); code != 200 || !strings.Contains(body, "Audition en personne") {
		t.Errorf("brigade's slots page: %d, no hearing shown", code)
	}
	// Another citizen (or staff) cannot cancel it.
	if res := ta.post(t, ta.signIn(t, "agent974"), "/hearings/"+strconv.FormatInt(hid, 10)+"/cancel", url.Values{}); res.StatusCode != 403 && res.StatusCode != 404 {
		t.Errorf("staff cancelling: %d", res.StatusCode)
	}
	if res := ta.post(t, citizen, "/hearings/"+strconv.FormatInt(hid, 10)+"/cancel", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	var taken int64
	if err := ta.db.QueryRow(ctx, `SELECT hearing_id FROM complaint_slots WHERE id = ?`, slot[1]).Scan(&taken); err != nil || taken != 0 {
		t.Errorf("slot after cancelling: hearing_id %d, %v; want free", taken, err)
	}
}
