package complaint

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigie"
	"vigie/internal/blob"
	"vigie/internal/bus"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
	"vigie/internal/mail"
	"vigie/internal/org"
)

// journal writes the consultation journal in the action's transaction.
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// organisation is what complaints need from internal/org: routing a place to
// its brigade, and the units of a département.
type organisation interface {
	Route(ctx context.Context, lon, lat float64) (org.Commune, org.Unit, error)
	RouteCommune(ctx context.Context, insee string) (org.Commune, org.Unit, error)
	Unit(ctx context.Context, id int64) (org.Unit, error)
	Units(ctx context.Context, dept string) ([]org.Unit, error)
	Communes(ctx context.Context, dept string, geometry bool) ([]org.Commune, error)
	Departements(ctx context.Context) ([]org.Departement, error)
}

// blobs stores evidence files (internal/blob).
type blobs interface {
	Put(ctx context.Context, name string, r io.Reader, lim blob.Limits) (blob.Object, error)
	Open(ctx context.Context, sha256 string) (io.ReadCloser, error)
}

// mailer queues e-mail in the action's transaction (internal/mail).
type mailer interface {
	Enqueue(ctx context.Context, tx *db.Tx, msg mail.Message) error
}

// Accepted is a complaint being accepted: what the case file is opened from.
type Accepted struct {
	ID          int64
	Number      string
	Dept        string
	UnitID      int64
	Category    string
	Narrative   string
	FactsFrom   time.Time
	FactsTo     time.Time
	Place       Place
	Victim      Victim
	Items       []AcceptedItem
	Identifiers []ident.Identifier
	Attachments []Attachment
	SubmittedAt time.Time
	AcceptedBy  int64
}

// Place is where the facts happened (INSEE empty for an online offence).
type Place struct {
	Address  string
	INSEE    string
	Lat, Lon float64
}

// Victim is the person harmed.
type Victim struct {
	Name      string
	BirthDate time.Time
	Address   string
	Phone     string
	Email     string
	AccountID int64
}

// AcceptedItem is an item or a payment of the complaint.
type AcceptedItem struct {
	Kind        string // phone, vehicle, card, object, money
	Description string
	IMEI        string
	Plate       string
	VIN         string
	CardMasked  string
	CardLink    string
	Serial      string
	IBAN        string
	Beneficiary string
	Date        time.Time
	Amount      int64 // cents
}

// Attachment is an evidence file.
type Attachment struct {
	SHA256, Name, Type string
	Size               int64
}

// LinkGroup is an identifier of a complaint and the other records that
// mention it (filled by Config.Links).
type LinkGroup struct {
	KindName   string // English name of the identifier kind ("IBAN")
	Display    string
	Complaints int // other complaints that mention it (exact)
	Cases      int // other cases that mention it (exact)
	Hits       []LinkHit
}

// LinkHit is one record that shares the identifier. Out of the reader's
// scope only the holding unit is told: InScope false, no Path, no content.
type LinkHit struct {
	SourceKind string // complaint | case
	SourceID   int64  // kept for the access request form only
	Dept       string
	UnitName   string
	InScope    bool
	Path       string // the record's page, in scope only
	Label      string
}

// Colleague is a member of a unit a complaint can be assigned to.
type Colleague struct {
	ID   int64
	Name string
}

// Config holds what Service needs. Hooks left nil are "not wired": the
// area still works without them.
type Config struct {
	DB      *db.DB
	Journal journal
	Outbox  *bus.Outbox
	Org     organisation
	Blobs   blobs  // nil: evidence files are refused with a clear message
	Mail    mailer // nil: no e-mail
	Log     *slog.Logger
	// BaseURL is the public address of the deployment, for links in
	// receipts and e-mails (the verification page).
	BaseURL string
	// CardKey keys the hash that links card numbers (ident.Config.CardKey).
	CardKey []byte
	// Ident, if set, is the deployment's identifier extractor (with its
	// card key), shared with the case files; it replaces CardKey.
	Ident *ident.Extractor
	// OpenCase opens the case file of a complaint being accepted, in the
	// acceptance transaction.
	OpenCase func(ctx context.Context, tx *db.Tx, c Accepted) (caseID int64, caseNumber string, err error)
	// IndexIdentifiers records the identifiers found in a complaint, in the
	// submission transaction (and again when the citizen adds information).
	IndexIdentifiers func(ctx context.Context, tx *db.Tx, complaintID int64, dept string, unitID int64, ids []ident.Identifier) error
	// MoveIdentifiers tells the identifier index that a complaint changed
	// holder (a transfer), in the transfer's transaction.
	MoveIdentifiers func(ctx context.Context, tx *db.Tx, complaintID int64, dept string, unitID int64) error
	// Suggest returns a suggested category and priority for a narrative.
	Suggest func(narrative string) (category, priority string, confidence float64, reasons []string)
	// Corrected is told, once committed, that an agent confirmed or
	// corrected the triage of a narrative (to keep it for retraining the
	// classifier).
	Corrected func(narrative, suggestedCategory, category, priority string)
	// AccountEmail returns the (verified) e-mail address of a citizen's
	// account; messages go there rather than to an address typed in the
	// form, so that nobody can make Vigie write to a stranger. Nil or an
	// empty answer: the contact address of the form.
	AccountEmail func(ctx context.Context, accountID int64) (string, error)
	// Links returns the other complaints and cases that share an
	// identifier with a complaint (its own case file excepted), with what
	// the reader may see of each (internal/casefile's index, same scope
	// rules as a case's page). Nil: the agent's page shows none.
	Links func(ctx context.Context, complaintID, caseID int64) ([]LinkGroup, error)
	// Colleagues lists the members of a unit (for assignment).
	Colleagues func(ctx context.Context, unitID int64) ([]Colleague, error)
	// Now replaces time.Now (tests, demo).
	Now func() time.Time
}

// Service is the complaint area. Its methods do not check permissions;
// handlers do, before calling them.
type Service struct {
	cfg      Config
	db       *db.DB
	log      *slog.Logger
	ids      *ident.Extractor
	cardTest *ident.Extractor // validates card numbers when no key is configured
	communes communeIndex
	// writes queues this replica's submissions before SQLite's write lock:
	// SQLite has one writer at a time, and its busy handler retries with
	// growing sleeps, which makes the slowest of 50 concurrent citizens
	// wait far longer than the average. Waiting here (in Go, near FIFO
	// under contention) keeps the tail short. Unused on PostgreSQL.
	writes sync.Mutex
	// receipts hands committed submissions to RunReceipts (receiptmail.go).
	receipts chan receiptJob
	missed   chan struct{} // a receipt did not fit in receipts
	// missedUpTo is the id of the latest receipt line that did not fit.
	missedUpTo atomic.Int64
}

// New returns the service. It does no I/O.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, db: cfg.DB, log: cfg.Log, ids: cfg.Ident, receipts: make(chan receiptJob, 8192), missed: make(chan struct{}, 1)}
	if s.ids == nil {
		s.ids = ident.New(ident.Config{CardKey: cfg.CardKey})
	}
	var k [32]byte
	rand.Read(k[:])
	s.cardTest = ident.New(ident.Config{CardKey: k[:]})
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()

func (s *Service) checker() checker { return checker{now: s.cfg.Now(), loc: paris, ids: s.ids} }

// ---- Drafts ----

// NewDraft starts a complaint for a citizen.
func (s *Service) NewDraft(ctx context.Context, owner int64) (Draft, error) {
	now := s.now()
	d := Draft{OwnerID: owner, Step: FormEligibility, CreatedAt: now, UpdatedAt: now}
	if err := insertDraft(ctx, s.db, &d); err != nil {
		return d, fmt.Errorf("complaint: new draft: %w", err)
	}
	return d, nil
}

// Draft returns a draft.
func (s *Service) Draft(ctx context.Context, id int64) (Draft, error) { return getDraft(ctx, s.db, id) }

// Drafts lists a citizen's drafts, latest first.
func (s *Service) Drafts(ctx context.Context, owner int64) ([]Draft, error) {
	return listDrafts(ctx, s.db, owner)
}

// DeleteDraft abandons a draft (and forgets its files' references).
func (s *Service) DeleteDraft(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `DELETE FROM complaint_drafts WHERE id = ?`, id)
	return err
}

// SaveStep stores the answers of one step, whatever they are, then checks
// them. The draft is saved even when the answers are refused (nothing typed
// is lost); the errors say what to correct. On success the draft moves to
// the next step.
func (s *Service) SaveStep(ctx context.Context, d *Draft, step string) (Errors, error) {
	errs := s.checker().Step(step, &d.Form)
	d.UpdatedAt = s.now()
	if len(errs) == 0 {
		d.Step = s.NextStep(&d.Form, step)
	} else {
		d.Step = step
	}
	if err := updateDraft(ctx, s.db, d); err != nil {
		return nil, fmt.Errorf("complaint: save draft %d: %w", d.ID, err)
	}
	return errs, nil
}

// NextStep is the step after step for this form (the money trail only for
// the offences that involve a payment).
func (s *Service) NextStep(f *Form, step string) string {
	for i, x := range FormSteps {
		if x == step && i+1 < len(FormSteps) {
			next := FormSteps[i+1]
			if next == FormMoney && !f.UsesMoney() {
				next = FormSteps[i+2]
			}
			return next
		}
	}
	return FormReview
}

// PrevStep is the step before step.
func (s *Service) PrevStep(f *Form, step string) string {
	for i, x := range FormSteps {
		if x == step && i > 0 {
			prev := FormSteps[i-1]
			if prev == FormMoney && !f.UsesMoney() {
				prev = FormSteps[i-2]
			}
			return prev
		}
	}
	return FormEligibility
}

// CardItem turns a typed card number into a card item: the number is
// checked (Luhn, card network) and only its masked form and keyed hash are
// kept. SECURITY: the whole number never reaches the database.
func (s *Service) CardItem(raw, description string) (Item, Errors) {
	e := Errors{}
	it := Item{Kind: ItemCard, Description: description}
	if strings.TrimSpace(raw) == "" {
		e.add("card", "Please give the card number (only its first six and last four digits are kept).")
		return it, e
	}
	id, err := s.ids.Normalize(ident.KindCard, raw)
	if err != nil {
		// No key configured: check the number with a throwaway key and keep
		// only the masked form (no link).
		tid, terr := s.cardTest.Normalize(ident.KindCard, raw)
		if terr != nil {
			e.add("card", "%s", cardMessage(terr))
			return it, e
		}
		it.Card = tid.Display
		return it, e
	}
	it.Card, it.CardLink = id.Display, id.Value
	return it, e
}

func cardMessage(err error) string {
	m := err.Error()
	switch {
	case strings.Contains(m, "13 to 19"):
		return "This card number is not valid: a card number has 13 to 19 digits."
	case strings.Contains(m, "last digit"):
		return "This card number is not valid: its last digit does not match the others; one digit is probably mistyped."
	case strings.Contains(m, "network"):
		return "This card number is not valid: it does not belong to a known card network."
	}
	return "This card number is not valid: it may only hold digits."
}

// CheckItem validates an item before it is added to a draft.
func (s *Service) CheckItem(it *Item) Errors { return s.checker().Item(it) }

// AddFile stores an evidence file in the blob store.
func (s *Service) AddFile(ctx context.Context, name string, r io.Reader) (File, error) {
	if s.cfg.Blobs == nil {
		return File{}, vigie.E(vigie.KindUnavailable, "complaint.AddFile", "Files cannot be received right now; you can add them later from your complaint's page.", nil)
	}
	o, err := s.cfg.Blobs.Put(ctx, name, r, EvidenceLimits)
	if err != nil {
		return File{}, err
	}
	if o.SHA256 == "" {
		return File{}, vigie.E(vigie.KindUnavailable, "complaint.AddFile", "Files cannot be received right now; you can add them later from your complaint's page.", nil)
	}
	return File{SHA256: o.SHA256, Name: o.Name, Type: o.Type, Size: o.Size}, nil
}

// EvidenceLimits bounds evidence files: the types internal/blob accepts
// from citizens by default (documents, photos, screenshots, text, short
// videos and sound), 20 MB each.
var EvidenceLimits = blob.Limits{MaxSize: 20 << 20}

// OpenFile returns the content of a complaint's file.
func (s *Service) OpenFile(ctx context.Context, sha string) (io.ReadCloser, error) {
	if s.cfg.Blobs == nil {
		return nil, vigie.E(vigie.KindUnavailable, "complaint.OpenFile", "Files cannot be read right now.", nil)
	}
	return s.cfg.Blobs.Open(ctx, sha)
}

// ---- Submission ----

// newCode returns a receipt verification code: 100 random bits in
// base32 (20 characters), shown in groups of four. SECURITY: unguessable,
// so that the public page confirms only receipts one actually holds.
func newCode() string {
	var b [13]byte
	rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:20]
}

// NormalizeCode accepts a code as typed (spaces, dashes, lower case).
func NormalizeCode(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s)))
}

// FormatCode groups a code by four characters.
func FormatCode(c string) string {
	var parts []string
	for i := 0; i < len(c); i += 4 {
		parts = append(parts, c[i:min(i+4, len(c))])
	}
	return strings.Join(parts, "-")
}

// route finds the unit that receives a complaint, and how.
func (s *Service) route(ctx context.Context, f *Form) (dept string, unit int64, insee, how string, err error) {
	const op = "complaint.route"
	if f.NoPlace == "yes" {
		dept = strings.TrimSpace(f.Dept)
		if dept == "" {
			return "", 0, "", "", vigie.Invalidf(op, "Please choose your département: online complaints with no place go to the unit your département designates.")
		}
		unit, err = s.OnlineUnit(ctx, dept)
		return dept, unit, "", "online", err
	}
	var c org.Commune
	var u org.Unit
	if code, ok := INSEEOf(f.Commune); ok {
		c, u, err = s.cfg.Org.RouteCommune(ctx, code)
		how = "commune"
	} else {
		lat, _ := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(f.Lat), ",", "."), 64)
		lon, _ := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(f.Lon), ",", "."), 64)
		c, u, err = s.cfg.Org.Route(ctx, lon, lat)
		how = "position"
	}
	switch {
	case err == nil:
		return u.Dept, u.ID, c.INSEE, how, nil
	case vigie.KindOf(err) == vigie.KindNotFound && c.Dept != "":
		// The commune is served, but in no brigade's territory yet: the
		// département's designated unit receives it.
		unit, err = s.OnlineUnit(ctx, c.Dept)
		return c.Dept, unit, c.INSEE, how, err
	case vigie.KindOf(err) == vigie.KindNotFound:
		return "", 0, "", "", vigie.Invalidf(op, "This place is not in a département Vigie serves yet: please file your complaint at a brigade or on the national service.")
	}
	return "", 0, "", "", err
}

// OnlineUnit is the unit that receives a département's online complaints
// with no place: the one set for the département, else its groupement.
func (s *Service) OnlineUnit(ctx context.Context, dept string) (int64, error) {
	id, err := onlineUnit(ctx, s.db, dept)
	if err != nil || id != 0 {
		return id, err
	}
	units, err := s.cfg.Org.Units(ctx, dept)
	if err != nil {
		return 0, err
	}
	for _, u := range units {
		if u.Kind == org.Groupement {
			return u.ID, nil
		}
	}
	return 0, vigie.Invalidf("complaint.OnlineUnit", "The département %s has no unit to receive complaints yet.", dept)
}

// SetOnlineUnit designates the unit that receives a département's online
// complaints with no place. It is journaled.
func (s *Service) SetOnlineUnit(ctx context.Context, dept string, unit int64) error {
	u, err := s.cfg.Org.Unit(ctx, unit)
	if err != nil {
		return err
	}
	if u.Dept != dept {
		return vigie.Invalidf("complaint.SetOnlineUnit", "The unit %q belongs to département %s, not %s.", u.Name, u.Dept, dept)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := setOnlineUnit(ctx, tx, dept, unit); err != nil {
			return err
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "complaint_settings", ObjectID: dept, Dept: dept, UnitID: unit,
			Detail: fmt.Sprintf("online complaints with no place go to unit %d", unit)})
	})
}

// Submit turns a draft into a complaint, in one transaction: number,
// complaint row, files, timeline, identifiers index, journal, event and
// the pending receipt e-mail. A failure anywhere leaves nothing behind (and
// the draft intact).
func (s *Service) Submit(ctx context.Context, draftID int64) (Complaint, error) {
	const op = "complaint.Submit"
	d, err := getDraft(ctx, s.db, draftID)
	if err != nil {
		return Complaint{}, err
	}
	ck := s.checker()
	if step, errs := ck.All(&d.Form); len(errs) > 0 {
		return Complaint{}, &StepError{Step: step, Errors: errs}
	}
	dept, unit, insee, how, err := s.route(ctx, &d.Form)
	if err != nil {
		return Complaint{}, err
	}
	from, to, _ := ck.Window(&d.Form)
	now := s.now()
	c := Complaint{VerifyCode: newCode(), Dept: dept, UnitID: unit, OwnerID: d.OwnerID, Step: StepReceived,
		Category: d.Form.Category, Priority: "normal", INSEE: insee, RoutedBy: how, FactsFrom: from.UTC(), FactsTo: to.UTC(),
		Form: d.Form, SubmittedAt: now, UpdatedAt: now}
	if s.cfg.Suggest != nil {
		cat, prio, _, _ := s.cfg.Suggest(d.Form.Narrative)
		c.SuggestedCategory, c.SuggestedPriority = cat, prio
		if validPriority(prio) {
			c.Priority = prio
		}
	}
	ids := ck.Identifiers(&c.Form)
	if s.db.Dialect == db.SQLite {
		s.writes.Lock()
		defer s.writes.Unlock()
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if c.Number, err = nextNumber(ctx, tx, dept, now.In(paris)); err != nil {
			return err
		}
		if err := insertComplaint(ctx, tx, &c); err != nil {
			return fmt.Errorf("%s: insert: %w", op, err)
		}
		for _, f := range c.Form.Files {
			if err := insertFile(ctx, tx, c.ID, f, now, d.OwnerID); err != nil {
				return fmt.Errorf("%s: file: %w", op, err)
			}
		}
		if err := insertEvent(ctx, tx, &Event{ComplaintID: c.ID, At: now, Kind: "step", Step: StepReceived, AuthorID: d.OwnerID, FromCitizen: true, Public: true}); err != nil {
			return err
		}
		if s.cfg.IndexIdentifiers != nil && len(ids) > 0 {
			if err := s.cfg.IndexIdentifiers(ctx, tx, c.ID, c.Dept, c.UnitID, ids); err != nil {
				return fmt.Errorf("%s: index identifiers: %w", op, err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM complaint_drafts WHERE id = ?`, d.ID); err != nil {
			return err
		}
		// The receipt e-mail and its PDF follow once this commits
		// (receiptmail.go): the PDF is built outside the write lock.
		if err := s.queueReceipt(ctx, tx, &c); err != nil {
			return err
		}
		if err := s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActCollect, Object: "complaint", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Detail: fmt.Sprintf("submitted %s (%s), %d identifiers", c.Number, c.Category, len(ids))}); err != nil {
			return err
		}
		return s.cfg.Outbox.Enqueue(ctx, tx, bus.Event{Dept: c.Dept, Area: "complaint", Type: "complaint.submitted", Subject: c.Number, Data: eventData(&c)})
	})
	if err != nil {
		return Complaint{}, err
	}
	return c, nil
}

// StepError says which step of the form must be corrected before a draft
// can be submitted.
type StepError struct {
	Step   string
	Errors Errors
}

func (e *StepError) Error() string { return "complaint: step " + e.Step + " is incomplete" }

// Unwrap makes a StepError a KindInvalid error.
func (e *StepError) Unwrap() error {
	return vigie.Invalidf("complaint.Submit", "Some answers are missing or wrong: please correct them before sending.")
}

func validPriority(p string) bool {
	for _, x := range Priorities {
		if x == p {
			return true
		}
	}
	return false
}

// eventData is the payload of the area's events: no personal data (the
// bus is read by other services), only what routing and dashboards need.
func eventData(c *Complaint) map[string]any {
	return map[string]any{"id": c.ID, "number": c.Number, "dept": c.Dept, "unit_id": c.UnitID, "step": c.Step,
		"category": c.Category, "priority": c.Priority, "submitted_at": c.SubmittedAt, "case_number": c.CaseNumber}
}

// contactEmail is where messages about a complaint go.
func contactEmail(f *Form) string {
	if f.VictimIs == "other" && f.Contact.Email != "" {
		return f.Contact.Email
	}
	return f.Victim.Email
}

// notify queues an e-mail to the citizen, in tx.
func (s *Service) notify(ctx context.Context, tx *db.Tx, c *Complaint, subject, text string, atts ...mail.Attachment) error {
	if s.cfg.Mail == nil || c.OwnerID == 0 {
		return nil
	}
	to := ""
	if s.cfg.AccountEmail != nil {
		var err error
		if to, err = s.cfg.AccountEmail(ctx, c.OwnerID); err != nil {
			return fmt.Errorf("complaint %s: account e-mail: %w", c.Number, err)
		}
	}
	if to == "" {
		to = contactEmail(&c.Form)
	}
	if to == "" {
		return nil
	}
	link := s.cfg.BaseURL + "/complaints/" + strconv.FormatInt(c.ID, 10)
	body := text + "\n\nSuivre votre plainte : " + link + "\n\nVigie — Gendarmerie nationale. Ne répondez pas à ce message : écrivez à la brigade depuis la page de votre plainte.\n"
	return s.cfg.Mail.Enqueue(ctx, tx, mail.Message{To: to, Subject: "[" + c.Number + "] " + frenchSubject(subject), Text: body, Attachments: atts})
}

func frenchSubject(s string) string {
	switch s {
	case "Your complaint was received":
		return "Votre plainte a bien été reçue"
	case "A message from the brigade":
		return "Un message de la brigade"
	}
	return "Votre plainte a changé d'étape"
}

func (s *Service) receiptText(c *Complaint) string {
	cat := c.Category
	if x, ok := CategoryOf(c.Category); ok {
		cat = frenchLabel(x.Label)
	}
	return fmt.Sprintf("Récépissé de dépôt de plainte en ligne\n\nNuméro : %s\nDéposée le : %s\nInfraction : %s\nCode de vérification : %s\nVérifier ce récépissé : %s/verify/%s",
		c.Number, c.SubmittedAt.In(paris).Format("02/01/2006 15:04"), cat, FormatCode(c.VerifyCode), s.cfg.BaseURL, c.VerifyCode)
}

// ---- Reading ----

// Get returns a complaint.
func (s *Service) Get(ctx context.Context, id int64) (Complaint, error) {
	return getComplaint(ctx, s.db, id)
}

// Timeline returns the events of a complaint (publicOnly: those the citizen sees).
func (s *Service) Timeline(ctx context.Context, id int64, publicOnly bool) ([]Event, error) {
	return listEvents(ctx, s.db, id, publicOnly)
}

// Files lists the evidence files of a complaint.
func (s *Service) Files(ctx context.Context, id int64) ([]File, error) {
	return listFiles(ctx, s.db, id)
}

// Mine lists the complaints of a citizen.
func (s *Service) Mine(ctx context.Context, owner int64) ([]Complaint, error) {
	return listByOwner(ctx, s.db, owner)
}

// Queue lists complaints for a brigade's queue.
func (s *Service) Queue(ctx context.Context, f QueueFilter) ([]QueueRow, int, error) {
	return queue(ctx, s.db, f, s.cfg.Now())
}

// Receipt is what the public verification page confirms, and nothing else.
type Receipt struct {
	Number      string    `json:"number"`
	SubmittedAt time.Time `json:"submitted_at"`
	Category    string    `json:"category"`
	Unit        string    `json:"unit"`
}

// Verify returns the receipt whose verification code is code.
func (s *Service) Verify(ctx context.Context, code string) (Receipt, error) {
	code = NormalizeCode(code)
	if len(code) != 20 {
		return Receipt{}, vigie.Invalidf("complaint.Verify", "A verification code has 20 letters and digits, printed under the QR code of the receipt (for example ABCD-EFGH-2345-JKLM-6789).")
	}
	c, err := byVerifyCode(ctx, s.db, code)
	if err != nil {
		return Receipt{}, err
	}
	return s.receiptOf(ctx, &c), nil
}

func (s *Service) receiptOf(ctx context.Context, c *Complaint) Receipt {
	r := Receipt{Number: c.Number, SubmittedAt: c.SubmittedAt, Category: c.Category}
	if u, err := s.cfg.Org.Unit(ctx, c.UnitID); err == nil {
		r.Unit = u.Name
	}
	return r
}

// Colleagues lists the members of a unit.
func (s *Service) Colleagues(ctx context.Context, unit int64) ([]Colleague, error) {
	if s.cfg.Colleagues == nil {
		return nil, nil
	}
	return s.cfg.Colleagues(ctx, unit)
}

// Suggestion is the triage help shown to the agent.
type Suggestion struct {
	Category   string
	Priority   string
	Confidence float64
	Reasons    []string
}

// Suggest asks the triage hook, if wired.
func (s *Service) Suggest(narrative string) (Suggestion, bool) {
	if s.cfg.Suggest == nil {
		return Suggestion{}, false
	}
	c, p, conf, r := s.cfg.Suggest(narrative)
	return Suggestion{c, p, conf, r}, true
}

// Percent is the confidence in percent, for display.
func (s Suggestion) Percent() int { return int(s.Confidence*100 + 0.5) }
