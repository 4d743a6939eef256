package auth

import (
	"context"
	"time"

	"vigie"
	"vigie/internal/db"
)

// The methods of this file serve cmd/vigie's "user" commands. They run as
// the console operator: ctx carries no user, the policy is not asked, and
// the journal records the actor as "cli".

// AddUser creates an account from the console. For staff it returns the
// TOTP enrolment (secret and otpauth:// URI) to hand to the person: a fresh
// secret unless n.TOTPSecret fixes one. Staff created without a password
// sign in through OpenID Connect only.
func (a *Auth) AddUser(ctx context.Context, n NewUser) (*Account, *Enrollment, error) {
	if n.Role.Staff() && n.TOTPSecret == "" {
		k, err := newTOTPKey(a.cfg.Issuer, normLogin(n.Login))
		if err != nil {
			return nil, nil, err
		}
		n.TOTPSecret = k.Secret()
	}
	return a.CreateUser(ctx, n)
}

// accountID resolves a login for the console commands.
func (a *Auth) accountID(ctx context.Context, login string) (int64, error) {
	u, err := userByLogin(ctx, a.d, login)
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			return 0, vigie.E(vigie.KindNotFound, "auth.accountID", "No account has this login.", err)
		}
		return 0, err
	}
	return u.ID, nil
}

// DisableUser disables the account of login and ends its sessions.
func (a *Auth) DisableUser(ctx context.Context, login string) error {
	id, err := a.accountID(ctx, login)
	if err != nil {
		return err
	}
	_, err = a.SetAccountDisabled(ctx, id, true)
	return err
}

// EnableUser re-enables the account of login and lifts its lock-out.
func (a *Auth) EnableUser(ctx context.Context, login string) error {
	id, err := a.accountID(ctx, login)
	if err != nil {
		return err
	}
	_, err = a.SetAccountDisabled(ctx, id, false)
	return err
}

// ResetMFA forgets the authenticator app of login; the account enrols a
// new one at its next sign-in.
func (a *Auth) ResetMFA(ctx context.Context, login string) error {
	id, err := a.accountID(ctx, login)
	if err != nil {
		return err
	}
	_, err = a.ResetAccountMFA(ctx, id)
	return err
}

// SetPassword sets the password of login from the console.
func (a *Auth) SetPassword(ctx context.Context, login, password string) error {
	id, err := a.accountID(ctx, login)
	if err != nil {
		return err
	}
	_, err = a.ResetAccountPassword(ctx, id, password)
	return err
}

// CreateToken creates an API token for login, valid for ttl (90 days when
// 0, at most a year), and returns it: it is shown this once only.
func (a *Auth) CreateToken(ctx context.Context, login, name string, ttl time.Duration) (string, error) {
	u, err := userByLogin(ctx, a.d, login)
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", vigie.Invalidf("auth.CreateToken", "This account is disabled.")
	}
	tok, _, err := a.createToken(ctx, u.User("cli"), name, ttl)
	return tok, err
}

// SeedDemoUser creates a demo account in the caller's transaction, with
// its password and, for staff, a fixed TOTP secret (so the demo's codes can
// be documented), already enrolled. It returns the account id. The demo
// flag marks the account so that it can be told and purged.
func (a *Auth) SeedDemoUser(ctx context.Context, tx *db.Tx, n NewUser) (int64, error) {
	n.Demo = true
	if err := n.validate(); err != nil {
		return 0, err
	}
	if err := a.resolveUnit(&n); err != nil {
		return 0, err
	}
	hash, secret, err := a.prepareSecrets(&n)
	if err != nil {
		return 0, err
	}
	if n.Role.Staff() && secret == "" {
		return 0, vigie.Invalidf("auth.SeedDemoUser", "A staff demo account needs a fixed TOTP secret.")
	}
	acc, err := a.insertAccount(ctx, tx, n, hash, secret)
	if err != nil {
		return 0, err
	}
	return acc.ID, nil
}

// Console returns a context acting as the operator at the console (`vigie
// user …`, `vigie token …`): the journal records "cli:<operator>". SECURITY:
// it carries every administrative right, because whoever runs the console
// already holds the data directory or the database credentials.
func Console(ctx context.Context, operator string) context.Context {
	return vigie.WithUser(ctx, &vigie.User{Login: "cli:" + operator, Name: "vigie CLI (" + operator + ")",
		Role: vigie.RoleAdmin, Via: "cli"})
}

// GrantTo gives the account of login an explicit permission (the console's
// `vigie grant`).
func (a *Auth) GrantTo(ctx context.Context, login string, g Grant) (*Grant, error) {
	id, err := a.accountID(ctx, login)
	if err != nil {
		return nil, err
	}
	g.UserID = id
	return a.Grant(ctx, g)
}
