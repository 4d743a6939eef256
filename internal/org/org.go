package org

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie"
)

// Kind is the level of a unit in the tree.
type Kind string

const (
	Groupement Kind = "groupement" // one per département
	Compagnie  Kind = "compagnie"  // under the groupement
	Brigade    Kind = "brigade"    // under a compagnie; owns a territory
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Groupement || k == Compagnie || k == Brigade }

// ParentKind is the kind a unit of kind k must hang under ("" for none).
func (k Kind) ParentKind() Kind {
	switch k {
	case Compagnie:
		return Groupement
	case Brigade:
		return Compagnie
	}
	return ""
}

// Zones of a département.
const (
	ZoneMetro    = "metro"
	ZoneOutreMer = "outre-mer"
)

// Departement is a territory Vigie serves.
type Departement struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	Zone      string    `json:"zone"`
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
	// Counts, filled by listings.
	Units    int `json:"units"`
	Communes int `json:"communes"`
	Assigned int `json:"assigned"` // communes that belong to a brigade
}

// Unit is a groupement, a compagnie or a brigade.
type Unit struct {
	ID        int64     `json:"id"`
	Dept      string    `json:"dept"`
	Kind      Kind      `json:"kind"`
	ParentID  int64     `json:"parent_id,omitempty"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
	Communes  int       `json:"communes,omitempty"` // size of a brigade's territory, in listings
}

// Commune is a commune of a département, with its geometry as GeoJSON text.
type Commune struct {
	INSEE       string   `json:"insee"`
	Dept        string   `json:"dept"`
	Name        string   `json:"name"`
	Population  int64    `json:"population"`
	PostalCodes []string `json:"postal_codes"`
	Geometry    string   `json:"-"`
	BrigadeID   int64    `json:"brigade_id,omitempty"`
}

// ValidDeptCode reports whether s looks like a département code: two digits,
// 2A or 2B (Corsica), or three digits starting with 97 or 98 (outre-mer).
func ValidDeptCode(s string) bool {
	switch len(s) {
	case 2:
		if s == "2A" || s == "2B" {
			return true
		}
		return isDigits(s) && s != "00" && s != "20"
	case 3:
		return isDigits(s) && (strings.HasPrefix(s, "97") || strings.HasPrefix(s, "98"))
	}
	return false
}

// ValidINSEE reports whether s is a commune code of département dept: the
// département code followed by digits, five characters in all.
func ValidINSEE(s, dept string) bool {
	return len(s) == 5 && strings.HasPrefix(s, dept) && isDigits(s[len(dept):])
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Validate checks a département before it is stored, and fills the zone and
// time zone when they are left empty.
func (d *Departement) Validate() error {
	const op = "org.Departement"
	d.Code = strings.ToUpper(strings.TrimSpace(d.Code))
	d.Name = strings.TrimSpace(d.Name)
	if !ValidDeptCode(d.Code) {
		return vigie.Invalidf(op, "The département code %q is not valid: use two digits (\"01\"), 2A or 2B, or three digits for outre-mer (\"974\").", d.Code)
	}
	if err := checkName(op, "département", d.Name); err != nil {
		return err
	}
	if d.Zone == "" {
		d.Zone = ZoneMetro
		if len(d.Code) == 3 {
			d.Zone = ZoneOutreMer
		}
	}
	if d.Zone != ZoneMetro && d.Zone != ZoneOutreMer {
		return vigie.Invalidf(op, "The zone must be %q or %q.", ZoneMetro, ZoneOutreMer)
	}
	if d.TimeZone == "" {
		d.TimeZone = defaultTimeZone(d.Code)
	}
	if _, err := time.LoadLocation(d.TimeZone); err != nil || d.TimeZone == "Local" {
		return vigie.Invalidf(op, "The time zone %q is unknown; use a name such as Europe/Paris.", d.TimeZone)
	}
	return nil
}

// defaultTimeZone is the time zone of a département code, for the ones Vigie
// knows; Europe/Paris otherwise (the administrator may set another one).
func defaultTimeZone(code string) string {
	switch code {
	case "971", "972", "977", "978":
		return "America/Guadeloupe"
	case "973":
		return "America/Cayenne"
	case "974":
		return "Indian/Reunion"
	case "975":
		return "America/Miquelon"
	case "976":
		return "Indian/Mayotte"
	}
	return "Europe/Paris"
}

func checkName(op, what, name string) error {
	if name == "" {
		return vigie.Invalidf(op, "The name of the %s is missing.", what)
	}
	if utf8.RuneCountInString(name) > 120 {
		return vigie.Invalidf(op, "The name of the %s is too long (120 characters at most).", what)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return vigie.Invalidf(op, "The name of the %s contains a control character.", what)
		}
	}
	return nil
}

// ValidateNew checks a unit before it is created, given its parent (nil for
// a groupement).
func (u *Unit) ValidateNew(parent *Unit) error {
	const op = "org.CreateUnit"
	u.Name = strings.TrimSpace(u.Name)
	u.Code = strings.ToUpper(strings.TrimSpace(u.Code))
	if !u.Kind.Valid() {
		return vigie.Invalidf(op, "The kind of unit must be groupement, compagnie or brigade.")
	}
	if err := checkName(op, string(u.Kind), u.Name); err != nil {
		return err
	}
	if err := checkCode(op, u.Code); err != nil {
		return err
	}
	return checkParent(op, u, parent)
}

// checkParent enforces the shape of the tree: a groupement has no parent, a
// compagnie hangs under the groupement, a brigade under a compagnie, both of
// the same département.
func checkParent(op string, u *Unit, parent *Unit) error {
	want := u.Kind.ParentKind()
	switch {
	case want == "" && parent != nil:
		return vigie.Invalidf(op, "A groupement has no parent unit.")
	case want == "":
		if !ValidDeptCode(u.Dept) {
			return vigie.Invalidf(op, "The département code %q is not valid.", u.Dept)
		}
		return nil
	case parent == nil:
		return vigie.Invalidf(op, "A %s must be placed under a %s.", u.Kind, want)
	case parent.Kind != want:
		return vigie.Invalidf(op, "A %s must be placed under a %s, not under a %s.", u.Kind, want, parent.Kind)
	case u.Dept != "" && u.Dept != parent.Dept:
		return vigie.Invalidf(op, "The unit belongs to département %s but its parent %q belongs to %s; both must be in the same département.", u.Dept, parent.Name, parent.Dept)
	}
	u.Dept = parent.Dept
	u.ParentID = parent.ID
	return nil
}

func checkCode(op, code string) error {
	if code == "" {
		return vigie.Invalidf(op, "The unit code is missing (for example BR-01053).")
	}
	if len(code) > 32 {
		return vigie.Invalidf(op, "The unit code is too long (32 characters at most).")
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return vigie.Invalidf(op, "The unit code %q may only contain letters, digits, '-', '_' and '.'.", code)
		}
	}
	return nil
}

// UnitChange is a partial update of a unit: nil fields stay as they are.
type UnitChange struct {
	Name     *string `json:"name,omitempty"`
	Code     *string `json:"code,omitempty"`
	ParentID *int64  `json:"parent_id,omitempty"`
}

// Apply applies c to u, given the new parent when ParentID changes, and
// says what changed, for the journal.
func (c UnitChange) Apply(u *Unit, newParent *Unit) (string, error) {
	const op = "org.UpdateUnit"
	var changed []string
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if err := checkName(op, string(u.Kind), name); err != nil {
			return "", err
		}
		if name != u.Name {
			changed = append(changed, fmt.Sprintf("name %q → %q", u.Name, name))
			u.Name = name
		}
	}
	if c.Code != nil {
		code := strings.ToUpper(strings.TrimSpace(*c.Code))
		if err := checkCode(op, code); err != nil {
			return "", err
		}
		if code != u.Code {
			changed = append(changed, fmt.Sprintf("code %s → %s", u.Code, code))
			u.Code = code
		}
	}
	if c.ParentID != nil && *c.ParentID != u.ParentID {
		if newParent == nil && u.Kind != Groupement {
			return "", vigie.Invalidf(op, "The new parent unit does not exist.")
		}
		if newParent != nil && newParent.ID == u.ID {
			return "", vigie.Invalidf(op, "A unit cannot be its own parent.")
		}
		old := u.ParentID
		if err := checkParent(op, u, newParent); err != nil {
			return "", err
		}
		changed = append(changed, fmt.Sprintf("parent %d → %d", old, u.ParentID))
	}
	return strings.Join(changed, "; "), nil
}

// deName returns "de X" in French, with the elisions and contractions a
// reader expects: "d'Ambérieu", "du Havre", "des Abrets".
func deName(name string) string {
	switch {
	case strings.HasPrefix(name, "Le "):
		return "du " + name[3:]
	case strings.HasPrefix(name, "Les "):
		return "des " + name[4:]
	}
	r, _ := utf8.DecodeRuneInString(name)
	if strings.ContainsRune("AEIOUYÂÉÈÊÎÔŒ", r) {
		return "d'" + name
	}
	return "de " + name
}

// deptDe returns "de l'Ain", "du Nord"... from the INSEE liaison type.
func deptDe(name string, liaison int) string {
	switch liaison {
	case 1:
		return "d'" + name
	case 2:
		return "du " + name
	case 3:
		return "de la " + name
	case 4:
		return "des " + name
	case 5:
		return "de l'" + name
	}
	return "de " + name
}

// Unassigned is the number of communes in no brigade.
func (d Departement) Unassigned() int { return d.Communes - d.Assigned }
