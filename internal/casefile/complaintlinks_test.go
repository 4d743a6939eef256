package casefile

import (
	"context"
	"strconv"
	"testing"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// TestComplaintLinksAndAccess: the links of a complaint (the agent's page
// of a complaint) follow the case page's rules, its own case file is not
// "another" record, and an access request made from the complaint reaches
// the holding unit, only for a complaint the requester may read.
func TestComplaintLinksAndAccess(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.addUsers(t, 3)
		agent01 := f.as(u[0], vigie.RoleAgent, f.b01)
		opj2A := f.as(u[1], vigie.RoleInvestigator, f.b2A)
		agentSibling := f.as(u[2], vigie.RoleAgent, f.b01b)
		// Complaints as the complaint area holds them (id → dept, unit).
		holders := map[int64]vigie.Target{
			700: {Dept: "01", UnitID: f.b01, Kind: "complaint", ID: "700"},
			900: {Dept: "2A", UnitID: f.b2A, Kind: "complaint", ID: "900"},
		}
		f.svc.cfg.ComplaintTarget = func(ctx context.Context, id int64) (vigie.Target, error) {
			t, ok := holders[id]
			if !ok {
				return vigie.Target{}, vigie.E(vigie.KindNotFound, "test", "This complaint does not exist.", nil)
			}
			return t, nil
		}
		iban, _ := ident.Normalize(ident.KindIBAN, scamIBAN)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := f.svc.Links().Index(ctx, tx, Source{Kind: SourceComplaint, ID: 700, Dept: "01", UnitID: f.b01}, []ident.Identifier{iban}); err != nil {
				return err
			}
			return f.svc.Links().Index(ctx, tx, Source{Kind: SourceComplaint, ID: 900, Dept: "2A", UnitID: f.b2A}, []ident.Identifier{iban})
		})
		if err != nil {
			t.Fatal(err)
		}
		own := f.open(t, f.b01, 700, scamComplaint("Camille Martin")) // the complaint's own case
		c2A := f.open(t, f.b2A, 2, scamComplaint("Ange Santoni"))

		groups, err := f.svc.Links().RelatedToComplaint(agent01, 700, own.ID)
		if err != nil {
			t.Fatal(err)
		}
		var g *Group
		for i := range groups {
			if groups[i].Kind == ident.KindIBAN {
				g = &groups[i]
			}
		}
		if g == nil {
			t.Fatalf("no IBAN group in %+v", groups)
		}
		// Complaint 900 and case c2A; not the complaint itself nor its own case.
		if g.Complaints != 1 || g.Cases != 1 || len(g.Hits) != 2 {
			t.Fatalf("IBAN: %d complaints, %d cases, %d hits; want 1, 1, 2", g.Complaints, g.Cases, len(g.Hits))
		}
		for _, h := range g.Hits {
			if h.InScope || h.Path != "" || h.Source.Dept != "2A" || h.UnitName != "Brigade d'Ajaccio" {
				t.Errorf("hit of 2A as the agent of 01 sees it: %+v", h)
			}
			if h.Source.ID == own.ID && h.Source.Kind == SourceCase {
				t.Error("the complaint's own case is listed as another record")
			}
		}
		// Without its case (not accepted yet), the case opened from it is
		// not excluded by mistake: nothing else changes.
		if groups, err := f.svc.Links().RelatedToComplaint(agent01, 700, 0); err != nil || len(groups) == 0 || groups[0].Cases+groups[0].Complaints < 2 {
			t.Errorf("links without a case: %+v, %v", groups, err)
		}

		// Access requests from the complaint.
		if _, err := f.svc.RequestAccessFromComplaint(agentSibling, 700, Source{Kind: SourceComplaint, ID: 900}, "même IBAN"); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("from a complaint the requester cannot read: %v", err)
		}
		if _, err := f.svc.RequestAccessFromComplaint(agent01, 701, Source{Kind: SourceComplaint, ID: 900}, "même IBAN"); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("from a complaint that does not exist: %v", err)
		}
		if _, err := f.svc.RequestAccessFromComplaint(agent01, 700, Source{Kind: SourceComplaint, ID: 900}, " "); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("without a reason: %v", err)
		}
		req, err := f.svc.RequestAccessFromComplaint(agent01, 700, Source{Kind: SourceComplaint, ID: 900, Dept: "01", UnitID: f.b01}, "même IBAN, escroquerie en série")
		if err != nil {
			t.Fatal(err)
		}
		if req.Source.Dept != "2A" || req.Source.UnitID != f.b2A || req.FromCase != 0 || req.LinkKind != string(ident.KindIBAN) {
			t.Errorf("request %+v", req)
		}
		if _, err := f.svc.RequestAccessFromComplaint(agent01, 700, Source{Kind: SourceCase, ID: c2A.ID}, "le dossier aussi"); err != nil {
			t.Errorf("request for the linked case: %v", err)
		}
		// The holding unit's OPJ approves: a read grant on complaint 900.
		got, err := f.svc.DecideAccess(opj2A, req.ID, true, "accordé")
		if err != nil || got.Status != RequestApproved || got.GrantID == 0 {
			t.Fatalf("decision %+v, %v", got, err)
		}
		var n int
		d.QueryRow(ctx, `SELECT COUNT(*) FROM grants WHERE user_id = ? AND target_kind = 'complaint' AND target_id = '900'`, u[0]).Scan(&n)
		if n != 1 {
			t.Errorf("grants on complaint 900: %d", n)
		}
		if k := f.journaled(t, vigie.ActChange, "access_request", strconv.FormatInt(req.ID, 10), ""); k != 1 {
			t.Errorf("request journaled %d times", k)
		}

		// Complaint 800 of 2A, asked for, then transferred to the sibling
		// brigade of 01: the index and the pending request follow it; the
		// former holder may no longer decide.
		err = d.InTx(ctx, func(tx *db.Tx) error {
			return f.svc.Links().Index(ctx, tx, Source{Kind: SourceComplaint, ID: 800, Dept: "2A", UnitID: f.b2A}, []ident.Identifier{iban})
		})
		if err != nil {
			t.Fatal(err)
		}
		moved, err := f.svc.RequestAccessFromComplaint(agent01, 700, Source{Kind: SourceComplaint, ID: 800}, "même IBAN")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			return f.svc.Links().Move(ctx, tx, Source{Kind: SourceComplaint, ID: 800, Dept: "01", UnitID: f.b01b})
		}); err != nil {
			t.Fatal(err)
		}
		var dept string
		var unit int64
		d.QueryRow(ctx, `SELECT dept, unit_id FROM ident_links WHERE source_kind = 'complaint' AND source_id = 800`).Scan(&dept, &unit)
		if dept != "01" || unit != f.b01b {
			t.Errorf("index after the move: %s/%d", dept, unit)
		}
		d.QueryRow(ctx, `SELECT holder_dept, holder_unit FROM access_requests WHERE id = ?`, moved.ID).Scan(&dept, &unit)
		if dept != "01" || unit != f.b01b {
			t.Errorf("pending request after the move: held by %s/%d", dept, unit)
		}
		if _, err := f.svc.DecideAccess(opj2A, moved.ID, true, ""); vigie.KindOf(err) != vigie.KindForbidden {
			t.Errorf("the former holder decides: %v", err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			return f.svc.Links().Move(ctx, tx, Source{Kind: SourceComplaint, ID: 800})
		}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("move without a holder: %v", err)
		}
	})
}
