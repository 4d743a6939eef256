package complaint

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"vigie"
	"vigie/internal/blob"
	"vigie/internal/db"
	"vigie/internal/org"
	"vigie/internal/web"
)

// staff returns the signed-in member of the force.
func staff(ctx context.Context) (*vigie.User, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() {
		return nil, vigie.ErrForbidden
	}
	return u, nil
}

// scope returns the units whose complaints the actor may do perm on: their
// unit and the units below it, as the policy allows.
func (h *Handler) scope(ctx context.Context, perm vigie.Perm) ([]int64, error) {
	u, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, id := range h.tree.Below(u.UnitID) {
		if h.auth.Check(ctx, perm, vigie.Target{Dept: h.tree.Dept(id), UnitID: id, Kind: "complaint"}) == nil {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, vigie.E(vigie.KindForbidden, "complaint.scope", "You have no unit whose complaints you may see.", nil)
	}
	return out, nil
}

// unitNames maps the ids of units to their names.
func (h *Handler) unitNames(ctx context.Context, ids []int64) map[int64]string {
	names := map[int64]string{}
	depts := map[string]bool{}
	for _, id := range ids {
		depts[h.tree.Dept(id)] = true
	}
	for d := range depts {
		us, err := h.svc.cfg.Org.Units(ctx, d)
		if err != nil {
			continue
		}
		for _, u := range us {
			names[u.ID] = u.Name
		}
	}
	return names
}

// parseQueue reads the filters of a queue request.
func parseQueue(q url.Values, units []int64) (QueueFilter, error) {
	const op = "complaint.Queue"
	f := QueueFilter{Units: units, Step: q.Get("step"), Category: q.Get("category"), Sort: q.Get("sort"), Limit: 50}
	if f.Step != "" && f.Step != "all" && !slices.Contains(Steps, f.Step) {
		return f, vigie.Invalidf(op, "Unknown step.")
	}
	if f.Category != "" {
		if _, ok := CategoryOf(f.Category); !ok {
			return f, vigie.Invalidf(op, "Unknown category.")
		}
	}
	if f.Sort != "" && !slices.Contains([]string{"age", "recent", "priority", "category"}, f.Sort) {
		return f, vigie.Invalidf(op, "Unknown sort order.")
	}
	if s := q.Get("older"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 3650 {
			return f, vigie.Invalidf(op, "The age filter is a number of days.")
		}
		f.OlderDays = n
	}
	if s := q.Get("unit"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !slices.Contains(units, id) {
			return f, vigie.E(vigie.KindForbidden, op, "You cannot see the queue of this unit.", nil)
		}
		f.Units = []int64{id}
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			return f, vigie.Invalidf(op, "The page number is not valid.")
		}
		f.Offset = (n - 1) * f.Limit
	}
	return f, nil
}

type queuePage struct {
	Rows       []QueueRow
	Total      int
	Filter     QueueFilter
	Query      url.Values
	Units      []org.Unit
	Names      map[int64]string
	Categories []Category
	Steps      []string
	Page, Next int
	AckHours   int
	DecideDays int
}

func (h *Handler) pageQueue(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	units, err := h.scope(ctx, vigie.PermRead)
	if err != nil {
		return err
	}
	f, err := parseQueue(r.URL.Query(), units)
	if err != nil {
		return err
	}
	rows, total, err := h.svc.Queue(ctx, f)
	if err != nil {
		return err
	}
	p := queuePage{Rows: rows, Total: total, Filter: f, Query: r.URL.Query(), Names: h.unitNames(ctx, units), Categories: Categories,
		Steps: Steps, Page: f.Offset/50 + 1, AckHours: int(AckWithin.Hours()), DecideDays: int(DecideWithin.Hours() / 24)}
	if f.Offset+len(rows) < total {
		p.Next = p.Page + 1
	}
	for _, id := range units {
		p.Units = append(p.Units, org.Unit{ID: id, Name: p.Names[id]})
	}
	return h.s.Render(w, r, "complaint/queue.html", p)
}

// staffComplaint loads the complaint of the path for a staff member allowed
// to do perm on it.
func (h *Handler) staffComplaint(r *http.Request, perm vigie.Perm) (Complaint, error) {
	ctx := r.Context()
	if _, err := staff(ctx); err != nil {
		return Complaint{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return Complaint{}, err
	}
	c, err := h.svc.Get(ctx, id)
	if err != nil {
		return Complaint{}, err
	}
	return c, hide(h.auth.Check(ctx, perm, c.Target()))
}

// journalConsult records that a staff member read a complaint.
func (s *Service) journalConsult(ctx context.Context, c *Complaint, motif, detail string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "complaint", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Motif: motif, Detail: detail})
	})
}

type agentPage struct {
	C          Complaint
	Unit       string
	Events     []Event
	Files      []File
	Suggestion *Suggestion
	Colleagues []Colleague
	Transfer   []org.Unit
	Categories []Category
	Priorities []string
	Open       bool
	Late       string
	Motif      string
	Booked     *Slot
	CanWrite   bool
	Links      []LinkGroup
	LinksError bool // the index could not be read: the page says so
}

// pageAgent shows a complaint to the brigade: a consultation of personal
// data, so it asks the motif and journals it first.
func (h *Handler) pageAgent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.staffComplaint(r, vigie.PermRead)
	if err != nil {
		return err
	}
	motif, ok, err := h.motif(w, r)
	if !ok {
		return err
	}
	if err := h.svc.journalConsult(ctx, &c, motif, "complaint "+c.Number); err != nil {
		return err
	}
	p := agentPage{C: c, Categories: Categories, Priorities: Priorities, Open: IsOpen(c.Step), Motif: motif,
		Late: lateness(c.Step, c.SubmittedAt, c.AckedAt, h.svc.cfg.Now()), CanWrite: h.auth.Check(ctx, vigie.PermWrite, c.Target()) == nil}
	p.Unit = h.svc.receiptOf(ctx, &c).Unit
	if p.Events, err = h.svc.Timeline(ctx, c.ID, false); err != nil {
		return err
	}
	if p.Files, err = h.svc.Files(ctx, c.ID); err != nil {
		return err
	}
	if sg, ok := h.svc.Suggest(c.Form.Narrative); ok {
		p.Suggestion = &sg
	}
	if p.Colleagues, err = h.svc.Colleagues(ctx, c.UnitID); err != nil {
		return err
	}
	if h.svc.cfg.Links != nil {
		// Other complaints and cases sharing an identifier; out of scope,
		// only the holding unit (the hook asks the policy for each).
		if p.Links, err = h.svc.cfg.Links(ctx, c.ID, c.CaseID); err != nil {
			h.svc.log.Error("complaint: linked records", "complaint", c.ID, "err", err)
			p.Links, p.LinksError = nil, true
		}
	}
	if sl, ok, err := h.svc.BookedSlot(ctx, c.ID); err == nil && ok {
		p.Booked = &sl
	}
	// Transfer targets: the brigades of the complaint's département.
	if us, err := h.svc.cfg.Org.Units(ctx, c.Dept); err == nil {
		for _, u := range us {
			if u.ID != c.UnitID {
				p.Transfer = append(p.Transfer, u)
			}
		}
	}
	return h.s.Render(w, r, "complaint/agent.html", p)
}

// act applies an action for a staff member allowed to write on the
// complaint (and, for a transfer, allowed to... see below).
func (h *Handler) act(r *http.Request, id int64, a Action) (Complaint, error) {
	ctx := r.Context()
	if _, err := staff(ctx); err != nil {
		return Complaint{}, err
	}
	c, err := h.svc.Get(ctx, id)
	if err != nil {
		return Complaint{}, err
	}
	if err := h.auth.Check(ctx, vigie.PermWrite, c.Target()); err != nil {
		return Complaint{}, hide(err)
	}
	if a.Kind == ActTransfer {
		// A wrong routing is one click to correct: any unit of the same
		// département may receive it (the sender loses sight of it). Another
		// département needs the right to write there.
		u, err := h.svc.cfg.Org.Unit(ctx, a.UnitID)
		if err != nil {
			return Complaint{}, vigie.Invalidf("complaint.Transfer", "This unit does not exist.")
		}
		if u.Dept != c.Dept {
			if err := h.auth.Check(ctx, vigie.PermWrite, vigie.Target{Dept: u.Dept, UnitID: u.ID, Kind: "complaint"}); err != nil {
				return Complaint{}, err
			}
		}
	}
	return h.svc.Act(ctx, id, a)
}

func (h *Handler) formAct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := Action{Kind: r.PostFormValue("action"), Text: r.PostFormValue("text"), Category: r.PostFormValue("category"), Priority: r.PostFormValue("priority")}
	a.AssigneeID, _ = strconv.ParseInt(r.PostFormValue("assignee_id"), 10, 64)
	a.UnitID, _ = strconv.ParseInt(r.PostFormValue("unit_id"), 10, 64)
	c, err := h.act(r, id, a)
	if err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Done."))
	if a.Kind == ActTransfer || !IsOpen(c.Step) && a.Kind != ActMessage {
		http.Redirect(w, r, "/complaints/queue", http.StatusSeeOther)
		return nil
	}
	motif := r.PostFormValue("motif")
	if motif == "" {
		motif = "plainte"
	}
	http.Redirect(w, r, fmt.Sprintf("/complaints/%d?motif=%s", c.ID, url.QueryEscape(motif)), http.StatusSeeOther)
	return nil
}

// ---- Appointment slots ----

type slotsPage struct {
	Units    []org.Unit
	Unit     int64
	Slots    []Slot
	Hearings map[int64]Hearing // by slot id: the hearings in person booked
}

func (h *Handler) pageSlots(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	units, err := h.scope(ctx, vigie.PermWrite)
	if err != nil {
		return err
	}
	unit := units[0]
	if s := r.URL.Query().Get("unit"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !slices.Contains(units, id) {
			return vigie.E(vigie.KindForbidden, "complaint.slots", "You cannot manage the slots of this unit.", nil)
		}
		unit = id
	}
	names := h.unitNames(ctx, units)
	p := slotsPage{Unit: unit}
	for _, id := range units {
		p.Units = append(p.Units, org.Unit{ID: id, Name: names[id]})
	}
	if p.Slots, err = h.svc.Slots(ctx, unit, false); err != nil {
		return err
	}
	if p.Hearings, err = h.svc.UnitHearings(ctx, unit); err != nil {
		return err
	}
	return h.s.Render(w, r, "complaint/slots.html", p)
}

func (h *Handler) formSlots(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	units, err := h.scope(ctx, vigie.PermWrite)
	if err != nil {
		return err
	}
	unit, err := strconv.ParseInt(r.PostFormValue("unit"), 10, 64)
	if err != nil || !slices.Contains(units, unit) {
		return vigie.E(vigie.KindForbidden, "complaint.slots", "You cannot manage the slots of this unit.", nil)
	}
	start, ok := ParseLocal(r.PostFormValue("start"), paris)
	if !ok {
		return vigie.Invalidf("complaint.slots", "The first slot's date and time are not valid: use the form 2026-03-14 09:00.")
	}
	minutes, _ := strconv.Atoi(r.PostFormValue("minutes"))
	count, _ := strconv.Atoi(r.PostFormValue("count"))
	if err := h.svc.PublishSlots(ctx, unit, start, minutes, count); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The slots are published."))
	http.Redirect(w, r, fmt.Sprintf("/complaints/slots?unit=%d", unit), http.StatusSeeOther)
	return nil
}

// serveAttachment sends a file as a download; the blob package sets the
// headers (attachment, nosniff, CSP sandbox).
func serveAttachment(w http.ResponseWriter, r *http.Request, rc io.Reader, f File) {
	// SECURITY: never inline from the application's origin.
	blob.ServeAttachment(w, r, rc, blob.Object{SHA256: f.SHA256, Size: f.Size, Type: f.Type, Name: f.Name})
}
