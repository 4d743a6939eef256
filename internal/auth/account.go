package auth

import (
	"net/mail"
	"strings"
	"time"

	"vigie"
)

// Account is a user account as administrators see it. Secrets (password
// hash, TOTP secret) never leave the store through this type.
type Account struct {
	ID          int64      `json:"id"`
	Login       string     `json:"login"`
	Name        string     `json:"name"`
	Email       string     `json:"email"`
	Role        vigie.Role `json:"role"`
	UnitID      int64      `json:"unit_id"`
	Dept        string     `json:"dept"`
	Lang        string     `json:"lang"`
	MFAEnrolled bool       `json:"mfa_enrolled"`
	Disabled    bool       `json:"disabled"`
	LockedUntil time.Time  `json:"locked_until,omitzero"`
	Demo        bool       `json:"demo"`
	CreatedAt   time.Time  `json:"created_at"`
}

// User returns the acting-user view of the account.
func (a *Account) User(via string) *vigie.User {
	return &vigie.User{ID: a.ID, Login: a.Login, Name: a.Name, Role: a.Role, UnitID: a.UnitID,
		Dept: a.Dept, Lang: a.Lang, Via: via}
}

// Target is the account as a target of PermUserAdmin.
func (a *Account) Target() vigie.Target {
	return vigie.Target{Dept: a.Dept, UnitID: a.UnitID, Kind: "user", ID: itoa(a.ID)}
}

// NewUser describes an account to create.
type NewUser struct {
	Login    string
	Name     string
	Email    string
	Role     vigie.Role
	UnitID   int64
	Dept     string // filled from the unit tree when UnitID is set
	Lang     string
	Password string // may be empty for staff signing in through OpenID Connect only
	// TOTPSecret fixes the TOTP secret (base32), for demo accounts whose
	// codes are documented; empty: a fresh secret is generated for staff.
	TOTPSecret string
	Demo       bool
}

// normLogin returns the canonical form of a login: trimmed, lower case.
func normLogin(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validLogin: 3 to 64 characters among a-z 0-9 . _ - @ (e-mail addresses
// are valid logins for citizens).
func validLogin(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == '@':
		default:
			return false
		}
	}
	return true
}

// validate checks and normalises a new account (the password is checked
// separately, since OIDC-only accounts have none).
func (n *NewUser) validate() error {
	const op = "auth.NewUser"
	n.Login = normLogin(n.Login)
	n.Name = strings.TrimSpace(n.Name)
	n.Email = strings.TrimSpace(n.Email)
	if !validLogin(n.Login) {
		return vigie.Invalidf(op, "The login must have 3 to 64 characters: lower-case letters, digits, dot, dash, underscore or @.")
	}
	if n.Name == "" || len(n.Name) > 200 {
		return vigie.Invalidf(op, "The name is required (at most 200 characters).")
	}
	if n.Email != "" {
		if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
			return vigie.Invalidf(op, "The e-mail address is not valid.")
		}
	}
	if !n.Role.Valid() {
		return vigie.Invalidf(op, "Unknown role.")
	}
	if n.UnitID < 0 {
		return vigie.Invalidf(op, "Unknown unit.")
	}
	if n.Role == vigie.RoleCitizen && (n.UnitID != 0 || n.Dept != "") {
		return vigie.Invalidf(op, "A citizen account belongs to no unit.")
	}
	switch n.Lang {
	case "":
		n.Lang = "fr"
	case "fr", "en":
	default:
		return vigie.Invalidf(op, "The language must be fr or en.")
	}
	return nil
}

// Change is a partial update of an account by an administrator; nil
// fields are left alone.
type Change struct {
	Name   *string     `json:"name,omitempty"`
	Email  *string     `json:"email,omitempty"`
	Role   *vigie.Role `json:"role,omitempty"`
	UnitID *int64      `json:"unit_id,omitempty"`
	Dept   *string     `json:"dept,omitempty"`
	Lang   *string     `json:"lang,omitempty"`
}

// apply returns a copy of a with c applied, as a NewUser for validation.
func (c Change) apply(a Account) NewUser {
	n := NewUser{Login: a.Login, Name: a.Name, Email: a.Email, Role: a.Role, UnitID: a.UnitID, Dept: a.Dept, Lang: a.Lang}
	if c.Name != nil {
		n.Name = *c.Name
	}
	if c.Email != nil {
		n.Email = *c.Email
	}
	if c.Role != nil {
		n.Role = *c.Role
	}
	if c.UnitID != nil {
		n.UnitID = *c.UnitID
		n.Dept = "" // derived from the new unit
	}
	if c.Dept != nil {
		n.Dept = *c.Dept
	}
	if c.Lang != nil {
		n.Lang = *c.Lang
	}
	return n
}

// Filter selects accounts in a listing.
type Filter struct {
	Query    string // part of login, name or e-mail
	Role     vigie.Role
	Dept     string
	UnitID   int64
	Disabled *bool
	Limit    int
	Offset   int
}

// roleLabels are the English names of roles (translated in templates).
var roleLabels = map[vigie.Role]string{
	vigie.RoleCitizen: "Citizen", vigie.RoleAgent: "Gendarme", vigie.RoleInvestigator: "Investigator (OPJ)",
	vigie.RoleCommander: "Commander", vigie.RoleAnalyst: "Analyst", vigie.RoleSecurity: "Security officer",
	vigie.RoleAdmin: "Administrator", vigie.RoleTrainer: "Trainer",
}

// RoleLabel is the English name of the account's role.
func (a Account) RoleLabel() string { return roleLabels[a.Role] }

type roleOption struct {
	Value vigie.Role
	Label string
}

func roleOptions() []roleOption {
	out := make([]roleOption, 0, len(vigie.Roles))
	for _, r := range vigie.Roles {
		out = append(out, roleOption{r, roleLabels[r]})
	}
	return out
}
