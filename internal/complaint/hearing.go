package complaint

// Hearings in person. When the eligibility step says that an offence needs
// a hearing in person (known author, violence against persons), the online
// complaint stops; the citizen gives the commune where it happened, sees
// the free slots of the brigade that serves it (the same routing as a
// complaint) and books one. The booking takes a complaint_slots row with a
// guarded UPDATE (a slot is never booked twice), is journaled
// (vigie.ActCollect), queues a confirmation e-mail, shows on the citizen's
// "My complaints" page with a button to cancel, and on the brigade's slots
// page.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/mail"
	"vigie/internal/web"
)

// maxHearingText is the longest description of a hearing request.
const maxHearingText = 1000

// Hearing is a hearing in person booked by a citizen.
type Hearing struct {
	ID          int64
	OwnerID     int64
	Dept        string
	UnitID      int64
	SlotID      int64
	INSEE       string
	Reason      string // author_known | violence | author_known+violence
	Description string
	CreatedAt   time.Time
	CancelledAt time.Time // zero while the booking holds
	StartsAt    time.Time // the slot's
	Minutes     int
}

// Cancelled reports whether the citizen cancelled the hearing.
func (h Hearing) Cancelled() bool { return !h.CancelledAt.IsZero() }

// Target is what the policy is asked about a hearing.
func (h Hearing) Target() vigie.Target {
	return vigie.Target{Dept: h.Dept, UnitID: h.UnitID, OwnerID: h.OwnerID, Kind: "hearing", ID: strconv.FormatInt(h.ID, 10)}
}

// HearingReason is why the eligibility answers of f need a hearing in
// person ("" when they do not).
func HearingReason(f *Form) string {
	var rs []string
	if f.AuthorKnown == "yes" {
		rs = append(rs, "author_known")
	}
	if f.Violence == "yes" {
		rs = append(rs, "violence")
	}
	return strings.Join(rs, "+")
}

// HearingUnit finds the unit that hears the citizens of a commune (an
// INSEE code, or "Name (INSEE)"), as for a complaint placed there.
func (s *Service) HearingUnit(ctx context.Context, commune string) (dept string, unit int64, insee string, err error) {
	if _, ok := INSEEOf(commune); !ok {
		return "", 0, "", vigie.Invalidf("complaint.HearingUnit", "Choose your commune in the list of suggestions.")
	}
	dept, unit, insee, _, err = s.route(ctx, &Form{Commune: commune})
	return dept, unit, insee, err
}

// HearingSlots lists the free slots of the unit that serves a commune.
func (s *Service) HearingSlots(ctx context.Context, commune string) (unit int64, slots []Slot, err error) {
	_, unit, _, err = s.HearingUnit(ctx, commune)
	if err != nil {
		return 0, nil, err
	}
	slots, err = s.Slots(ctx, unit, true)
	return unit, slots, err
}

func checkHearingText(v string) error {
	const op = "complaint.BookHearing"
	if utf8.RuneCountInString(v) > maxHearingText {
		return vigie.Invalidf(op, "Your description is too long: 1000 characters at most.")
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return vigie.Invalidf(op, "Your description contains characters that cannot be kept; please type it again.")
		}
	}
	if !utf8.ValidString(v) {
		return vigie.Invalidf(op, "Your description contains characters that cannot be kept; please type it again.")
	}
	return nil
}

// BookHearing books, for the signed-in citizen, the slot slotID of the
// brigade that serves commune. reason comes from the eligibility answers.
func (s *Service) BookHearing(ctx context.Context, commune, reason, description string, slotID int64) (Hearing, error) {
	const op = "complaint.BookHearing"
	u := vigie.UserFrom(ctx)
	if u == nil {
		return Hearing{}, vigie.ErrUnauthenticated
	}
	if reason == "" {
		return Hearing{}, vigie.E(vigie.KindConflict, op, "Your answers do not call for a hearing in person: you can file your complaint online.", nil)
	}
	description = strings.TrimSpace(description)
	if err := checkHearingText(description); err != nil {
		return Hearing{}, err
	}
	dept, unit, insee, err := s.HearingUnit(ctx, commune)
	if err != nil {
		return Hearing{}, err
	}
	h := Hearing{OwnerID: u.ID, Dept: dept, UnitID: unit, SlotID: slotID, INSEE: insee, Reason: reason, Description: description, CreatedAt: s.now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		sl, err := getSlot(ctx, tx, slotID)
		if err != nil {
			return err
		}
		if sl.UnitID != unit {
			return vigie.E(vigie.KindNotFound, op, "This appointment slot does not exist.", nil)
		}
		if sl.StartsAt.Before(s.cfg.Now()) {
			return vigie.Invalidf(op, "This slot is in the past; choose another one.")
		}
		h.StartsAt, h.Minutes = sl.StartsAt, sl.Minutes
		if err := tx.QueryRow(ctx, `INSERT INTO hearing_requests (owner_id, dept, unit_id, slot_id, insee, reason, description, created_at, cancelled_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id`, h.OwnerID, h.Dept, h.UnitID, h.SlotID, h.INSEE, h.Reason, h.Description, db.Millis(h.CreatedAt)).Scan(&h.ID); err != nil {
			return fmt.Errorf("complaint: insert hearing: %w", err)
		}
		// The guard: only a free slot is taken; two citizens racing for
		// the same slot get one booking and one refusal.
		res, err := tx.Exec(ctx, `UPDATE complaint_slots SET hearing_id = ? WHERE id = ? AND unit_id = ? AND complaint_id = 0 AND hearing_id = 0`, h.ID, slotID, unit)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return vigie.E(vigie.KindConflict, op, "Someone booked this slot a moment ago; please choose another one.", nil)
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "hearing", ObjectID: strconv.FormatInt(h.ID, 10),
			Dept: h.Dept, UnitID: h.UnitID, Detail: fmt.Sprintf("hearing in person booked: slot %d (%s)", slotID, reason)}); err != nil {
			return err
		}
		return s.mailHearing(ctx, tx, &h, "Votre audition à la brigade est réservée",
			"Votre rendez-vous pour être entendu(e) à la brigade est réservé le "+h.StartsAt.In(paris).Format("02/01/2006 à 15:04")+
				fmt.Sprintf(" (%d minutes).\nVenez avec une pièce d'identité et tout document utile (photos, certificats, messages).", h.Minutes))
	})
	if err != nil {
		return Hearing{}, err
	}
	return h, nil
}

// mailHearing queues an e-mail to the account of a hearing's citizen, in tx.
func (s *Service) mailHearing(ctx context.Context, tx *db.Tx, h *Hearing, subject, text string) error {
	if s.cfg.Mail == nil || s.cfg.AccountEmail == nil {
		return nil
	}
	to, err := s.cfg.AccountEmail(ctx, h.OwnerID)
	if err != nil {
		return fmt.Errorf("complaint: hearing %d: account e-mail: %w", h.ID, err)
	}
	if to == "" {
		return nil
	}
	body := text + "\n\nVos rendez-vous : " + s.cfg.BaseURL + "/complaints\n\nVigie — Gendarmerie nationale. Ne répondez pas à ce message.\n"
	return s.cfg.Mail.Enqueue(ctx, tx, mail.Message{To: to, Subject: subject, Text: body})
}

const hearingCols = `h.id, h.owner_id, h.dept, h.unit_id, h.slot_id, h.insee, h.reason, h.description, h.created_at, h.cancelled_at, s.starts_at, s.minutes`

func scanHearings(rows *sql.Rows) ([]Hearing, error) {
	defer rows.Close()
	var out []Hearing
	for rows.Next() {
		var h Hearing
		var created, cancelled, starts int64
		if err := rows.Scan(&h.ID, &h.OwnerID, &h.Dept, &h.UnitID, &h.SlotID, &h.INSEE, &h.Reason, &h.Description, &created, &cancelled, &starts, &h.Minutes); err != nil {
			return nil, err
		}
		h.CreatedAt, h.StartsAt = db.Time(created), db.Time(starts)
		if cancelled != 0 {
			h.CancelledAt = db.Time(cancelled)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// GetHearing returns a hearing. It does not check permissions.
func (s *Service) GetHearing(ctx context.Context, id int64) (Hearing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+hearingCols+` FROM hearing_requests h JOIN complaint_slots s ON s.id = h.slot_id WHERE h.id = ?`, id)
	if err != nil {
		return Hearing{}, err
	}
	hs, err := scanHearings(rows)
	if err != nil {
		return Hearing{}, err
	}
	if len(hs) == 0 {
		return Hearing{}, vigie.E(vigie.KindNotFound, "complaint.Hearing", "This appointment does not exist, or you cannot see it.", nil)
	}
	return hs[0], nil
}

// Hearings lists a citizen's hearings, the latest first.
func (s *Service) Hearings(ctx context.Context, owner int64) ([]Hearing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+hearingCols+` FROM hearing_requests h JOIN complaint_slots s ON s.id = h.slot_id WHERE h.owner_id = ? ORDER BY h.created_at DESC, h.id DESC LIMIT 50`, owner)
	if err != nil {
		return nil, err
	}
	return scanHearings(rows)
}

// UnitHearings maps the slot ids of a unit's booked hearings to their
// reasons (the brigade's slots page).
func (s *Service) UnitHearings(ctx context.Context, unit int64) (map[int64]Hearing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+hearingCols+` FROM hearing_requests h JOIN complaint_slots s ON s.id = h.slot_id
WHERE h.unit_id = ? AND h.cancelled_at = 0 AND s.hearing_id = h.id AND s.starts_at >= ?`, unit, db.Millis(s.cfg.Now()))
	if err != nil {
		return nil, err
	}
	hs, err := scanHearings(rows)
	out := map[int64]Hearing{}
	for _, h := range hs {
		out[h.SlotID] = h
	}
	return out, err
}

// CancelHearing cancels a hearing and frees its slot. The caller checked
// that the actor may.
func (s *Service) CancelHearing(ctx context.Context, id int64) error {
	const op = "complaint.CancelHearing"
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var owner, slot, unit int64
		var dept string
		var starts int64
		err := tx.QueryRow(ctx, `SELECT h.owner_id, h.slot_id, h.unit_id, h.dept, s.starts_at FROM hearing_requests h JOIN complaint_slots s ON s.id = h.slot_id WHERE h.id = ?`, id).
			Scan(&owner, &slot, &unit, &dept, &starts)
		if errors.Is(err, sql.ErrNoRows) {
			return vigie.E(vigie.KindNotFound, op, "This appointment does not exist, or you cannot see it.", nil)
		}
		if err != nil {
			return err
		}
		if db.Time(starts).Before(s.cfg.Now()) {
			return vigie.E(vigie.KindConflict, op, "This appointment has already taken place.", nil)
		}
		res, err := tx.Exec(ctx, `UPDATE hearing_requests SET cancelled_at = ? WHERE id = ? AND cancelled_at = 0`, db.Millis(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return vigie.E(vigie.KindConflict, op, "This appointment is already cancelled.", nil)
		}
		if _, err := tx.Exec(ctx, `UPDATE complaint_slots SET hearing_id = 0 WHERE id = ? AND hearing_id = ?`, slot, id); err != nil {
			return err
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActChange, Object: "hearing", ObjectID: strconv.FormatInt(id, 10),
			Dept: dept, UnitID: unit, Detail: fmt.Sprintf("hearing in person cancelled: slot %d freed", slot)}); err != nil {
			return err
		}
		h := Hearing{ID: id, OwnerID: owner}
		return s.mailHearing(ctx, tx, &h, "Votre audition à la brigade est annulée",
			"Votre rendez-vous du "+db.Time(starts).In(paris).Format("02/01/2006 à 15:04")+" à la brigade est annulé.")
	})
}

// ---- Handlers ----

type hearingPage struct {
	Draft    Draft
	Reason   string
	Commune  string
	Resolved bool // the commune is known and served
	UnitName string
	Slots    []Slot
	Hits     []CommuneHit
	Error    string
}

// hearingDraft loads the draft of the path and checks that its answers
// call for a hearing in person.
func (h *Handler) hearingDraft(r *http.Request) (Draft, string, error) {
	d, err := h.ownDraft(r)
	if err != nil {
		return Draft{}, "", err
	}
	reason := HearingReason(&d.Form)
	if d.Form.Eligible() != "hearing" || reason == "" {
		return Draft{}, "", vigie.E(vigie.KindConflict, "complaint.hearing", "Your answers do not call for a hearing in person: you can file your complaint online.", nil)
	}
	return d, reason, nil
}

func (h *Handler) pageHearing(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, reason, err := h.hearingDraft(r)
	if err != nil {
		return err
	}
	p := hearingPage{Draft: d, Reason: reason, Commune: strings.TrimSpace(r.URL.Query().Get("commune"))}
	if p.Commune != "" {
		unit, slots, err := h.svc.HearingSlots(ctx, p.Commune)
		switch {
		case err == nil:
			p.Resolved, p.Slots = true, slots
			p.UnitName = h.unitNames(ctx, []int64{unit})[unit]
		case vigie.KindOf(err) == vigie.KindInvalid:
			p.Error = vigie.MessageOf(err)
			p.Hits, _ = h.svc.SuggestCommunes(ctx, p.Commune, 20)
		default:
			return err
		}
	}
	return h.s.Render(w, r, "complaint/hearing.html", p)
}

func (h *Handler) formHearing(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, reason, err := h.hearingDraft(r)
	if err != nil {
		return err
	}
	if err := h.auth.Check(ctx, vigie.PermWrite, vigie.Target{OwnerID: d.OwnerID, Kind: "hearing"}); err != nil {
		return err
	}
	slot, err := strconv.ParseInt(r.PostFormValue("slot"), 10, 64)
	if err != nil || slot <= 0 {
		return vigie.Invalidf("complaint.BookHearing", "Choose a slot in the list.")
	}
	if _, err := h.svc.BookHearing(ctx, r.PostFormValue("commune"), reason, r.PostFormValue("description"), slot); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your hearing at the brigade is booked. A confirmation was sent by e-mail."))
	http.Redirect(w, r, "/complaints", http.StatusSeeOther)
	return nil
}

func (h *Handler) formCancelHearing(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := citizen(ctx); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return vigie.E(vigie.KindNotFound, "complaint.hearing", "This appointment does not exist, or you cannot see it.", nil)
	}
	hr, err := h.svc.GetHearing(ctx, id)
	if err != nil {
		return err
	}
	if err := h.auth.Check(ctx, vigie.PermWrite, hr.Target()); err != nil {
		return vigie.E(vigie.KindNotFound, "complaint.hearing", "This appointment does not exist, or you cannot see it.", err)
	}
	if err := h.svc.CancelHearing(ctx, id); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your hearing is cancelled; the slot is free for someone else."))
	http.Redirect(w, r, "/complaints", http.StatusSeeOther)
	return nil
}

type hearingAgentPage struct {
	H     Hearing
	Unit  string
	Email string
	Motif string
}

// pageHearingAgent shows a hearing to the brigade that will hold it: the
// citizen's description and contact are personal data, so the motif is
// asked and the consultation journaled first.
func (h *Handler) pageHearingAgent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := staff(ctx); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return vigie.E(vigie.KindNotFound, "complaint.hearing", "This appointment does not exist, or you cannot see it.", nil)
	}
	hr, err := h.svc.GetHearing(ctx, id)
	if err != nil {
		return err
	}
	if err := h.auth.Check(ctx, vigie.PermRead, hr.Target()); err != nil {
		return vigie.E(vigie.KindNotFound, "complaint.hearing", "This appointment does not exist, or you cannot see it.", err)
	}
	motif, ok, err := h.motif(w, r)
	if !ok {
		return err
	}
	if err := h.svc.db.InTx(ctx, func(tx *db.Tx) error {
		return h.svc.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "hearing", ObjectID: strconv.FormatInt(hr.ID, 10),
			Dept: hr.Dept, UnitID: hr.UnitID, Motif: motif, Detail: "hearing in person"})
	}); err != nil {
		return err
	}
	p := hearingAgentPage{H: hr, Unit: h.unitNames(ctx, []int64{hr.UnitID})[hr.UnitID], Motif: motif}
	if h.svc.cfg.AccountEmail != nil {
		p.Email, _ = h.svc.cfg.AccountEmail(ctx, hr.OwnerID)
	}
	return h.s.Render(w, r, "complaint/hearing_agent.html", p)
}
