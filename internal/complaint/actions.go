package complaint

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigie"
	"vigie/internal/bus"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
)

// Actions of the brigade on a complaint.
const (
	ActClaim    = "claim"
	ActAssign   = "assign"
	ActTransfer = "transfer"
	ActRequest  = "request_info"
	ActPropose  = "propose_appointment"
	ActReject   = "reject"
	ActAccept   = "accept"
	ActMessage  = "message"
	ActTriage   = "triage"
)

// Action is what an agent does on a complaint.
type Action struct {
	Kind       string `json:"action"`
	AssigneeID int64  `json:"assignee_id,omitempty"`
	UnitID     int64  `json:"unit_id,omitempty"` // transfer
	Text       string `json:"text,omitempty"`    // message, request, reason, appointment note
	Category   string `json:"category,omitempty"`
	Priority   string `json:"priority,omitempty"`
}

// Validate checks an action before it is applied.
func (a *Action) Validate() error {
	const op = "complaint.Act"
	a.Text = strings.TrimSpace(a.Text)
	if utf8.RuneCountInString(a.Text) > 5000 {
		return vigie.Invalidf(op, "The text is too long (5,000 characters at most).")
	}
	switch a.Kind {
	case ActClaim, ActAccept:
	case ActAssign:
		if a.AssigneeID <= 0 {
			return vigie.Invalidf(op, "Choose the colleague to assign the complaint to.")
		}
	case ActTransfer:
		if a.UnitID <= 0 {
			return vigie.Invalidf(op, "Choose the unit to transfer the complaint to.")
		}
	case ActRequest, ActMessage:
		if a.Text == "" {
			return vigie.Invalidf(op, "Write the message to the citizen.")
		}
	case ActReject:
		if utf8.RuneCountInString(a.Text) < 10 {
			return vigie.Invalidf(op, "Give the reason for the rejection: the citizen reads it (10 characters at least).")
		}
	case ActPropose:
	case ActTriage:
		if _, ok := CategoryOf(a.Category); !ok {
			return vigie.Invalidf(op, "Choose a category from the list.")
		}
		if !validPriority(a.Priority) {
			return vigie.Invalidf(op, "Choose a priority from the list.")
		}
	default:
		return vigie.Invalidf(op, "Unknown action %q.", a.Kind)
	}
	return nil
}

// stepAfter is the step an action leads to, or an error when the
// complaint's step does not allow it.
func stepAfter(cur string, kind string) (string, error) {
	if !IsOpen(cur) {
		if kind == ActMessage && cur != StepRejected && cur != StepClosed {
			return cur, nil
		}
		return "", vigie.E(vigie.KindConflict, "complaint.Act", "This complaint is no longer in the queue: it was already decided.", nil)
	}
	switch kind {
	case ActClaim, ActAssign:
		if cur == StepReceived {
			return StepProcessing, nil
		}
		return cur, nil
	case ActTransfer:
		return StepReceived, nil
	case ActRequest:
		return StepInfoRequested, nil
	case ActPropose:
		return StepAppointmentProposed, nil
	case ActReject:
		return StepRejected, nil
	case ActAccept:
		return StepRegistered, nil
	case ActMessage, ActTriage:
		return cur, nil
	}
	return "", vigie.Invalidf("complaint.Act", "Unknown action %q.", kind)
}

// Act applies a brigade's action to a complaint, in one transaction with
// its timeline line, journal entry, event and e-mail. The handler has
// checked that the actor may write on the complaint (and, for a transfer,
// on the target unit).
func (s *Service) Act(ctx context.Context, id int64, a Action) (Complaint, error) {
	if err := a.Validate(); err != nil {
		return Complaint{}, err
	}
	actor := vigie.UserFrom(ctx)
	var actorID int64
	if actor != nil {
		actorID = actor.ID
	}
	var c Complaint
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if c, err = getComplaint(ctx, tx, id); err != nil {
			return err
		}
		next, err := stepAfter(c.Step, a.Kind)
		if err != nil {
			return err
		}
		now := s.now()
		ev := Event{ComplaintID: c.ID, At: now, Kind: a.Kind, AuthorID: actorID, Public: true, Text: a.Text}
		detail := a.Kind
		visible := true // the citizen sees the action (first action for the delays)
		switch a.Kind {
		case ActClaim:
			c.AssigneeID, c.AssigneeName = actorID, actorName(actor)
			ev.Kind, ev.Public, ev.Text, visible = "assign", false, c.AssigneeName, false
		case ActAssign:
			name, err := s.colleagueName(ctx, c.UnitID, a.AssigneeID)
			if err != nil {
				return err
			}
			c.AssigneeID, c.AssigneeName = a.AssigneeID, name
			ev.Kind, ev.Public, ev.Text, visible = "assign", false, name, false
			detail = fmt.Sprintf("assigned to user %d", a.AssigneeID)
		case ActTransfer:
			u, err := s.cfg.Org.Unit(ctx, a.UnitID)
			if err != nil {
				return err
			}
			if u.ID == c.UnitID {
				return vigie.Invalidf("complaint.Transfer", "The complaint is already in this unit's queue.")
			}
			detail = fmt.Sprintf("transferred from unit %d to unit %d (%s)", c.UnitID, u.ID, u.Name)
			c.UnitID, c.Dept, c.RoutedBy = u.ID, u.Dept, "transfer"
			c.AssigneeID, c.AssigneeName = 0, ""
			// The link index names the holding unit (who is told, who
			// decides access requests): it moves with the complaint.
			if s.cfg.MoveIdentifiers != nil {
				if err := s.cfg.MoveIdentifiers(ctx, tx, c.ID, u.Dept, u.ID); err != nil {
					return fmt.Errorf("complaint %s: move identifiers: %w", c.Number, err)
				}
			}
			ev.Kind, ev.Public, ev.Text, visible = "transfer", false, strings.TrimSpace(u.Name+" "+a.Text), false
		case ActTriage:
			detail = fmt.Sprintf("category %s → %s, priority %s → %s (suggested %s/%s)", c.Category, a.Category, c.Priority, a.Priority, c.SuggestedCategory, c.SuggestedPriority)
			c.Category, c.Priority, c.TriageBy = a.Category, a.Priority, actorID
			ev.Public, ev.Text, visible = false, detail, false
			if s.cfg.Corrected != nil {
				narrative, suggested := c.Form.Narrative, c.SuggestedCategory
				tx.AfterCommit(func() { s.cfg.Corrected(narrative, suggested, a.Category, a.Priority) })
			}
		case ActAccept:
			if s.cfg.OpenCase != nil {
				acc, err := s.accepted(ctx, tx, &c, actorID)
				if err != nil {
					return err
				}
				if c.CaseID, c.CaseNumber, err = s.cfg.OpenCase(ctx, tx, acc); err != nil {
					return fmt.Errorf("complaint %s: open case: %w", c.Number, err)
				}
			}
			ev.Text = "Your complaint is registered; an investigation file is open."
			if c.CaseNumber != "" {
				detail = "accepted, case " + c.CaseNumber
			}
		case ActPropose:
			if ev.Text == "" {
				ev.Text = "The brigade would like to meet you: choose an appointment on this page."
			}
		}
		if next != c.Step {
			ev.Step = next
		}
		c.Step = next
		if c.AckedAt.IsZero() {
			c.AckedAt = now
		}
		if visible && c.FirstActionAt.IsZero() {
			c.FirstActionAt = now
		}
		if final(next) && c.ClosedAt.IsZero() {
			c.ClosedAt = now
		}
		c.UpdatedAt = now
		if err := saveState(ctx, tx, &c); err != nil {
			return fmt.Errorf("complaint %d: save: %w", c.ID, err)
		}
		if err := insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		if visible {
			subject := "Your complaint moved to a new step"
			if a.Kind == ActMessage || a.Kind == ActRequest {
				subject = "A message from the brigade"
			}
			if err := s.notify(ctx, tx, &c, subject, stepMail(c.Step, ev.Text)); err != nil {
				return err
			}
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActChange, Object: "complaint", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: clip(detail, 900)}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "complaint", Type: "complaint." + eventType(a.Kind), Subject: c.Number, Data: eventData(&c)})
	})
	return c, err
}

func eventType(kind string) string {
	switch kind {
	case ActClaim, ActAssign:
		return "assigned"
	case ActTransfer:
		return "transferred"
	case ActRequest:
		return "info_requested"
	case ActPropose:
		return "appointment_proposed"
	case ActReject:
		return "rejected"
	case ActAccept:
		return "accepted"
	case ActTriage:
		return "triaged"
	}
	return "message"
}

func actorName(u *vigie.User) string {
	if u == nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Login
}

func (s *Service) colleagueName(ctx context.Context, unit, id int64) (string, error) {
	cs, err := s.Colleagues(ctx, unit)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.ID == id {
			return c.Name, nil
		}
	}
	return "", vigie.Invalidf("complaint.Assign", "This person is not a member of the unit that holds the complaint.")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// stepMail is the text of the e-mail sent when a complaint changes.
func stepMail(step, text string) string {
	var b strings.Builder
	b.WriteString("Votre plainte en est à l'étape : " + frenchStep(step) + ".\n")
	if text != "" {
		b.WriteString("\nMessage de la brigade :\n" + text + "\n")
	}
	return b.String()
}

func frenchStep(step string) string {
	for _, x := range stepLabels {
		if x[0] == step {
			return frenchLabel(x[1])
		}
	}
	return step
}

// stepLabels are the citizen-visible names of the steps (English; the
// catalog translates).
var stepLabels = [][2]string{
	{StepDraft, "Draft"}, {StepReceived, "Received"}, {StepProcessing, "Being processed"},
	{StepInfoRequested, "Information requested"}, {StepAppointmentProposed, "Appointment proposed"},
	{StepRegistered, "Complaint registered"}, {StepForwarded, "Sent to the prosecutor"},
	{StepClosed, "Complaint closed"}, {StepRejected, "Rejected"},
}

// StepLabel returns the English label of a step.
func StepLabel(step string) string {
	for _, x := range stepLabels {
		if x[0] == step {
			return x[1]
		}
	}
	return step
}

// accepted builds what the case file is opened from.
func (s *Service) accepted(ctx context.Context, tx *db.Tx, c *Complaint, by int64) (Accepted, error) {
	f := &c.Form
	a := Accepted{ID: c.ID, Number: c.Number, Dept: c.Dept, UnitID: c.UnitID, Category: c.Category, Narrative: f.Narrative,
		FactsFrom: c.FactsFrom, FactsTo: c.FactsTo, SubmittedAt: c.SubmittedAt, AcceptedBy: by,
		Place: Place{Address: f.Address, INSEE: c.INSEE}}
	a.Place.Lat, _ = strconv.ParseFloat(strings.ReplaceAll(f.Lat, ",", "."), 64)
	a.Place.Lon, _ = strconv.ParseFloat(strings.ReplaceAll(f.Lon, ",", "."), 64)
	a.Victim = Victim{Name: f.Victim.Name, Address: f.Victim.Address, Phone: f.Victim.Phone, Email: f.Victim.Email}
	if f.VictimIs == "self" {
		a.Victim.AccountID = c.OwnerID
	}
	a.Victim.BirthDate, _ = time.ParseInLocation("2006-01-02", f.Victim.BirthDate, paris)
	for _, it := range f.Items {
		v, _ := parseEuros(it.Value)
		a.Items = append(a.Items, AcceptedItem{Kind: it.Kind, Description: it.Description, IMEI: it.IMEI, Plate: it.Plate, VIN: it.VIN,
			CardMasked: it.Card, CardLink: it.CardLink, Serial: it.Serial, Amount: v})
	}
	for _, p := range f.Payments {
		v, _ := parseEuros(p.Amount)
		d, _ := ParseLocal(p.Date, paris)
		iban := p.IBAN
		if id, err := ident.Normalize(ident.KindIBAN, p.IBAN); err == nil {
			iban = id.Value
		}
		a.Items = append(a.Items, AcceptedItem{Kind: ItemMoney, IBAN: iban, Beneficiary: p.Beneficiary, Date: d, Amount: v})
	}
	a.Identifiers = s.checker().Identifiers(f)
	files, err := listFiles(ctx, tx, c.ID)
	if err != nil {
		return a, err
	}
	for _, x := range files {
		a.Attachments = append(a.Attachments, Attachment(x))
	}
	return a, nil
}

// SetStep moves the citizen-visible step of a complaint whose case reached
// a status ("forwarded", "closed"), in the case file's transaction.
func (s *Service) SetStep(ctx context.Context, tx *db.Tx, complaintID int64, step string, note string) error {
	const op = "complaint.SetStep"
	if step != StepForwarded && step != StepClosed && step != StepRegistered {
		return vigie.Invalidf(op, "A case file can only move its complaint to registered, forwarded or closed, not %q.", step)
	}
	c, err := getComplaint(ctx, tx, complaintID)
	if err != nil {
		return err
	}
	if c.Step == step {
		return nil
	}
	if c.Step == StepRejected {
		return vigie.E(vigie.KindConflict, op, "This complaint was rejected; its step cannot change.", nil)
	}
	now := s.now()
	c.Step, c.UpdatedAt = step, now
	if c.ClosedAt.IsZero() {
		c.ClosedAt = now
	}
	if err := saveState(ctx, tx, &c); err != nil {
		return err
	}
	if err := insertEvent(ctx, tx, &Event{ComplaintID: c.ID, At: now, Kind: "step", Step: step, Public: true, Text: note}); err != nil {
		return err
	}
	if err := s.notify(ctx, tx, &c, "Your complaint moved to a new step", stepMail(step, note)); err != nil {
		return err
	}
	return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "complaint", Type: "complaint.step", Subject: c.Number, Data: eventData(&c)})
}

// ---- The citizen's side, after submission ----

// Reply adds the citizen's answer or additional information. An answer to
// a request for information puts the complaint back in processing. New
// identifiers in the text are indexed.
func (s *Service) Reply(ctx context.Context, id int64, text string) error {
	const op = "complaint.Reply"
	text = strings.TrimSpace(text)
	if text == "" {
		return vigie.Invalidf(op, "Write your message or the information to add.")
	}
	if utf8.RuneCountInString(text) > 5000 {
		return vigie.Invalidf(op, "Your message is too long (5,000 characters at most).")
	}
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := getComplaint(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Step == StepClosed || c.Step == StepRejected {
			return vigie.E(vigie.KindConflict, op, "This complaint is closed: write to the brigade or file a new complaint.", nil)
		}
		now := s.now()
		if c.Step == StepInfoRequested {
			c.Step = StepProcessing
		}
		c.UpdatedAt = now
		if err := saveState(ctx, tx, &c); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, &Event{ComplaintID: c.ID, At: now, Kind: "reply", AuthorID: u.ID, FromCitizen: true, Public: true, Text: text}); err != nil {
			return err
		}
		if s.cfg.IndexIdentifiers != nil {
			if ids := s.ids.Extract(text); len(ids) > 0 {
				if err := s.cfg.IndexIdentifiers(ctx, tx, c.ID, c.Dept, c.UnitID, ids); err != nil {
					return err
				}
			}
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "complaint", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: "citizen added information"}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "complaint", Type: "complaint.replied", Subject: c.Number, Data: eventData(&c)})
	})
}

// AttachFile adds an evidence file to a submitted complaint.
func (s *Service) AttachFile(ctx context.Context, id int64, f File) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := getComplaint(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Step == StepClosed || c.Step == StepRejected {
			return vigie.E(vigie.KindConflict, "complaint.AttachFile", "This complaint is closed: no file can be added.", nil)
		}
		n := 0
		if fs, err := listFiles(ctx, tx, id); err == nil {
			n = len(fs)
		}
		if n >= 3*maxFiles {
			return vigie.Invalidf("complaint.AttachFile", "This complaint already has %d files, the most it can hold.", n)
		}
		now := s.now()
		if err := insertFile(ctx, tx, id, f, now, u.ID); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, &Event{ComplaintID: id, At: now, Kind: "evidence", AuthorID: u.ID, FromCitizen: true, Public: true, Text: f.Name}); err != nil {
			return err
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "complaint", ObjectID: strconv.FormatInt(id, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: "file added: " + f.SHA256})
	})
}

// Slots lists the free slots of a unit from now on.
func (s *Service) Slots(ctx context.Context, unit int64, freeOnly bool) ([]Slot, error) {
	return listSlots(ctx, s.db, unit, s.cfg.Now(), freeOnly)
}

// BookedSlot returns the slot booked for a complaint, if any.
func (s *Service) BookedSlot(ctx context.Context, complaintID int64) (Slot, bool, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM complaint_slots WHERE complaint_id = ?`, complaintID).Scan(&id)
	if err != nil || id == 0 {
		return Slot{}, false, err
	}
	sl, err := getSlot(ctx, s.db, id)
	return sl, err == nil, err
}

// PublishSlots adds count slots of minutes each, back to back from start,
// for a unit.
func (s *Service) PublishSlots(ctx context.Context, unit int64, start time.Time, minutes, count int) error {
	const op = "complaint.PublishSlots"
	if minutes < 10 || minutes > 240 {
		return vigie.Invalidf(op, "A slot lasts between 10 and 240 minutes.")
	}
	if count < 1 || count > 50 {
		return vigie.Invalidf(op, "Publish between 1 and 50 slots at a time.")
	}
	if start.Before(s.cfg.Now()) {
		return vigie.Invalidf(op, "The first slot is in the past.")
	}
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for i := 0; i < count; i++ {
			at := start.Add(time.Duration(i*minutes) * time.Minute)
			if _, err := tx.Exec(ctx, `INSERT INTO complaint_slots (unit_id, starts_at, minutes, complaint_id, created_by) VALUES (?, ?, ?, 0, ?)`,
				unit, db.Millis(at), minutes, u.ID); err != nil {
				return err
			}
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "complaint_slots", ObjectID: strconv.FormatInt(unit, 10),
			UnitID: unit, Detail: fmt.Sprintf("%d slots of %d min from %s", count, minutes, start.Format(time.RFC3339))})
	})
}

// Book books (or moves) the appointment of a complaint to a free slot of
// its unit.
func (s *Service) Book(ctx context.Context, id, slotID int64) (Slot, error) {
	const op = "complaint.Book"
	u := vigie.UserFrom(ctx)
	if u == nil {
		return Slot{}, vigie.ErrUnauthenticated
	}
	var sl Slot
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := getComplaint(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Step != StepAppointmentProposed {
			return vigie.E(vigie.KindConflict, op, "The brigade has not proposed an appointment for this complaint.", nil)
		}
		if sl, err = getSlot(ctx, tx, slotID); err != nil {
			return err
		}
		if sl.UnitID != c.UnitID {
			return vigie.E(vigie.KindNotFound, op, "This appointment slot does not exist.", nil)
		}
		if sl.StartsAt.Before(s.cfg.Now()) {
			return vigie.Invalidf(op, "This slot is in the past; choose another one.")
		}
		// Free the previous slot, then take the new one if nobody took it.
		if _, err := tx.Exec(ctx, `UPDATE complaint_slots SET complaint_id = 0 WHERE complaint_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE complaint_slots SET complaint_id = ? WHERE id = ? AND complaint_id = 0 AND hearing_id = 0`, id, slotID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return vigie.E(vigie.KindConflict, op, "Someone booked this slot a moment ago; please choose another one.", nil)
		}
		sl.ComplaintID = id
		now := s.now()
		if err := insertEvent(ctx, tx, &Event{ComplaintID: id, At: now, Kind: "appointment", AuthorID: u.ID, FromCitizen: true, Public: true,
			Text: sl.StartsAt.In(paris).Format("02/01/2006 15:04")}); err != nil {
			return err
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActChange, Object: "complaint", ObjectID: strconv.FormatInt(id, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: fmt.Sprintf("appointment booked: slot %d", slotID)}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "complaint", Type: "complaint.appointment_booked", Subject: c.Number, Data: eventData(&c)})
	})
	return sl, err
}
