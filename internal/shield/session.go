package shield

import (
	"context"
	"fmt"
	"time"

	"vigie"
)

// Responses that reach into accounts: a session reused from another
// client (internal/auth ends it and reports it here), and an account under
// attack (locked through Config.LockAccount).

// DefaultAccountLock is how long an account under attack stays locked
// after the last detection.
const DefaultAccountLock = 30 * time.Minute

// SessionReuse is a session internal/auth ended because it came back from
// another network with another user agent than the ones it was opened
// from (a stolen cookie replayed elsewhere).
type SessionReuse struct {
	At          time.Time
	AccountID   int64
	Login       string
	Dept        string
	UnitID      int64
	Via         string
	SignedInAt  time.Time
	SignInIP    string
	SignInAgent string
	IP          string
	Agent       string
}

// SessionReused raises the alert of a reused session (the session itself
// is already ended). It never blocks: the alert is written by the worker.
func (s *Shield) SessionReused(ctx context.Context, e SessionReuse) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	s.submit([]Finding{SessionReuseFinding(e)})
}

// SessionReuseFinding is the alert of a reused session: high severity,
// scoped to the account's unit, one alert per account while it is open.
func SessionReuseFinding(e SessionReuse) Finding {
	login := clip(e.Login, 64)
	return Finding{Kind: KindSessionReuse, Severity: SevHigh, Key: KindSessionReuse + ":" + login, Subject: login,
		Summary: fmt.Sprintf("Session of account %s used from another client (%s instead of %s): the session was ended.",
			login, clip(e.IP, 64), clip(e.SignInIP, 64)),
		Dept: e.Dept, UnitID: e.UnitID, At: e.At,
		Evidence: map[string]any{"login": login, "account_id": e.AccountID, "via": e.Via,
			"signed_in_at": e.SignedInAt.UTC().Format(time.RFC3339), "sign_in_address": clip(e.SignInIP, 64),
			"sign_in_user_agent": clip(e.SignInAgent, 300), "address": clip(e.IP, 64), "user_agent": clip(e.Agent, 300),
			"response": "session ended"}}
}

// shieldActor is who the journal names for the shield's automatic
// responses.
var shieldActor = &vigie.User{Login: "shield", Name: "Vigie shield (automatic response)", Role: vigie.RoleSecurity, Via: "system"}

// lockAccount locks the account of an "account under attack" finding.
// While the attack goes on the lock is renewed, at most once per half
// lock on this replica (no journal entry per failed attempt).
func (s *Shield) lockAccount(ctx context.Context, f Finding) {
	if s.cfg.LockAccount == nil || s.cfg.AccountLock < 0 {
		return
	}
	now := s.now()
	s.lockMu.Lock()
	if until, ok := s.locked[f.Account]; ok && until.Sub(now) > s.cfg.AccountLock/2 {
		s.lockMu.Unlock()
		return
	}
	for id, until := range s.locked { // keep the map small
		if !until.After(now) {
			delete(s.locked, id)
		}
	}
	s.lockMu.Unlock()
	until, err := s.cfg.LockAccount(vigie.WithUser(ctx, shieldActor), f.Account, s.cfg.AccountLock, f.Kind+": "+f.Summary)
	if err != nil {
		s.log.Warn("shield: lock account under attack", "account", f.Account, "err", err)
		return
	}
	s.lockMu.Lock()
	s.locked[f.Account] = until
	s.lockMu.Unlock()
}
