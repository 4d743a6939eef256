package casefile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie"
	"vigie/internal/blob"
	"vigie/internal/bus"
	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/db"
	"vigie/internal/org"
)

// authorizer decides whether the acting user may do p on t (internal/auth's
// policy; main wires it).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

// journal writes the consultation journal (internal/audit) in the
// transaction of the action it records.
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// units tells the names and codes of units (internal/org's service).
type units interface {
	Unit(ctx context.Context, id int64) (org.Unit, error)
}

// unitTree is the in-memory unit tree (internal/org's Tree).
type unitTree interface {
	Below(unit int64) []int64
	Dept(unit int64) string
}

// blobStore keeps documents outside the database (internal/blob).
type blobStore interface {
	Put(ctx context.Context, name string, r io.Reader, lim blob.Limits) (blob.Object, error)
	Open(ctx context.Context, sha256 string) (io.ReadCloser, error)
}

// Config holds what Service needs. DB, Authz, Journal, Units and Tree are
// required; the rest may be nil.
type Config struct {
	DB      *db.DB
	Authz   authorizer
	Journal journal
	Outbox  *bus.Outbox // nil is fine: the relay finds events at its next poll
	Units   units
	Tree    unitTree
	Blobs   blobStore          // nil: documents cannot be added
	Ident   *ident.Extractor   // nil: an extractor without card key
	Triage  *triage.Classifier // nil: no suggestion on case pages
	Log     *slog.Logger
	// OnStatus tells the complaint area that the case of a complaint reached
	// a status ("forwarded", "closed"), in the same transaction.
	OnStatus func(ctx context.Context, tx *db.Tx, complaintID int64, step string) error
	// Grant gives userID read access to one record (kind "case" or
	// "complaint", id) until the given time, for an approved access
	// request, in the approval's transaction; it returns the grant's id
	// (internal/auth's grants).
	Grant func(ctx context.Context, tx *db.Tx, userID int64, kind, id string, until time.Time, reason string) (int64, error)
	// ComplaintPath is the agent's page of a complaint, for links; nil: no link.
	ComplaintPath func(id int64) string
	// ComplaintTarget is a complaint as the policy sees it (its current
	// département and unit), for access requests made from a complaint's
	// page; nil: such requests are refused.
	ComplaintTarget func(ctx context.Context, id int64) (vigie.Target, error)
	// GrantFor is how long an approved access request lasts (default 30 days).
	GrantFor time.Duration
	Now      func() time.Time
}

// Service is the case-file area. Unlike the organisation's service, its
// methods check the policy themselves: every read and write of a case goes
// through here, from pages, the API and the CLI alike.
type Service struct {
	cfg   Config
	db    *db.DB
	authz authorizer
	j     journal
	log   *slog.Logger
	ident *ident.Extractor
	links *Links
	now   func() time.Time
	names sync.Map // unit id → org.Unit (names and codes change rarely)
}

// New returns the service. It does no I/O.
func New(cfg Config) *Service {
	s := &Service{cfg: cfg, db: cfg.DB, authz: cfg.Authz, j: cfg.Journal, log: cfg.Log, ident: cfg.Ident, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ident == nil {
		s.ident = ident.New(ident.Config{})
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.GrantFor <= 0 {
		s.cfg.GrantFor = 30 * 24 * time.Hour
	}
	s.links = &Links{s: s}
	return s
}

// Links returns the linked-identifier index.
func (s *Service) Links() *Links { return s.links }

// Triage returns the classifier, or nil.
func (s *Service) Triage() *triage.Classifier { return s.cfg.Triage }

// actor returns the acting user, or a system user for work without one
// (demo seeding, the complaint area acting on its own).
func actor(ctx context.Context) *vigie.User {
	if u := vigie.UserFrom(ctx); u != nil {
		return u
	}
	return &vigie.User{Login: "system", Name: "Vigie"}
}

func actorName(u *vigie.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Login
}

// unit returns a unit's name and code, cached.
func (s *Service) unit(ctx context.Context, id int64) (org.Unit, error) {
	if u, ok := s.names.Load(id); ok {
		return u.(org.Unit), nil
	}
	u, err := s.cfg.Units.Unit(ctx, id)
	if err != nil {
		return org.Unit{}, err
	}
	s.names.Store(id, u)
	return u, nil
}

// UnitName returns the name of a unit ("" if unknown).
func (s *Service) UnitName(ctx context.Context, id int64) string {
	u, err := s.unit(ctx, id)
	if err != nil {
		return ""
	}
	return u.Name
}

// eventData is the payload of casefile events: the recorded offence for
// analytics, without personal data (no names, no narrative, no identifiers).
type eventData struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	Dept        string    `json:"dept"`
	UnitID      int64     `json:"unit_id"`
	ComplaintID int64     `json:"complaint_id,omitempty"`
	Status      Status    `json:"status"`
	From        Status    `json:"from,omitempty"`
	Category    string    `json:"category"`
	Priority    string    `json:"priority"`
	FactsFrom   time.Time `json:"facts_from,omitzero"`
	FactsTo     time.Time `json:"facts_to,omitzero"`
	INSEE       string    `json:"insee,omitempty"`
	Lat         float64   `json:"lat,omitempty"`
	Lon         float64   `json:"lon,omitempty"`
	At          time.Time `json:"at"`
}

func (s *Service) event(ctx context.Context, tx *db.Tx, typ string, c Case, from Status) error {
	return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "casefile", Type: typ,
		Subject: strconv.FormatInt(c.ID, 10), Data: eventData{ID: c.ID, Number: c.Number, Dept: c.Dept,
			UnitID: c.UnitID, ComplaintID: c.ComplaintID, Status: c.Status, From: from, Category: c.Category,
			Priority: c.Priority, FactsFrom: c.FactsFrom, FactsTo: c.FactsTo, INSEE: c.Place.INSEE,
			Lat: c.Place.Lat, Lon: c.Place.Lon, At: c.UpdatedAt}})
}

// OpenFromComplaint opens the case file of an accepted complaint, in the
// caller's transaction (the complaint area's acceptance). SECURITY: the
// caller has checked that the acting agent may accept the complaint (write
// on its unit); this method trusts it and does not ask the policy again.
// The victim becomes a party, items and attachments are copied, and the
// identifiers are indexed under the case.
func (s *Service) OpenFromComplaint(ctx context.Context, tx *db.Tx, fc FromComplaint) (Case, error) {
	return s.openAt(ctx, tx, fc, s.now())
}

// openAt opens a case as if at now (the demo's history uses past times).
func (s *Service) openAt(ctx context.Context, tx *db.Tx, fc FromComplaint, now time.Time) (Case, error) {
	const op = "casefile.OpenFromComplaint"
	if fc.UnitID == 0 || fc.Dept == "" {
		return Case{}, vigie.Invalidf(op, "The complaint has no unit.")
	}
	if !slices.Contains(Categories, fc.Category) {
		return Case{}, vigie.Invalidf(op, "Unknown offence category %q.", fc.Category)
	}
	u := actor(ctx)
	un, err := s.unit(ctx, fc.UnitID)
	if err != nil {
		return Case{}, fmt.Errorf("%s: unit %d: %w", op, fc.UnitID, err)
	}
	if un.Dept != fc.Dept {
		return Case{}, vigie.Invalidf(op, "The complaint's unit is not in its département.")
	}
	seq, err := nextSeq(ctx, tx, fc.UnitID, now.Year())
	if err != nil {
		return Case{}, fmt.Errorf("%s: number: %w", op, err)
	}
	by := fc.AcceptedBy
	if by == 0 {
		by = u.ID
	}
	c := Case{Number: caseNumber(now.Year(), un.Code, seq), Dept: fc.Dept, UnitID: fc.UnitID, UnitName: un.Name,
		ComplaintID: fc.ComplaintID, ComplaintNo: fc.Number, Status: StatusOpen, Category: fc.Category,
		Priority: "normal", Title: caseTitle(fc.Category, fc.FactsFrom), Narrative: fc.Narrative,
		FactsFrom: fc.FactsFrom, FactsTo: fc.FactsTo, Place: fc.Place, SubmittedAt: fc.SubmittedAt,
		CreatedBy: by, CreatedAt: now, UpdatedAt: now, Version: 1}
	if s.cfg.Triage != nil && fc.Narrative != "" {
		if sg := s.cfg.Triage.Suggest(fc.Narrative); sg.Priority != "" {
			c.Priority = sg.Priority
		}
	}
	if err := insertCase(ctx, tx, &c); err != nil {
		return Case{}, fmt.Errorf("%s: insert: %w", op, err)
	}
	ids := slices.Clone(fc.Identifiers)
	if fc.Victim.Name != "" {
		p := Party{CaseID: c.ID, Role: RoleVictim, Name: fc.Victim.Name, BirthDate: fc.Victim.BirthDate,
			Address: fc.Victim.Address, Phone: fc.Victim.Phone, Email: fc.Victim.Email, AccountID: fc.Victim.AccountID,
			CreatedAt: now}
		if err := insertParty(ctx, tx, &p, by); err != nil {
			return Case{}, fmt.Errorf("%s: victim: %w", op, err)
		}
	}
	for _, ci := range fc.Items {
		it := Item{CaseID: c.ID, Kind: ci.Kind, Description: ci.Description, Identifier: ci.Identifier, Extra: ci.Extra,
			AmountCents: ci.AmountCents, IBAN: ci.IBAN, CreatedAt: now}
		if !ci.Date.IsZero() {
			it.Date = ci.Date.Format(time.DateOnly)
		}
		if !slices.Contains(ItemKinds, it.Kind) {
			it.Kind = ItemObject
		}
		if err := insertItem(ctx, tx, &it, by); err != nil {
			return Case{}, fmt.Errorf("%s: item: %w", op, err)
		}
		ids = append(ids, s.itemIdentifiers(it)...)
	}
	for _, a := range fc.Attachments {
		d := Document{CaseID: c.ID, SHA256: a.SHA256, Name: a.Name, Type: a.Type, Size: a.Size, CreatedAt: now}
		if err := insertDocument(ctx, tx, &d, by); err != nil {
			return Case{}, fmt.Errorf("%s: document: %w", op, err)
		}
	}
	if fc.Narrative != "" {
		ids = append(ids, s.ident.Extract(fc.Narrative)...)
	}
	if err := s.links.Index(ctx, tx, Source{Kind: SourceCase, ID: c.ID, Dept: c.Dept, UnitID: c.UnitID}, ids); err != nil {
		return Case{}, err
	}
	detail := "opened"
	if fc.Number != "" {
		detail = "opened from complaint " + fc.Number
	}
	if err := appendEvent(ctx, tx, c.ID, now, u.ID, actorName(u), "opened", detail); err != nil {
		return Case{}, err
	}
	if err := s.event(ctx, tx, "opened", c, ""); err != nil {
		return Case{}, err
	}
	return c, s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "case", ObjectID: strconv.FormatInt(c.ID, 10),
		Dept: c.Dept, UnitID: c.UnitID, Motif: "plainte", Detail: "case " + c.Number + " " + detail})
}

// itemIdentifiers returns the identifiers an item carries, for the index.
func (s *Service) itemIdentifiers(it Item) []ident.Identifier {
	var out []ident.Identifier
	add := func(k ident.Kind, raw string) {
		if raw == "" {
			return
		}
		if id, err := s.ident.Normalize(k, raw); err == nil {
			out = append(out, id)
		}
	}
	switch it.Kind {
	case ItemPhone:
		add(ident.KindIMEI, it.Identifier)
	case ItemVehicle:
		add(ident.KindPlate, it.Identifier)
	case ItemMoney:
		add(ident.KindIBAN, it.IBAN)
	}
	if it.Description != "" {
		out = append(out, s.ident.Extract(it.Description)...)
	}
	return out
}

// Get returns a case for the acting user, who must be allowed to read it,
// and journals the consultation with its motif.
func (s *Service) Get(ctx context.Context, id int64, motif string) (Detail, error) {
	c, err := getCase(ctx, s.db, id)
	if err != nil {
		return Detail{}, err
	}
	if err := s.authz.Check(ctx, vigie.PermRead, c.Target()); err != nil {
		return Detail{}, err
	}
	if strings.TrimSpace(motif) == "" {
		return Detail{}, vigie.Invalidf("casefile.Get", "A reason (motif) is required to consult a case file.")
	}
	d := Detail{Case: c}
	d.Case.UnitName = s.UnitName(ctx, c.UnitID)
	if err := loadDetail(ctx, s.db, &d); err != nil {
		return Detail{}, fmt.Errorf("casefile %d: load: %w", id, err)
	}
	d.nonNil()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "case", ObjectID: strconv.FormatInt(id, 10),
			Dept: c.Dept, UnitID: c.UnitID, Motif: motif, Detail: "case " + c.Number})
	})
	return d, err
}

// caseFor returns the case record only (no parts) when the acting user may
// do p on it. It is not journaled: callers show nothing of it but what the
// motif gate and Get (or PV, OpenDocument) then journal.
func (s *Service) caseFor(ctx context.Context, id int64, p vigie.Perm) (Case, error) {
	c, err := getCase(ctx, s.db, id)
	if err != nil {
		return Case{}, err
	}
	return c, s.authz.Check(ctx, p, c.Target())
}

// Scope returns the units whose cases the acting user works on: their unit
// and the units below it.
func (s *Service) Scope(ctx context.Context) ([]int64, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	if u.UnitID == 0 {
		return nil, vigie.E(vigie.KindForbidden, "casefile.List", "Case files are listed for the members of a unit.", nil)
	}
	var out []int64
	for _, id := range s.cfg.Tree.Below(u.UnitID) {
		if s.authz.Check(ctx, vigie.PermRead, vigie.Target{Dept: s.cfg.Tree.Dept(id), UnitID: id, Kind: "case"}) == nil {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, vigie.ErrForbidden
	}
	return out, nil
}

// List lists the cases of the acting user's scope (no personal data: titles
// carry the category and date only).
func (s *Service) List(ctx context.Context, status Status, limit, offset int) ([]Case, error) {
	if status != "" && !status.Valid() {
		return nil, vigie.Invalidf("casefile.List", "Unknown status %q.", status)
	}
	scope, err := s.Scope(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	if offset < 0 || offset > 10000 {
		offset = 0 // deeper than 100 pages: use the search, not the list
	}
	cs, err := listCases(ctx, s.db, Filter{Units: scope, Status: status, Limit: limit, Offset: offset})
	for i := range cs {
		cs[i].UnitName = s.UnitName(ctx, cs[i].UnitID)
		cs[i].Narrative = ""
	}
	return cs, err
}

// change runs fn on a case the acting user may write, in a transaction
// that also appends the timeline, touches the case and journals the change.
func (s *Service) change(ctx context.Context, id int64, fn func(tx *db.Tx, c Case, now time.Time) (kind, detail, action string, err error)) (Case, error) {
	var out Case
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := getCase(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.authz.Check(ctx, vigie.PermWrite, c.Target()); err != nil {
			return err
		}
		if c.Status == StatusClosed {
			// A closed case is a record: it is read, not changed.
			return vigie.E(vigie.KindConflict, "casefile.change", "This case is closed: it can no longer be changed.", nil)
		}
		now := s.now()
		kind, detail, action, err := fn(tx, c, now)
		if err != nil {
			return err
		}
		u := actor(ctx)
		if err := appendEvent(ctx, tx, c.ID, now, u.ID, actorName(u), kind, detail); err != nil {
			return err
		}
		if err := touchCase(ctx, tx, c.ID, now); err != nil {
			return err
		}
		out, err = getCase(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		return s.j.Record(ctx, tx, vigie.Record{Action: action, Object: "case", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: kind + ": " + clip(detail, 200)})
	})
	return out, err
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// SetStatus moves a case along the workflow. Forwarding and closing tell the
// complaint area (OnStatus) in the same transaction.
func (s *Service) SetStatus(ctx context.Context, id int64, to Status, note string) (Case, error) {
	const op = "casefile.SetStatus"
	if !to.Valid() {
		return Case{}, vigie.Invalidf(op, "Unknown status %q.", to)
	}
	if err := checkText(op, "The comment", note, maxShort, false); err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		if !CanMove(c.Status, to) {
			return "", "", "", vigie.E(vigie.KindConflict, op, fmt.Sprintf("A case that is %q cannot become %q.",
				c.Status, to), nil)
		}
		ok, err := setStatus(ctx, tx, c, to, now)
		if err != nil {
			return "", "", "", err
		}
		if !ok {
			return "", "", "", vigie.E(vigie.KindConflict, op, "The case was changed by someone else; reload it and try again.", nil)
		}
		from := c.Status
		c.Status, c.UpdatedAt = to, now
		if err := s.event(ctx, tx, "status_changed", c, from); err != nil {
			return "", "", "", err
		}
		if c.ComplaintID != 0 && s.cfg.OnStatus != nil && (to == StatusForwarded || to == StatusClosed) {
			if err := s.cfg.OnStatus(ctx, tx, c.ComplaintID, string(to)); err != nil {
				return "", "", "", fmt.Errorf("%s: complaint step: %w", op, err)
			}
		}
		detail := string(from) + " → " + string(to)
		if note = strings.TrimSpace(note); note != "" {
			detail += ": " + note
		}
		return "status", detail, vigie.ActChange, nil
	})
}

// AddParty records a person in a case (personal data: journaled as collected).
func (s *Service) AddParty(ctx context.Context, id int64, p Party) (Party, error) {
	if err := p.Validate(); err != nil {
		return Party{}, err
	}
	_, err := s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		p.CaseID, p.CreatedAt = c.ID, now
		if err := insertParty(ctx, tx, &p, actor(ctx).ID); err != nil {
			return "", "", "", err
		}
		var ids []ident.Identifier
		for _, v := range []struct {
			k ident.Kind
			s string
		}{{ident.KindPhone, p.Phone}, {ident.KindEmail, p.Email}} {
			if id, err := s.ident.Normalize(v.k, v.s); v.s != "" && err == nil {
				ids = append(ids, id)
			}
		}
		ids = append(ids, s.ident.Extract(p.Details)...)
		if err := s.links.Index(ctx, tx, c.source(), ids); err != nil {
			return "", "", "", err
		}
		return "party", p.Role + " added", vigie.ActCollect, nil
	})
	return p, err
}

// ItemInput is an item as typed in a form: Card is the full or masked card
// number, never stored whole.
type ItemInput struct {
	Kind, Description, Identifier, Extra, Amount, Date, IBAN string
}

// normalizeItem checks an item typed by an agent and returns it with the
// identifiers it carries.
func (s *Service) normalizeItem(in ItemInput) (Item, []ident.Identifier, error) {
	const op = "casefile.AddItem"
	it := Item{Kind: in.Kind, Description: strings.TrimSpace(in.Description), Extra: strings.TrimSpace(in.Extra),
		Date: strings.TrimSpace(in.Date)}
	if !slices.Contains(ItemKinds, it.Kind) {
		return it, nil, vigie.Invalidf(op, "Choose the kind of item: phone, vehicle, card, object or money.")
	}
	if err := checkText(op, "The description", it.Description, maxShort, it.Kind == ItemObject); err != nil {
		return it, nil, err
	}
	if err := checkText(op, "The detail", it.Extra, maxName, false); err != nil {
		return it, nil, err
	}
	if err := checkDate(op, "The date", it.Date); err != nil {
		return it, nil, err
	}
	raw := strings.TrimSpace(in.Identifier)
	var ids []ident.Identifier
	norm := func(k ident.Kind, raw, field string, required bool) (ident.Identifier, error) {
		if raw == "" {
			if required {
				return ident.Identifier{}, vigie.Invalidf(op, "%s is required.", field)
			}
			return ident.Identifier{}, nil
		}
		id, err := s.ident.Normalize(k, raw)
		if err != nil {
			// ident's messages name the kind of identifier and are
			// translated as they are (a prefix would defeat the catalogue).
			return id, vigie.E(vigie.KindInvalid, op, vigie.MessageOf(err), err)
		}
		ids = append(ids, id)
		return id, nil
	}
	switch it.Kind {
	case ItemPhone:
		id, err := norm(ident.KindIMEI, raw, "The IMEI", false)
		if err != nil {
			return it, nil, err
		}
		it.Identifier = id.Value
	case ItemVehicle:
		id, err := norm(ident.KindPlate, raw, "The plate", true)
		if err != nil {
			return it, nil, err
		}
		it.Identifier = id.Value
		it.Extra = strings.ToUpper(it.Extra)
	case ItemCard:
		// SECURITY: a card number is kept masked; its keyed hash links.
		id, err := norm(ident.KindCard, raw, "The card number", true)
		if err != nil {
			return it, nil, err
		}
		it.Identifier = id.Display
	case ItemObject:
		it.Identifier = raw
		if err := checkText(op, "The serial number", raw, maxName, false); err != nil {
			return it, nil, err
		}
	case ItemMoney:
		cents, err := parseAmount(in.Amount)
		if err != nil {
			return it, nil, err
		}
		it.AmountCents = cents
		id, err := norm(ident.KindIBAN, strings.TrimSpace(in.IBAN), "The beneficiary's IBAN", false)
		if err != nil {
			return it, nil, err
		}
		it.IBAN = id.Value
	}
	ids = append(ids, s.ident.Extract(it.Description)...)
	return it, ids, nil
}

// parseAmount reads an amount in euros as typed in France ("1 250,50", "12.5",
// "300 €") and returns cents.
func parseAmount(s string) (int64, error) {
	const op = "casefile.amount"
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "€"))
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	if s == "" {
		return 0, vigie.Invalidf(op, "The amount is required, in euros (for example 250,00).")
	}
	s = strings.Replace(s, ",", ".", 1)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 10 || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, vigie.Invalidf(op, "The amount %q is not valid: write it in euros, for example 250,00.", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, vigie.Invalidf(op, "The amount %q is not valid: write it in euros, for example 250,00.", s)
	}
	var f int64
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		f, err = strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, vigie.Invalidf(op, "The amount %q is not valid: write it in euros, for example 250,00.", s)
		}
	}
	if w == 0 && f == 0 {
		return 0, vigie.Invalidf(op, "The amount must be more than zero.")
	}
	return w*100 + f, nil
}

// AddItem records an item of a case and indexes its identifiers.
func (s *Service) AddItem(ctx context.Context, id int64, in ItemInput) (Item, error) {
	it, ids, err := s.normalizeItem(in)
	if err != nil {
		return Item{}, err
	}
	_, err = s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		it.CaseID, it.CreatedAt = c.ID, now
		if err := insertItem(ctx, tx, &it, actor(ctx).ID); err != nil {
			return "", "", "", err
		}
		if err := s.links.Index(ctx, tx, c.source(), ids); err != nil {
			return "", "", "", err
		}
		return "item", it.Kind + " added", vigie.ActCollect, nil
	})
	return it, err
}

// AddNote records a note and indexes the identifiers it mentions.
func (s *Service) AddNote(ctx context.Context, id int64, body string) (Note, error) {
	body = strings.TrimSpace(body)
	if err := ValidateNote(body); err != nil {
		return Note{}, err
	}
	n := Note{Body: body, Author: actorName(actor(ctx))}
	_, err := s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		n.CaseID, n.CreatedAt = c.ID, now
		if err := insertNote(ctx, tx, &n, actor(ctx).ID); err != nil {
			return "", "", "", err
		}
		if err := s.links.Index(ctx, tx, c.source(), s.ident.Extract(body)); err != nil {
			return "", "", "", err
		}
		return "note", "note added", vigie.ActCollect, nil
	})
	return n, err
}

// AddTask records a task.
func (s *Service) AddTask(ctx context.Context, id int64, t Task) (Task, error) {
	if err := t.Validate(); err != nil {
		return Task{}, err
	}
	_, err := s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		t.CaseID, t.CreatedAt = c.ID, now
		if err := insertTask(ctx, tx, &t, actor(ctx).ID); err != nil {
			return "", "", "", err
		}
		detail := t.Title
		if !t.DueAt.IsZero() {
			detail += " (due " + t.DueAt.Format(time.DateOnly) + ")"
		}
		return "task", detail, vigie.ActChange, nil
	})
	return t, err
}

// CompleteTask marks a task done.
func (s *Service) CompleteTask(ctx context.Context, id, taskID int64) error {
	_, err := s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		title, err := completeTask(ctx, tx, c.ID, taskID, now)
		if err != nil {
			return "", "", "", db.NotFound("casefile.CompleteTask", err)
		}
		return "task_done", title, vigie.ActChange, nil
	})
	return err
}

// DocumentLimits bounds the files added to a case.
var DocumentLimits = blob.Limits{MaxSize: 20 << 20, Allowed: []string{"application/pdf", "image/jpeg", "image/png",
	"image/gif", "image/webp", "text/plain", "audio/mpeg", "video/mp4"}}

// AddDocument stores a file in the blob store and records it in the case.
func (s *Service) AddDocument(ctx context.Context, id int64, name string, r io.Reader) (Document, error) {
	// Check the right before storing anything.
	if _, err := s.caseFor(ctx, id, vigie.PermWrite); err != nil {
		return Document{}, err
	}
	if s.cfg.Blobs == nil {
		return Document{}, vigie.E(vigie.KindUnavailable, "casefile.AddDocument", "File storage is not available.", nil)
	}
	o, err := s.cfg.Blobs.Put(ctx, name, r, DocumentLimits)
	if err != nil {
		return Document{}, err
	}
	d := Document{SHA256: o.SHA256, Name: o.Name, Type: o.Type, Size: o.Size}
	if d.Name == "" {
		d.Name = name
	}
	_, err = s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		d.CaseID, d.CreatedAt = c.ID, now
		if err := insertDocument(ctx, tx, &d, actor(ctx).ID); err != nil {
			return "", "", "", err
		}
		return "document", d.Name, vigie.ActCollect, nil
	})
	return d, err
}

// OpenDocument returns a document of a case and its content, journaled as a
// consultation with its motif.
func (s *Service) OpenDocument(ctx context.Context, id, docID int64, motif string) (Document, io.ReadCloser, error) {
	c, err := s.caseFor(ctx, id, vigie.PermRead)
	if err != nil {
		return Document{}, nil, err
	}
	d, err := getDocument(ctx, s.db, c.ID, docID)
	if err != nil {
		return Document{}, nil, err
	}
	if s.cfg.Blobs == nil {
		return Document{}, nil, vigie.E(vigie.KindUnavailable, "casefile.OpenDocument", "File storage is not available.", nil)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "case", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Motif: motif, Detail: "document " + strconv.FormatInt(d.ID, 10)})
	})
	if err != nil {
		return Document{}, nil, err
	}
	rc, err := s.cfg.Blobs.Open(ctx, d.SHA256)
	if err != nil {
		return Document{}, nil, err
	}
	if rc == nil {
		return Document{}, nil, vigie.E(vigie.KindNotFound, "casefile.OpenDocument", "The file is missing from storage.", nil)
	}
	return d, rc, nil
}

// Classify records the agent's decision on the category and priority (after
// the triage suggestion), and keeps it to retrain the classifier.
func (s *Service) Classify(ctx context.Context, id int64, category, priority string) (Case, error) {
	const op = "casefile.Classify"
	if !slices.Contains(Categories, category) {
		return Case{}, vigie.Invalidf(op, "Choose an offence category from the list.")
	}
	if !slices.Contains(Priorities, priority) {
		return Case{}, vigie.Invalidf(op, "Choose a priority: low, normal, high or urgent.")
	}
	var correction *triage.Correction
	c, err := s.change(ctx, id, func(tx *db.Tx, c Case, now time.Time) (string, string, string, error) {
		if err := setClassification(ctx, tx, c.ID, category, priority, now); err != nil {
			return "", "", "", err
		}
		if s.cfg.Triage != nil && c.Narrative != "" {
			sg := s.cfg.Triage.Suggest(c.Narrative)
			corr := triage.Correction{Text: c.Narrative, Category: category, Priority: priority,
				SuggestedCategory: sg.Category, SuggestedPriority: sg.Priority, Dept: c.Dept, By: actor(ctx).ID, At: now}
			if err := triage.SaveCorrection(ctx, tx, corr); err != nil {
				return "", "", "", err
			}
			correction = &corr
		}
		return "classified", category + ", " + priority, vigie.ActChange, nil
	})
	if err == nil && correction != nil {
		s.cfg.Triage.Learn(*correction)
	}
	return c, err
}

// source is the case as a source of identifiers.
func (c Case) source() Source {
	return Source{Kind: SourceCase, ID: c.ID, Dept: c.Dept, UnitID: c.UnitID}
}

// nonNil turns absent parts into empty lists (JSON [] rather than null).
func (d *Detail) nonNil() {
	if d.Parties == nil {
		d.Parties = []Party{}
	}
	if d.Items == nil {
		d.Items = []Item{}
	}
	if d.Documents == nil {
		d.Documents = []Document{}
	}
	if d.Tasks == nil {
		d.Tasks = []Task{}
	}
	if d.Notes == nil {
		d.Notes = []Note{}
	}
	if d.Timeline == nil {
		d.Timeline = []Event{}
	}
}

// TriageCorrected keeps an agent's confirmation or correction of the triage
// of a narrative made elsewhere (the complaint queue's Corrected hook), and
// learns it. It runs after the agent's own transaction has committed.
func (s *Service) TriageCorrected(ctx context.Context, narrative, suggestedCategory, category, priority string) error {
	const op = "casefile.TriageCorrected"
	if s.cfg.Triage == nil || strings.TrimSpace(narrative) == "" {
		return nil
	}
	if !slices.Contains(Categories, category) || !slices.Contains(Priorities, priority) {
		return vigie.Invalidf(op, "Choose an offence category from the list.")
	}
	u := actor(ctx)
	c := triage.Correction{Text: narrative, Category: category, Priority: priority, SuggestedCategory: suggestedCategory,
		Dept: u.Dept, By: u.ID, At: s.now()}
	if err := s.db.InTx(ctx, func(tx *db.Tx) error { return triage.SaveCorrection(ctx, tx, c) }); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	s.cfg.Triage.Learn(c)
	return nil
}
