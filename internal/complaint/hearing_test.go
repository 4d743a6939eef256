package complaint

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// hearingEnv publishes three slots at the brigade of Bourg-en-Bresse and
// returns them with a draft of citizen whose answers need a hearing.
func hearingEnv(t *testing.T, e *env, citizen string) ([]Slot, Draft) {
	t.Helper()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	if err := e.svc.PublishSlots(e.as("agent"), e.users["agent"].UnitID, start, 30, 3); err != nil {
		t.Fatalf("PublishSlots: %v", err)
	}
	slots, err := e.svc.Slots(context.Background(), e.users["agent"].UnitID, true)
	if err != nil || len(slots) != 3 {
		t.Fatalf("slots: %v %d", err, len(slots))
	}
	return slots, e.draft(citizen, Form{Emergency: "no", AuthorKnown: "yes", Violence: "no"})
}

const bourg = "Bourg-en-Bresse (01053)"

func TestHearingBooking(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.serve()
		slots, dr := hearingEnv(t, e, "jeanne")
		base := fmt.Sprintf("/complaint-drafts/%d/hearing", dr.ID)

		// The eligibility step stops and offers the booking.
		res, body := e.do("jeanne", "POST", fmt.Sprintf("/complaint-drafts/%d/eligibility", dr.ID), url.Values{"emergency": {"no"}, "author_known": {"yes"}, "violence": {"no"}})
		if res.StatusCode != 200 || !strings.Contains(body, base) {
			t.Fatalf("stop page: %d, no link to %s", res.StatusCode, base)
		}
		// An unknown commune: suggestions and a message in French.
		res, body = e.do("jeanne", "GET", base+"?commune=Bourg", nil)
		if res.StatusCode != 200 || !strings.Contains(body, "Choisissez votre commune dans la liste") || !strings.Contains(body, "01053") {
			t.Fatalf("unresolved commune: %d", res.StatusCode)
		}
		// The commune's brigade and its free slots.
		res, body = e.do("jeanne", "GET", base+"?commune="+url.QueryEscape(bourg), nil)
		if res.StatusCode != 200 {
			t.Fatalf("hearing page: %d", res.StatusCode)
		}
		for _, s := range slots {
			if !strings.Contains(body, fmt.Sprintf(`value="%d"`, s.ID)) {
				t.Errorf("slot %d not offered", s.ID)
			}
		}
		// Booking.
		n := len(e.mail.msgs)
		res, _ = e.do("jeanne", "POST", base, url.Values{"commune": {bourg}, "slot": {fmt.Sprint(slots[0].ID)}, "description": {"Mon voisin m'a menacé."}})
		if res.StatusCode != 303 || res.Header.Get("Location") != "/complaints" {
			t.Fatalf("book: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		hs, err := e.svc.Hearings(context.Background(), e.users["jeanne"].ID)
		if err != nil || len(hs) != 1 || hs[0].SlotID != slots[0].ID || hs[0].Reason != "author_known" || hs[0].Description != "Mon voisin m'a menacé." || hs[0].INSEE != "01053" {
			t.Fatalf("hearings: %v %+v", err, hs)
		}
		h := hs[0]
		if recs := e.journal.find(vigie.ActCollect, "hearing", fmt.Sprint(h.ID)); len(recs) != 1 || recs[0].Dept != "01" || recs[0].UnitID != h.UnitID {
			t.Errorf("booking journaled: %+v", recs)
		}
		if len(e.mail.msgs) != n+1 || e.mail.msgs[n].To != "jeanne.account@example.fr" || !strings.Contains(e.mail.msgs[n].Text, slots[0].StartsAt.In(paris).Format("02/01/2006 à 15:04")) {
			t.Errorf("confirmation e-mail: %+v", e.mail.msgs[n:])
		}
		free, _ := e.svc.Slots(context.Background(), h.UnitID, true)
		if len(free) != 2 {
			t.Errorf("free slots after booking: %d, want 2", len(free))
		}
		// The citizen's tracking page shows it with the option to cancel.
		_, body = e.do("jeanne", "GET", "/complaints", nil)
		if !strings.Contains(body, "Mes rendez-vous à la brigade") || !strings.Contains(body, fmt.Sprintf("/hearings/%d/cancel", h.ID)) {
			t.Error("the hearing is not on the citizen's page")
		}
		// The brigade sees it in its slots page.
		_, body = e.do("agent", "GET", "/complaints/slots", nil)
		if !strings.Contains(body, fmt.Sprintf(`<a href="/hearings/%d">Audition en personne</a> — Auteur connu`, h.ID)) {
			t.Error("the brigade does not see the hearing in its slots")
		}

		// Its page asks the motif, then shows the description (journaled);
		// another département's brigade and citizens get nothing.
		hp := fmt.Sprintf("/hearings/%d", h.ID)
		if _, body := e.do("agent", "GET", hp, nil); body != "MOTIF PAGE" {
			t.Error("the hearing's page did not ask for the motif")
		}
		if _, body := e.do("agent", "GET", hp+"?motif=audition", nil); !strings.Contains(body, "Mon voisin m&#39;a menacé.") || !strings.Contains(body, "jeanne.account@example.fr") {
			t.Error("the brigade does not see the hearing's description and contact")
		}
		if recs := e.journal.find(vigie.ActConsult, "hearing", fmt.Sprint(h.ID)); len(recs) != 1 || recs[0].Motif != "audition" {
			t.Errorf("consultation journaled: %+v", recs)
		}
		for who, want := range map[string]int{"agent2a": 404, "paul": 403, "jeanne": 403} {
			if res, body := e.do(who, "GET", hp+"?motif=audition", nil); res.StatusCode != want || strings.Contains(body, "menacé") {
				t.Errorf("%s reading the hearing: %d, want %d", who, res.StatusCode, want)
			}
		}

		// Double booking: another citizen is refused the same slot, in
		// the service and through the page.
		paulDraft := e.draft("paul", Form{Emergency: "no", AuthorKnown: "no", Violence: "yes"})
		if _, err := e.svc.BookHearing(e.as("paul"), bourg, "violence", "", slots[0].ID); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("double booking: %v, want a conflict", err)
		}
		res, _ = e.do("paul", "POST", fmt.Sprintf("/complaint-drafts/%d/hearing", paulDraft.ID), url.Values{"commune": {bourg}, "slot": {fmt.Sprint(slots[0].ID)}})
		if res.StatusCode != 303 || res.Header.Get("Location") == "/complaints" {
			t.Errorf("double booking through the page: %d %s, want back to the form", res.StatusCode, res.Header.Get("Location"))
		}
		// A complaint's appointment cannot take it either.
		if res, _ := d.Exec(context.Background(), `UPDATE complaint_slots SET complaint_id = 99 WHERE id = ? AND complaint_id = 0 AND hearing_id = 0`, slots[0].ID); res != nil {
			if n, _ := res.RowsAffected(); n != 0 {
				t.Error("the guarded update took a slot booked for a hearing")
			}
		}

		// Another citizen cannot see or cancel it; staff cannot cancel it.
		_, body = e.do("paul", "GET", "/complaints", nil)
		if strings.Contains(body, fmt.Sprintf("/hearings/%d/cancel", h.ID)) || strings.Contains(body, "Auteur connu") {
			t.Error("another citizen sees the hearing")
		}
		if res, _ := e.do("paul", "POST", fmt.Sprintf("/hearings/%d/cancel", h.ID), url.Values{}); res.StatusCode != 404 {
			t.Errorf("another citizen cancels: %d, want 404", res.StatusCode)
		}
		if res, _ := e.do("agent2a", "POST", fmt.Sprintf("/hearings/%d/cancel", h.ID), url.Values{}); res.StatusCode != 403 {
			t.Errorf("staff cancels: %d, want 403", res.StatusCode)
		}
		if res, _ := e.do("", "POST", fmt.Sprintf("/hearings/%d/cancel", h.ID), url.Values{}); res.StatusCode == 303 && res.Header.Get("Location") == "/complaints" {
			t.Error("anonymous cancels")
		}
		// Nor use another's draft to book.
		if res, _ := e.do("paul", "GET", base+"?commune="+url.QueryEscape(bourg), nil); res.StatusCode != 404 {
			t.Errorf("another citizen's draft: %d, want 404", res.StatusCode)
		}
		if got, _ := e.svc.GetHearing(context.Background(), h.ID); got.Cancelled() {
			t.Fatal("the hearing was cancelled by someone else")
		}

		// Cancel frees the slot.
		n = len(e.mail.msgs)
		res, _ = e.do("jeanne", "POST", fmt.Sprintf("/hearings/%d/cancel", h.ID), url.Values{})
		if res.StatusCode != 303 {
			t.Fatalf("cancel: %d", res.StatusCode)
		}
		if got, _ := e.svc.GetHearing(context.Background(), h.ID); !got.Cancelled() {
			t.Error("not cancelled")
		}
		free, _ = e.svc.Slots(context.Background(), h.UnitID, true)
		if len(free) != 3 {
			t.Errorf("free slots after cancelling: %d, want 3", len(free))
		}
		if len(e.mail.msgs) != n+1 || !strings.Contains(e.mail.msgs[n].Subject, "annulée") {
			t.Error("no cancellation e-mail")
		}
		if len(e.journal.find(vigie.ActChange, "hearing", fmt.Sprint(h.ID))) != 1 {
			t.Error("cancellation not journaled")
		}
		if err := e.svc.CancelHearing(e.as("jeanne"), h.ID); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("second cancel: %v, want a conflict", err)
		}
		// A past hearing cannot be cancelled.
		if _, err := d.Exec(context.Background(), `UPDATE complaint_slots SET starts_at = ? WHERE id = ?`, db.Millis(time.Now().Add(-time.Hour)), slots[2].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(context.Background(), `INSERT INTO hearing_requests (owner_id, dept, unit_id, slot_id, reason, created_at) VALUES (?, '01', ?, ?, 'violence', 0)`, e.users["jeanne"].ID, h.UnitID, slots[2].ID); err != nil {
			t.Fatal(err)
		}
		var past int64
		d.QueryRow(context.Background(), `SELECT id FROM hearing_requests WHERE slot_id = ?`, slots[2].ID).Scan(&past)
		if err := e.svc.CancelHearing(e.as("jeanne"), past); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("cancelling a past hearing: %v, want a conflict", err)
		}
		// Now paul can take it.
		if _, err := e.svc.BookHearing(e.as("paul"), bourg, "violence", "", slots[0].ID); err != nil {
			t.Errorf("booking a freed slot: %v", err)
		}
	})
}

func TestHearingRefusals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		e.serve()
		slots, _ := hearingEnv(t, e, "jeanne")
		// Answers that allow an online complaint: no hearing page.
		online := e.draft("jeanne", Form{Emergency: "no", AuthorKnown: "no", Violence: "no"})
		if res, _ := e.do("jeanne", "GET", fmt.Sprintf("/complaint-drafts/%d/hearing?commune=%s", online.ID, url.QueryEscape(bourg)), nil); res.StatusCode != 409 {
			t.Errorf("hearing page for an online complaint: %d, want 409", res.StatusCode)
		}
		ctx := e.as("jeanne")
		// A slot of another brigade (Corsica) through an Ain commune.
		_, ajaccio, _ := e.org.RouteCommune(context.Background(), "2A004")
		if err := e.svc.PublishSlots(e.as("agent2a"), ajaccio.ID, time.Now().Add(24*time.Hour), 30, 1); err != nil {
			t.Fatal(err)
		}
		corse, _ := e.svc.Slots(context.Background(), ajaccio.ID, true)
		if _, err := e.svc.BookHearing(ctx, bourg, "violence", "", corse[0].ID); vigie.KindOf(err) != vigie.KindNotFound {
			t.Errorf("slot of another brigade: %v, want not found", err)
		}
		for _, c := range []struct{ commune, desc string }{
			{"Bourg", ""},
			{bourg, strings.Repeat("é", maxHearingText+1)},
			{bourg, "bad\x00text"},
		} {
			if _, err := e.svc.BookHearing(ctx, c.commune, "violence", c.desc, slots[0].ID); vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("BookHearing(%q, %d chars): %v, want invalid", c.commune, len(c.desc), err)
			}
		}
		if _, err := e.svc.BookHearing(ctx, bourg, "", "", slots[0].ID); vigie.KindOf(err) != vigie.KindConflict {
			t.Errorf("no reason: %v", err)
		}
		if hs, _ := e.svc.Hearings(context.Background(), e.users["jeanne"].ID); len(hs) != 0 {
			t.Errorf("refused bookings left %d hearings", len(hs))
		}
	})
}

// TestHearingRace: citizens racing for one slot get one booking.
func TestHearingRace(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		slots, _ := hearingEnv(t, e, "jeanne")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, conflicts := 0, 0
		for i := 0; i < 6; i++ {
			who := []string{"jeanne", "paul"}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.BookHearing(e.as(who), bourg, "violence", "", slots[1].ID)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case vigie.KindOf(err) == vigie.KindConflict:
					conflicts++
				default:
					t.Errorf("BookHearing: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%d bookings of one slot (%d conflicts), want 1", ok, conflicts)
		}
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM hearing_requests`).Scan(&n); err != nil || n != 1 {
			t.Errorf("hearing rows: %d %v, want 1 (refused bookings roll back)", n, err)
		}
	})
}

func FuzzHearingText(f *testing.F) {
	for _, s := range []string{"", "Mon voisin m'a frappé.", "a\x00b", "\xff", strings.Repeat("x", 1001)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkHearingText(s) == nil {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxHearingText || strings.ContainsRune(s, 0) {
				t.Errorf("accepted %q", s)
			}
		}
	})
}
