package auth

import (
	"context"
	"errors"
	"time"

	"vigie"
	"vigie/internal/db"
)

// SECURITY: every refused sign-in says the same thing, whether the login
// exists, the password is wrong, the account is disabled or locked, so the
// answer never tells an attacker which logins exist.
var errSignIn = vigie.E(vigie.KindUnauthenticated, "auth.SignIn",
	"Incorrect login or password. After several failures the account is locked for a while.", nil)

var errTooManyFromIP = vigie.E(vigie.KindTooMany, "auth.SignIn",
	"Too many failed sign-ins from your network. Please wait a few minutes.", nil)

var errCode = vigie.E(vigie.KindInvalid, "auth.VerifyMFA", "This code is not valid. Enter the current code of your authenticator app.", nil)

var errNoPending = vigie.E(vigie.KindUnauthenticated, "auth.VerifyMFA", "Your sign-in has expired. Please sign in again.", nil)

// Step is what the sign-in flow asks for next.
type Step int

const (
	StepDone   Step = iota // signed in
	StepMFA                // enter the TOTP code
	StepEnroll             // enrol an authenticator app, then enter its code
)

// SignedIn is the outcome of a successful step: the new session's cookie
// value (to set; the previous one is void) and what comes next.
type SignedIn struct {
	Token string
	Step  Step
	User  *vigie.User
}

// SignIn checks a login and password. Staff get a pending session that only
// the second factor completes; citizens are signed in.
func (a *Auth) SignIn(ctx context.Context, login, password string) (*SignedIn, error) {
	now := a.now()
	ip := vigie.ClientFrom(ctx).IP
	n, err := countIPFailures(ctx, a.d, ip, now.Add(-a.cfg.IPWindow))
	if err != nil {
		return nil, vigie.E(vigie.KindUnavailable, "auth.SignIn", "Sign-in is unavailable right now; please try again.", err)
	}
	if n >= a.cfg.IPMaxFailures {
		return nil, errTooManyFromIP
	}
	u, err := userByLogin(ctx, a.d, login)
	if err != nil && vigie.KindOf(err) != vigie.KindNotFound {
		return nil, err
	}
	if u == nil {
		a.verify(password, "") // same cost as a real check
		return nil, a.failed(ctx, nil, login, "unknown login")
	}
	ok, rehash := a.verify(password, u.PasswordHash)
	switch {
	case u.Disabled:
		return nil, a.failed(ctx, u, login, "account disabled")
	case u.LockedUntil.After(now):
		return nil, a.failed(ctx, u, login, "account locked")
	case !ok:
		return nil, a.failed(ctx, u, login, "wrong password")
	}
	var newHash string
	if rehash {
		if newHash, err = a.hash(password); err != nil {
			return nil, err
		}
	}
	var out *SignedIn
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		if newHash != "" {
			if err := setPassword(ctx, tx, u.ID, newHash, now); err != nil {
				return err
			}
		}
		if _, err := deleteExpiredSessions(ctx, tx, now, max(a.cfg.IdleTimeout, a.cfg.CitizenIdleTimeout)); err != nil {
			return err
		}
		step := StepDone
		switch {
		case !u.Role.Staff():
		case u.MFAEnrolled:
			step = StepMFA
		default:
			step = StepEnroll
		}
		tok, err := a.newSession(ctx, tx, u, step == StepDone, "password", now)
		if err != nil {
			return err
		}
		detail := "sign-in"
		if step == StepDone {
			if err := clearFailures(ctx, tx, u.ID); err != nil {
				return err
			}
		} else {
			detail = "password accepted, second factor pending"
		}
		out = &SignedIn{Token: tok, Step: step, User: u.User("session")}
		return a.record(ctx, tx, out.User, vigie.Record{Action: vigie.ActAuth, Object: "user",
			ObjectID: itoa(u.ID), Dept: u.Dept, UnitID: u.UnitID, Detail: detail})
	})
	return out, err
}

// failed counts a failure against the address and the account, locks the
// account after MaxFailures, journals it, and returns the generic error.
func (a *Auth) failed(ctx context.Context, u *userRow, login, why string) error {
	now := a.now()
	ip := vigie.ClientFrom(ctx).IP
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		if err := addIPFailure(ctx, tx, ip, now, a.cfg.IPWindow); err != nil {
			return err
		}
		r := vigie.Record{Action: vigie.ActAuth, Object: "user", Detail: "sign-in refused: " + why}
		var actor *vigie.User
		if u == nil {
			// The attempted login is kept (truncated) to spot password
			// spraying; it is not a password field.
			r.Detail += " (" + truncate(normLogin(login), 64) + ")"
			actor = &vigie.User{Login: truncate(normLogin(login), 64), Via: "password"}
		} else {
			r.ObjectID, r.Dept, r.UnitID = itoa(u.ID), u.Dept, u.UnitID
			actor = u.User("password")
			if !u.Disabled && !u.LockedUntil.After(now) {
				failed, locks, err := addFailure(ctx, tx, u.ID)
				if err != nil {
					return err
				}
				if failed >= a.cfg.MaxFailures {
					until := now.Add(a.lockDuration(locks))
					if err := lockUser(ctx, tx, u.ID, until); err != nil {
						return err
					}
					r.Detail += "; account locked until " + until.UTC().Format(time.RFC3339)
				}
			}
		}
		return a.record(ctx, tx, actor, r)
	})
	if err != nil {
		return err
	}
	return errSignIn
}

// lockDuration doubles the lock-out at each repeat, up to a day.
func (a *Auth) lockDuration(previousLocks int) time.Duration {
	d := a.cfg.LockFor
	for i := 0; i < previousLocks && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// newSession stores a session and returns its cookie value.
// SECURITY: 256 random bits; only their SHA-256 is stored.
func (a *Auth) newSession(ctx context.Context, tx *db.Tx, u *userRow, complete bool, via string, now time.Time) (string, error) {
	tok := randomToken(32)
	c := vigie.ClientFrom(ctx)
	exp := now.Add(a.cfg.MaxLifetime)
	if !complete {
		exp = now.Add(pendingLifetime)
	}
	err := insertSession(ctx, tx, Session{ID: hashSecret(tok), UserID: u.ID, MFADone: complete, Via: via,
		CreatedAt: now, LastSeen: now, ExpiresAt: exp, IP: c.IP, UserAgent: truncate(c.UserAgent, 300)})
	return tok, err
}

// pending returns the account of a session waiting for its second factor.
func (a *Auth) pending(ctx context.Context, token string) (*Session, *userRow, error) {
	if token == "" {
		return nil, nil, errNoPending
	}
	s, err := sessionByHash(ctx, a.d, hashSecret(token))
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			return nil, nil, errNoPending
		}
		return nil, nil, err
	}
	if s.MFADone || !s.ExpiresAt.After(a.now()) {
		return nil, nil, errNoPending
	}
	u, err := userByID(ctx, a.d, s.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled || u.LockedUntil.After(a.now()) {
		return nil, nil, errNoPending
	}
	return s, u, nil
}

// Enrollment is what the enrolment page shows: the secret as a QR code
// and as text, and the provisioning URI.
type Enrollment struct {
	Secret string
	URI    string
	QR     string // data:image/png;base64,...
}

// EnrollKey returns the TOTP secret to enrol for the pending session of
// token, creating it on first call. The secret is confirmed (and the
// account enrolled) by the first valid code given to VerifyMFA.
func (a *Auth) EnrollKey(ctx context.Context, token string) (*Enrollment, error) {
	_, u, err := a.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	if u.MFAEnrolled {
		return nil, vigie.E(vigie.KindConflict, "auth.EnrollKey", "Two-factor authentication is already set up for this account.", nil)
	}
	secret := u.TOTPSecret
	if secret == "" {
		k, err := newTOTPKey(a.cfg.Issuer, u.Login)
		if err != nil {
			return nil, err
		}
		secret = k.Secret()
		if err := setTOTP(ctx, a.d, u.ID, secret, a.now()); err != nil {
			return nil, err
		}
	}
	return enrollmentFor(a.cfg.Issuer, u.Login, secret)
}

func enrollmentFor(issuer, login, secret string) (*Enrollment, error) {
	k, err := totpKeyFor(issuer, login, secret)
	if err != nil {
		return nil, err
	}
	qr, err := qrDataURI(k)
	if err != nil {
		return nil, err
	}
	return &Enrollment{Secret: k.Secret(), URI: k.URL(), QR: qr}, nil
}

// VerifyMFA checks the TOTP code of a pending session and, when right,
// replaces it by a complete session (the id rotates).
func (a *Auth) VerifyMFA(ctx context.Context, token, code string) (*SignedIn, error) {
	s, u, err := a.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	if u.TOTPSecret == "" {
		return nil, vigie.E(vigie.KindConflict, "auth.VerifyMFA", "Set up your authenticator app first.", nil)
	}
	now := a.now()
	counter := matchTOTP(u.TOTPSecret, code, now)
	var out *SignedIn
	var reused bool
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		actor := u.User("session")
		rec := vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID), Dept: u.Dept, UnitID: u.UnitID}
		fresh := false
		if counter > 0 {
			var err error
			if fresh, err = useTOTPCounter(ctx, tx, u.ID, counter, now); err != nil {
				return err
			}
			reused = !fresh
		}
		if !fresh {
			return errCode // nothing written yet; the failure is counted below
		}
		if _, err := deleteSession(ctx, tx, s.ID); err != nil {
			return err
		}
		tok, err := a.newSession(ctx, tx, u, true, s.Via, now)
		if err != nil {
			return err
		}
		if err := clearFailures(ctx, tx, u.ID); err != nil {
			return err
		}
		if !u.MFAEnrolled {
			rec.Detail = "authenticator app enrolled"
			if err := a.record(ctx, tx, actor, rec); err != nil {
				return err
			}
		}
		rec.Detail = "sign-in (second factor)"
		out = &SignedIn{Token: tok, Step: StepDone, User: actor}
		return a.record(ctx, tx, actor, rec)
	})
	if errors.Is(err, errCode) {
		return nil, a.commitMFAFailure(ctx, u, reused)
	}
	return out, err
}

// commitMFAFailure counts a wrong or replayed code like a wrong password
// (SECURITY: 6 digits fall to brute force without it) and journals it.
func (a *Auth) commitMFAFailure(ctx context.Context, u *userRow, reused bool) error {
	if reused {
		return a.secondFactorRefused(ctx, u, "code already used",
			vigie.E(vigie.KindInvalid, "auth.VerifyMFA", "This code was already used. Wait for the next one.", nil))
	}
	return a.secondFactorRefused(ctx, u, "wrong code", errCode)
}

// secondFactorRefused counts a refused second factor (TOTP code or passkey)
// like a wrong password, locking the account after MaxFailures, journals
// why, and returns userErr.
func (a *Auth) secondFactorRefused(ctx context.Context, u *userRow, why string, userErr error) error {
	now := a.now()
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		rec := vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID), Dept: u.Dept, UnitID: u.UnitID,
			Detail: "second factor refused: " + why}
		failed, locks, err := addFailure(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if failed >= a.cfg.MaxFailures {
			until := now.Add(a.lockDuration(locks))
			if err := lockUser(ctx, tx, u.ID, until); err != nil {
				return err
			}
			rec.Detail += "; account locked until " + until.UTC().Format(time.RFC3339)
		}
		return a.record(ctx, tx, u.User("session"), rec)
	})
	if err != nil {
		return err
	}
	return userErr
}

// SignOut deletes the session of token.
func (a *Auth) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return a.d.InTx(ctx, func(tx *db.Tx) error {
		s, err := sessionByHash(ctx, tx, hashSecret(token))
		if err != nil {
			if vigie.KindOf(err) == vigie.KindNotFound {
				return nil
			}
			return err
		}
		if _, err := deleteSession(ctx, tx, s.ID); err != nil {
			return err
		}
		u := vigie.UserFrom(ctx)
		if u == nil {
			u = &vigie.User{ID: s.UserID}
		}
		return a.record(ctx, tx, u, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(s.UserID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "sign-out"})
	})
}
