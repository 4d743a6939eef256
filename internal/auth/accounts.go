package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// cliActor stands for the operator at the server's console: whoever runs
// "vigie user ..." already holds the database, so the policy is not asked,
// but the journal still says what was done and how.
var cliActor = &vigie.User{Login: "cli", Name: "Console", Role: vigie.RoleAdmin, Via: "cli"}

// actorOf returns the acting user of ctx, or the console operator.
func actorOf(ctx context.Context) *vigie.User {
	if u := vigie.UserFrom(ctx); u != nil {
		return u
	}
	return cliActor
}

// checkAdmin asks the policy for PermUserAdmin on an account target; the
// console operator (no user in ctx) is not asked.
func (a *Auth) checkAdmin(ctx context.Context, t vigie.Target) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	// SECURITY: the console (`vigie user …`) acts with the rights of whoever
	// holds the data directory or the database credentials: all of them.
	// Only cmd/vigie builds such a user; no request can (Via is set by the
	// middleware to "session" or "token").
	if u.Via == "cli" && u.ID == 0 {
		return nil
	}
	if a.policy == nil {
		return vigie.ErrForbidden
	}
	return a.policy.Check(ctx, vigie.PermUserAdmin, t)
}

// resolveUnit fills the département of a unit and refuses unknown units.
func (a *Auth) resolveUnit(n *NewUser) error {
	if n.UnitID == 0 {
		return nil
	}
	dept := a.deptOf(n.UnitID)
	if dept == "" {
		return vigie.Invalidf("auth.resolveUnit", "Unknown unit.")
	}
	n.Dept = dept
	return nil
}

// CreateUser creates an account: as the acting user of ctx, who needs
// PermUserAdmin on the new account's unit or département, or from the
// console when ctx has no user. For staff, the TOTP secret to enrol is
// returned when one was fixed or generated (nil otherwise: the account
// enrols at first sign-in).
func (a *Auth) CreateUser(ctx context.Context, n NewUser) (*Account, *Enrollment, error) {
	if err := n.validate(); err != nil {
		return nil, nil, err
	}
	if err := a.resolveUnit(&n); err != nil {
		return nil, nil, err
	}
	if err := a.checkAdmin(ctx, vigie.Target{Dept: n.Dept, UnitID: n.UnitID, Kind: "user"}); err != nil {
		return nil, nil, err
	}
	hash, secret, err := a.prepareSecrets(&n)
	if err != nil {
		return nil, nil, err
	}
	var acc *Account
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		acc, err = a.insertAccount(ctx, tx, n, hash, secret)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var en *Enrollment
	if secret != "" {
		if en, err = enrollmentFor(a.cfg.Issuer, n.Login, secret); err != nil {
			return nil, nil, err
		}
	}
	return acc, en, nil
}

// prepareSecrets checks and hashes the password and picks the TOTP secret:
// the fixed one, or, for staff created from the console, a fresh one to
// hand over with the account.
func (a *Auth) prepareSecrets(n *NewUser) (hash, secret string, err error) {
	if n.Password != "" || !n.Role.Staff() {
		if err := CheckPassword(n.Login, n.Password); err != nil {
			return "", "", err
		}
		if hash, err = a.hash(n.Password); err != nil {
			return "", "", err
		}
	}
	if n.TOTPSecret != "" {
		s := strings.ToUpper(strings.ReplaceAll(n.TOTPSecret, " ", ""))
		if !validTOTPSecret(s) {
			return "", "", vigie.Invalidf("auth.NewUser", "The TOTP secret must be base32 and at least 80 bits long.")
		}
		secret = s
	}
	return hash, secret, nil
}

func (a *Auth) insertAccount(ctx context.Context, tx *db.Tx, n NewUser, hash, secret string) (*Account, error) {
	now := a.now()
	id, err := insertUser(ctx, tx, n, hash, secret, now)
	if err != nil {
		return nil, err
	}
	// A secret chosen here is handed over with the account (console, demo):
	// the account is enrolled; otherwise it enrols at first sign-in.
	if secret != "" {
		if err := markEnrolled(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	detail := "account created: role " + string(n.Role)
	if n.Demo {
		detail += " (demo)"
	}
	if err := a.record(ctx, tx, actorOf(ctx), vigie.Record{Action: vigie.ActAdmin, Object: "user", ObjectID: itoa(id),
		Dept: n.Dept, UnitID: n.UnitID, Detail: detail}); err != nil {
		return nil, err
	}
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return &u.Account, nil
}

// GetUser returns an account the acting user may administer.
func (a *Auth) GetUser(ctx context.Context, id int64) (*Account, error) {
	u, err := userByID(ctx, a.d, id)
	if err != nil {
		return nil, err
	}
	if err := a.checkAdmin(ctx, u.Target()); err != nil {
		return nil, err
	}
	return &u.Account, nil
}

// ConsultUser returns the account id for an administrator who gave a motif,
// and journals the consultation with it in the same transaction (an
// account holds personal data: name, e-mail, unit).
func (a *Auth) ConsultUser(ctx context.Context, id int64, motif string) (*Account, error) {
	acc, err := a.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		return a.record(ctx, tx, nil, vigie.Record{Action: vigie.ActConsult, Object: "user", ObjectID: itoa(acc.ID),
			Dept: acc.Dept, UnitID: acc.UnitID, Motif: motif, Detail: "account consulted"})
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// ListUsers lists the accounts that match f and that the acting user may
// administer (all of them from the console).
func (a *Auth) ListUsers(ctx context.Context, f Filter) ([]Account, error) {
	if u := vigie.UserFrom(ctx); u != nil && u.Dept != "" && u.Role == vigie.RoleAdmin {
		f.Dept = u.Dept // a département's administrator sees that département
	}
	all, err := listUsers(ctx, a.d, f)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, acc := range all {
		if a.checkAdmin(ctx, acc.Target()) == nil {
			out = append(out, acc)
		}
	}
	return out, nil
}

// change runs f on account id in a transaction, after checking that the
// acting user may administer it, and journals detail.
func (a *Auth) change(ctx context.Context, id int64, detail string, f func(tx *db.Tx, u *userRow) error) (*Account, error) {
	var out *Account
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := a.checkAdmin(ctx, u.Target()); err != nil {
			return err
		}
		if err := f(tx, u); err != nil {
			return err
		}
		after, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		out = &after.Account
		return a.record(ctx, tx, actorOf(ctx), vigie.Record{Action: vigie.ActAdmin, Object: "user", ObjectID: itoa(id),
			Dept: after.Dept, UnitID: after.UnitID, Detail: detail})
	})
	return out, err
}

// UpdateUser changes the name, e-mail, role, unit or language of an account.
// SECURITY: the acting user needs PermUserAdmin on the account both where
// it is and where it goes, so nobody moves an account out of reach or
// into a scope above their own.
func (a *Auth) UpdateUser(ctx context.Context, id int64, c Change) (*Account, error) {
	var fields []string
	for name, set := range map[string]bool{"name": c.Name != nil, "email": c.Email != nil, "role": c.Role != nil,
		"unit": c.UnitID != nil || c.Dept != nil, "lang": c.Lang != nil} {
		if set {
			fields = append(fields, name)
		}
	}
	if len(fields) == 0 {
		return nil, vigie.Invalidf("auth.UpdateUser", "Nothing to change.")
	}
	slices.Sort(fields)
	return a.change(ctx, id, "account changed: "+strings.Join(fields, ", "), func(tx *db.Tx, u *userRow) error {
		n := c.apply(u.Account)
		if err := n.validate(); err != nil {
			return err
		}
		if err := a.resolveUnit(&n); err != nil {
			return err
		}
		if err := a.checkAdmin(ctx, vigie.Target{Dept: n.Dept, UnitID: n.UnitID, Kind: "user", ID: itoa(id)}); err != nil {
			return err
		}
		return updateUser(ctx, tx, id, n, a.now())
	})
}

// SetAccountDisabled disables (and signs out everywhere) or re-enables an account.
func (a *Auth) SetAccountDisabled(ctx context.Context, id int64, disabled bool) (*Account, error) {
	detail := "account enabled"
	if disabled {
		detail = "account disabled"
	}
	return a.change(ctx, id, detail, func(tx *db.Tx, u *userRow) error {
		if me := vigie.UserFrom(ctx); me != nil && me.ID == id && disabled {
			return vigie.Invalidf("auth.SetAccountDisabled", "You cannot disable your own account.")
		}
		if err := setDisabled(ctx, tx, id, disabled, a.now()); err != nil {
			return err
		}
		if !disabled {
			return unlockUser(ctx, tx, id)
		}
		return deleteUserSessions(ctx, tx, id)
	})
}

// ResetAccountMFA forgets the authenticator app of an account, which enrols a new
// one at next sign-in, and ends its sessions.
func (a *Auth) ResetAccountMFA(ctx context.Context, id int64) (*Account, error) {
	return a.change(ctx, id, "two-factor authentication reset", func(tx *db.Tx, u *userRow) error {
		if err := setTOTP(ctx, tx, id, "", a.now()); err != nil {
			return err
		}
		// SECURITY: a reset means the second factor may be in someone
		// else's hands: passkeys go with the TOTP secret.
		if _, err := deletePasskeysOf(ctx, tx, id); err != nil {
			return err
		}
		return deleteUserSessions(ctx, tx, id)
	})
}

// ResetAccountPassword sets a new password chosen by an administrator, lifts a
// lock-out and ends the account's sessions.
func (a *Auth) ResetAccountPassword(ctx context.Context, id int64, password string) (*Account, error) {
	u, err := userByID(ctx, a.d, id)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(u.Login, password); err != nil {
		return nil, err
	}
	hash, err := a.hash(password)
	if err != nil {
		return nil, err
	}
	return a.change(ctx, id, "password reset", func(tx *db.Tx, u *userRow) error {
		if err := setPassword(ctx, tx, id, hash, a.now()); err != nil {
			return err
		}
		return deleteUserSessions(ctx, tx, id)
	})
}

// Grant gives an explicit permission (see Policy), journaled. The acting
// user needs PermUserAdmin on the grantee.
func (a *Auth) Grant(ctx context.Context, g Grant) (*Grant, error) {
	const op = "auth.Grant"
	if strings.TrimSpace(g.Reason) == "" {
		return nil, vigie.Invalidf(op, "A reason is required for an explicit permission.")
	}
	switch g.Perm {
	case vigie.PermRead, vigie.PermWrite, vigie.PermStats, vigie.PermJournalRead, vigie.PermJournalExport:
	default:
		return nil, vigie.Invalidf(op, "%q cannot be granted: choose read, write, stats, journal.read or journal.export.", g.Perm)
	}
	if (g.Kind == "" || g.TargetID == "") && g.UnitID == 0 {
		return nil, vigie.Invalidf(op, "Name the record (kind and id) or the unit the permission applies to.")
	}
	if g.UnitID != 0 && a.deptOf(g.UnitID) == "" {
		return nil, vigie.Invalidf(op, "There is no unit %d.", g.UnitID)
	}
	if !g.ExpiresAt.After(a.now()) {
		return nil, vigie.Invalidf(op, "An explicit permission needs an expiry date in the future.")
	}
	g.GrantedBy = actorOf(ctx).ID
	_, err := a.change(ctx, g.UserID, "permission granted: "+string(g.Perm)+" on "+grantWhat(g)+" ("+g.Reason+")",
		func(tx *db.Tx, u *userRow) error {
			id, err := insertGrant(ctx, tx, g, a.now())
			g.ID = id
			return err
		})
	return &g, err
}

// GrantApproved records, in the caller's transaction, a read grant on one
// record that another area decided: the case-file area lets the OPJ or
// commander of the unit holding a record approve another unit's access
// request, after checking that the approver may write in that unit.
// SECURITY: this entry point cannot grant anything wider than reading one
// named record for a limited time, and it journals the grant on the
// grantee's account with the approver as actor.
func (a *Auth) GrantApproved(ctx context.Context, tx *db.Tx, g Grant) (*Grant, error) {
	const op = "auth.GrantApproved"
	u := vigie.UserFrom(ctx)
	if u == nil || u.ID == 0 {
		return nil, vigie.ErrUnauthenticated
	}
	if g.Perm != vigie.PermRead || g.Kind == "" || g.TargetID == "" || g.UnitID != 0 {
		return nil, vigie.Invalidf(op, "Only read access to one record may be granted this way.")
	}
	if strings.TrimSpace(g.Reason) == "" || !g.ExpiresAt.After(a.now()) {
		return nil, vigie.Invalidf(op, "A reason and an expiry date in the future are required.")
	}
	to, err := userByID(ctx, tx, g.UserID)
	if err != nil {
		return nil, db.NotFound(op, err)
	}
	g.GrantedBy = u.ID
	if g.ID, err = insertGrant(ctx, tx, g, a.now()); err != nil {
		return nil, err
	}
	return &g, a.record(ctx, tx, u, vigie.Record{Action: vigie.ActAdmin, Object: "user", ObjectID: itoa(g.UserID),
		Dept: to.Dept, UnitID: to.UnitID, Detail: "permission granted: read on " + grantWhat(g) + " (" + g.Reason + ")"})
}

// RevokeGrant ends an explicit permission before its expiry; the change is
// journaled on the account that held it.
func (a *Auth) RevokeGrant(ctx context.Context, id int64) error {
	const op = "auth.RevokeGrant"
	userID, err := grantOwner(ctx, a.d, id)
	if err != nil {
		return db.NotFound(op, err)
	}
	_, err = a.change(ctx, userID, "permission "+itoa(id)+" revoked", func(tx *db.Tx, u *userRow) error {
		ok, err := deleteGrant(ctx, tx, id)
		if err == nil && !ok {
			return vigie.E(vigie.KindNotFound, op, "No such permission.", nil)
		}
		return err
	})
	return err
}

func grantWhat(g Grant) string {
	if g.UnitID != 0 {
		return "unit " + itoa(g.UnitID)
	}
	return g.Kind + " " + g.TargetID
}

// MyTokens lists the API tokens of the acting user.
func (a *Auth) MyTokens(ctx context.Context) ([]Token, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	return listTokens(ctx, a.d, u.ID)
}

// NewToken creates an API token for the acting user and returns it once.
// SECURITY: a token acts with its owner's rights, never more; a token
// cannot create another token (it would outlive its own expiry).
func (a *Auth) NewToken(ctx context.Context, name string, ttl time.Duration) (string, *Token, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return "", nil, vigie.ErrUnauthenticated
	}
	if u.Via == "token" {
		return "", nil, vigie.E(vigie.KindForbidden, "auth.NewToken", "An API token cannot create another token.", nil)
	}
	return a.createToken(ctx, u, name, ttl)
}

func (a *Auth) createToken(ctx context.Context, u *vigie.User, name string, ttl time.Duration) (string, *Token, error) {
	const op = "auth.NewToken"
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, vigie.Invalidf(op, "The token needs a name (at most 100 characters).")
	}
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	if ttl > 366*24*time.Hour {
		return "", nil, vigie.Invalidf(op, "A token lives at most one year.")
	}
	now := a.now()
	secret := tokenPrefix + randomToken(32)
	t := Token{UserID: u.ID, Name: name, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		id, err := insertToken(ctx, tx, t, hashSecret(secret))
		if err != nil {
			return err
		}
		t.ID = id
		return a.record(ctx, tx, actorOf(ctx), vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "API token created: " + name})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &t, nil
}

// RevokeToken deletes one of the acting user's tokens.
func (a *Auth) RevokeToken(ctx context.Context, id int64) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return a.d.InTx(ctx, func(tx *db.Tx) error {
		ok, err := deleteToken(ctx, tx, u.ID, id)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.ErrNotFound
		}
		return a.record(ctx, tx, u, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "API token revoked: " + itoa(id)})
	})
}

// MySessions lists the complete sessions of the acting user.
func (a *Auth) MySessions(ctx context.Context) ([]Session, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	ss, err := listSessions(ctx, a.d, u.ID)
	for i := range ss {
		ss[i].Current = ss[i].ID == u.SessionID
	}
	return ss, err
}

// RevokeSession ends one of the acting user's sessions.
func (a *Auth) RevokeSession(ctx context.Context, id string) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	return a.d.InTx(ctx, func(tx *db.Tx) error {
		ok, err := deleteUserSession(ctx, tx, u.ID, id)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.ErrNotFound
		}
		return a.record(ctx, tx, u, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "session revoked"})
	})
}
