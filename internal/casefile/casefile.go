package casefile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigie"
	"vigie/internal/casefile/ident"
)

// Status is where a case file stands in its workflow.
type Status string

const (
	StatusOpen          Status = "open"          // opened, nobody has worked on it yet
	StatusInvestigating Status = "investigating" // under investigation
	StatusForwarded     Status = "forwarded"     // sent to the prosecutor (parquet)
	StatusClosed        Status = "closed"        // closed (filed, or back from the prosecutor)
)

// Statuses lists the statuses in workflow order.
var Statuses = []Status{StatusOpen, StatusInvestigating, StatusForwarded, StatusClosed}

// transitions is the workflow: from a status, the statuses a case may move
// to. Anything else is refused. A case is investigated before it is
// forwarded or closed; a forwarded case is closed when the prosecutor's
// decision comes back. A closed case stays closed (reopening is a new case,
// linked by its identifiers).
var transitions = map[Status][]Status{
	StatusOpen:          {StatusInvestigating},
	StatusInvestigating: {StatusForwarded, StatusClosed},
	StatusForwarded:     {StatusClosed},
	StatusClosed:        nil,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := transitions[s]; return ok }

// Next returns the statuses a case in s may move to.
func (s Status) Next() []Status { return slices.Clone(transitions[s]) }

// CanMove reports whether the workflow allows from → to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Label is the English label of a status (translated by the pages).
func (s Status) Label() string {
	switch s {
	case StatusOpen:
		return "Open"
	case StatusInvestigating:
		return "Under investigation"
	case StatusForwarded:
		return "Forwarded to the prosecutor"
	case StatusClosed:
		return "Closed"
	}
	return string(s)
}

// Categories are the offence categories shared with internal/complaint.
var Categories = []string{"theft", "burglary", "vehicle_theft", "damage", "card_fraud", "online_scam",
	"non_delivery", "fake_ad", "online_harassment"}

// CategoryLabel is the English label of a category.
func CategoryLabel(c string) string {
	switch c {
	case "theft":
		return "Theft"
	case "burglary":
		return "Burglary"
	case "vehicle_theft":
		return "Vehicle theft"
	case "damage":
		return "Damage"
	case "card_fraud":
		return "Card fraud"
	case "online_scam":
		return "Online scam"
	case "non_delivery":
		return "Goods paid for, never delivered"
	case "fake_ad":
		return "Fake advertisement"
	case "online_harassment":
		return "Online harassment"
	}
	return c
}

// Priorities, lowest first.
var Priorities = []string{"low", "normal", "high", "urgent"}

// Party roles.
const (
	RoleVictim  = "victim"
	RoleWitness = "witness"
	RoleSuspect = "suspect"
)

// PartyRoles lists the roles a person may have in a case.
var PartyRoles = []string{RoleVictim, RoleWitness, RoleSuspect}

// Item kinds.
const (
	ItemPhone   = "phone"
	ItemVehicle = "vehicle"
	ItemCard    = "card"
	ItemObject  = "object"
	ItemMoney   = "money"
)

// ItemKinds lists the kinds of items.
var ItemKinds = []string{ItemPhone, ItemVehicle, ItemCard, ItemObject, ItemMoney}

// Case is a case file (dossier) held by one unit.
type Case struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	Dept        string    `json:"dept"`
	UnitID      int64     `json:"unit_id"`
	UnitName    string    `json:"unit_name,omitempty"`
	ComplaintID int64     `json:"complaint_id,omitempty"`
	ComplaintNo string    `json:"complaint_number,omitempty"`
	Status      Status    `json:"status"`
	Category    string    `json:"category"`
	Priority    string    `json:"priority"`
	Title       string    `json:"title"`
	Narrative   string    `json:"narrative,omitempty"`
	FactsFrom   time.Time `json:"facts_from"`
	FactsTo     time.Time `json:"facts_to"`
	Place       Place     `json:"place"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Version     int64     `json:"version"`
}

// Target is the case as the authorization policy sees it.
func (c Case) Target() vigie.Target {
	return vigie.Target{Dept: c.Dept, UnitID: c.UnitID, Kind: "case", ID: strconv.FormatInt(c.ID, 10)}
}

// Place is where the facts happened.
type Place struct {
	Address string  `json:"address,omitempty"`
	INSEE   string  `json:"insee,omitempty"`
	Lat     float64 `json:"lat,omitempty"`
	Lon     float64 `json:"lon,omitempty"`
}

// Party is a person in a case: personal data.
type Party struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	Role      string    `json:"role"`
	Name      string    `json:"name"`
	BirthDate string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	Address   string    `json:"address,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Email     string    `json:"email,omitempty"`
	AccountID int64     `json:"account_id,omitempty"`
	Details   string    `json:"details,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Item is a thing of a case: a stolen phone, a vehicle, a card (masked), an
// object, or a payment of the money trail.
type Item struct {
	ID          int64     `json:"id"`
	CaseID      int64     `json:"case_id"`
	Kind        string    `json:"kind"`
	Description string    `json:"description,omitempty"`
	Identifier  string    `json:"identifier,omitempty"` // IMEI, plate, masked card, serial number
	Extra       string    `json:"extra,omitempty"`      // VIN of a vehicle, beneficiary of a payment
	AmountCents int64     `json:"amount_cents,omitempty"`
	Date        string    `json:"date,omitempty"` // YYYY-MM-DD, for payments
	IBAN        string    `json:"iban,omitempty"` // beneficiary's IBAN, for payments
	CreatedAt   time.Time `json:"created_at"`
}

// Document is a file of a case, kept in the blob store.
type Document struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	SHA256    string    `json:"sha256"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// Task is something to do on a case, by a date, by someone.
type Task struct {
	ID         int64     `json:"id"`
	CaseID     int64     `json:"case_id"`
	Title      string    `json:"title"`
	DueAt      time.Time `json:"due_at,omitzero"`
	AssigneeID int64     `json:"assignee_id,omitempty"`
	Assignee   string    `json:"assignee,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

// Overdue reports whether the task is late at now.
func (t Task) Overdue(now time.Time) bool {
	return t.DoneAt.IsZero() && !t.DueAt.IsZero() && t.DueAt.Before(now)
}

// Note is an investigator's note.
type Note struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	Body      string    `json:"body"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// Event is one line of a case's timeline.
type Event struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
}

// Detail is everything a case page shows.
type Detail struct {
	Case      Case       `json:"case"`
	Parties   []Party    `json:"parties"`
	Items     []Item     `json:"items"`
	Documents []Document `json:"documents"`
	Tasks     []Task     `json:"tasks"`
	Notes     []Note     `json:"notes"`
	Timeline  []Event    `json:"timeline"`
}

// FromComplaint is an accepted complaint, as internal/complaint hands it over
// (cmd/vigie adapts complaint.Accepted to it).
type FromComplaint struct {
	ComplaintID int64
	Number      string
	Dept        string
	UnitID      int64
	Category    string
	Narrative   string
	FactsFrom   time.Time
	FactsTo     time.Time
	Place       Place
	Victim      Person
	Items       []ComplaintItem
	Identifiers []ident.Identifier
	Attachments []Attachment
	SubmittedAt time.Time
	AcceptedBy  int64
}

// Person is the victim of a complaint.
type Person struct {
	Name, BirthDate, Address, Phone, Email string
	AccountID                              int64
}

// ComplaintItem is an item of a complaint: Identifier is the IMEI, the plate,
// the masked card number or the serial number; Extra the VIN or the
// beneficiary; IBAN the beneficiary's account for a payment.
type ComplaintItem struct {
	Kind, Description, Identifier, Extra string
	AmountCents                          int64
	Date                                 time.Time
	IBAN                                 string
}

// Attachment is an evidence file already in the blob store.
type Attachment struct {
	SHA256, Name, Type string
	Size               int64
}

// Limits of free text, in characters.
const (
	maxName      = 200
	maxShort     = 500
	maxNarrative = 20000
	maxNote      = 10000
)

func checkText(op, field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return vigie.Invalidf(op, "%s is required.", field)
	}
	if !utf8.ValidString(s) {
		return vigie.Invalidf(op, "%s contains characters that are not text.", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return vigie.Invalidf(op, "%s is too long (%d characters, at most %d).", field, n, max)
	}
	return nil
}

func checkDate(op, field, s string) error {
	if s == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return vigie.Invalidf(op, "%s must be a date such as 2026-03-14.", field)
	}
	if d.Year() < 1900 || d.After(time.Now().AddDate(0, 0, 1)) {
		return vigie.Invalidf(op, "%s must be a date between 1900 and today.", field)
	}
	return nil
}

// Validate checks a party before it is recorded.
func (p *Party) Validate() error {
	const op = "casefile.AddParty"
	p.Name, p.Address, p.Details = strings.TrimSpace(p.Name), strings.TrimSpace(p.Address), strings.TrimSpace(p.Details)
	p.Phone, p.Email, p.BirthDate = strings.TrimSpace(p.Phone), strings.TrimSpace(p.Email), strings.TrimSpace(p.BirthDate)
	if !slices.Contains(PartyRoles, p.Role) {
		return vigie.Invalidf(op, "Choose the role of the person: victim, witness or suspect.")
	}
	if err := checkText(op, "The name", p.Name, maxName, true); err != nil {
		return err
	}
	if err := checkText(op, "The address", p.Address, maxShort, false); err != nil {
		return err
	}
	if err := checkText(op, "The details", p.Details, maxNote, false); err != nil {
		return err
	}
	if err := checkDate(op, "The date of birth", p.BirthDate); err != nil {
		return err
	}
	if p.Phone != "" {
		id, err := ident.Normalize(ident.KindPhone, p.Phone)
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, vigie.MessageOf(err), err)
		}
		p.Phone = id.Value
	}
	if p.Email != "" {
		id, err := ident.Normalize(ident.KindEmail, p.Email)
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, vigie.MessageOf(err), err)
		}
		p.Email = id.Value
	}
	return nil
}

// Validate checks a task before it is recorded.
func (t *Task) Validate() error {
	const op = "casefile.AddTask"
	t.Title = strings.TrimSpace(t.Title)
	return checkText(op, "The task", t.Title, maxShort, true)
}

// ValidateNote checks a note's body.
func ValidateNote(body string) error {
	return checkText("casefile.AddNote", "The note", strings.TrimSpace(body), maxNote, true)
}

// caseNumber builds a case number: year, the digits of the unit's code
// (BR-01053 → 01053), sequence: 2026-01053-000042.
func caseNumber(year int, unitCode string, seq int64) string {
	code := unitCode
	if i := strings.LastIndexByte(code, '-'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "0"
	}
	return fmt.Sprintf("%04d-%s-%06d", year, code, seq)
}

// caseTitle is a title without personal data: the category and the date
// of the facts.
func caseTitle(category string, from time.Time) string {
	t := CategoryLabel(category)
	if !from.IsZero() {
		t += ", " + from.Format("2006-01-02")
	}
	return t
}

// Amount is the item's amount in euros, French style ("1 250,00 €").
func (it Item) Amount() string { return euros(it.AmountCents) }
