package complaint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

func TestTemplatesTranslated(t *testing.T) {
	missing, err := web.Untranslated(Templates())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French translation: %s", m)
	}
	// Labels and hints passed to the field partials are translated too.
	labels := regexp.MustCompile(`"[LH]" "((?:[^"\\]|\\.)*)"`)
	names, _ := fs.Glob(Templates(), "*.html")
	for _, name := range names {
		b, _ := fs.ReadFile(Templates(), name)
		for _, m := range labels.FindAllStringSubmatch(string(b), -1) {
			if !web.HasFrench(m[1]) {
				t.Errorf("%s: no French translation for the label %q", name, m[1])
			}
		}
	}
	for _, c := range Categories {
		for _, s := range []string{c.Label, c.Hint} {
			if !web.HasFrench(s) {
				t.Errorf("no French translation for %q", s)
			}
		}
	}
	for _, s := range stepLabels {
		if !web.HasFrench(s[1]) {
			t.Errorf("no French translation for step %q", s[1])
		}
	}
}

// TestGuidedComplaint files a complaint through the pages, as a browser
// without JavaScript would: each refused answer comes back with its
// message next to the field, in French, and the draft keeps what was typed.
func TestGuidedComplaint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.serve()
		res, _ := e.do("jeanne", "POST", "/complaint-drafts", url.Values{})
		loc := res.Header.Get("Location")
		m := regexp.MustCompile(`^/complaint-drafts/(\d+)/eligibility$`).FindStringSubmatch(loc)
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("new draft: %d %q", res.StatusCode, loc)
		}
		base := "/complaint-drafts/" + m[1] + "/"
		post := func(step string, form url.Values, wantStatus int, wantNext string) string {
			t.Helper()
			if form.Get("go") == "" {
				form.Set("go", "next")
			}
			res, body := e.do("jeanne", "POST", base+step, form)
			if res.StatusCode != wantStatus {
				t.Fatalf("%s: status %d, want %d\n%s", step, res.StatusCode, wantStatus, body)
			}
			if wantNext != "" && res.Header.Get("Location") != base+wantNext {
				t.Fatalf("%s: went to %q, want %q", step, res.Header.Get("Location"), base+wantNext)
			}
			return body
		}
		// Eligibility: an emergency stops here with the 17/112 message.
		body := post("eligibility", url.Values{"emergency": {"yes"}, "author_known": {"no"}, "violence": {"no"}}, 200, "")
		if !strings.Contains(body, "appelez le 17 ou le 112") {
			t.Error("an emergency did not send the citizen to 17/112")
		}
		body = post("eligibility", url.Values{"emergency": {"no"}, "author_known": {"yes"}, "violence": {"no"}}, 200, "")
		if !strings.Contains(body, "doit être déposée en personne") {
			t.Error("a known author did not lead to an appointment in person")
		}
		post("eligibility", url.Values{"emergency": {"no"}, "author_known": {"no"}, "violence": {"no"}}, 303, "facts")
		// Facts: a too short narrative is refused next to its field, and kept.
		body = post("facts", url.Values{"category": {"online_scam"}, "narrative": {"arnaque"}}, 400, "")
		if !strings.Contains(body, `id="e-narrative"`) || !strings.Contains(body, "20 caractères au moins") || !strings.Contains(body, ">arnaque</textarea>") {
			t.Errorf("short narrative: no message next to the field, or the text was lost")
		}
		_, page := e.do("jeanne", "GET", base+"facts", nil)
		if !strings.Contains(page, ">arnaque</textarea>") {
			t.Error("the draft did not keep the refused narrative")
		}
		post("facts", url.Values{"category": {"online_scam"}, "narrative": {"Un faux vendeur m'a fait payer une console jamais livrée."}}, 303, "place")
		// Place: suggestions without JavaScript, then a commune.
		body = post("place", url.Values{"commune": {"bourg-en"}, "go": {"search"}}, 200, "")
		if !strings.Contains(body, `<option value="Bourg-en-Bresse (01053)">`) {
			t.Error("searching a commune gave no suggestion")
		}
		// The map of a département, without JavaScript: a picture of its
		// communes, and what was typed stays.
		body = post("place", url.Values{"go": {"map"}, "map_dept": {"01"}, "lat": {"46.2"}, "lon": {"5.2"}}, 200, "")
		if !strings.Contains(body, `<svg xmlns="http://www.w3.org/2000/svg" id="place-map"`) || !strings.Contains(body, `data-insee="01053"`) ||
			!strings.Contains(body, `data-proj="`) || !strings.Contains(body, `value="46.2"`) || !strings.Contains(body, `value="5.2"`) {
			t.Error("the map of the Ain is not shown, or the position typed was lost")
		}
		if strings.Contains(body, `<svg xmlns="http://www.w3.org/2000/svg" id="place-map" viewBox="0 0 800 0"`) {
			t.Error("empty map")
		}
		body = post("place", url.Values{"go": {"map"}, "map_dept": {"99"}}, 200, "")
		if strings.Contains(body, `id="place-map"`) {
			t.Error("a map for a département Vigie does not know")
		}
		post("place", url.Values{"commune": {"Bourg-en-Bresse (01053)"}, "address": {"12 rue Bichat"}}, 303, "when")
		// When: an impossible window.
		now := time.Now().In(paris)
		body = post("when", url.Values{"from": {now.Add(-2 * time.Hour).Format("2006-01-02T15:04")}, "to": {now.Add(-30 * time.Hour).Format("2006-01-02T15:04")}}, 400, "")
		if !strings.Contains(body, `id="e-to"`) || !strings.Contains(body, "antérieure à son début") {
			t.Error("an impossible window was not refused next to its field")
		}
		post("when", url.Values{"from": {now.Add(-30 * time.Hour).Format("2006-01-02T15:04")}, "to": {now.Add(-2 * time.Hour).Format("2006-01-02T15:04")}}, 303, "victim")
		post("victim", url.Values{"victim_is": {"self"}, "victim.name": {"Jeanne Dupont"}, "victim.email": {"jeanne@example.fr"}}, 303, "items")
		// Items: a bad IMEI, then a good phone, then a card (kept masked).
		body = post("items", url.Values{"go": {"add"}, "item.kind": {"phone"}, "item.imei": {"490154203237519"}}, 400, "")
		if !strings.Contains(body, `id="e-item.imei"`) || !strings.Contains(body, "IMEI n’est pas valide") {
			t.Error("a bad IMEI was not refused next to its field")
		}
		post("items", url.Values{"go": {"add"}, "item.kind": {"phone"}, "item.description": {"iPhone bleu"}, "item.imei": {"49-015420-323751-8"}}, 303, "items")
		post("items", url.Values{"go": {"add"}, "item.kind": {"card"}, "item.card": {"4111 1111 1111 1111"}}, 303, "items")
		post("items", url.Values{}, 303, "money")
		// Money: an IBAN with a wrong checksum.
		body = post("money", url.Values{"go": {"add"}, "pay.amount": {"450"}, "pay.iban": {"FR76 3000 6000 0112 3456 7890 188"}}, 400, "")
		if !strings.Contains(body, `id="e-pay.iban"`) || !strings.Contains(body, "clé de contrôle") || !strings.Contains(body, `value="FR76 3000 6000 0112 3456 7890 188"`) {
			t.Error("a wrong IBAN checksum was not refused next to its field with the value kept")
		}
		post("money", url.Values{"go": {"add"}, "pay.amount": {"450"}, "pay.iban": {"FR76 3000 6000 0112 3456 7890 189"}}, 303, "money")
		post("money", url.Values{"scam_phone": {"07 56 12 34 98"}}, 303, "witnesses")
		post("witnesses", url.Values{}, 303, "evidence")
		post("evidence", url.Values{}, 303, "review")
		var raw string
		d.QueryRow(context.Background(), `SELECT data FROM complaint_drafts WHERE id = ?`, m[1]).Scan(&raw)
		if strings.Contains(raw, "411111111111") || !strings.Contains(raw, "411111******1111") {
			t.Errorf("the draft holds the card number unmasked, or not at all: %s", raw)
		}
		body = post("review", url.Values{}, 400, "")
		if !strings.Contains(body, "sincère et complète") {
			t.Error("sending without the certification was not refused")
		}
		res, _ = e.do("jeanne", "POST", base+"review", url.Values{"go": {"next"}, "consent": {"yes"}})
		m2 := regexp.MustCompile(`^/complaints/(\d+)/receipt$`).FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != 303 || m2 == nil {
			t.Fatalf("send: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		id := m2[1]
		_, body = e.do("jeanne", "GET", "/complaints/"+id+"/receipt", nil)
		code := regexp.MustCompile(`[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}`).FindString(body)
		if code == "" || !strings.Contains(body, "<svg") {
			t.Fatal("the receipt shows no verification code or QR code")
		}
		res, pdf := e.do("jeanne", "GET", "/complaints/"+id+"/receipt.pdf", nil)
		if res.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("receipt PDF: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
		}
		// The public verification page confirms, and shows nothing else.
		res, body = e.do("", "GET", "/verify/"+code, nil)
		if res.StatusCode != 200 || !strings.Contains(body, "authentique") || strings.Contains(body, "Jeanne") || strings.Contains(body, "jeanne@") || strings.Contains(body, "console") {
			t.Errorf("verification page: %d; it must confirm and show no personal data", res.StatusCode)
		}
		res, body = e.do("", "GET", "/verify?code=AAAA-BBBB-CCCC-DDDD-EEEE", nil)
		if res.StatusCode != 404 || !strings.Contains(body, "Aucun récépissé") {
			t.Errorf("a wrong code: %d", res.StatusCode)
		}
		// Tracking: the citizen sees the step; another citizen sees nothing.
		res, body = e.do("jeanne", "GET", "/complaints/"+id, nil)
		if res.StatusCode != 200 || !strings.Contains(body, "Reçue") {
			t.Errorf("tracking page: %d", res.StatusCode)
		}
		for _, p := range []string{"/complaints/" + id, "/complaints/" + id + "/receipt", "/complaints/" + id + "/receipt.pdf", "/api/v1/complaints/" + id} {
			if res, body := e.do("paul", "GET", p, nil); res.StatusCode != 404 || strings.Contains(body, "Jeanne") {
				t.Errorf("%s as another citizen: %d, want 404 without data", p, res.StatusCode)
			}
		}
		if res, _ := e.do("paul", "POST", "/complaints/"+id+"/reply", url.Values{"text": {"intrus"}}); res.StatusCode != 404 {
			t.Errorf("another citizen replying: %d", res.StatusCode)
		}
		if res, _ := e.do("paul", "GET", base+"review", nil); res.StatusCode != 404 {
			t.Errorf("another citizen's draft: %d", res.StatusCode)
		}
		_, body = e.do("paul", "GET", "/api/v1/complaints", nil)
		if strings.Contains(body, "PL-") {
			t.Error("the API listed another citizen's complaint")
		}
		_, body = e.do("jeanne", "GET", "/api/v1/complaints", nil)
		if !strings.Contains(body, `"number": "PL-`) {
			t.Errorf("the API did not list the citizen's own complaint: %s", body)
		}
	})
}

// TestBrigadeSide: the queue lists without personal data; opening a
// complaint asks the motif and journals it; other units see nothing.
func TestBrigadeSide(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.serve()
		c := e.submit("jeanne")
		id := fmt.Sprint(c.ID)
		res, body := e.do("agent", "GET", "/complaints/queue", nil)
		if res.StatusCode != 200 || !strings.Contains(body, c.Number) || strings.Contains(body, "Jeanne") {
			t.Fatalf("queue: %d; want the number and no personal data", res.StatusCode)
		}
		_, body = e.do("commande", "GET", "/complaints/queue", nil)
		if !strings.Contains(body, c.Number) {
			t.Error("the compagnie commander does not see the brigade's complaint")
		}
		_, body = e.do("agent2a", "GET", "/complaints/queue", nil)
		if strings.Contains(body, c.Number) {
			t.Error("a Corsican brigade sees a complaint of the Ain")
		}
		_, body = e.do("agent", "GET", "/complaints/"+id, nil)
		if body != "MOTIF PAGE" {
			t.Fatal("opening a complaint did not ask for the motif")
		}
		_, body = e.do("agent", "GET", "/complaints/"+id+"?motif=plainte", nil)
		if !strings.Contains(body, "Jeanne Dupont") || !strings.Contains(body, "Suggestion de qualification") {
			t.Error("with a motif, the agent does not see the complaint and the triage suggestion")
		}
		if n := len(e.journal.find(vigie.ActConsult, "complaint", id)); n != 1 {
			t.Errorf("consultations journaled: %d, want 1", n)
		}
		for _, who := range []string{"agent2a", "jeanne2"} {
			if e.users[who] == nil {
				continue
			}
			if res, body := e.do(who, "GET", "/complaints/"+id+"?motif=plainte", nil); res.StatusCode != 404 || strings.Contains(body, "Jeanne") {
				t.Errorf("%s opening another unit's complaint: %d", who, res.StatusCode)
			}
			if res, _ := e.do(who, "POST", "/complaints/"+id+"/act", url.Values{"action": {"claim"}}); res.StatusCode != 404 {
				t.Errorf("%s acting on another unit's complaint: %d", who, res.StatusCode)
			}
		}
		res, _ = e.do("agent", "POST", "/complaints/"+id+"/act", url.Values{"action": {"request_info"}, "text": {"Merci d'envoyer votre relevé."}, "motif": {"plainte"}})
		if res.StatusCode != 303 {
			t.Fatalf("request information: %d", res.StatusCode)
		}
		_, body = e.do("jeanne", "GET", "/complaints/"+id, nil)
		if !strings.Contains(body, "Merci d&#39;envoyer votre relevé.") || !strings.Contains(body, "Répondre à la brigade") {
			t.Error("the citizen does not see the brigade's request")
		}
		res, _ = e.do("jeanne", "POST", "/complaints/"+id+"/reply", url.Values{"text": {"Voici mon relevé."}})
		if res.StatusCode != 303 {
			t.Fatalf("reply: %d", res.StatusCode)
		}
		// The API: staff need a motif; a transfer to another département is refused.
		res, _ = e.do("agent", "GET", "/api/v1/complaints/"+id, nil)
		if res.StatusCode != 400 {
			t.Errorf("API read without motif: %d, want 400", res.StatusCode)
		}
		_, ajaccio, _ := e.org.RouteCommune(context.Background(), "2A004")
		res, _ = e.do("agent", "POST", "/complaints/"+id+"/act", url.Values{"action": {"transfer"}, "unit_id": {fmt.Sprint(ajaccio.ID)}})
		if res.StatusCode != 403 {
			t.Errorf("transfer to another département: %d, want 403", res.StatusCode)
		}
		res, _ = e.do("jeanne", "GET", "/complaints/delays", nil)
		if res.StatusCode != 403 {
			t.Errorf("delays for a citizen: %d, want 403", res.StatusCode)
		}
		res, body = e.do("commande", "GET", "/complaints/delays", nil)
		if res.StatusCode != 200 || !strings.Contains(body, "<svg") || strings.Contains(body, "Jeanne") {
			t.Errorf("delays for the commander: %d", res.StatusCode)
		}
		if res, _ := e.do("jeanne", "GET", "/complaints/queue", nil); res.StatusCode != 403 {
			t.Errorf("queue for a citizen: %d", res.StatusCode)
		}
		if res, _ := e.do("", "GET", "/complaints/queue", nil); res.StatusCode != 303 {
			t.Errorf("queue for nobody: %d, want a redirect to sign in", res.StatusCode)
		}
	})
}

func TestCommuneSuggestions(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), "01")
	hits, err := e.svc.SuggestCommunes(context.Background(), "ambérieu", 5)
	if err != nil || len(hits) == 0 || hits[0].INSEE != "01004" {
		t.Errorf("ambérieu: %+v %v", hits, err)
	}
	hits, _ = e.svc.SuggestCommunes(context.Background(), "01000", 5)
	if len(hits) == 0 {
		t.Error("no commune for the postal code 01000")
	}
	if hits, _ := e.svc.SuggestCommunes(context.Background(), "a", 5); len(hits) != 0 {
		t.Error("one letter gave suggestions")
	}
}

func TestDelays(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), "01")
	ctx := context.Background()
	err := e.d.InTx(ctx, func(tx *db.Tx) error {
		return e.svc.SeedDemo(ctx, tx, DemoOptions{Depts: []string{"01"}, PerDept: 300})
	})
	if err != nil {
		t.Fatal(err)
	}
	u := e.users["commande"]
	units := e.org.Tree().Below(u.UnitID)
	dl, err := e.svc.Delays(ctx, units, e.org.Tree(), map[int64]string{}, time.Now().AddDate(0, -18, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(dl.Units) != len(units) || dl.Units[0].UnitID != u.UnitID || dl.Units[0].Depth != 0 {
		t.Fatalf("rows %d (first %+v), want %d with the compagnie first", len(dl.Units), dl.Units[0], len(units))
	}
	sum := 0
	for _, r := range dl.Units[1:] {
		sum += r.Received
	}
	if sum != dl.Units[0].Received || sum == 0 {
		t.Errorf("the compagnie's total %d is not the sum of its brigades' %d", dl.Units[0].Received, sum)
	}
	if len(dl.Months) < 12 || dl.Total.AckMedian <= 0 {
		t.Errorf("%d months, median ack %.1f h", len(dl.Months), dl.Total.AckMedian)
	}
}

func TestSettingsAndPurge(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	e.serve()
	ctx := context.Background()
	res, body := e.do("admin01", "GET", "/complaints/settings", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "01 — ") || strings.Contains(body, "2A — ") {
		t.Fatalf("settings page of the Ain's administrator: %d", res.StatusCode)
	}
	_, bourg, _ := e.org.RouteCommune(ctx, "01053")
	res, _ = e.do("admin01", "POST", "/complaints/settings", url.Values{"dept": {"01"}, "unit": {fmt.Sprint(bourg.ID)}})
	if got, _ := e.svc.OnlineUnit(ctx, "01"); res.StatusCode != 303 || got != bourg.ID {
		t.Errorf("setting the designated unit: %d, unit %d", res.StatusCode, got)
	}
	_, ajaccio, _ := e.org.RouteCommune(ctx, "2A004")
	if res, _ := e.do("admin01", "POST", "/complaints/settings", url.Values{"dept": {"2A"}, "unit": {fmt.Sprint(ajaccio.ID)}}); res.StatusCode != 403 {
		t.Errorf("the Ain's administrator setting Corsica: %d", res.StatusCode)
	}
	if res, _ := e.do("agent", "GET", "/complaints/settings", nil); res.StatusCode != 403 {
		t.Errorf("settings for an agent: %d", res.StatusCode)
	}
	if err := e.svc.SetOnlineUnit(ctx, "01", ajaccio.ID); vigie.KindOf(err) != vigie.KindInvalid {
		t.Errorf("a Corsican unit for the Ain: %v", err)
	}
	// Old drafts are purged, recent ones kept.
	old := e.draft("jeanne", Form{Category: CatTheft})
	recent := e.draft("jeanne", Form{Category: CatTheft})
	e.d.Exec(ctx, `UPDATE complaint_drafts SET updated_at = ? WHERE id = ?`, db.Millis(time.Now().Add(-100*24*time.Hour)), old.ID)
	n, err := e.svc.PurgeDrafts(ctx, 90*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := e.svc.Draft(ctx, recent.ID); err != nil {
		t.Errorf("the recent draft was purged: %v", err)
	}
}

// TestEvidenceFiles: files are checked by their content; a disguised file
// is refused next to the field and the draft keeps the others; files are
// served as downloads only, to those who may read the complaint.
func TestEvidenceFiles(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	e.serve()
	d := e.draft("jeanne", goodForm(time.Now()))
	path := fmt.Sprintf("/complaint-drafts/%d/evidence", d.ID)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"), bytes.Repeat([]byte{0}, 64)...)
	res, body := e.upload("jeanne", path, "photo.png", png, url.Values{"go": {"add"}})
	if res.StatusCode != 303 {
		t.Fatalf("a PNG: %d\n%s", res.StatusCode, body)
	}
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{1}, 200)...)
	res, body = e.upload("jeanne", path, "facture.pdf", elf, url.Values{"go": {"add"}})
	if res.StatusCode != 400 || !strings.Contains(body, "fr-upload-group--error") || !strings.Contains(body, "photo.png") {
		t.Errorf("a program named .pdf: %d, want 400 with the message next to the field and the PNG kept", res.StatusCode)
	}
	if strings.Contains(body, "This file is a program") {
		t.Error("the refusal is not translated")
	}
	res, body = e.upload("jeanne", path, "film.mp4", bytes.Repeat([]byte{0}, 22<<20), url.Values{"go": {"add"}})
	if res.StatusCode != 400 || !strings.Contains(body, "20 Mo au plus") || !strings.Contains(body, "photo.png") {
		t.Errorf("a file over 20 MB: %d, want 400 with the message next to the field", res.StatusCode)
	}
	dr, _ := e.svc.Draft(context.Background(), d.ID)
	if len(dr.Form.Files) != 1 || dr.Form.Files[0].Type != "image/png" {
		t.Fatalf("draft files: %+v", dr.Form.Files)
	}
	c, err := e.svc.Submit(e.as("jeanne"), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf("/complaints/%d/files/%s", c.ID, dr.Form.Files[0].SHA256)
	res, body = e.do("jeanne", "GET", file, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(body, "\x89PNG") {
		t.Errorf("download by the owner: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	if res, _ := e.do("paul", "GET", file, nil); res.StatusCode != 404 {
		t.Errorf("download by another citizen: %d", res.StatusCode)
	}
	if _, body := e.do("agent", "GET", file, nil); body != "MOTIF PAGE" {
		t.Error("download by the brigade without a motif")
	}
	if res, _ := e.do("agent", "GET", file+"?motif=plainte", nil); res.StatusCode != 200 {
		t.Errorf("download by the brigade with a motif: %d", res.StatusCode)
	}
	// After submission the citizen adds a file from the tracking page.
	res, _ = e.upload("jeanne", fmt.Sprintf("/complaints/%d/files", c.ID), "note.txt", []byte("Le numéro du vendeur était le 07 56 12 34 98."), nil)
	if fs, _ := e.svc.Files(context.Background(), c.ID); res.StatusCode != 303 || len(fs) != 2 {
		t.Errorf("adding a file after submission: %d, %d files", res.StatusCode, len(fs))
	}
}

func TestAPIActions(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	e.serve()
	c := e.submit("jeanne")
	post := func(user, body string) (int, string) {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/complaints/%d/actions", e.srv.URL, c.ID), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-User", user)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post("agent", `{"action":"claim"}`); code != 200 || !strings.Contains(body, `"step": "processing"`) {
		t.Errorf("claim: %d %s", code, body)
	}
	if code, _ := post("agent", `{"action":"claim","pwned":1}`); code != 400 {
		t.Errorf("unknown field: %d, want 400", code)
	}
	if code, body := post("agent", `{"action":"reject","text":"non"}`); code != 400 || !strings.Contains(body, "motif du rejet") {
		t.Errorf("reject without a reason: %d %s", code, body)
	}
	if code, _ := post("agent2a", `{"action":"claim"}`); code != 404 {
		t.Errorf("another département's gendarme: %d, want 404", code)
	}
	if code, _ := post("jeanne", `{"action":"accept"}`); code != 403 {
		t.Errorf("the citizen accepting her own complaint: %d, want 403", code)
	}
	if res, _ := e.do("jeanne", "POST", fmt.Sprintf("/complaints/%d/act", c.ID), url.Values{"action": {"accept"}}); res.StatusCode != 403 {
		t.Errorf("the citizen through the form: %d, want 403", res.StatusCode)
	}
	if code, body := post("agent", `{"action":"accept"}`); code != 200 || !strings.Contains(body, `"case_number": "2026-01-000001"`) {
		t.Errorf("accept: %d %s", code, body)
	}
}
