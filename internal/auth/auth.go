package auth

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"vigie"
	"vigie/internal/db"
)

// journal writes a record in the consultation journal in the same
// transaction as the change it records (internal/audit implements it).
type journal interface {
	Record(ctx context.Context, tx *db.Tx, r vigie.Record) error
}

// Config configures accounts, sign-in and sessions. Zero values take the
// defaults documented on each field.
type Config struct {
	// SecureCookie forces the Secure flag on cookies even when the request
	// came over plain HTTP (TLS ends at a reverse proxy). With TLS served
	// by Vigie itself the flag is always set.
	SecureCookie bool
	// IdleTimeout ends a staff session unused for that long (30 min).
	IdleTimeout time.Duration
	// CitizenIdleTimeout ends a citizen session unused for that long (1 h).
	CitizenIdleTimeout time.Duration
	// MaxLifetime ends any session that long after sign-in (12 h).
	MaxLifetime time.Duration
	// Issuer names Vigie in authenticator apps ("Vigie").
	Issuer string
	// Argon2 is the password hashing cost (DefaultArgon2).
	Argon2 Argon2Params
	// MaxFailures failed sign-ins lock an account (5) for LockFor (15 min),
	// doubled at each new lock-out, at most a day.
	MaxFailures int
	LockFor     time.Duration
	// IPMaxFailures failed sign-ins from one address within IPWindow
	// (20 in 10 min) refuse further attempts from it until the window
	// slides.
	IPMaxFailures int
	IPWindow      time.Duration
	// OIDC enables sign-in through an external OpenID Connect provider.
	OIDC *OIDCConfig
	// Motif asks for, and reads, the reason (motif) of a consultation of
	// an account's personal data: a page when it is missing from a
	// browser request, an error for an API call. internal/audit provides
	// it (audit.RequireMotif), wired in main. Nil: account pages ask no
	// motif and journal no consultation (tests of this package only).
	Motif func(w http.ResponseWriter, r *http.Request) (motif string, ok bool, err error)
	// WebAuthnRPID is the relying party id of passkeys: the host of the
	// public base URL ("vigie.gendarmerie.fr"). Empty: passkeys are
	// disabled (no routes, nothing shown). A passkey is bound to it for
	// life: changing it voids every registered passkey.
	WebAuthnRPID string
	// WebAuthnOrigins are the origins browsers may run a ceremony from
	// ("https://vigie.gendarmerie.fr"); required with WebAuthnRPID.
	WebAuthnOrigins []string
	// Now is the clock (time.Now); tests move it.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.CitizenIdleTimeout <= 0 {
		c.CitizenIdleTimeout = time.Hour
	}
	if c.MaxLifetime <= 0 {
		c.MaxLifetime = 12 * time.Hour
	}
	if c.Issuer == "" {
		c.Issuer = "Vigie"
	}
	if c.Argon2 == (Argon2Params{}) {
		c.Argon2 = DefaultArgon2
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.LockFor <= 0 {
		c.LockFor = 15 * time.Minute
	}
	if c.IPMaxFailures <= 0 {
		c.IPMaxFailures = 20
	}
	if c.IPWindow <= 0 {
		c.IPWindow = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// pendingLifetime bounds the step between password and second factor.
const pendingLifetime = 10 * time.Minute

// Auth owns accounts, sign-in, sessions and API tokens.
type Auth struct {
	d       *db.DB
	policy  *Policy
	journal journal
	log     *slog.Logger
	cfg     Config
	dummy   string        // hash checked for unknown logins, so they cost the same
	hashing chan struct{} // bounds concurrent Argon2 runs (memory)
	oidc    *oidcClient
	rp      *webauthn.WebAuthn // nil: passkeys disabled
	// onReuse is told of sessions ended because they were reused from
	// another client (OnSessionReuse); nil: nobody.
	onReuse atomic.Pointer[func(context.Context, SessionReuse)]
	// franceConnect is set once citizens' FranceConnect routes are
	// registered: the sign-in page then offers it.
	franceConnect atomic.Bool
}

// New returns the identity service. policy decides PermUserAdmin on the
// admin pages and resolves units to départements; j journals every
// sign-in, failure, lock-out, MFA and account change.
func New(ctx context.Context, d *db.DB, policy *Policy, j journal, log *slog.Logger, cfg Config) (*Auth, error) {
	cfg.defaults()
	a := &Auth{d: d, policy: policy, journal: j, log: log, cfg: cfg, hashing: make(chan struct{}, 4)}
	a.dummy = dummyHash(cfg.Argon2)
	var err error
	if cfg.OIDC != nil {
		o, err := newOIDCClient(ctx, *cfg.OIDC)
		if err != nil {
			return nil, err
		}
		a.oidc = o
	}
	if a.rp, err = newRelyingParty(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Policy returns the authorization policy, for main to hand to the areas.
func (a *Auth) Policy() *Policy { return a.policy }

func (a *Auth) now() time.Time { return a.cfg.Now() }

// hash and verify run Argon2 under the concurrency bound.
func (a *Auth) hash(password string) (string, error) {
	a.hashing <- struct{}{}
	defer func() { <-a.hashing }()
	return hashPassword(password, a.cfg.Argon2)
}

func (a *Auth) verify(password, phc string) (ok, rehash bool) {
	a.hashing <- struct{}{}
	defer func() { <-a.hashing }()
	if phc == "" {
		phc = a.dummy
		verifyPassword(password, phc, a.cfg.Argon2)
		return false, false
	}
	return verifyPassword(password, phc, a.cfg.Argon2)
}

// record journals r as done by actor (the acting user of ctx when nil).
func (a *Auth) record(ctx context.Context, tx *db.Tx, actor *vigie.User, r vigie.Record) error {
	if a.journal == nil {
		return nil
	}
	if actor != nil {
		ctx = vigie.WithUser(ctx, actor)
	}
	return a.journal.Record(ctx, tx, r)
}

// idleFor returns the idle timeout of a role.
func (a *Auth) idleFor(r vigie.Role) time.Duration {
	if r.Staff() {
		return a.cfg.IdleTimeout
	}
	return a.cfg.CitizenIdleTimeout
}

// deptOf resolves the département of a unit through the policy's tree.
func (a *Auth) deptOf(unit int64) string {
	if a.policy == nil || a.policy.tree == nil || unit == 0 {
		return ""
	}
	return a.policy.tree.Dept(unit)
}

// Prune deletes expired sessions and OIDC states; main may call it
// periodically (sign-ins also prune on the way).
func (a *Auth) Prune(ctx context.Context) error {
	now := a.now()
	_, err := deleteExpiredSessions(ctx, a.d, now, max(a.cfg.IdleTimeout, a.cfg.CitizenIdleTimeout))
	if err != nil {
		return err
	}
	return deleteExpiredOIDCStates(ctx, a.d, now)
}
