package complaint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/internal/casefile/ident"
)

// Offence categories that can be filed online (the author is unknown).
const (
	CatTheft            = "theft"
	CatBurglary         = "burglary"
	CatVehicleTheft     = "vehicle_theft"
	CatDamage           = "damage"
	CatCardFraud        = "card_fraud"
	CatOnlineScam       = "online_scam"
	CatNonDelivery      = "non_delivery"
	CatFakeAd           = "fake_ad"
	CatOnlineHarassment = "online_harassment"
)

// Category is an offence category with the English label the form shows.
type Category struct {
	Code   string
	Label  string
	Hint   string
	Online bool // may have no place: the offence happened on the Internet
	Money  bool // asks for the money trail
}

// Categories lists the offences, in the order the form shows them.
var Categories = []Category{
	{CatTheft, "Theft", "Something was stolen from you (bag, phone, bicycle...).", false, false},
	{CatBurglary, "Burglary", "Someone broke into your home, cellar or garage.", false, false},
	{CatVehicleTheft, "Vehicle theft", "Your car, motorbike or scooter was stolen, or something in it.", false, false},
	{CatDamage, "Damage", "Your property was damaged or defaced (tag, broken window, tyres).", false, false},
	{CatCardFraud, "Bank card fraud", "Payments you did not make were charged to your card.", true, true},
	{CatOnlineScam, "Online scam", "You paid or gave your details after a false offer, message or call.", true, true},
	{CatNonDelivery, "Non-delivery", "You paid for something bought online that never came.", true, true},
	{CatFakeAd, "Fake advertisement", "An advertisement (rental, sale) was a trap to get your money.", true, true},
	{CatOnlineHarassment, "Online harassment", "You receive insulting or threatening messages online.", true, false},
}

// CategoryOf returns the category with code c.
func CategoryOf(c string) (Category, bool) {
	for _, x := range Categories {
		if x.Code == c {
			return x, true
		}
	}
	return Category{}, false
}

// Priorities, lowest first.
var Priorities = []string{"low", "normal", "high", "urgent"}

// Citizen-visible steps of a complaint.
const (
	StepDraft               = "draft"
	StepReceived            = "received"
	StepProcessing          = "processing"
	StepInfoRequested       = "info_requested"
	StepAppointmentProposed = "appointment_proposed"
	StepRegistered          = "registered"
	StepForwarded           = "forwarded"
	StepClosed              = "closed"
	StepRejected            = "rejected"
)

// Steps lists the steps in the order a complaint usually goes through them.
var Steps = []string{StepReceived, StepProcessing, StepInfoRequested, StepAppointmentProposed, StepRegistered, StepForwarded, StepClosed, StepRejected}

// OpenSteps are the steps of a complaint still in a brigade's queue.
var OpenSteps = []string{StepReceived, StepProcessing, StepInfoRequested, StepAppointmentProposed}

// IsOpen reports whether a complaint in step s awaits the brigade's decision.
func IsOpen(s string) bool { return slices.Contains(OpenSteps, s) }

// final reports whether s ends the complaint's life in the queue.
func final(s string) bool {
	return s == StepRegistered || s == StepForwarded || s == StepClosed || s == StepRejected
}

// Deadlines of the queue (the brigade's service commitments). A complaint
// older than AckWithin without being taken in hand is late; one open longer
// than DecideWithin without a decision is late too.
const (
	AckWithin    = 48 * time.Hour
	DecideWithin = 15 * 24 * time.Hour
)

// Wizard steps of the guided form, in order.
const (
	FormEligibility = "eligibility"
	FormFacts       = "facts"
	FormPlace       = "place"
	FormWhen        = "when"
	FormVictim      = "victim"
	FormItems       = "items"
	FormMoney       = "money"
	FormWitnesses   = "witnesses"
	FormEvidence    = "evidence"
	FormReview      = "review"
)

// FormSteps lists the steps of the guided form.
var FormSteps = []string{FormEligibility, FormFacts, FormPlace, FormWhen, FormVictim, FormItems, FormMoney, FormWitnesses, FormEvidence, FormReview}

// Form is a complaint as the citizen types it. Every answer is kept as
// typed (strings), so that a refused answer is shown again as it was.
type Form struct {
	Emergency   string `json:"emergency,omitempty"`    // yes | no
	AuthorKnown string `json:"author_known,omitempty"` // yes | no
	Violence    string `json:"violence,omitempty"`     // yes | no

	Category  string `json:"category,omitempty"`
	Narrative string `json:"narrative,omitempty"`

	NoPlace string `json:"no_place,omitempty"` // "yes": online, no place
	Dept    string `json:"dept,omitempty"`     // the citizen's département, when there is no place
	Address string `json:"address,omitempty"`
	Commune string `json:"commune,omitempty"` // INSEE code or "name (INSEE)"
	Lat     string `json:"lat,omitempty"`
	Lon     string `json:"lon,omitempty"`

	From string `json:"from,omitempty"` // 2006-01-02T15:04 (datetime-local)
	To   string `json:"to,omitempty"`

	VictimIs string `json:"victim_is,omitempty"` // self | other
	Victim   Person `json:"victim"`
	Contact  Person `json:"contact"` // the citizen filing for another person

	Items     []Item    `json:"items,omitempty"`
	Payments  []Payment `json:"payments,omitempty"`
	Website   string    `json:"website,omitempty"`
	ScamPhone string    `json:"scam_phone,omitempty"`
	ScamEmail string    `json:"scam_email,omitempty"`

	Witnesses []Witness `json:"witnesses,omitempty"`
	Files     []File    `json:"files,omitempty"`
	Consent   string    `json:"consent,omitempty"`
}

// Person is the victim, or the citizen filing for someone else.
type Person struct {
	Name      string `json:"name,omitempty"`
	BirthDate string `json:"birth_date,omitempty"` // 2006-01-02
	Address   string `json:"address,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Email     string `json:"email,omitempty"`
}

// Item kinds.
const (
	ItemPhone   = "phone"
	ItemVehicle = "vehicle"
	ItemCard    = "card"
	ItemObject  = "object"
	ItemMoney   = "money"
)

// ItemKinds lists the kinds of items, with their labels.
var ItemKinds = [][2]string{{ItemPhone, "Mobile phone"}, {ItemVehicle, "Vehicle"}, {ItemCard, "Bank card"}, {ItemObject, "Other object"}}

// Item is a thing taken or damaged. Card numbers are never kept whole: Card
// holds the masked number and CardLink the keyed hash (internal/casefile/ident).
type Item struct {
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	IMEI        string `json:"imei,omitempty"`
	Plate       string `json:"plate,omitempty"`
	VIN         string `json:"vin,omitempty"`
	Card        string `json:"card,omitempty"` // masked: 497010******1234
	CardLink    string `json:"card_link,omitempty"`
	Serial      string `json:"serial,omitempty"`
	Value       string `json:"value,omitempty"` // euros, as typed
}

// Payment is one payment in the money trail of a scam.
type Payment struct {
	IBAN        string `json:"iban,omitempty"`
	Amount      string `json:"amount,omitempty"`
	Date        string `json:"date,omitempty"`
	Beneficiary string `json:"beneficiary,omitempty"`
}

// Witness is someone who saw the facts.
type Witness struct {
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"`
}

// File is an evidence file kept in the blob store.
type File struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
}

// Errors maps a form field to what is wrong with it, in English (the page
// translates). An empty map means the answers are acceptable.
type Errors map[string]string

func (e Errors) add(field, msg string, args ...any) {
	if _, ok := e[field]; !ok {
		e[field] = fmt.Sprintf(msg, args...)
	}
}

// Has reports whether field has an error (templates).
func (e Errors) Has(field string) bool { _, ok := e[field]; return ok }

// Get returns the error of field (templates).
func (e Errors) Get(field string) string { return e[field] }

// Limits of free text.
const (
	maxNarrative = 10000
	maxLine      = 300
	maxItems     = 30
	maxPayments  = 30
	maxWitnesses = 10
	maxFiles     = 10
)

// Eligible reports where the eligibility answers lead: "" (online
// complaint possible), "emergency" (call 17/112) or "hearing" (an
// appointment in person: known author, violence against persons).
func (f *Form) Eligible() string {
	switch {
	case f.Emergency == "yes":
		return "emergency"
	case f.AuthorKnown == "yes" || f.Violence == "yes":
		return "hearing"
	}
	return ""
}

// CategoryInfo returns the category chosen, if any.
func (f *Form) CategoryInfo() Category { c, _ := CategoryOf(f.Category); return c }

// UsesMoney reports whether the form asks for the money trail.
func (f *Form) UsesMoney() bool { return f.CategoryInfo().Money }

// checkText checks a line of free text: length and no control characters.
func checkText(e Errors, field, v string, max int, required bool, missing string) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			e.add(field, "%s", missing)
		}
		return
	}
	if utf8.RuneCountInString(v) > max {
		e.add(field, "This answer is too long: please shorten it.")
		return
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			e.add(field, "This answer contains a character that is not allowed.")
			return
		}
	}
}

func yesNo(e Errors, field, v string) {
	if v != "yes" && v != "no" {
		e.add(field, "Please answer yes or no.")
	}
}

// Validation of each step. now is the current time (windows in the future
// are refused); ids normalises identifiers.
type checker struct {
	now time.Time
	loc *time.Location
	ids *ident.Extractor
}

// ParseLocal parses a datetime-local (2006-01-02T15:04) or a date
// (2006-01-02, taken as midnight) in loc.
func ParseLocal(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Step validates the answers of one step of the form.
func (c checker) Step(step string, f *Form) Errors {
	e := Errors{}
	switch step {
	case FormEligibility:
		yesNo(e, "emergency", f.Emergency)
		yesNo(e, "author_known", f.AuthorKnown)
		yesNo(e, "violence", f.Violence)
	case FormFacts:
		if _, ok := CategoryOf(f.Category); !ok {
			e.add("category", "Please choose what happened.")
		}
		checkText(e, "narrative", f.Narrative, maxNarrative, true, "Please tell what happened.")
		if n := len([]rune(strings.TrimSpace(f.Narrative))); n > 0 && n < 20 {
			e.add("narrative", "Please tell what happened in a few sentences (20 characters at least).")
		}
	case FormPlace:
		c.place(e, f)
	case FormWhen:
		c.when(e, f)
	case FormVictim:
		c.victim(e, f)
	case FormItems:
		if len(f.Items) > maxItems {
			e.add("items", "At most 30 items can be listed.")
		}
		for i := range f.Items {
			for k, v := range c.Item(&f.Items[i]) {
				e.add(fmt.Sprintf("items.%d.%s", i, k), "%s", v)
			}
		}
	case FormMoney:
		c.money(e, f)
	case FormWitnesses:
		if len(f.Witnesses) > maxWitnesses {
			e.add("witnesses", "At most 10 witnesses can be listed.")
		}
		for i, w := range f.Witnesses {
			checkText(e, fmt.Sprintf("witnesses.%d.name", i), w.Name, maxLine, true, "Please give the witness's name.")
			checkText(e, fmt.Sprintf("witnesses.%d.contact", i), w.Contact, maxLine, false, "")
		}
	case FormEvidence:
		if len(f.Files) > maxFiles {
			e.add("files", "At most 10 files can be added.")
		}
	case FormReview:
		if f.Consent != "yes" {
			e.add("consent", "Please confirm that your statement is sincere and complete.")
		}
	}
	return e
}

// All validates every step; the first step with an error is returned with
// its errors.
func (c checker) All(f *Form) (string, Errors) {
	if f.Eligible() != "" {
		return FormEligibility, Errors{"emergency": "This complaint cannot be filed online: see the answer to the first questions."}
	}
	for _, s := range FormSteps {
		if s == FormMoney && !f.UsesMoney() {
			continue
		}
		if e := c.Step(s, f); len(e) > 0 {
			return s, e
		}
	}
	return "", nil
}

func (c checker) place(e Errors, f *Form) {
	if f.NoPlace == "yes" {
		if !f.CategoryInfo().Online {
			e.add("no_place", "An offence of this kind happens somewhere: please give the place.")
		}
		if !validDept(f.Dept) {
			e.add("dept", "Please choose the département where you live.")
		}
		return
	}
	checkText(e, "address", f.Address, maxLine, false, "")
	lat, lon := strings.TrimSpace(f.Lat), strings.TrimSpace(f.Lon)
	if f.Commune == "" && lat == "" && lon == "" {
		e.add("commune", "Please give the commune where it happened (or a position on the map).")
		return
	}
	if f.Commune != "" {
		if _, ok := INSEEOf(f.Commune); !ok {
			e.add("commune", "Choose a commune from the list, or type its INSEE code (5 characters, for example 01053).")
		}
	}
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(strings.ReplaceAll(lat, ",", "."), 64)
		lo, err2 := strconv.ParseFloat(strings.ReplaceAll(lon, ",", "."), 64)
		if err1 != nil || la < -90 || la > 90 {
			e.add("lat", "The latitude is a number of degrees between -90 and 90, for example 46.2052.")
		}
		if err2 != nil || lo < -180 || lo > 180 {
			e.add("lon", "The longitude is a number of degrees between -180 and 180, for example 5.2255.")
		}
	}
}

// INSEEOf reads a commune answer: a bare INSEE code ("01053", "2A004") or a
// suggestion "Bourg-en-Bresse (01053)".
func INSEEOf(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		s = s[i+1 : len(s)-1]
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 5 {
		return "", false
	}
	for i, r := range s {
		ok := r >= '0' && r <= '9' || (i == 1 && (r == 'A' || r == 'B') && s[0] == '2')
		if !ok {
			return "", false
		}
	}
	return s, true
}

// Window returns the time window of the facts.
func (c checker) Window(f *Form) (from, to time.Time, ok bool) {
	from, ok1 := ParseLocal(f.From, c.loc)
	to, ok2 := ParseLocal(f.To, c.loc)
	if strings.TrimSpace(f.To) == "" {
		to, ok2 = from, ok1
	}
	return from, to, ok1 && ok2 && !to.Before(from)
}

func (c checker) when(e Errors, f *Form) {
	from, ok := ParseLocal(f.From, c.loc)
	if strings.TrimSpace(f.From) == "" {
		e.add("from", "Please give the earliest moment the facts may have happened.")
		return
	}
	if !ok {
		e.add("from", "This is not a date and time: use the form 2026-03-14 18:30.")
		return
	}
	to := from
	if strings.TrimSpace(f.To) != "" {
		if to, ok = ParseLocal(f.To, c.loc); !ok {
			e.add("to", "This is not a date and time: use the form 2026-03-14 18:30.")
			return
		}
	}
	switch {
	case from.After(c.now):
		e.add("from", "This moment is in the future.")
	case to.After(c.now.Add(5 * time.Minute)):
		e.add("to", "This moment is in the future.")
	case to.Before(from):
		e.add("to", "The end of the window is before its start: the facts cannot have happened between these two moments.")
	case c.now.Sub(from) > 20*365*24*time.Hour:
		e.add("from", "Facts older than 20 years cannot be reported online.")
	case to.Sub(from) > 366*24*time.Hour:
		e.add("to", "The window is longer than a year; please narrow it down.")
	}
}

func (c checker) victim(e Errors, f *Form) {
	if f.VictimIs != "self" && f.VictimIs != "other" {
		e.add("victim_is", "Please say who was harmed: you, or another person.")
	}
	c.person(e, "victim.", &f.Victim, true)
	if f.VictimIs == "other" {
		c.person(e, "contact.", &f.Contact, false)
		if strings.TrimSpace(f.Contact.Name) == "" {
			e.add("contact.name", "Please give your own name, as the person filing the complaint.")
		}
	}
	if strings.TrimSpace(f.Victim.Email) == "" && (f.VictimIs != "other" || strings.TrimSpace(f.Contact.Email) == "") {
		e.add("victim.email", "Please give an e-mail address: the receipt and the brigade's messages are sent there.")
	}
}

func (c checker) person(e Errors, prefix string, p *Person, victim bool) {
	checkText(e, prefix+"name", p.Name, 120, victim, "Please give the full name.")
	checkText(e, prefix+"address", p.Address, maxLine, false, "")
	if s := strings.TrimSpace(p.BirthDate); s != "" {
		d, err := time.ParseInLocation("2006-01-02", s, c.loc)
		switch {
		case err != nil:
			e.add(prefix+"birth_date", "This is not a date: use the form 1980-05-21.")
		case d.After(c.now):
			e.add(prefix+"birth_date", "A birth date cannot be in the future.")
		case d.Year() < 1900:
			e.add(prefix+"birth_date", "This birth date is too far in the past.")
		}
	}
	if s := strings.TrimSpace(p.Phone); s != "" {
		if id, err := c.ids.Normalize(ident.KindPhone, s); err != nil {
			e.add(prefix+"phone", "This phone number is not valid: give ten digits (06 12 34 56 78) or an international number (+33 6 12 34 56 78).")
		} else {
			p.Phone = id.Value
		}
	}
	if s := strings.TrimSpace(p.Email); s != "" {
		if id, err := c.ids.Normalize(ident.KindEmail, s); err != nil {
			e.add(prefix+"email", "This e-mail address is not valid: it looks like name@example.fr.")
		} else {
			p.Email = id.Value
		}
	}
}

// Item validates and normalises an item in place.
func (c checker) Item(it *Item) Errors {
	e := Errors{}
	checkText(e, "description", it.Description, maxLine, it.Kind == ItemObject, "Please describe the object in a few words.")
	switch it.Kind {
	case ItemPhone:
		if s := strings.TrimSpace(it.IMEI); s != "" {
			if id, err := c.ids.Normalize(ident.KindIMEI, s); err != nil {
				e.add("imei", "This IMEI is not valid: it has 15 digits (type *#06# on the phone, or read the box); one digit is probably mistyped.")
			} else {
				it.IMEI = id.Value
			}
		}
	case ItemVehicle:
		if strings.TrimSpace(it.Plate) == "" && strings.TrimSpace(it.VIN) == "" {
			e.add("plate", "Please give the registration plate or the VIN of the vehicle.")
		}
		if s := strings.TrimSpace(it.Plate); s != "" {
			if id, err := c.ids.Normalize(ident.KindPlate, s); err != nil {
				e.add("plate", "This plate is not a French plate: write it as AB-123-CD (or 1234 AB 56 for older ones).")
			} else {
				it.Plate = id.Value
			}
		}
		if s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(it.VIN), " ", "")); s != "" {
			if !validVIN(s) {
				e.add("vin", "A VIN has 17 letters and digits (never I, O or Q); it is on the registration certificate, field E.")
			} else {
				it.VIN = s
			}
		}
	case ItemCard:
		if it.Card == "" {
			e.add("card", "Please give the card number (only its first six and last four digits are kept).")
		}
	case ItemObject:
		checkText(e, "serial", it.Serial, 64, false, "")
	default:
		e.add("kind", "Please choose the kind of item.")
	}
	if s := strings.TrimSpace(it.Value); s != "" {
		if _, ok := parseEuros(s); !ok {
			e.add("value", "Give the value in euros, for example 250 or 1 250,50.")
		}
	}
	return e
}

func validVIN(s string) bool {
	if len(s) != 17 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') || r == 'I' || r == 'O' || r == 'Q' {
			return false
		}
	}
	return true
}

// parseEuros reads an amount in euros ("1 250,50", "1250.5", "80 €") and
// returns cents.
func parseEuros(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "€"))
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "EUR", "", "eur", "").Replace(s)
	s = strings.ReplaceAll(s, ",", ".")
	if s == "" || strings.Count(s, ".") > 1 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" && frac == "" {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(orZero(whole), 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > 100_000_000 {
		return 0, false
	}
	return w*100 + f, true
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// FormatEuros formats cents as "1 250,50 €".
func FormatEuros(cents int64) string {
	w, f := cents/100, cents%100
	s := strconv.FormatInt(w, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s,%02d €", b.String(), f)
}

func (c checker) money(e Errors, f *Form) {
	if len(f.Payments) > maxPayments {
		e.add("payments", "At most 30 payments can be listed.")
	}
	for i := range f.Payments {
		p := &f.Payments[i]
		pre := fmt.Sprintf("payments.%d.", i)
		if s := strings.TrimSpace(p.IBAN); s != "" {
			if id, err := c.ids.Normalize(ident.KindIBAN, s); err != nil {
				e.add(pre+"iban", "%s", ibanMessage(err))
			} else {
				p.IBAN = id.Display
			}
		}
		if _, ok := parseEuros(p.Amount); !ok {
			e.add(pre+"amount", "Give the amount in euros, for example 250 or 1 250,50.")
		}
		if s := strings.TrimSpace(p.Date); s != "" {
			d, ok := ParseLocal(s, c.loc)
			if !ok {
				e.add(pre+"date", "This is not a date: use the form 2026-03-14.")
			} else if d.After(c.now) {
				e.add(pre+"date", "This date is in the future.")
			}
		}
		checkText(e, pre+"beneficiary", p.Beneficiary, maxLine, false, "")
	}
	if s := strings.TrimSpace(f.Website); s != "" {
		if id, err := c.ids.Normalize(ident.KindURL, s); err != nil {
			if id2, err2 := c.ids.Normalize(ident.KindDomain, s); err2 != nil {
				e.add("website", "This is not a web address: write it as https://www.example.fr or example.fr.")
			} else {
				f.Website = id2.Value
			}
		} else {
			f.Website = id.Value
		}
	}
	if s := strings.TrimSpace(f.ScamPhone); s != "" {
		if id, err := c.ids.Normalize(ident.KindPhone, s); err != nil {
			e.add("scam_phone", "This phone number is not valid: give ten digits (06 12 34 56 78) or an international number (+33 6 12 34 56 78).")
		} else {
			f.ScamPhone = id.Value
		}
	}
	if s := strings.TrimSpace(f.ScamEmail); s != "" {
		if id, err := c.ids.Normalize(ident.KindEmail, s); err != nil {
			e.add("scam_email", "This e-mail address is not valid: it looks like name@example.fr.")
		} else {
			f.ScamEmail = id.Value
		}
	}
}

// ibanMessage turns ident's IBAN messages into ours: the checksum case gets
// its own sentence, the others keep ident's explanation.
func ibanMessage(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "check digits"):
		return "This IBAN is not valid: its check digits do not match, one character is probably mistyped."
	case strings.Contains(msg, "country"):
		return "This IBAN is not valid: it starts with the country code and two digits, as in FR76 3000 6000 0112 3456 7890 189."
	case strings.Contains(msg, "characters"):
		return "This IBAN is not valid: it has too many or too few characters (27 for a French IBAN)."
	}
	return "This IBAN is not valid: it may only hold letters, digits and spaces."
}

// Identifiers returns the identifiers a complaint carries, for the
// linked-identifier index: typed fields first, then what the narrative holds.
func (c checker) Identifiers(f *Form) []ident.Identifier {
	var out []ident.Identifier
	seen := map[string]bool{}
	add := func(id ident.Identifier) {
		k := string(id.Kind) + "\x00" + id.Value
		if id.Value == "" || seen[k] {
			return
		}
		seen[k] = true
		id.Start, id.End = 0, 0
		out = append(out, id)
	}
	norm := func(k ident.Kind, s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		if id, err := c.ids.Normalize(k, s); err == nil {
			add(id)
		}
	}
	for _, it := range f.Items {
		norm(ident.KindIMEI, it.IMEI)
		norm(ident.KindPlate, it.Plate)
		if it.CardLink != "" {
			add(ident.Identifier{Kind: ident.KindCard, Value: it.CardLink, Display: it.Card})
		}
	}
	for _, p := range f.Payments {
		norm(ident.KindIBAN, p.IBAN)
	}
	if f.Website != "" {
		if strings.Contains(f.Website, "://") {
			norm(ident.KindURL, f.Website)
			for _, id := range c.ids.Extract(f.Website) {
				if id.Kind == ident.KindDomain {
					add(id)
				}
			}
		} else {
			norm(ident.KindDomain, f.Website)
		}
	}
	norm(ident.KindPhone, f.ScamPhone)
	norm(ident.KindEmail, f.ScamEmail)
	for _, id := range c.ids.Extract(f.Narrative) {
		add(id)
	}
	return out
}

// validDept reports whether s looks like a département code.
func validDept(s string) bool {
	switch len(s) {
	case 2:
		return s == "2A" || s == "2B" || (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s != "00" && s != "20")
	case 3:
		return strings.HasPrefix(s, "97") && s[2] >= '0' && s[2] <= '9'
	}
	return false
}

// FromText and ToText show the window as a French reader expects
// (14/03/2026 18:30), or as typed when it is not a date.
func (f Form) FromText() string { return localText(f.From) }

// ToText: see FromText.
func (f Form) ToText() string { return localText(f.To) }

func localText(s string) string {
	t, ok := ParseLocal(s, paris)
	if !ok {
		return s
	}
	if len(strings.TrimSpace(s)) == len("2006-01-02") {
		return t.Format("02/01/2006")
	}
	return t.Format("02/01/2006 15:04")
}
