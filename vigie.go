// Package vigie holds the vocabulary that every area of Vigie shares: error
// kinds, the acting user carried in a request context, roles, and the shape of
// a journal record. It imports only the standard library so that every other
// package may depend on it.
package vigie

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error so that it is handled once, in one place (the web
// layer maps kinds to HTTP status codes; the CLI maps them to exit codes).
type Kind uint8

const (
	KindOther           Kind = iota // unclassified: treated as internal
	KindInvalid                     // the input is wrong; the message says why
	KindNotFound                    // no such thing (or not visible to the actor)
	KindUnauthenticated             // the actor must sign in first
	KindForbidden                   // signed in, but not allowed
	KindConflict                    // the state does not allow it (duplicate, stale version)
	KindTooMany                     // throttled or locked out for now
	KindUnavailable                 // a dependency is down; try again later
	KindInternal                    // a bug or an unexpected failure
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindForbidden:
		return "forbidden"
	case KindConflict:
		return "conflict"
	case KindTooMany:
		return "too many requests"
	case KindUnavailable:
		return "unavailable"
	case KindInternal:
		return "internal"
	}
	return "other"
}

// Error is an error with a kind, the operation that failed, and a message that
// may be shown to a user. Msg is written in English, as a sentence a person
// understands; the web layer translates it (gettext style: the English text is
// the key). Internal details belong in Err, which users never see.
type Error struct {
	Kind Kind
	Op   string // e.g. "org.CreateUnit"
	Msg  string // safe to show to users
	Err  error  // the underlying cause, for logs only
}

func (e *Error) Error() string {
	var s string
	if e.Op != "" {
		s = e.Op + ": "
	}
	if e.Msg != "" {
		s += e.Msg
	} else {
		s += e.Kind.String()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. msg is shown to users; keep internals in err.
func E(kind Kind, op, msg string, err error) *Error {
	return &Error{Kind: kind, Op: op, Msg: msg, Err: err}
}

// Invalidf returns a KindInvalid error whose message is shown to the user.
func Invalidf(op, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// ErrNotFound, ErrForbidden and ErrUnauthenticated are ready-made errors for the
// common cases; wrap them with fmt.Errorf("...: %w", err) to add context.
var (
	ErrNotFound        = &Error{Kind: KindNotFound, Msg: "Not found."}
	ErrForbidden       = &Error{Kind: KindForbidden, Msg: "You are not allowed to do this."}
	ErrUnauthenticated = &Error{Kind: KindUnauthenticated, Msg: "Please sign in."}
)

// KindOf returns the kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		if e.Kind == KindOther && e.Err != nil {
			return KindOf(e.Err)
		}
		return e.Kind
	}
	return KindOther
}

// MessageOf returns the user-facing message of the first *Error in err's
// chain that carries one, or "".
func MessageOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Msg != "" {
			return e.Msg
		}
		err = e.Err
	}
	return ""
}

// Role is what an account is for. A role grants capabilities; the unit of the
// account bounds where they apply (see internal/auth's policy).
type Role string

const (
	RoleCitizen      Role = "citizen"
	RoleAgent        Role = "agent"        // gendarme in a brigade
	RoleInvestigator Role = "investigator" // officier de police judiciaire (OPJ)
	RoleCommander    Role = "commander"    // compagnie or groupement commander
	RoleAnalyst      Role = "analyst"
	RoleSecurity     Role = "security" // security officer (RSSI, SOC)
	RoleAdmin        Role = "admin"
	RoleTrainer      Role = "trainer"
)

// Roles lists every role, in the order shown to administrators.
var Roles = []Role{RoleCitizen, RoleAgent, RoleInvestigator, RoleCommander, RoleAnalyst, RoleSecurity, RoleAdmin, RoleTrainer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Staff reports whether the role belongs to the force (everything but citizen).
// Staff accounts must use multi-factor authentication.
func (r Role) Staff() bool { return r.Valid() && r != RoleCitizen }

// User is the acting user of a request or command, as established by
// internal/auth. It is read-only once placed in a context.
type User struct {
	ID     int64
	Login  string
	Name   string
	Role   Role
	UnitID int64  // 0 when the account belongs to no unit (citizen, national admin)
	Dept   string // département code of the unit ("2A", "974"...), "" if none
	Lang   string // "fr" or "en"
	// Via says how the request authenticated: "session", "token", "cli".
	Via string
	// SessionID is the server-side session (hashed id), empty for tokens.
	SessionID string
}

type ctxKey int

const (
	userKey ctxKey = iota
	clientKey
)

// WithUser returns a context carrying u as the acting user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// UserFrom returns the acting user, or nil when nobody is signed in.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey).(*User)
	return u
}

// Client describes where a request comes from, for the journal and detectors.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
}

// WithClient returns a context carrying c.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientFrom returns the request's client, or the zero Client.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}

// Journal actions, as French law on police files names them.
const (
	ActCollect     = "collect"     // personal data entered
	ActConsult     = "consult"     // personal data read
	ActChange      = "change"      // personal data changed
	ActCommunicate = "communicate" // personal data sent outside (export, share)
	ActErase       = "erase"       // personal data erased
	ActAdmin       = "admin"       // configuration, accounts, units
	ActAuth        = "auth"        // sign-in, sign-out, MFA, lock-out
)

// Record is one entry to write in the consultation journal (internal/audit).
// Areas fill it and hand it to the journal in the same database transaction
// as the action it records; the journal adds who, when and the chain hash.
type Record struct {
	Action   string // one of the Act* constants
	Object   string // kind of record: "user", "unit", "complaint"...
	ObjectID string // its identifier
	Dept     string // département the record belongs to, if any
	UnitID   int64  // unit the record belongs to, if any
	Motif    string // why: a case number or a reason code; required to consult personal data
	Detail   string // short free text: what changed, which fields, how many rows
}

// Perm is something an actor asks to do. internal/auth's policy decides, in
// one place, whether the acting user may do it on a Target.
type Perm string

const (
	PermRead          Perm = "read"           // consult the records of a unit (cases, complaints, persons)
	PermWrite         Perm = "write"          // create or change the records of a unit
	PermStats         Perm = "stats"          // aggregated figures, maps, forecasts of a unit (no personal data)
	PermOrgAdmin      Perm = "org.admin"      // manage départements, units, territories
	PermUserAdmin     Perm = "user.admin"     // manage accounts
	PermJournalRead   Perm = "journal.read"   // search the consultation journal
	PermJournalExport Perm = "journal.export" // export the consultation journal
	PermTraining      Perm = "training.admin" // manage courses and certifications
	PermSecurity      Perm = "security"       // the security centre: alerts, bans, firewall rules
)

// Target is what a permission applies to. Records of the force belong to a
// unit (and so to a département); records of citizens also name their owner.
type Target struct {
	Dept    string // département code, "" for national records
	UnitID  int64  // owning unit, 0 for département-wide or national records
	OwnerID int64  // the citizen account that owns the record, if any
	Kind    string // "case", "complaint", "unit", "user"...; used for explicit shares
	ID      string // identifier of the record, for explicit shares
}
