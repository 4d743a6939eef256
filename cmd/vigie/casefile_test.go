package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/casefile"
	"vigie/internal/casefile/ident"
	"vigie/internal/complaint"
	"vigie/internal/db"
)

// scamCase returns the demo's serial-scam case of a département and its
// victim's name.
func scamCase(t *testing.T, ta *testApp, dept string) (int64, string) {
	t.Helper()
	var id int64
	var name string
	err := ta.db.QueryRow(context.Background(), `SELECT c.id, p.name FROM cases c JOIN case_items i ON i.case_id = c.id
		JOIN case_parties p ON p.case_id = c.id WHERE c.dept = ? AND i.iban = ? ORDER BY c.id LIMIT 1`,
		dept, casefile.DemoScamIBAN).Scan(&id, &name)
	if err != nil {
		t.Fatalf("demo scam case in %s: %v", dept, err)
	}
	return id, name
}

func getWith(t *testing.T, c *http.Client, target string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// signInExtra adds a staff account with a TOTP secret and signs it in.
func signInExtra(t *testing.T, ta *testApp, login, name string, role vigie.Role, where string) *http.Client {
	t.Helper()
	u, err := ta.demoUnit(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if _, _, err := ta.auth.AddUser(cliContext(context.Background()), auth.NewUser{Login: login, Name: name, Role: role,
		UnitID: u.ID, Dept: u.Dept, Password: demoPassword, TOTPSecret: secret, Lang: "fr"}); err != nil {
		t.Fatalf("add %s: %v", login, err)
	}
	c := ta.client()
	ta.post(t, c, "/login", url.Values{"login": {login}, "password": {demoPassword}})
	code, _ := totp.GenerateCode(secret, time.Now())
	if res := ta.post(t, c, "/login/mfa", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("MFA of %s: %d", login, res.StatusCode)
	}
	return c
}

// TestCasefilesEndToEnd: the demo's case files, the motif gate and the
// journal, the workflow through the forms, the PV draft, the links across
// départements and an access request approved by the holding unit's OPJ.
func TestCasefilesEndToEnd(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	agent := ta.signIn(t, "agent")
	id01, _ := scamCase(t, ta, "01")
	id2A, victim2A := scamCase(t, ta, "2A")
	path := "/cases/" + strconv.FormatInt(id01, 10)

	// The list of the unit's cases.
	code, body := ta.get(t, agent, "/cases")
	if code != 200 || !strings.Contains(body, path) {
		t.Fatalf("list: %d, the demo case %s is not listed", code, path)
	}
	// The motif gate, then the case with its personal data, journaled.
	code, body = ta.get(t, agent, path)
	if code != 200 || !strings.Contains(body, "Motif de la consultation") || strings.Contains(body, casefile.DemoScamIBAN) {
		t.Fatalf("without a motif: %d; want the motif page and no case data", code)
	}
	code, body = ta.get(t, agent, path+"?motif=plainte")
	if code != 200 || !strings.Contains(body, casefile.DemoScamIBAN) || !strings.Contains(body, "Identifiants rapprochés") {
		t.Fatalf("with a motif: %d, the case is not shown", code)
	}
	var n int
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE action = 'consult' AND object = 'case' AND object_id = ?
		AND motif = 'plainte' AND actor_login = 'agent'`, strconv.FormatInt(id01, 10)).Scan(&n)
	if n != 1 {
		t.Errorf("consultations journaled: %d, want 1", n)
	}
	// The serial scam links to 2A: its unit is named, its content is not.
	if !strings.Contains(body, "Brigade d") || !strings.Contains(body, "Demander l’accès") {
		t.Error("the linked case of 2A is not offered for an access request")
	}
	if strings.Contains(body, victim2A) || strings.Contains(body, "/cases/"+strconv.FormatInt(id2A, 10)+"\"") {
		t.Error("LEAK: the case page shows the 2A case's content or link")
	}

	// Another département's agent: refused, even with a motif.
	agent2a := ta.signIn(t, "agent2a")
	if code, body := ta.get(t, agent2a, path+"?motif=plainte"); (code != 403 && code != 404) || strings.Contains(body, casefile.DemoScamIBAN) {
		t.Errorf("agent of 2A reading a case of 01: %d", code)
	}

	// The workflow through the form, with the motif carried back.
	var status string
	ta.db.QueryRow(ctx, `SELECT status FROM cases WHERE id = ?`, id01).Scan(&status)
	if status != "investigating" {
		t.Fatalf("the demo's scam case is %s, want investigating", status)
	}
	if res := ta.post(t, agent, path+"/status", url.Values{"status": {"open"}, "motif": {"plainte"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("investigating → open: %d, want 409", res.StatusCode)
	}
	res := ta.post(t, agent, path+"/status", url.Values{"status": {"forwarded"}, "motif": {"plainte"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != path+"?motif=plainte" {
		t.Errorf("→ forwarded: %d to %q", res.StatusCode, loc)
	}
	res = ta.post(t, agent, path+"/notes", url.Values{"body": {"Réquisition envoyée à la banque."}, "motif": {"plainte"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("note: %d", res.StatusCode)
	}
	res = ta.post(t, agent, path+"/items", url.Values{"kind": {"money"}, "amount": {"12"}, "iban": {"FR76 1234"}, "motif": {"plainte"}})
	if res.StatusCode != http.StatusBadRequest { // without a Referer there is no form to go back to
		t.Errorf("bad IBAN: %d, want 400", res.StatusCode)
	}

	// The PV draft, as a download.
	code, hdr, pdf := getWith(t, agent, ta.srv.URL+path+"/pv.pdf?motif=plainte")
	if code != 200 || hdr.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(pdf, "%PDF-") {
		t.Errorf("PV: %d %q %q", code, hdr.Get("Content-Type"), hdr.Get("Content-Disposition"))
	}

	// The API: a motif is required; links by identifier.
	code, _, _ = getWith(t, agent, ta.srv.URL+"/api/v1/cases/"+strconv.FormatInt(id01, 10))
	if code != 400 {
		t.Errorf("API case without motif: %d, want 400", code)
	}
	code, _, js := getWith(t, agent, ta.srv.URL+"/api/v1/cases/"+strconv.FormatInt(id01, 10)+"?motif=plainte")
	var cr struct {
		Case    casefile.Case    `json:"case"`
		Parties []casefile.Party `json:"parties"`
		Links   []casefile.Group `json:"links"`
	}
	if err := json.Unmarshal([]byte(js), &cr); code != 200 || err != nil || cr.Case.ID != id01 || len(cr.Links) == 0 {
		t.Errorf("API case: %d %v %+v", code, err, cr.Case)
	}
	code, _, js = getWith(t, agent, ta.srv.URL+"/api/v1/links?kind=iban&value="+url.QueryEscape("FR76 3000 6000 0112 3456 7890 189")+"&motif=plainte")
	var g casefile.Group
	if err := json.Unmarshal([]byte(js), &g); code != 200 || err != nil || g.Cases < 2 {
		t.Errorf("API links: %d %v %+v", code, err, g)
	}
	for _, h := range g.Hits {
		if h.Source.Dept == "2A" && (h.InScope || h.Path != "") {
			t.Errorf("LEAK: the 2A case is in the agent's scope: %+v", h)
		}
	}
	code, _, js = getWith(t, agent, ta.srv.URL+"/api/v1/cases")
	if code != 200 || !strings.Contains(js, `"number"`) || strings.Contains(js, victim2A) {
		t.Errorf("API list: %d", code)
	}

	// The access request, approved by an OPJ of the holding brigade.
	res = ta.post(t, agent, "/cases/access", url.Values{"from_case": {strconv.FormatInt(id01, 10)}, "source_kind": {"case"},
		"source_id": {strconv.FormatInt(id2A, 10)}, "reason": {"Même IBAN : escroquerie en série"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("access request: %d", res.StatusCode)
	}
	var reqID int64
	if err := ta.db.QueryRow(ctx, `SELECT id FROM access_requests WHERE source_id = ? AND status = 'pending'`, id2A).Scan(&reqID); err != nil {
		t.Fatal(err)
	}
	decide := "/cases/access/" + strconv.FormatInt(reqID, 10) + "/decide"
	if res := ta.post(t, agent2a, decide, url.Values{"decision": {"approve"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("an agent approves: %d, want 403", res.StatusCode)
	}
	opj2a := signInExtra(t, ta, "opj2a", "Adjudant Paoli (OPJ)", vigie.RoleInvestigator, "brigade:2A004")
	if code, body := ta.get(t, opj2a, "/cases"); code != 200 || !strings.Contains(body, "Demandes d’accès en attente de votre décision : 1.") {
		t.Errorf("the OPJ of 2A is not told of the pending request: %d", code)
	}
	if code, body := ta.get(t, opj2a, "/cases/access"); code != 200 || !strings.Contains(body, "Même IBAN") {
		t.Fatalf("the OPJ of 2A does not see the request: %d", code)
	}
	if res := ta.post(t, opj2a, decide, url.Values{"decision": {"approve"}, "note": {"ok"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approval: %d", res.StatusCode)
	}
	code, body = ta.get(t, agent, "/cases/"+strconv.FormatInt(id2A, 10)+"?motif=plainte")
	if code != 200 || !strings.Contains(body, victim2A) {
		t.Fatalf("after approval: %d, the 2A case is not readable", code)
	}
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM grants WHERE target_kind = 'case' AND target_id = ? AND perm = 'read'`,
		strconv.FormatInt(id2A, 10)).Scan(&n)
	if n != 1 {
		t.Errorf("%d grants, want 1", n)
	}
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_entry WHERE action = 'communicate' AND object = 'case' AND object_id = ?`,
		strconv.FormatInt(id2A, 10)).Scan(&n)
	if n != 1 {
		t.Errorf("approval journaled %d times", n)
	}
	// Writing stays refused.
	if res := ta.post(t, agent, "/cases/"+strconv.FormatInt(id2A, 10)+"/notes", url.Values{"body": {"x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("write with a read grant: %d", res.StatusCode)
	}
}

func TestCardKeyFile(t *testing.T) {
	ta := newTestApp(t, "01", "2A", "974")
	fi, err := os.Stat(filepath.Join(ta.cfg.DataDir, "card.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("card.key mode %v, want 0600", fi.Mode().Perm())
	}
	// A foreign key stops the start.
	os.WriteFile(filepath.Join(ta.cfg.DataDir, "card.key"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	if _, err := ta.cardKey(context.Background()); vigie.KindOf(err) != vigie.KindConflict {
		t.Errorf("foreign card key: %v, want a conflict", err)
	}
	// A missing key is not replaced by a new one (that would unlink every
	// card): Vigie runs without cards.
	os.Remove(filepath.Join(ta.cfg.DataDir, "card.key"))
	if key, err := ta.cardKey(context.Background()); err != nil || key != nil {
		t.Errorf("missing card key: %x, %v; want no key and no error", key, err)
	}
	if _, err := os.Stat(filepath.Join(ta.cfg.DataDir, "card.key")); err == nil {
		t.Error("a new card key was created for a database that had one")
	}
}

// TestCasefileDemoCanaries: the demo plants the canary victims where the
// authorization test expects them, and the serial scam links départements.
func TestCasefileDemoCanaries(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	cie1, _ := ta.demoUnit(ctx, "compagnie:01053")
	cie2, _ := ta.demoUnit(ctx, "compagnie:01004")
	for dept, name := range map[string]string{"01": "Camille Martin", "2A": "Ange Santoni", "974": "Mélissa Hoarau"} {
		var unit int64
		if err := ta.db.QueryRow(ctx, `SELECT c.unit_id FROM cases c JOIN case_parties p ON p.case_id = c.id
			WHERE c.dept = ? AND p.name = ?`, dept, name).Scan(&unit); err != nil {
			t.Errorf("canary %s of %s: %v", name, dept, err)
			continue
		}
		if dept == "01" && (ta.org.Tree().Within(unit, cie1.ID) || ta.org.Tree().Within(unit, cie2.ID)) {
			t.Errorf("the canary of 01 is within reach of the demo gendarmes of 01053 (unit %d)", unit)
		}
	}
	var depts int
	ta.db.QueryRow(ctx, `SELECT COUNT(DISTINCT dept) FROM ident_links WHERE kind = 'iban' AND value = ?`, casefile.DemoScamIBAN).Scan(&depts)
	if depts != 2 { // 01 and 2A in this test app (33 is not seeded)
		t.Errorf("the serial scam's IBAN is in %d départements, want 2", depts)
	}
	var cases, statuses int
	ta.db.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT status) FROM cases WHERE complaint_id = 0`).Scan(&cases, &statuses)
	if cases != 3*casefileDemoPerDept || statuses < 3 {
		t.Errorf("%d demo cases in %d statuses", cases, statuses)
	}
}

// TestComplaintHooks: the hooks served to the complaint area open a case
// from a complaint.Accepted (card kept masked) and index its identifiers.
func TestComplaintHooks(t *testing.T) {
	ta := newTestApp(t, "01", "2A", "974")
	ctx := cliContext(context.Background())
	bourg, _ := ta.demoUnit(ctx, "brigade:01053")
	iban, _ := ta.casefile.ident.Normalize("iban", casefile.DemoScamIBAN)
	acc := complaint.Accepted{ID: 4242, Number: "PL-01-4242", Dept: "01", UnitID: bourg.ID, Category: "card_fraud",
		Narrative: "Des paiements inconnus avec ma carte.", FactsFrom: time.Now().Add(-48 * time.Hour), FactsTo: time.Now().Add(-24 * time.Hour),
		Place:  complaint.Place{Address: "Bourg-en-Bresse", INSEE: "01053"},
		Victim: complaint.Victim{Name: "Lucie Test", BirthDate: time.Date(1980, 2, 3, 0, 0, 0, 0, time.UTC)},
		Items: []complaint.AcceptedItem{{Kind: "card", CardMasked: "497010******7893", CardLink: "x"},
			{Kind: "money", Amount: 4500, IBAN: casefile.DemoScamIBAN, Beneficiary: "SAS Express"}},
		Identifiers: []ident.Identifier{iban}, SubmittedAt: time.Now().Add(-20 * time.Hour)}
	var id int64
	var number string
	err := ta.db.InTx(ctx, func(tx *db.Tx) error {
		if err := ta.indexComplaintHook(ctx, tx, acc.ID, acc.Dept, acc.UnitID, acc.Identifiers); err != nil {
			return err
		}
		var err error
		id, number, err = ta.openCaseHook(ctx, tx, acc)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 || !strings.Contains(number, "-01053-") {
		t.Fatalf("case %d %q", id, number)
	}
	var card, beneficiary, birth string
	ta.db.QueryRow(ctx, `SELECT identifier FROM case_items WHERE case_id = ? AND kind = 'card'`, id).Scan(&card)
	ta.db.QueryRow(ctx, `SELECT extra FROM case_items WHERE case_id = ? AND kind = 'money'`, id).Scan(&beneficiary)
	ta.db.QueryRow(ctx, `SELECT birth_date FROM case_parties WHERE case_id = ?`, id).Scan(&birth)
	if card != "497010******7893" || beneficiary != "SAS Express" || birth != "1980-02-03" {
		t.Errorf("card %q beneficiary %q birth %q", card, beneficiary, birth)
	}
	var n int
	ta.db.QueryRow(ctx, `SELECT COUNT(*) FROM ident_links WHERE source_kind = 'complaint' AND source_id = 4242`).Scan(&n)
	if n != 1 {
		t.Errorf("%d identifiers indexed for the complaint", n)
	}
	if cat, _, conf, reasons := ta.suggestHook("On m'a volé ma voiture garée devant chez moi."); cat != "vehicle_theft" || conf <= 0 || len(reasons) == 0 {
		t.Errorf("suggestion %s %v %v", cat, conf, reasons)
	}
	ta.correctedHook("On m'a volé ma voiture garée devant chez moi.", "vehicle_theft", "vehicle_theft", "normal")
	if ta.casefile.triage.Corrections() != 1 {
		t.Error("the correction was not learnt")
	}
}

// TestCaseStatusMovesComplaintStep: an OPJ accepts a demo complaint of
// their brigade (the OpenCase hook opens its case file), then forwards the
// case through the form: the complaint's step follows for the citizen, in
// the same transaction (casefile.Config.OnStatus → complaint.Service.SetStep).
func TestCaseStatusMovesComplaintStep(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	var complaintID, unit int64
	err := ta.db.QueryRow(ctx, `SELECT id, unit_id FROM complaints
		WHERE step IN ('received', 'processing', 'info_requested', 'appointment_proposed') ORDER BY id LIMIT 1`).Scan(&complaintID, &unit)
	if err != nil {
		t.Fatalf("no demo complaint to accept: %v", err)
	}
	// An OPJ of that brigade, signed in through the real pages.
	un, err := ta.org.Unit(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	opj := signInExtra(t, ta, "opjtest", "Adjudant Test (OPJ)", vigie.RoleInvestigator, "brigade:"+strings.TrimPrefix(un.Code, "BR-"))
	req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/complaints/"+strconv.FormatInt(complaintID, 10)+"/actions",
		strings.NewReader(`{"action":"accept"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := opj.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("accept: %d %s", res.StatusCode, body)
	}
	var caseID int64
	var number string
	if err := ta.db.QueryRow(ctx, `SELECT id, number FROM cases WHERE complaint_id = ?`, complaintID).Scan(&caseID, &number); err != nil {
		t.Fatalf("no case opened by the acceptance: %v", err)
	}
	if !strings.Contains(string(body), number) {
		t.Errorf("the acceptance does not tell the case number %s: %s", number, body)
	}
	path := "/cases/" + strconv.FormatInt(caseID, 10)
	for _, st := range []string{"investigating", "forwarded"} {
		if res := ta.post(t, opj, path+"/status", url.Values{"status": {st}, "motif": {"plainte"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("→ %s: %d", st, res.StatusCode)
		}
	}
	var step string
	ta.db.QueryRow(ctx, `SELECT step FROM complaints WHERE id = ?`, complaintID).Scan(&step)
	if step != "forwarded" {
		t.Errorf("complaint step %q, want forwarded", step)
	}
	if code, page := ta.get(t, opj, path+"?motif=plainte"); code != 200 || !strings.Contains(page, "PL-") {
		t.Errorf("case page: %d, no complaint number", code)
	}
}
