package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestComplaintJourney: a citizen files an online complaint through the
// pages of the running application, gets a receipt that anyone can check,
// and the brigade of the place finds it in its queue, opens it with a
// motif (journaled), asks for information and accepts it.
func TestComplaintJourney(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	citizen := ta.signIn(t, "citoyen")
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
