package complaint

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/blob"
	"vigie/internal/org"
	"vigie/internal/web"
)

// authorizer is internal/auth's policy.
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

// unitTree answers questions about the unit tree (internal/org's Tree).
type unitTree interface {
	Below(unit int64) []int64
	Dept(unit int64) string
	Parent(unit int64) int64
	Kind(unit int64) org.Kind
}

// motifGate asks a staff member why they consult a complaint
// (audit.RequireMotif, wired by main).
type motifGate func(w http.ResponseWriter, r *http.Request) (string, bool, error)

//go:embed all:templates
var templates embed.FS

// Templates returns the area's templates (tests check their translations).
func Templates() fs.FS { sub, _ := fs.Sub(templates, "templates"); return sub }

// Handler serves the complaint pages and API.
type Handler struct {
	svc   *Service
	auth  authorizer
	tree  unitTree
	motif motifGate
	s     *web.Server
}

// NewHandler returns the handler of the complaint area.
func NewHandler(svc *Service, auth authorizer, tree unitTree, motif motifGate) *Handler {
	return &Handler{svc: svc, auth: auth, tree: tree, motif: motif}
}

// Register adds the area's templates, menu entries and routes to s.
func (h *Handler) Register(s *web.Server) {
	h.s = s
	if err := s.AddTemplates("complaint", Templates()); err != nil {
		panic(fmt.Sprintf("complaint: templates: %v", err))
	}
	// The file store's refusals (too large, disguised...) in French.
	if err := web.LoadMessages(blob.Messages()); err != nil {
		panic(fmt.Sprintf("complaint: blob messages: %v", err))
	}
	s.AddNav(web.NavItem{Path: "/complaints", Label: "My complaints", Roles: []vigie.Role{vigie.RoleCitizen}},
		web.NavItem{Path: "/complaints/queue", Label: "Complaints", Roles: []vigie.Role{vigie.RoleAgent, vigie.RoleInvestigator, vigie.RoleCommander}},
		web.NavItem{Path: "/complaints/delays", Label: "Delays", Roles: []vigie.Role{vigie.RoleCommander, vigie.RoleAnalyst}},
		web.NavItem{Path: "/complaints/settings", Label: "Complaint settings", Roles: []vigie.Role{vigie.RoleAdmin}})

	// Public: the verification of a receipt.
	s.Route("GET /verify", h.pageVerify)
	s.Route("GET /verify/{code}", h.pageVerify)

	// The citizen's side.
	s.Route("GET /complaints", h.pageMine)
	s.Route("GET /complaints/communes", h.communes)
	s.FormRoute("POST /complaint-drafts", h.formNewDraft)
	s.Route("GET /complaint-drafts/{id}/{step}", h.pageStep)
	s.Route("POST /complaint-drafts/{id}/{step}", h.formStep)
	s.FormRoute("POST /complaint-drafts/{id}/delete", h.formDeleteDraft)
	s.Route("GET /complaints/{id}", h.pageComplaint)
	s.Route("GET /complaints/{id}/receipt", h.pageReceipt)
	s.Route("GET /complaints/{id}/receipt.pdf", h.receiptPDF)
	s.FormRoute("POST /complaints/{id}/reply", h.formReply)
	s.FormRoute("POST /complaints/{id}/files", h.formAddFile)
	s.Route("GET /complaints/{id}/files/{sha}", h.downloadFile)
	s.FormRoute("POST /complaints/{id}/book", h.formBook)
	// A hearing in person, when the eligibility step stops the complaint
	// (hearing.go).
	s.Route("GET /complaint-drafts/{id}/hearing", h.pageHearing)
	s.FormRoute("POST /complaint-drafts/{id}/hearing", h.formHearing)
	s.FormRoute("POST /hearings/{id}/cancel", h.formCancelHearing)
	s.Route("GET /hearings/{id}", h.pageHearingAgent) // the brigade's view

	// The brigade's side.
	s.Route("GET /complaints/queue", h.pageQueue)
	s.FormRoute("POST /complaints/{id}/act", h.formAct)
	s.Route("GET /complaints/slots", h.pageSlots)
	s.FormRoute("POST /complaints/slots", h.formSlots)
	s.Route("GET /complaints/delays", h.pageDelays)
	s.Route("GET /complaints/settings", h.pageSettings)
	s.FormRoute("POST /complaints/settings", h.formSettings)

	// JSON API.
	s.Route("GET /api/v1/complaints", h.apiList)
	s.Route("GET /api/v1/complaints/{id}", h.apiGet)
	s.Route("POST /api/v1/complaints/{id}/actions", h.apiAct)
	s.Route("GET /api/v1/verify/{code}", h.apiVerify)
}

// citizen returns the signed-in citizen.
func citizen(ctx context.Context) (*vigie.User, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	if u.Role != vigie.RoleCitizen {
		return nil, vigie.E(vigie.KindForbidden, "complaint.citizen", "Online complaints are filed from a citizen account.", nil)
	}
	return u, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "complaint.path", "This complaint does not exist, or you cannot see it.", err)
	}
	return id, nil
}

// hide turns a refusal into "not found", so that nobody learns that a
// complaint they may not see exists.
func hide(err error) error {
	if k := vigie.KindOf(err); k == vigie.KindForbidden {
		return vigie.E(vigie.KindNotFound, "complaint", "This complaint does not exist, or you cannot see it.", err)
	}
	return err
}

// ownDraft loads the draft of the path for its owner.
func (h *Handler) ownDraft(r *http.Request) (Draft, error) {
	ctx := r.Context()
	u, err := citizen(ctx)
	if err != nil {
		return Draft{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return Draft{}, err
	}
	d, err := h.svc.Draft(ctx, id)
	if err != nil {
		return Draft{}, err
	}
	if d.OwnerID != u.ID {
		return Draft{}, vigie.E(vigie.KindNotFound, "complaint.Draft", "This draft does not exist (it may have been submitted already).", nil)
	}
	return d, h.auth.Check(ctx, vigie.PermWrite, vigie.Target{OwnerID: d.OwnerID, Kind: "complaint_draft", ID: strconv.FormatInt(d.ID, 10)})
}

// ownComplaint loads the complaint of the path for its citizen owner.
func (h *Handler) ownComplaint(r *http.Request, p vigie.Perm) (Complaint, error) {
	ctx := r.Context()
	if _, err := citizen(ctx); err != nil {
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
	return c, hide(h.auth.Check(ctx, p, c.Target()))
}

type minePage struct {
	Drafts     []Draft
	Complaints []Complaint
	Hearings   []Hearing
	UnitNames  map[int64]string
}

func (h *Handler) pageMine(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u != nil && u.Role.Staff() {
		http.Redirect(w, r, "/complaints/queue", http.StatusSeeOther)
		return nil
	}
	if _, err := citizen(ctx); err != nil {
		return err
	}
	ds, err := h.svc.Drafts(ctx, u.ID)
	if err != nil {
		return err
	}
	cs, err := h.svc.Mine(ctx, u.ID)
	if err != nil {
		return err
	}
	hs, err := h.svc.Hearings(ctx, u.ID)
	if err != nil {
		return err
	}
	var units []int64
	for _, x := range hs {
		units = append(units, x.UnitID)
	}
	return h.s.Render(w, r, "complaint/mine.html", minePage{Drafts: ds, Complaints: cs, Hearings: hs, UnitNames: h.unitNames(ctx, units)})
}

// communes answers the commune suggestions of the place step (JSON).
func (h *Handler) communes(w http.ResponseWriter, r *http.Request) error {
	if vigie.UserFrom(r.Context()) == nil {
		return vigie.ErrUnauthenticated
	}
	hits, err := h.svc.SuggestCommunes(r.Context(), r.URL.Query().Get("q"), 12)
	if err != nil {
		return err
	}
	if hits == nil {
		hits = []CommuneHit{}
	}
	web.WriteJSON(w, http.StatusOK, hits)
	return nil
}

func (h *Handler) formNewDraft(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := citizen(ctx)
	if err != nil {
		return err
	}
	if err := h.auth.Check(ctx, vigie.PermWrite, vigie.Target{OwnerID: u.ID, Kind: "complaint_draft"}); err != nil {
		return err
	}
	ds, err := h.svc.Drafts(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(ds) >= 10 {
		return vigie.Invalidf("complaint.NewDraft", "You already have 10 complaints in progress: finish or delete one first.")
	}
	d, err := h.svc.NewDraft(ctx, u.ID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, FormEligibility), http.StatusSeeOther)
	return nil
}

func (h *Handler) formDeleteDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := h.ownDraft(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteDraft(r.Context(), d.ID); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The draft was deleted."))
	http.Redirect(w, r, "/complaints", http.StatusSeeOther)
	return nil
}

type stepPage struct {
	Draft          Draft
	Form           *Form
	Step           string
	Index, Total   int
	Errors         Errors
	ItemErrors     Errors
	Pending        Item
	PendingPay     Payment
	PendingWit     Witness
	Categories     []Category
	ItemKinds      [][2]string
	Depts          []org.Departement
	Suggestions    []CommuneHit
	OnlinePossible bool
	Map            template.HTML // the "where" step's map (placemap.go)
	MapDept        string
}

func (h *Handler) stepPage(r *http.Request, d *Draft, step string) stepPage {
	p := stepPage{Draft: *d, Form: &d.Form, Step: step, Categories: Categories, ItemKinds: ItemKinds,
		OnlinePossible: d.Form.CategoryInfo().Online}
	steps := FormSteps
	if !d.Form.UsesMoney() {
		steps = slices.DeleteFunc(slices.Clone(steps), func(s string) bool { return s == FormMoney })
	}
	p.Total = len(steps)
	p.Index = slices.Index(steps, step) + 1
	if step == FormPlace {
		p.Depts, _ = h.svc.cfg.Org.Departements(r.Context())
		if q := strings.TrimSpace(d.Form.Commune); q != "" {
			if _, ok := INSEEOf(q); !ok {
				p.Suggestions, _ = h.svc.SuggestCommunes(r.Context(), q, 20)
			}
		}
		// The map of a département known to Vigie (asked, or the form's).
		if dept := mapDept(r.FormValue("map_dept"), &d.Form); dept != "" {
			for _, x := range p.Depts {
				if x.Code != dept {
					continue
				}
				if cs, err := h.svc.cfg.Org.Communes(r.Context(), dept, true); err == nil {
					p.Map, p.MapDept = placeMap(web.Tf(web.Lang(r), "Communes of %s", x.Name), cs), dept
				}
			}
		}
	}
	return p
}

func validStep(step string) bool { return slices.Contains(FormSteps, step) }

func (h *Handler) pageStep(w http.ResponseWriter, r *http.Request) error {
	d, err := h.ownDraft(r)
	if err != nil {
		return err
	}
	step := r.PathValue("step")
	if !validStep(step) {
		return vigie.E(vigie.KindNotFound, "complaint.step", "Not found.", nil)
	}
	if step == FormMoney && !d.Form.UsesMoney() {
		http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, FormWitnesses), http.StatusSeeOther)
		return nil
	}
	return h.s.Render(w, r, "complaint/step.html", h.stepPage(r, &d, step))
}

// readStep copies the answers of one step from the form into f.
func readStep(r *http.Request, step string, f *Form) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	switch step {
	case FormEligibility:
		f.Emergency, f.AuthorKnown, f.Violence = v("emergency"), v("author_known"), v("violence")
	case FormFacts:
		f.Category, f.Narrative = v("category"), strings.TrimSpace(r.PostFormValue("narrative"))
	case FormPlace:
		f.NoPlace, f.Dept, f.Address, f.Commune, f.Lat, f.Lon = v("no_place"), strings.ToUpper(v("dept")), v("address"), v("commune"), v("lat"), v("lon")
	case FormWhen:
		f.From, f.To = v("from"), v("to")
	case FormVictim:
		f.VictimIs = v("victim_is")
		f.Victim = Person{Name: v("victim.name"), BirthDate: v("victim.birth_date"), Address: v("victim.address"), Phone: v("victim.phone"), Email: v("victim.email")}
		f.Contact = Person{Name: v("contact.name"), Phone: v("contact.phone"), Email: v("contact.email")}
	case FormMoney:
		f.Website, f.ScamPhone, f.ScamEmail = v("website"), v("scam_phone"), v("scam_email")
	case FormReview:
		f.Consent = v("consent")
	}
}

const maxUpload = 21 << 20

func (h *Handler) formStep(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	step := r.PathValue("step")
	if !validStep(step) {
		return vigie.E(vigie.KindNotFound, "complaint.step", "Not found.", nil)
	}
	// The draft's owner is checked before a file is read.
	d, err := h.ownDraft(r)
	if err != nil {
		return err
	}
	if step == FormEvidence {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			if !errors.Is(err, http.ErrNotMultipart) {
				// Too large or cut off: the step comes back with the reason
				// next to the file field; the draft is untouched.
				msg := "The file could not be read; please try again."
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					msg = "This file is too large: 20 MB at most."
				}
				p := h.stepPage(r, &d, step)
				p.ItemErrors = Errors{"file": msg}
				return h.s.RenderStatus(w, r, http.StatusBadRequest, "complaint/step.html", p)
			}
		}
	}
	goTo := r.PostFormValue("go")
	readStep(r, step, &d.Form)
	p := h.stepPage(r, &d, step)
	// Sub-actions of the list steps: add or remove one entry.
	if goTo == "add" || strings.HasPrefix(goTo, "remove:") {
		if idx, ok := strings.CutPrefix(goTo, "remove:"); ok {
			i, _ := strconv.Atoi(idx)
			removeEntry(&d.Form, step, i)
		} else if p.ItemErrors = h.addEntry(r, &d.Form, step, &p); len(p.ItemErrors) > 0 {
			// Keep what was saved; show the entry as typed with its errors.
			if _, err := h.svc.SaveStep(ctx, &d, step); err != nil {
				return err
			}
			p.Draft, p.Form = d, &d.Form
			return h.s.RenderStatus(w, r, http.StatusBadRequest, "complaint/step.html", p)
		}
		if _, err := h.svc.SaveStep(ctx, &d, step); err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, step), http.StatusSeeOther)
		return nil
	}
	errs, err := h.svc.SaveStep(ctx, &d, step)
	if err != nil {
		return err
	}
	switch {
	case goTo == "back":
		http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, h.svc.PrevStep(&d.Form, step)), http.StatusSeeOther)
		return nil
	case goTo == "save":
		web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your draft is saved. Come back to it whenever you like."))
		http.Redirect(w, r, "/complaints", http.StatusSeeOther)
		return nil
	case goTo == "search" || goTo == "map" || len(errs) > 0:
		p = h.stepPage(r, &d, step)
		if goTo != "search" && goTo != "map" {
			p.Errors = errs
			return h.s.RenderStatus(w, r, http.StatusBadRequest, "complaint/step.html", p)
		}
		return h.s.Render(w, r, "complaint/step.html", p)
	}
	if step == FormEligibility {
		if stop := d.Form.Eligible(); stop != "" {
			return h.s.Render(w, r, "complaint/stop.html", map[string]any{"Stop": stop, "Draft": d})
		}
	}
	if step != FormReview {
		http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, d.Step), http.StatusSeeOther)
		return nil
	}
	c, err := h.svc.Submit(ctx, d.ID)
	var se *StepError
	if errors.As(err, &se) {
		p = h.stepPage(r, &d, se.Step)
		p.Errors = se.Errors
		return h.s.RenderStatus(w, r, http.StatusBadRequest, "complaint/step.html", p)
	}
	if err != nil {
		if vigie.KindOf(err) == vigie.KindInvalid {
			web.SetFlash(w, r, web.FlashError, web.T(web.Lang(r), vigie.MessageOf(err)))
			http.Redirect(w, r, fmt.Sprintf("/complaint-drafts/%d/%s", d.ID, FormPlace), http.StatusSeeOther)
			return nil
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/complaints/%d/receipt", c.ID), http.StatusSeeOther)
	return nil
}

func removeEntry(f *Form, step string, i int) {
	switch step {
	case FormItems:
		if i >= 0 && i < len(f.Items) {
			f.Items = slices.Delete(f.Items, i, i+1)
		}
	case FormMoney:
		if i >= 0 && i < len(f.Payments) {
			f.Payments = slices.Delete(f.Payments, i, i+1)
		}
	case FormWitnesses:
		if i >= 0 && i < len(f.Witnesses) {
			f.Witnesses = slices.Delete(f.Witnesses, i, i+1)
		}
	case FormEvidence:
		if i >= 0 && i < len(f.Files) {
			f.Files = slices.Delete(f.Files, i, i+1)
		}
	}
}

// addEntry validates and adds one item, payment, witness or file; it
// returns the errors of the entry (keyed by the form's field names).
func (h *Handler) addEntry(r *http.Request, f *Form, step string, p *stepPage) Errors {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	prefixed := func(prefix string, e Errors) Errors {
		out := Errors{}
		for k, m := range e {
			out[prefix+k] = m
		}
		return out
	}
	switch step {
	case FormItems:
		if len(f.Items) >= maxItems {
			return Errors{"item.kind": "At most 30 items can be listed."}
		}
		it := Item{Kind: v("item.kind"), Description: v("item.description"), IMEI: v("item.imei"), Plate: v("item.plate"),
			VIN: v("item.vin"), Serial: v("item.serial"), Value: v("item.value")}
		p.Pending = it
		var e Errors
		if it.Kind == ItemCard {
			// SECURITY: the typed number is turned into its masked form
			// and keyed hash here; it is never stored.
			card, ce := h.svc.CardItem(r.PostFormValue("item.card"), it.Description)
			card.Value = it.Value
			it, e = card, ce
			if len(e) == 0 {
				e = h.svc.CheckItem(&it)
			}
		} else {
			e = h.svc.CheckItem(&it)
		}
		if len(e) > 0 {
			return prefixed("item.", e)
		}
		f.Items = append(f.Items, it)
	case FormMoney:
		if len(f.Payments) >= maxPayments {
			return Errors{"pay.amount": "At most 30 payments can be listed."}
		}
		pay := Payment{IBAN: v("pay.iban"), Amount: v("pay.amount"), Date: v("pay.date"), Beneficiary: v("pay.beneficiary")}
		p.PendingPay = pay
		tmp := Form{Payments: []Payment{pay}}
		e := h.svc.checker().Step(FormMoney, &tmp)
		out := Errors{}
		for k, m := range e {
			if name, ok := strings.CutPrefix(k, "payments.0."); ok {
				out["pay."+name] = m
			}
		}
		if len(out) > 0 {
			return out
		}
		f.Payments = append(f.Payments, tmp.Payments[0])
	case FormWitnesses:
		wit := Witness{Name: v("wit.name"), Contact: v("wit.contact")}
		p.PendingWit = wit
		e := Errors{}
		checkText(e, "wit.name", wit.Name, maxLine, true, "Please give the witness's name.")
		checkText(e, "wit.contact", wit.Contact, maxLine, false, "")
		if len(f.Witnesses) >= maxWitnesses {
			e.add("wit.name", "At most 10 witnesses can be listed.")
		}
		if len(e) > 0 {
			return e
		}
		f.Witnesses = append(f.Witnesses, wit)
	case FormEvidence:
		if len(f.Files) >= maxFiles {
			return Errors{"file": "At most 10 files can be added."}
		}
		file, hdr, err := r.FormFile("file")
		if err != nil {
			return Errors{"file": "Choose a file to add."}
		}
		defer file.Close()
		fl, err := h.svc.AddFile(r.Context(), hdr.Filename, file)
		if err != nil {
			msg := vigie.MessageOf(err)
			if msg == "" {
				msg = "The file could not be stored; please try again."
			}
			return Errors{"file": msg}
		}
		f.Files = append(f.Files, fl)
	}
	return nil
}

// ---- After submission: receipt, tracking ----

type receiptPage struct {
	C        Complaint
	Unit     string
	Code     string
	QR       template.HTML
	VerifyAt string
}

func (h *Handler) receiptData(ctx context.Context, c Complaint) receiptPage {
	rc := h.svc.receiptOf(ctx, &c)
	qr, _ := QRSVG(h.svc.VerifyURL(c.VerifyCode), 192)
	return receiptPage{C: c, Unit: rc.Unit, Code: FormatCode(c.VerifyCode), QR: qr, VerifyAt: h.svc.cfg.BaseURL + "/verify"}
}

func (h *Handler) pageReceipt(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownComplaint(r, vigie.PermRead)
	if err != nil {
		return err
	}
	return h.s.Render(w, r, "complaint/receipt.html", h.receiptData(r.Context(), c))
}

func (h *Handler) receiptPDF(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownComplaint(r, vigie.PermRead)
	if err != nil {
		return err
	}
	rc := h.svc.receiptOf(r.Context(), &c)
	b, err := h.svc.ReceiptBytes(&c, rc.Unit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="recepisse-`+c.Number+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
	return nil
}

type trackPage struct {
	C       Complaint
	Unit    string
	Events  []Event
	Files   []File
	Slots   []Slot
	Booked  *Slot
	Steps   []string
	Reached map[string]bool
	Closed  bool
}

// pageComplaint shows a complaint: its tracking page to its citizen, the
// agent's page (after the motif gate, journaled) to the brigade.
func (h *Handler) pageComplaint(w http.ResponseWriter, r *http.Request) error {
	u := vigie.UserFrom(r.Context())
	if u != nil && u.Role.Staff() {
		return h.pageAgent(w, r)
	}
	c, err := h.ownComplaint(r, vigie.PermRead)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := trackPage{C: c, Unit: h.svc.receiptOf(ctx, &c).Unit, Reached: map[string]bool{}, Closed: c.Step == StepClosed || c.Step == StepRejected}
	if p.Events, err = h.svc.Timeline(ctx, c.ID, true); err != nil {
		return err
	}
	for _, e := range p.Events {
		if e.Step != "" {
			p.Reached[e.Step] = true
		}
	}
	if p.Files, err = h.svc.Files(ctx, c.ID); err != nil {
		return err
	}
	if sl, ok, err := h.svc.BookedSlot(ctx, c.ID); err != nil {
		return err
	} else if ok {
		p.Booked = &sl
	}
	if c.Step == StepAppointmentProposed {
		if p.Slots, err = h.svc.Slots(ctx, c.UnitID, true); err != nil {
			return err
		}
	}
	p.Steps = []string{StepReceived, StepProcessing, StepRegistered, StepForwarded, StepClosed}
	// The steps before the current one on this path are behind the citizen.
	if i := slices.Index(p.Steps, c.Step); i > 0 {
		for _, st := range p.Steps[:i] {
			p.Reached[st] = true
		}
	}
	if c.Step == StepInfoRequested || c.Step == StepAppointmentProposed {
		p.Reached[StepProcessing] = true
	}
	return h.s.Render(w, r, "complaint/track.html", p)
}

func (h *Handler) formReply(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownComplaint(r, vigie.PermWrite)
	if err != nil {
		return err
	}
	if err := h.svc.Reply(r.Context(), c.ID, r.PostFormValue("text")); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your message was sent to the brigade."))
	http.Redirect(w, r, fmt.Sprintf("/complaints/%d", c.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) formAddFile(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownComplaint(r, vigie.PermWrite)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return vigie.E(vigie.KindInvalid, "complaint.upload", "The file could not be read: it may be larger than 20 MB.", err)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return vigie.Invalidf("complaint.upload", "Choose a file to add.")
	}
	defer file.Close()
	f, err := h.svc.AddFile(r.Context(), hdr.Filename, file)
	if err != nil {
		return err
	}
	if err := h.svc.AttachFile(r.Context(), c.ID, f); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The file was added to your complaint."))
	http.Redirect(w, r, fmt.Sprintf("/complaints/%d", c.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) formBook(w http.ResponseWriter, r *http.Request) error {
	c, err := h.ownComplaint(r, vigie.PermWrite)
	if err != nil {
		return err
	}
	slot, err := strconv.ParseInt(r.PostFormValue("slot"), 10, 64)
	if err != nil || slot <= 0 {
		return vigie.Invalidf("complaint.Book", "Choose a slot in the list.")
	}
	if _, err := h.svc.Book(r.Context(), c.ID, slot); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "Your appointment is booked."))
	http.Redirect(w, r, fmt.Sprintf("/complaints/%d", c.ID), http.StatusSeeOther)
	return nil
}

// downloadFile serves an evidence file as a download, never inline, to the
// complaint's citizen or to the brigade (journaled).
func (h *Handler) downloadFile(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := h.svc.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := h.auth.Check(ctx, vigie.PermRead, c.Target()); err != nil {
		return hide(err)
	}
	files, err := h.svc.Files(ctx, c.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(files, func(f File) bool { return f.SHA256 == r.PathValue("sha") })
	if i < 0 {
		return vigie.E(vigie.KindNotFound, "complaint.file", "This file does not exist.", nil)
	}
	f := files[i]
	if u.Role.Staff() {
		motif, ok, err := h.motif(w, r)
		if !ok {
			return err
		}
		if err := h.svc.journalConsult(ctx, &c, motif, "file "+f.SHA256); err != nil {
			return err
		}
	}
	rc, err := h.svc.OpenFile(ctx, f.SHA256)
	if err != nil {
		return err
	}
	defer rc.Close()
	serveAttachment(w, r, rc, f)
	return nil
}

// ---- Public verification ----

type verifyPage struct {
	Code    string
	Receipt *Receipt
	Error   string
}

func (h *Handler) pageVerify(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	if code == "" {
		code = r.URL.Query().Get("code")
	}
	p := verifyPage{Code: code}
	if code == "" {
		return h.s.Render(w, r, "complaint/verify.html", p)
	}
	rc, err := h.svc.Verify(r.Context(), code)
	switch k := vigie.KindOf(err); {
	case err == nil:
		p.Receipt = &rc
	case k == vigie.KindInvalid || k == vigie.KindNotFound:
		p.Error = vigie.MessageOf(err)
		return h.s.RenderStatus(w, r, http.StatusNotFound, "complaint/verify.html", p)
	default:
		return err
	}
	return h.s.Render(w, r, "complaint/verify.html", p)
}
