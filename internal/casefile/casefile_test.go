package casefile

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
	"vigie/internal/web"
)

func TestWorkflow(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{StatusOpen, StatusInvestigating, true},
		{StatusOpen, StatusForwarded, false},
		{StatusOpen, StatusClosed, false},
		{StatusInvestigating, StatusForwarded, true},
		{StatusInvestigating, StatusClosed, true},
		{StatusInvestigating, StatusOpen, false},
		{StatusForwarded, StatusClosed, true},
		{StatusForwarded, StatusInvestigating, false},
		{StatusClosed, StatusInvestigating, false},
		{StatusClosed, StatusOpen, false},
		{StatusOpen, "archived", false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
}

func TestCaseNumber(t *testing.T) {
	for _, tt := range []struct {
		code string
		want string
	}{{"BR-01053", "2026-01053-000042"}, {"GGD-2A", "2026-2A-000042"}, {"", "2026-0-000042"}} {
		if got := caseNumber(2026, tt.code, 42); got != tt.want {
			t.Errorf("caseNumber(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"250", 25000, false}, {"250,5", 25050, false}, {"1 250,00 €", 125000, false}, {"12.99", 1299, false},
		{"0", 0, true}, {"", 0, true}, {"-3", 0, true}, {"12,345", 0, true}, {"abc", 0, true}, {"1e5", 0, true},
		{"99999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := parseAmount(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("parseAmount(%q): error kind %v", tt.in, vigie.KindOf(err))
		}
	}
}

func TestPartyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Party
		msg  string // part of the message; "" for valid
	}{
		{"valid", Party{Role: RoleWitness, Name: "Paul Durand", Phone: "06 12 34 56 78", Email: "Paul@Example.FR"}, ""},
		{"no role", Party{Name: "X"}, "role"},
		{"no name", Party{Role: RoleVictim, Name: "  "}, "name is required"},
		{"bad phone", Party{Role: RoleVictim, Name: "X", Phone: "12"}, "phone"},
		{"bad mail", Party{Role: RoleVictim, Name: "X", Email: "x@"}, "e-mail"},
		{"future birth", Party{Role: RoleVictim, Name: "X", BirthDate: "2999-01-01"}, "date of birth"},
		{"bad birth", Party{Role: RoleVictim, Name: "X", BirthDate: "12/03/1980"}, "date of birth"},
		{"long name", Party{Role: RoleVictim, Name: strings.Repeat("a", 201)}, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			err := p.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if p.Phone != "+33612345678" || p.Email != "paul@example.fr" {
					t.Errorf("not normalised: %q %q", p.Phone, p.Email)
				}
				return
			}
			if err == nil || vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(strings.ToLower(vigie.MessageOf(err)), tt.msg) {
				t.Fatalf("error %v, want an invalid error about %q", err, tt.msg)
			}
		})
	}
}

const scamIBAN = "FR7630006000011234567890189"

func scamComplaint(name string) FromComplaint {
	return FromComplaint{Number: "PL-2026-000123", Category: "online_scam",
		Narrative: "Un faux conseiller m'a fait virer 1 500 € sur l'IBAN FR76 3000 6000 0112 3456 7890 189, il appelait du 06 12 34 56 78.",
		FactsFrom: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), FactsTo: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Place:  Place{Address: "1 rue de la Paix, Bourg-en-Bresse", INSEE: "01053", Lat: 46.2, Lon: 5.22},
		Victim: Person{Name: name, BirthDate: "1970-05-04", Phone: "+33611111111", Email: "victime@example.fr"},
		Items: []ComplaintItem{{Kind: ItemMoney, Description: "virement", AmountCents: 150000, IBAN: scamIBAN,
			Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}},
		Attachments: []Attachment{{SHA256: strings.Repeat("ab", 32), Name: "releve.pdf", Type: "application/pdf", Size: 1234}},
		SubmittedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func TestOpenFromComplaint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		c := f.open(t, f.b01, 77, scamComplaint("Camille Martin"))
		if !regexp.MustCompile(`^20[0-9]{2}-01053-000001$`).MatchString(c.Number) {
			t.Errorf("number %q", c.Number)
		}
		c2 := f.open(t, f.b01, 78, scamComplaint("Autre"))
		if !strings.HasSuffix(c2.Number, "-000002") {
			t.Errorf("second number %q, want sequence 2", c2.Number)
		}
		if c.Status != StatusOpen || c.ComplaintID != 77 || c.Dept != "01" {
			t.Errorf("case %+v", c)
		}
		d1, err := f.svc.Get(f.as(1, vigie.RoleAgent, f.b01), c.ID, "plainte")
		if err != nil {
			t.Fatal(err)
		}
		if len(d1.Parties) != 1 || d1.Parties[0].Name != "Camille Martin" || d1.Parties[0].Role != RoleVictim {
			t.Errorf("parties %+v", d1.Parties)
		}
		if len(d1.Items) != 1 || d1.Items[0].IBAN != scamIBAN || d1.Items[0].AmountCents != 150000 {
			t.Errorf("items %+v", d1.Items)
		}
		if len(d1.Documents) != 1 || len(d1.Timeline) != 1 || d1.Timeline[0].Kind != "opened" {
			t.Errorf("documents %+v timeline %+v", d1.Documents, d1.Timeline)
		}
		ids, err := f.svc.links.identifiers(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[ident.Kind]string{}
		for _, id := range ids {
			kinds[id.Kind] = id.Value
		}
		if kinds[ident.KindIBAN] != scamIBAN || kinds[ident.KindPhone] != "+33612345678" {
			t.Errorf("indexed %v", kinds)
		}
		// The event carries the recorded offence, no personal data.
		var subject, payload string
		if err := d.QueryRow(ctx, `SELECT subject, payload FROM outbox WHERE subject LIKE '%casefile.opened' ORDER BY id LIMIT 1`).Scan(&subject, &payload); err != nil {
			t.Fatal(err)
		}
		if subject != "vigie.01.casefile.opened" {
			t.Errorf("subject %q", subject)
		}
		for _, want := range []string{`"category":"online_scam"`, `"insee":"01053"`, `"unit_id":` + strconv.FormatInt(f.b01, 10)} {
			if !strings.Contains(payload, want) {
				t.Errorf("payload lacks %s: %s", want, payload)
			}
		}
		for _, secret := range []string{"Camille", "FR76", "0612", "+336", "faux conseiller"} {
			if strings.Contains(payload, secret) {
				t.Errorf("payload leaks %q: %s", secret, payload)
			}
		}
		if n := f.journaled(t, vigie.ActCollect, "case", strconv.FormatInt(c.ID, 10), "plainte"); n != 1 {
			t.Errorf("collect journaled %d times", n)
		}
		if n := f.journaled(t, vigie.ActConsult, "case", strconv.FormatInt(c.ID, 10), "plainte"); n != 1 {
			t.Errorf("consult journaled %d times", n)
		}
		// Refusals: a unit of another département, an unknown category.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := f.svc.OpenFromComplaint(ctx, tx, FromComplaint{Dept: "01", UnitID: f.b2A, Category: "theft"})
			return err
		})
		if vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unit of another département: %v", err)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, err := f.svc.OpenFromComplaint(ctx, tx, FromComplaint{Dept: "01", UnitID: f.b01, Category: "murder"})
			return err
		})
		if vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unknown category: %v", err)
		}
	})
}

func TestAuthorization(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.open(t, f.b01, 1, scamComplaint("Camille Martin"))
		tests := []struct {
			name        string
			ctx         context.Context
			read, write bool
		}{
			{"agent of the brigade", f.as(1, vigie.RoleAgent, f.b01), true, true},
			{"OPJ of the brigade", f.as(2, vigie.RoleInvestigator, f.b01), true, true},
			{"commander of the compagnie", f.as(3, vigie.RoleCommander, f.cie01), true, true},
			{"agent of the sibling brigade", f.as(4, vigie.RoleAgent, f.b01b), false, false},
			{"agent of 2A", f.as(5, vigie.RoleAgent, f.b2A), false, false},
			{"commander of 2A", f.as(6, vigie.RoleCommander, f.g2A), false, false},
			{"analyst of 01", f.as(7, vigie.RoleAnalyst, f.g01), false, false},
			{"administrator", vigie.WithUser(context.Background(), &vigie.User{ID: 8, Role: vigie.RoleAdmin}), false, false},
			{"citizen", vigie.WithUser(context.Background(), &vigie.User{ID: 9, Role: vigie.RoleCitizen}), false, false},
			{"nobody", context.Background(), false, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Get(tt.ctx, c.ID, "plainte")
				if (err == nil) != tt.read {
					t.Errorf("read: %v, want allowed %v", err, tt.read)
				}
				_, err = f.svc.AddNote(tt.ctx, c.ID, "note de "+tt.name)
				if (err == nil) != tt.write {
					t.Errorf("write: %v, want allowed %v", err, tt.write)
				}
				cs, err := f.svc.List(tt.ctx, "", 10, 0)
				if got := err == nil && len(cs) == 1; got != tt.read {
					t.Errorf("list: %d cases, %v; want the case listed %v", len(cs), err, tt.read)
				}
				var buf bytes.Buffer
				if err := f.svc.PV(tt.ctx, c.ID, "plainte", &buf); (err == nil) != tt.read {
					t.Errorf("PV: %v, want allowed %v", err, tt.read)
				}
			})
		}
	})
}

func TestStatusChanges(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as(1, vigie.RoleInvestigator, f.b01)
		c := f.open(t, f.b01, 55, scamComplaint("Camille Martin"))
		if _, err := f.svc.SetStatus(ctx, c.ID, StatusForwarded, ""); vigie.KindOf(err) != vigie.KindConflict {
			t.Fatalf("open → forwarded: %v, want a conflict", err)
		}
		if _, err := f.svc.SetStatus(ctx, c.ID, "archived", ""); vigie.KindOf(err) != vigie.KindInvalid {
			t.Fatalf("unknown status: %v", err)
		}
		for _, to := range []Status{StatusInvestigating, StatusForwarded, StatusClosed} {
			got, err := f.svc.SetStatus(ctx, c.ID, to, "étape "+string(to))
			if err != nil {
				t.Fatalf("→ %s: %v", to, err)
			}
			if got.Status != to {
				t.Fatalf("status %s, want %s", got.Status, to)
			}
		}
		if _, err := f.svc.AddNote(ctx, c.ID, "après clôture"); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("a note on a closed case: %v, want a conflict", err)
		}
		if want := []string{"55:forwarded", "55:closed"}; strings.Join(f.onStatus, ",") != strings.Join(want, ",") {
			t.Errorf("OnStatus calls %v, want %v", f.onStatus, want)
		}
		dt, err := f.svc.Get(ctx, c.ID, "plainte")
		if err != nil {
			t.Fatal(err)
		}
		if dt.Case.ClosedAt.IsZero() {
			t.Error("closed_at not set")
		}
		var statusEvents int
		for _, e := range dt.Timeline {
			if e.Kind == "status" {
				statusEvents++
			}
		}
		if statusEvents != 3 {
			t.Errorf("%d status lines in the timeline, want 3", statusEvents)
		}
		var n int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM outbox WHERE subject = 'vigie.01.casefile.status_changed'`).Scan(&n)
		if n != 3 {
			t.Errorf("%d status events, want 3", n)
		}
		// An OnStatus failure rolls the change back.
		c2 := f.open(t, f.b01, 56, scamComplaint("X"))
		f.svc.SetStatus(ctx, c2.ID, StatusInvestigating, "")
		f.svc.cfg.OnStatus = func(context.Context, *db.Tx, int64, string) error { return vigie.ErrForbidden }
		if _, err := f.svc.SetStatus(ctx, c2.ID, StatusClosed, ""); err == nil {
			t.Fatal("closing despite the complaint area's refusal")
		}
		if got, _ := getCase(context.Background(), d, c2.ID); got.Status != StatusInvestigating {
			t.Errorf("status %s after a failed change", got.Status)
		}
	})
}

func TestAddParts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as(1, vigie.RoleAgent, f.b01)
		c := f.open(t, f.b01, 1, scamComplaint("Camille Martin"))
		card := "4970 1012 3456 7893"
		items := []struct {
			in  ItemInput
			msg string
		}{
			{ItemInput{Kind: ItemMoney, Amount: "450,00", IBAN: "FR76 3000 6000 0112 3456 7890 180"}, "IBAN"},
			{ItemInput{Kind: ItemMoney, Amount: "", IBAN: scamIBAN}, "amount"},
			{ItemInput{Kind: ItemVehicle, Identifier: "not a plate"}, "plate"},
			{ItemInput{Kind: ItemPhone, Identifier: "123456789012345"}, "IMEI"},
			{ItemInput{Kind: "boat"}, "kind of item"},
			{ItemInput{Kind: ItemVehicle, Identifier: "ab123cd", Extra: "vf1abc"}, ""},
			{ItemInput{Kind: ItemCard, Identifier: card}, ""},
			{ItemInput{Kind: ItemMoney, Amount: "99", IBAN: "DE89 3704 0044 0532 0130 00", Date: "2026-02-01"}, ""},
		}
		for _, it := range items {
			_, err := f.svc.AddItem(ctx, c.ID, it.in)
			if it.msg == "" {
				if err != nil {
					t.Errorf("AddItem(%+v): %v", it.in, err)
				}
				continue
			}
			if vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(vigie.MessageOf(err), it.msg) {
				t.Errorf("AddItem(%+v): %v, want a message about %s", it.in, err, it.msg)
			}
		}
		if _, err := f.svc.AddParty(ctx, c.ID, Party{Role: RoleSuspect, Name: "Inconnu", Phone: "07 98 76 54 32"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddNote(ctx, c.ID, "Le site https://faux-conseil.example.com/login a servi."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddNote(ctx, c.ID, "   "); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("empty note: %v", err)
		}
		due := time.Now().Add(-time.Hour)
		task, err := f.svc.AddTask(ctx, c.ID, Task{Title: "Réquisition bancaire", DueAt: due, Assignee: "OPJ Bernard"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddDocument(ctx, c.ID, "note.txt", strings.NewReader("procès-verbal d'audition du témoin\n")); err != nil {
			t.Fatalf("AddDocument: %v", err)
		}
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 200)...)
		if _, err := f.svc.AddDocument(ctx, c.ID, "facture.pdf", bytes.NewReader(exe)); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("an executable named .pdf: %v, want refused", err)
		}
		dt, err := f.svc.Get(ctx, c.ID, "plainte")
		if err != nil {
			t.Fatal(err)
		}
		if len(dt.Tasks) != 1 || !dt.Tasks[0].Overdue(time.Now()) {
			t.Errorf("tasks %+v", dt.Tasks)
		}
		if err := f.svc.CompleteTask(ctx, c.ID, task.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CompleteTask(ctx, c.ID, task.ID); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("completing twice: %v", err)
		}
		var cardItem Item
		for _, it := range dt.Items {
			if it.Kind == ItemCard {
				cardItem = it
			}
		}
		// SECURITY: the card number is never stored whole.
		if cardItem.Identifier == "" || strings.Contains(cardItem.Identifier, "123456") {
			t.Errorf("card stored as %q", cardItem.Identifier)
		}
		var whole int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM ident_links WHERE value LIKE '%4970101234567893%' OR display LIKE '%4970101234567891%'`).Scan(&whole)
		if whole != 0 {
			t.Error("a whole card number reached the index")
		}
		ids, _ := f.svc.links.identifiers(context.Background(), c.ID)
		got := map[ident.Kind]int{}
		for _, id := range ids {
			got[id.Kind]++
		}
		for _, k := range []ident.Kind{ident.KindIBAN, ident.KindPhone, ident.KindPlate, ident.KindCard, ident.KindURL, ident.KindDomain} {
			if got[k] == 0 {
				t.Errorf("no %s indexed (%v)", k, got)
			}
		}
		if len(dt.Documents) != 2 {
			t.Fatalf("documents %+v", dt.Documents)
		}
		doc, rc, err := f.svc.OpenDocument(ctx, c.ID, dt.Documents[1].ID, "plainte")
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		if doc.Name != "note.txt" || !strings.HasPrefix(doc.Type, "text/plain") {
			t.Errorf("document %+v", doc)
		}
		if _, _, err := f.svc.OpenDocument(f.as(5, vigie.RoleAgent, f.b2A), c.ID, doc.ID, "plainte"); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("document of another département: %v", err)
		}
		// Every change is in the timeline and the journal.
		dt, _ = f.svc.Get(ctx, c.ID, "plainte")
		if len(dt.Timeline) != 9 { // opened, 3 items, party, note, task, document, task done
			t.Errorf("timeline has %d lines", len(dt.Timeline))
		}
		var changes int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entry WHERE object = 'case' AND object_id = ? AND action IN ('collect', 'change')`,
			strconv.FormatInt(c.ID, 10)).Scan(&changes)
		if changes != len(dt.Timeline) {
			t.Errorf("%d journaled changes, %d timeline lines", changes, len(dt.Timeline))
		}
	})
}

func TestPVDraft(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as(1, vigie.RoleAgent, f.b01)
		c := f.open(t, f.b01, 1, scamComplaint("Camille Martin"))
		var buf bytes.Buffer
		if err := f.svc.PV(ctx, c.ID, "plainte", &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || buf.Len() < 1500 {
			t.Fatalf("not a PDF (%d bytes)", buf.Len())
		}
		if n := f.journaled(t, vigie.ActConsult, "case", strconv.FormatInt(c.ID, 10), "plainte"); n != 1 {
			t.Errorf("PV journaled %d times", n)
		}
		// Uncompressed, the text is readable: the draft mark, the victim,
		// the money trail, French letters in the PDF's encoding.
		dt, _ := f.svc.Get(ctx, c.ID, "plainte")
		pdf, err := renderPV(dt, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		pdf.SetCompression(false)
		buf.Reset()
		if err := pdf.Output(&buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"BROUILLON", "Camille Martin", "FR7630006000011234567890189", "1 500,00", "Escroquerie en ligne",
			"PL-2026-000123", "Proc\xe8s-verbal de plainte"} {
			if !bytes.Contains(buf.Bytes(), []byte(want)) {
				t.Errorf("the PV lacks %q", want)
			}
		}
	})
}

func TestLinksAndAccessRequests(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		u := f.addUsers(t, 4)
		agent01 := f.as(u[0], vigie.RoleAgent, f.b01)
		agent2A := f.as(u[1], vigie.RoleAgent, f.b2A)
		opj2A := f.as(u[2], vigie.RoleInvestigator, f.b2A)
		agentSibling := f.as(u[3], vigie.RoleAgent, f.b01b)
		c01 := f.open(t, f.b01, 1, scamComplaint("Camille Martin"))
		c2A := f.open(t, f.b2A, 2, scamComplaint("Ange Santoni"))
		cSib := f.open(t, f.b01b, 3, scamComplaint("Voisin"))
		// A complaint in 2A, indexed by the complaint area, mentions the IBAN too.
		err := d.InTx(context.Background(), func(tx *db.Tx) error {
			id, _ := ident.Normalize(ident.KindIBAN, scamIBAN)
			return f.svc.Links().Index(context.Background(), tx, Source{Kind: SourceComplaint, ID: 900, Dept: "2A", UnitID: f.b2A},
				[]ident.Identifier{id, id})
		})
		if err != nil {
			t.Fatal(err)
		}
		groups, err := f.svc.links.Related(agent01, c01)
		if err != nil {
			t.Fatal(err)
		}
		var iban *Group
		for i := range groups {
			if groups[i].Kind == ident.KindIBAN {
				iban = &groups[i]
			}
		}
		if iban == nil {
			t.Fatalf("no IBAN group in %+v", groups)
		}
		// c2A, cSib and complaint 900 (not the case's own complaint 1).
		if iban.Cases != 2 || iban.Complaints != 1 {
			t.Errorf("IBAN: %d cases, %d complaints; want 2 and 1", iban.Cases, iban.Complaints)
		}
		for _, h := range iban.Hits {
			if h.InScope || h.Path != "" {
				t.Errorf("a hit outside the agent's brigade is shown in scope: %+v", h)
			}
			if h.UnitName == "" {
				t.Errorf("hit without its unit's name: %+v", h)
			}
		}
		// The commander of the compagnie sees the sibling brigade's case in scope.
		groups, _ = f.svc.links.Related(f.as(9, vigie.RoleCommander, f.cie01), c01)
		inScope := 0
		for _, g := range groups {
			for _, h := range g.Hits {
				if h.InScope && h.Source.ID == cSib.ID && h.Path == "/cases/"+strconv.FormatInt(cSib.ID, 10) {
					inScope++
				}
			}
		}
		if inScope == 0 {
			t.Error("the commander does not see the sibling case as linked in scope")
		}
		// Lookup by a typed value, in any notation.
		g, err := f.svc.SearchLinks(agent01, "iban", "fr76 3000 6000 0112 3456 7890 189", "plainte")
		if err != nil {
			t.Fatal(err)
		}
		if g.Cases != 3 || g.Complaints != 1 {
			t.Errorf("lookup: %d cases %d complaints", g.Cases, g.Complaints)
		}
		if _, err := f.svc.SearchLinks(agent01, "iban", "FR76 0000", "plainte"); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("bad IBAN lookup: %v", err)
		}
		if _, err := f.svc.SearchLinks(agent01, "shoe", "x", "plainte"); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unknown kind: %v", err)
		}

		// Access request: from a case the agent reads, to a linked record.
		if _, err := f.svc.RequestAccess(agent01, c01.ID, Source{Kind: SourceCase, ID: c2A.ID}, ""); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("without a reason: %v", err)
		}
		if _, err := f.svc.RequestAccess(agentSibling, c01.ID, Source{Kind: SourceCase, ID: c2A.ID}, "enquête"); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("from a case the requester cannot read: %v", err)
		}
		unlinked := f.open(t, f.b2A, 4, FromComplaint{Category: "theft", Narrative: "vol de vélo"})
		if _, err := f.svc.RequestAccess(agent01, c01.ID, Source{Kind: SourceCase, ID: unlinked.ID}, "curiosité"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("a record without shared identifier: %v", err)
		}
		req, err := f.svc.RequestAccess(agent01, c01.ID, Source{Kind: SourceCase, ID: c2A.ID, Dept: "01", UnitID: f.b01}, "même IBAN, escroquerie en série")
		if err != nil {
			t.Fatal(err)
		}
		if req.Source.Dept != "2A" || req.Source.UnitID != f.b2A {
			t.Errorf("holder taken from the request instead of the index: %+v", req.Source)
		}
		if _, err := f.svc.RequestAccess(agent01, c01.ID, Source{Kind: SourceCase, ID: c2A.ID}, "encore"); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("second pending request: %v", err)
		}
		if _, err := f.svc.Get(agent01, c2A.ID, "plainte"); vigie.KindOf(err) != vigie.KindForbidden {
			t.Fatalf("read before approval: %v", err)
		}
		// Who decides: not the agent of 2A, not the requester.
		if _, err := f.svc.DecideAccess(agent2A, req.ID, true, ""); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("an agent decides: %v", err)
		}
		if _, err := f.svc.DecideAccess(f.as(u[0], vigie.RoleInvestigator, f.b01), req.ID, true, ""); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("the requester's own OPJ decides: %v", err)
		}
		_, toDecide, err := f.svc.AccessRequests(opj2A)
		if err != nil || len(toDecide) != 1 || toDecide[0].ID != req.ID {
			t.Fatalf("OPJ of 2A sees %+v, %v", toDecide, err)
		}
		got, err := f.svc.DecideAccess(opj2A, req.ID, true, "accordé")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != RequestApproved || got.GrantID == 0 || !got.ExpiresAt.After(time.Now().Add(29*24*time.Hour)) {
			t.Errorf("decision %+v", got)
		}
		if _, err := f.svc.DecideAccess(opj2A, req.ID, false, ""); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("deciding twice: %v", err)
		}
		dt, err := f.svc.Get(agent01, c2A.ID, "enquete")
		if err != nil {
			t.Fatalf("read after approval: %v", err)
		}
		if dt.Parties[0].Name != "Ange Santoni" {
			t.Errorf("parties %+v", dt.Parties)
		}
		// Read only: the grant does not let the agent write.
		if _, err := f.svc.AddNote(agent01, c2A.ID, "note"); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("write with a read grant: %v", err)
		}
		// Now the hit is in scope for the agent.
		groups, _ = f.svc.links.Related(agent01, c01)
		found := false
		for _, g := range groups {
			for _, h := range g.Hits {
				found = found || (h.Source.ID == c2A.ID && h.Source.Kind == SourceCase && h.InScope)
			}
		}
		if !found {
			t.Error("the granted case is not in scope among the links")
		}
		if n := f.journaled(t, vigie.ActCommunicate, "case", strconv.FormatInt(c2A.ID, 10), ""); n != 1 {
			t.Errorf("approval journaled %d times", n)
		}
		mine, _, _ := f.svc.AccessRequests(agent01)
		if len(mine) != 1 || mine[0].Status != RequestApproved {
			t.Errorf("my requests %+v", mine)
		}
	})
}

func TestClassifyLearns(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as(1, vigie.RoleAgent, f.b01)
		c := f.open(t, f.b01, 1, scamComplaint("X"))
		if _, err := f.svc.Classify(ctx, c.ID, "murder", "low"); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unknown category: %v", err)
		}
		before := f.svc.cfg.Triage.Corrections()
		got, err := f.svc.Classify(ctx, c.ID, "fake_ad", "high")
		if err != nil {
			t.Fatal(err)
		}
		if got.Category != "fake_ad" || got.Priority != "high" {
			t.Errorf("case %+v", got)
		}
		var n int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM triage_corrections WHERE category = 'fake_ad' AND suggested_category = 'online_scam'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d corrections stored", n)
		}
		if f.svc.cfg.Triage.Corrections() != before+1 {
			t.Error("the correction was not learnt")
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"250", "1 250,50 €", "-1", "1,2,3", "\u00a0", "99999999999,99", "0,01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseAmount(s)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		if n <= 0 {
			t.Fatalf("parseAmount(%q) = %d", s, n)
		}
	})
}

func FuzzItemInput(f *testing.F) {
	svc := New(Config{Ident: ident.New(ident.Config{CardKey: testCardKey})})
	f.Add("money", "12,50", "FR7630006000011234567890189", "", "2026-01-01")
	f.Add("card", "", "", "4970101234567899", "")
	f.Add("vehicle", "", "", "AB-123-CD", "")
	f.Add("phone", "", "", "35209900176148", "x")
	f.Fuzz(func(t *testing.T, kind, amount, iban, identifier, date string) {
		it, ids, err := svc.normalizeItem(ItemInput{Kind: kind, Amount: amount, IBAN: iban, Identifier: identifier, Date: date, Description: identifier})
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		if it.Kind == ItemCard {
			for _, id := range ids {
				if id.Kind == ident.KindCard && strings.Contains(id.Value, strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, identifier)) && len(identifier) > 12 {
					t.Fatalf("card kept in clear: %+v", id)
				}
			}
		}
	})
}

func TestTemplatesTranslated(t *testing.T) {
	missing, err := web.Untranslated(os.DirFS("templates"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French translation: %s", m)
	}
}

func FuzzParseDue(f *testing.F) {
	for _, s := range []string{"2026-03-14", "", "14/03/2026", "2026-02-30", "9999-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDue(s)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("error kind %v", err)
			}
			return
		}
		if strings.TrimSpace(s) != "" && (d.Year() < 2000 || d.Year() > 2100) {
			t.Fatalf("parseDue(%q) = %v", s, d)
		}
	})
}

func TestTriageCorrected(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := f.as(1, vigie.RoleAgent, f.b01)
		if err := f.svc.TriageCorrected(ctx, "texte", "theft", "murder", "low"); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unknown category: %v", err)
		}
		if err := f.svc.TriageCorrected(ctx, "on m'a volé mon vélo devant la gare", "theft", "theft", "low"); err != nil {
			t.Fatal(err)
		}
		var n int
		d.QueryRow(context.Background(), `SELECT COUNT(*) FROM triage_corrections WHERE category = 'theft' AND dept = '01'`).Scan(&n)
		if n != 1 || f.svc.cfg.Triage.Corrections() != 1 {
			t.Errorf("%d stored, %d learnt", n, f.svc.cfg.Triage.Corrections())
		}
	})
}

func TestSeedDemo(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		brigades := map[string][]DemoBrigade{
			"01": {{ID: f.b01, Dept: "01", INSEE: "01053", Place: "Bourg-en-Bresse", Scam: true}, {ID: f.b01b, Dept: "01", INSEE: "01289", Place: "Péronnas", Canary: true}},
			"2A": {{ID: f.b2A, Dept: "2A", INSEE: "2A004", Place: "Ajaccio", Scam: true, Canary: true}},
		}
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		var n int
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			n, err = f.svc.SeedDemo(ctx, tx, brigades, 10, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 20 {
			t.Fatalf("%d cases seeded, want 20", n)
		}
		var unit int64
		d.QueryRow(ctx, `SELECT c.unit_id FROM cases c JOIN case_parties p ON p.case_id = c.id WHERE p.name = 'Camille Martin'`).Scan(&unit)
		if unit != f.b01b {
			t.Errorf("the 01 canary is in unit %d, want the flagged %d", unit, f.b01b)
		}
		var scamUnits int
		d.QueryRow(ctx, `SELECT COUNT(DISTINCT unit_id) FROM ident_links WHERE kind = 'iban' AND value = ?`, DemoScamIBAN).Scan(&scamUnits)
		if scamUnits != 2 {
			t.Errorf("the scam IBAN is in %d units, want 2 (01053 and Ajaccio)", scamUnits)
		}
		var oldest, newest int64
		var statuses int
		d.QueryRow(ctx, `SELECT MIN(created_at), MAX(created_at), COUNT(DISTINCT status) FROM cases`).Scan(&oldest, &newest, &statuses)
		if span := db.Time(newest).Sub(db.Time(oldest)); span < 180*24*time.Hour || statuses < 3 {
			t.Errorf("history spans %v with %d statuses", span, statuses)
		}
		// Deterministic: the same seed gives the same narratives.
		var first string
		d.QueryRow(ctx, `SELECT narrative FROM cases ORDER BY id LIMIT 1 OFFSET 3`).Scan(&first)
		if want := triage.Generate(1000, 10)[3].Text; first != want {
			t.Errorf("narrative %q, want the generator's %q", first, want)
		}
	})
}

// TestListOrderAcrossUnits: the commander's list merges the units' pages
// in order of last change, and pages through them without gaps.
func TestListOrderAcrossUnits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var want []int64
		for i := range 7 {
			unit := f.b01
			if i%2 == 1 {
				unit = f.b01b
			}
			c := f.open(t, unit, int64(i+1), FromComplaint{Category: "theft"})
			// Last change i hours ago: the first opened is the most recent.
			if _, err := d.Exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, db.Millis(time.Now().Add(-time.Duration(i)*time.Hour)), c.ID); err != nil {
				t.Fatal(err)
			}
			want = append(want, c.ID)
		}
		cmd := f.as(9, vigie.RoleCommander, f.cie01)
		var got []int64
		for offset := 0; offset < 9; offset += 3 {
			cs, err := f.svc.List(cmd, "", 3, offset)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				got = append(got, c.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages give %v, want %v", got, want)
		}
		cs, _ := f.svc.List(f.as(1, vigie.RoleAgent, f.b01b), "", 100, 0)
		if len(cs) != 3 {
			t.Errorf("the agent of the second brigade lists %d cases, want 3", len(cs))
		}
		if cs, _ := f.svc.List(cmd, StatusClosed, 100, 0); len(cs) != 0 {
			t.Errorf("closed filter: %d", len(cs))
		}
		if _, err := f.svc.List(cmd, "lost", 100, 0); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("unknown status: %v", err)
		}
	})
}
