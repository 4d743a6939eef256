package complaint

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func testChecker(now time.Time) checker {
	return checker{now: now, loc: paris, ids: ident.New(ident.Config{CardKey: []byte("k")})}
}

// TestStepValidation: each wrong answer gets its own message on its own
// field; right answers pass.
func TestStepValidation(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, paris)
	ok := goodForm(now)
	cases := []struct {
		name  string
		step  string
		edit  func(f *Form)
		field string // "" : no error expected
		msg   string // part of the message
	}{
		{"good facts", FormFacts, func(f *Form) {}, "", ""},
		{"no category", FormFacts, func(f *Form) { f.Category = "" }, "category", "choose what happened"},
		{"unknown category", FormFacts, func(f *Form) { f.Category = "murder" }, "category", "choose what happened"},
		{"empty narrative", FormFacts, func(f *Form) { f.Narrative = " " }, "narrative", "tell what happened"},
		{"short narrative", FormFacts, func(f *Form) { f.Narrative = "volé" }, "narrative", "20 characters"},
		{"control character", FormFacts, func(f *Form) { f.Narrative = "un récit assez long\x00 pour passer" }, "narrative", "not allowed"},
		{"eligibility unanswered", FormEligibility, func(f *Form) { f.Violence = "" }, "violence", "yes or no"},
		{"good place", FormPlace, func(f *Form) {}, "", ""},
		{"no place at all", FormPlace, func(f *Form) { f.Commune = "" }, "commune", "commune"},
		{"bad INSEE", FormPlace, func(f *Form) { f.Commune = "Bourg" }, "commune", "INSEE"},
		{"bad latitude", FormPlace, func(f *Form) { f.Commune, f.Lat, f.Lon = "", "99", "5.2" }, "lat", "latitude"},
		{"online without département", FormPlace, func(f *Form) { f.NoPlace = "yes" }, "dept", "département"},
		{"online for a burglary", FormPlace, func(f *Form) { f.NoPlace, f.Dept, f.Category = "yes", "01", CatBurglary }, "no_place", "happens somewhere"},
		{"good window", FormWhen, func(f *Form) {}, "", ""},
		{"window reversed", FormWhen, func(f *Form) { f.From, f.To = f.To, f.From }, "to", "before its start"},
		{"window in the future", FormWhen, func(f *Form) { f.From = "2027-01-01T10:00"; f.To = "" }, "from", "future"},
		{"not a date", FormWhen, func(f *Form) { f.From = "hier soir" }, "from", "not a date"},
		{"no start", FormWhen, func(f *Form) { f.From = "" }, "from", "earliest moment"},
		{"window too long", FormWhen, func(f *Form) { f.From = "2024-01-01T10:00" }, "to", "longer than a year"},
		{"good victim", FormVictim, func(f *Form) {}, "", ""},
		{"victim unnamed", FormVictim, func(f *Form) { f.Victim.Name = "" }, "victim.name", "full name"},
		{"bad e-mail", FormVictim, func(f *Form) { f.Victim.Email = "jeanne@" }, "victim.email", "e-mail address is not valid"},
		{"no e-mail", FormVictim, func(f *Form) { f.Victim.Email = "" }, "victim.email", "e-mail address"},
		{"bad phone", FormVictim, func(f *Form) { f.Victim.Phone = "12" }, "victim.phone", "phone number"},
		{"birth in the future", FormVictim, func(f *Form) { f.Victim.BirthDate = "2030-01-01" }, "victim.birth_date", "future"},
		{"who was harmed", FormVictim, func(f *Form) { f.VictimIs = "" }, "victim_is", "who was harmed"},
		{"filing for another without own name", FormVictim, func(f *Form) { f.VictimIs = "other" }, "contact.name", "your own name"},
		{"good money", FormMoney, func(f *Form) {}, "", ""},
		{"IBAN bad checksum", FormMoney, func(f *Form) { f.Payments[0].IBAN = "FR76 3000 6000 0112 3456 7890 188" }, "payments.0.iban", "check digits"},
		{"IBAN bad length", FormMoney, func(f *Form) { f.Payments[0].IBAN = "FR76 3000 6000" }, "payments.0.iban", "characters"},
		{"amount not a number", FormMoney, func(f *Form) { f.Payments[0].Amount = "beaucoup" }, "payments.0.amount", "euros"},
		{"payment in the future", FormMoney, func(f *Form) { f.Payments[0].Date = "2027-01-01" }, "payments.0.date", "future"},
		{"bad website", FormMoney, func(f *Form) { f.Website = "pas un site" }, "website", "web address"},
		{"bad scammer phone", FormMoney, func(f *Form) { f.ScamPhone = "0000" }, "scam_phone", "phone number"},
		{"consent missing", FormReview, func(f *Form) { f.Consent = "" }, "consent", "sincere"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := ok
			f.Payments = append([]Payment(nil), ok.Payments...)
			tc.edit(&f)
			errs := testChecker(now).Step(tc.step, &f)
			if tc.field == "" {
				if len(errs) != 0 {
					t.Fatalf("errors %v, want none", errs)
				}
				return
			}
			got, okf := errs[tc.field]
			if !okf {
				t.Fatalf("no error on %q; errors: %v", tc.field, errs)
			}
			if !strings.Contains(strings.ToLower(got), strings.ToLower(tc.msg)) {
				t.Errorf("error on %s = %q, want it to mention %q", tc.field, got, tc.msg)
			}
		})
	}
}

func TestNormalisedAnswers(t *testing.T) {
	now := time.Now()
	f := goodForm(now)
	c := testChecker(now)
	if errs := c.Step(FormMoney, &f); len(errs) > 0 {
		t.Fatal(errs)
	}
	if f.Payments[0].IBAN != "FR76 3000 6000 0112 3456 7890 189" || f.ScamPhone != "+33756123498" {
		t.Errorf("normalised: IBAN %q phone %q", f.Payments[0].IBAN, f.ScamPhone)
	}
	it := Item{Kind: ItemVehicle, Plate: "ab 123 cd", VIN: "vf1 ab000 123456789"}
	if errs := c.Item(&it); len(errs) > 0 {
		t.Fatal(errs)
	}
	if it.Plate != "AB-123-CD" || it.VIN != "VF1AB000123456789" {
		t.Errorf("vehicle normalised to %q / %q", it.Plate, it.VIN)
	}
	it = Item{Kind: ItemPhone, IMEI: "490154203237518"}
	if errs := c.Item(&it); len(errs) > 0 {
		t.Fatalf("valid IMEI refused: %v", errs)
	}
	it = Item{Kind: ItemPhone, IMEI: "490154203237519"}
	if errs := c.Item(&it); errs["imei"] == "" {
		t.Error("an IMEI with a wrong check digit was accepted")
	}
}

// TestCardNeverStoredWhole: the card number typed is reduced to its masked
// form and a keyed hash; the digits in the middle are nowhere.
func TestCardNeverStoredWhole(t *testing.T) {
	for _, key := range [][]byte{[]byte("deployment key"), nil} {
		s := New(Config{CardKey: key})
		it, errs := s.CardItem("4970 1012 3456 7891", "carte Visa")
		if len(errs) > 0 {
			// 4970101234567891 may fail Luhn: use a known-good number.
			it, errs = s.CardItem("4111 1111 1111 1111", "carte Visa")
		}
		if len(errs) > 0 {
			t.Fatalf("valid card refused: %v", errs)
		}
		if strings.Contains(it.Card, "111111111111") || !strings.Contains(it.Card, "*") {
			t.Errorf("card kept as %q, want a masked number", it.Card)
		}
		if (key != nil) != (it.CardLink != "") {
			t.Errorf("key %v: link %q", key != nil, it.CardLink)
		}
		if _, errs := s.CardItem("4111 1111 1111 1112", ""); errs["card"] == "" {
			t.Error("a card number failing Luhn was accepted")
		}
	}
}

func TestParseEuros(t *testing.T) {
	for in, want := range map[string]int64{"250": 25000, "1 250,50": 125050, "1250.5": 125050, "80 €": 8000, "0,99": 99} {
		if got, ok := parseEuros(in); !ok || got != want {
			t.Errorf("parseEuros(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", "1,2,3", "12.345", "-5"} {
		if _, ok := parseEuros(in); ok {
			t.Errorf("parseEuros(%q) accepted", in)
		}
	}
}

// TestSubmit: one transaction writes the complaint with its number, routes
// it to the brigade of the place, journals it, enqueues its event and
// indexes its identifiers; the draft disappears.
func TestSubmit(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ctx := context.Background()
		c := e.submit("jeanne")
		_, bourg, _ := e.org.RouteCommune(ctx, "01053")
		if c.UnitID != bourg.ID || c.Dept != "01" || c.RoutedBy != "commune" {
			t.Errorf("routed to unit %d (%s, %s), want the brigade of Bourg-en-Bresse %d", c.UnitID, c.Dept, c.RoutedBy, bourg.ID)
		}
		year := time.Now().In(paris).Year()
		if want := "PL-" + strconv.Itoa(year) + "-01-000001"; c.Number != want {
			t.Errorf("number %q, want %q", c.Number, want)
		}
		c2 := e.submit("jeanne")
		if want := "PL-" + strconv.Itoa(year) + "-01-000002"; c2.Number != want {
			t.Errorf("second number %q, want %q", c2.Number, want)
		}
		if len(c.VerifyCode) != 20 || c.VerifyCode == c2.VerifyCode {
			t.Errorf("verification codes %q, %q", c.VerifyCode, c2.VerifyCode)
		}
		if recs := e.journal.find(vigie.ActCollect, "complaint", strconv.FormatInt(c.ID, 10)); len(recs) != 1 {
			t.Errorf("journal entries for the submission: %d, want 1", len(recs))
		}
		var events int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE subject LIKE '%complaint.submitted'`).Scan(&events)
		if events != 2 {
			t.Errorf("complaint.submitted events in the outbox: %d, want 2", events)
		}
		kinds := map[ident.Kind]string{}
		for _, id := range e.hooks.indexed[c.ID] {
			kinds[id.Kind] = id.Value
		}
		if kinds[ident.KindIBAN] != "FR7630006000011234567890189" || kinds[ident.KindPhone] != "+33756123498" {
			t.Errorf("identifiers indexed: %v", kinds)
		}
		if len(e.mail.msgs) != 2 || e.mail.msgs[0].To != "jeanne.account@example.fr" || !strings.Contains(e.mail.msgs[0].Subject, c.Number) ||
			!strings.Contains(e.mail.msgs[0].Text, FormatCode(c.VerifyCode)) || !strings.Contains(e.mail.msgs[0].Text, "https://vigie.example/verify/"+c.VerifyCode) {
			t.Errorf("receipt e-mails: %+v", e.mail.msgs)
		}
		if a := e.mail.msgs[0].Attachments; len(a) != 1 || a[0].Type != "application/pdf" || a[0].Name != "recepisse-"+c.Number+".pdf" || !bytes.HasPrefix(a[0].Data, []byte("%PDF-")) {
			t.Errorf("receipt e-mail attachments: %d", len(a))
		}
		var drafts int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_drafts`).Scan(&drafts)
		if drafts != 0 {
			t.Errorf("%d drafts left after submission", drafts)
		}
		got, err := e.svc.Get(ctx, c.ID)
		if err != nil || got.Form.Victim.Name != "Jeanne Dupont" || got.Step != StepReceived || got.Priority != "high" || got.SuggestedCategory != CatOnlineScam {
			t.Errorf("stored complaint: %+v, %v", got, err)
		}
	})
}

// TestSubmitIsAtomic: when a step of the submission fails, nothing is left
// behind: no complaint, no number used, the draft intact.
func TestSubmitIsAtomic(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := context.Background()
		dr := e.draft("jeanne", goodForm(time.Now()))
		e.hooks.failIdx = errors.New("index down")
		if _, err := e.svc.Submit(e.as("jeanne"), dr.ID); err == nil {
			t.Fatal("Submit succeeded although indexing failed")
		}
		var complaints, numbers, drafts int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&complaints)
		d.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_numbers`).Scan(&numbers)
		d.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_drafts WHERE id = ?`, dr.ID).Scan(&drafts)
		if complaints != 0 || numbers != 0 || drafts != 1 {
			t.Errorf("after a failed submission: %d complaints, %d counters, draft kept %d; want 0, 0, 1", complaints, numbers, drafts)
		}
		e.hooks.failIdx = nil
		c, err := e.svc.Submit(e.as("jeanne"), dr.ID)
		if err != nil || !strings.HasSuffix(c.Number, "-000001") {
			t.Errorf("retry: %v, number %q", err, c.Number)
		}
	})
}

// TestSubmitRefusesIncomplete: a draft with a wrong answer is not
// submitted, and the error names the step to correct.
func TestSubmitRefusesIncomplete(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		f := goodForm(time.Now())
		f.Payments[0].IBAN = "FR76 3000 6000 0112 3456 7890 188"
		dr := e.draft("jeanne", f)
		_, err := e.svc.Submit(e.as("jeanne"), dr.ID)
		var se *StepError
		if !errors.As(err, &se) || se.Step != FormMoney || se.Errors["payments.0.iban"] == "" || vigie.KindOf(err) != vigie.KindInvalid {
			t.Fatalf("Submit = %v, want a StepError on the money step's IBAN", err)
		}
	})
}

// TestRoutingOnline: an online complaint with no place goes to the unit
// the département designates, the groupement by default.
func TestRoutingOnline(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := context.Background()
		f := goodForm(time.Now())
		f.Commune, f.NoPlace, f.Dept = "", "yes", "01"
		c, err := e.svc.Submit(e.as("jeanne"), e.draft("jeanne", f).ID)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := e.org.Unit(ctx, c.UnitID)
		if g.Kind != "groupement" || c.RoutedBy != "online" {
			t.Errorf("online complaint went to %s %q (%s), want the groupement", g.Kind, g.Name, c.RoutedBy)
		}
		_, bourg, _ := e.org.RouteCommune(ctx, "01053")
		if err := e.svc.SetOnlineUnit(e.as("agent"), "01", bourg.ID); err != nil {
			t.Fatal(err)
		}
		c, err = e.svc.Submit(e.as("jeanne"), e.draft("jeanne", f).ID)
		if err != nil || c.UnitID != bourg.ID {
			t.Errorf("with a designated unit: unit %d, %v; want %d", c.UnitID, err, bourg.ID)
		}
		// A position routes too.
		f = goodForm(time.Now())
		f.Commune, f.Lat, f.Lon = "", "46.2052", "5.2255"
		c, err = e.svc.Submit(e.as("jeanne"), e.draft("jeanne", f).ID)
		if err != nil || c.RoutedBy != "position" || c.Dept != "01" {
			t.Errorf("by position: %+v %v", c.RoutedBy, err)
		}
		// A place outside the départements served is refused clearly.
		f.Lat, f.Lon = "48.8566", "2.3522"
		_, err = e.svc.Submit(e.as("jeanne"), e.draft("jeanne", f).ID)
		if vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(vigie.MessageOf(err), "not in a département") {
			t.Errorf("Paris: %v", err)
		}
	})
}

// TestActions: the brigade's actions move the steps, fill the delays, and
// accepting opens the case file through the hook.
func TestActions(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := e.as("agent")
		var corrected []string
		e.svc.cfg.Corrected = func(narrative, suggested, category, priority string) {
			corrected = append(corrected, suggested+"→"+category+"/"+priority)
		}
		c := e.submit("jeanne")
		steps := []struct {
			a    Action
			want string
		}{
			{Action{Kind: ActClaim}, StepProcessing},
			{Action{Kind: ActTriage, Category: CatFakeAd, Priority: "urgent"}, StepProcessing},
			{Action{Kind: ActRequest, Text: "Pouvez-vous envoyer le relevé ?"}, StepInfoRequested},
		}
		for _, s := range steps {
			got, err := e.svc.Act(ctx, c.ID, s.a)
			if err != nil || got.Step != s.want {
				t.Fatalf("%s: step %q, %v; want %q", s.a.Kind, got.Step, err, s.want)
			}
		}
		if err := e.svc.Reply(e.as("jeanne"), c.ID, "Voici le relevé : virement vers FR14 2004 1010 0505 0001 3M02 606"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Get(context.Background(), c.ID)
		if got.Step != StepProcessing || got.Category != CatFakeAd || got.Priority != "urgent" || got.TriageBy != 201 {
			t.Errorf("after the reply: %s %s %s by %d", got.Step, got.Category, got.Priority, got.TriageBy)
		}
		if len(corrected) != 1 || corrected[0] != "online_scam→fake_ad/urgent" {
			t.Errorf("triage corrections kept for retraining: %v", corrected)
		}
		if got.AckedAt.IsZero() || got.FirstActionAt.IsZero() || !got.ClosedAt.IsZero() {
			t.Errorf("delays: acked %v first %v closed %v", got.AckedAt, got.FirstActionAt, got.ClosedAt)
		}
		var lt bool
		for _, id := range e.hooks.indexed[c.ID] {
			lt = lt || id.Value == "FR1420041010050500013M02606"
		}
		if !lt {
			t.Error("the IBAN of the citizen's reply was not indexed")
		}
		if _, err := e.svc.Act(ctx, c.ID, Action{Kind: ActReject, Text: "court"}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("reject without a real reason: %v", err)
		}
		got, err := e.svc.Act(ctx, c.ID, Action{Kind: ActAccept})
		if err != nil || got.Step != StepRegistered || got.CaseNumber != "2026-01-000001" || got.ClosedAt.IsZero() {
			t.Fatalf("accept: %+v %v", got.Step, err)
		}
		if len(e.hooks.opened) != 1 || e.hooks.opened[0].Victim.Name != "Jeanne Dupont" || len(e.hooks.opened[0].Items) != 1 || e.hooks.opened[0].Items[0].IBAN != "FR7630006000011234567890189" {
			t.Errorf("OpenCase got %+v", e.hooks.opened)
		}
		if _, err := e.svc.Act(ctx, c.ID, Action{Kind: ActClaim}); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("claim after acceptance: %v, want a conflict", err)
		}
		// The case file moves the citizen's step.
		err = d.InTx(context.Background(), func(tx *db.Tx) error { return e.svc.SetStep(context.Background(), tx, c.ID, StepForwarded, "") })
		if got, _ := e.svc.Get(context.Background(), c.ID); err != nil || got.Step != StepForwarded {
			t.Errorf("SetStep forwarded: %v %s", err, got.Step)
		}
		if n := len(e.journal.find(vigie.ActChange, "complaint", strconv.FormatInt(c.ID, 10))); n != 4 {
			t.Errorf("journaled changes: %d, want 4 (claim, triage, request, accept)", n)
		}
	})
}

func TestTransferAndAppointment(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := context.Background()
		c := e.submit("jeanne")
		_, amberieu, _ := e.org.RouteCommune(ctx, "01004")
		got, err := e.svc.Act(e.as("agent"), c.ID, Action{Kind: ActTransfer, UnitID: amberieu.ID})
		if err != nil || got.UnitID != amberieu.ID || got.Step != StepReceived || got.RoutedBy != "transfer" {
			t.Fatalf("transfer: %+v %v", got, err)
		}
		if m := e.hooks.moved[c.ID]; m != [2]string{"01", strconv.FormatInt(amberieu.ID, 10)} {
			t.Errorf("the identifier index was told %v, want the new holder", m)
		}
		// Appointments: the brigade publishes slots, proposes; the citizen books.
		start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
		if err := e.svc.PublishSlots(e.as("agent"), amberieu.ID, start, 30, 3); err != nil {
			t.Fatal(err)
		}
		slots, _ := e.svc.Slots(ctx, amberieu.ID, true)
		if len(slots) != 3 {
			t.Fatalf("%d free slots, want 3", len(slots))
		}
		if _, err := e.svc.Book(e.as("jeanne"), c.ID, slots[0].ID); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("booking before a proposal: %v", err)
		}
		if _, err := e.svc.Act(e.as("agent"), c.ID, Action{Kind: ActPropose}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Book(e.as("jeanne"), c.ID, slots[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Book(e.as("jeanne"), c.ID, slots[1].ID); err != nil {
			t.Fatalf("moving the appointment: %v", err)
		}
		free, _ := e.svc.Slots(ctx, amberieu.ID, true)
		if len(free) != 2 || free[0].ID != slots[0].ID {
			t.Errorf("after moving, free slots %v; want the first one freed", free)
		}
		if err := e.svc.PublishSlots(e.as("agent"), amberieu.ID, time.Now().Add(-time.Hour), 30, 3); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("slots in the past: %v", err)
		}
	})
}

func TestQueueFiltersAndDeadlines(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := context.Background()
		old := e.submit("jeanne")
		e.submit("jeanne")
		// Age the first complaint past the acknowledgement deadline.
		if _, err := d.Exec(ctx, `UPDATE complaints SET submitted_at = ? WHERE id = ?`, db.Millis(time.Now().Add(-72*time.Hour)), old.ID); err != nil {
			t.Fatal(err)
		}
		rows, total, err := e.svc.Queue(ctx, QueueFilter{Units: []int64{old.UnitID}})
		if err != nil || total != 2 || rows[0].ID != old.ID || rows[0].Late != "ack" || rows[1].Late != "" {
			t.Fatalf("queue: %+v total %d %v", rows, total, err)
		}
		rows, total, _ = e.svc.Queue(ctx, QueueFilter{Units: []int64{old.UnitID}, OlderDays: 2})
		if total != 1 || rows[0].ID != old.ID {
			t.Errorf("older than 2 days: %d rows", total)
		}
		rows, _, _ = e.svc.Queue(ctx, QueueFilter{Units: []int64{old.UnitID}, Sort: "recent"})
		if rows[0].ID == old.ID {
			t.Error("recent first: the old complaint came first")
		}
		_, total, _ = e.svc.Queue(ctx, QueueFilter{Units: []int64{old.UnitID}, Category: CatTheft})
		if total != 0 {
			t.Errorf("category filter: %d", total)
		}
		_, total, _ = e.svc.Queue(ctx, QueueFilter{Units: []int64{old.UnitID + 1000}})
		if total != 0 {
			t.Errorf("another unit's queue holds %d", total)
		}
	})
}

func TestVerifyReceipt(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, "01")
		ctx := context.Background()
		c := e.submit("jeanne")
		r, err := e.svc.Verify(ctx, strings.ToLower(FormatCode(c.VerifyCode)))
		if err != nil || r.Number != c.Number || r.Category != CatOnlineScam || !strings.Contains(r.Unit, "Bourg") {
			t.Fatalf("Verify(own code) = %+v, %v", r, err)
		}
		wrong := []byte(c.VerifyCode)
		wrong[0] ^= 1
		if _, err := e.svc.Verify(ctx, string(wrong)); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("a wrong code: %v, want not found", err)
		}
		if _, err := e.svc.Verify(ctx, "ABC"); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("a short code: %v", err)
		}
		var buf strings.Builder
		if err := e.svc.ReceiptPDF(&buf, &c, r.Unit); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "%PDF-") || !regexp.MustCompile(`Récépissé|R\\351c\\351piss\\351|/Title`).MatchString(buf.String()) {
			t.Errorf("the receipt is not a PDF with a title (%d bytes)", buf.Len())
		}
		svg, err := QRSVG(e.svc.VerifyURL(c.VerifyCode), 100)
		if err != nil || !strings.Contains(string(svg), "<path d=\"M") {
			t.Errorf("QR code: %v", err)
		}
	})
}

func TestINSEEOf(t *testing.T) {
	for in, want := range map[string]string{"01053": "01053", "Bourg-en-Bresse (01053)": "01053", " 2a004 ": "2A004", "Ajaccio (2A004)": "2A004", "97411": "97411"} {
		if got, ok := INSEEOf(in); !ok || got != want {
			t.Errorf("INSEEOf(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "0105", "010533", "ABCDE", "3A004", "Bourg"} {
		if got, ok := INSEEOf(in); ok {
			t.Errorf("INSEEOf(%q) accepted as %q", in, got)
		}
	}
}
