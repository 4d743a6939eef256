package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"vigie/internal/auth"
	"vigie/internal/shield"
	"vigie/internal/shield/waf"
)

// shieldArea holds bans, intrusion detection and the security centre.
type shieldArea struct {
	sh    *shield.Shield // nil in CLI commands
	vulns *shield.VulnWatch
}

// openShield builds bans and detectors (servers only), after the firewall.
// The allow-list is the machine itself and the trusted proxies: a
// detector must never ban the reverse proxy every user comes through.
func (a *app) openShield(ctx context.Context) error {
	allow, err := shield.ParseAllowList(a.cfg.TrustedProxies + "," + a.cfg.ShieldAllow)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	lock := a.cfg.ShieldAccountLock
	if lock == 0 {
		lock = -1 // 0 in the settings: alert only, never lock
	}
	a.shield.sh = shield.New(shield.Config{DB: a.db, Journal: a.journal, Outbox: a.outbox, Log: a.log,
		Allow: allow, Tree: a.org.Tree(), Replica: host + ":" + strconv.Itoa(os.Getpid()),
		// An account attacked from several addresses is locked for
		// --shield-account-lock (staff pass a second factor at every
		// sign-in already).
		LockAccount: a.auth.LockUnderAttack, AccountLock: lock})
	if err := a.shield.sh.Load(ctx); err != nil {
		return fmt.Errorf("the bans cannot be loaded: %w", err)
	}
	// A session replayed from another client: auth ends it, the shield
	// raises the alert.
	sh := a.shield.sh
	a.auth.OnSessionReuse(func(ctx context.Context, e auth.SessionReuse) {
		sh.SessionReused(ctx, shield.SessionReuse{At: e.At, AccountID: e.UserID, Login: e.Login, Dept: e.Dept, UnitID: e.UnitID,
			Via: e.Via, SignedInAt: e.SignedInAt, SignInIP: e.SignInIP, SignInAgent: e.SignInAgent, IP: e.IP, Agent: e.Agent})
	})
	// The vulnerability database the operator imported, if any.
	for _, name := range []string{"osv", "osv.zip"} {
		if p := filepath.Join(a.cfg.DataDir, name); fileExists(p) {
			a.shield.vulns = shield.NewVulnWatch(p)
			break
		}
	}
	a.workers = append(a.workers, a.shield.sh.Run)
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// registerShield registers the security centre's routes.
func (a *app) registerShield() error {
	if a.shield.sh == nil {
		return nil
	}
	return shield.NewHandler(a.shield.sh, a.policy, a.shield.vulns).Register(a.web)
}

// shieldMiddleware is the defence in front of every route: bans first (cheap),
// then the firewall.
func (a *app) shieldMiddleware() func(http.Handler) http.Handler {
	fw := a.firewall.fw
	sh := a.shield.sh
	switch {
	case sh == nil && fw == nil:
		return nil
	case sh == nil:
		return fw.Middleware
	case fw == nil:
		return sh.Middleware
	}
	return func(next http.Handler) http.Handler { return sh.Middleware(fw.Middleware(next)) }
}

// shieldVerdict feeds the firewall's verdicts to the detectors (the
// firewall's Config.OnVerdict). It runs on the request's goroutine and
// never blocks it.
func (a *app) shieldVerdict(ctx context.Context, v waf.Verdict) {
	if a.shield.sh == nil || !v.Blocked {
		return
	}
	rule := ""
	if len(v.Rules) > 0 {
		rule = strconv.Itoa(v.Rules[0].ID) + " " + v.Rules[0].Message
	}
	a.shield.sh.WAFBlocked(ctx, shield.WAFHit{At: v.Time, Addr: shield.ParseAddr(v.ClientIP), Rule: rule, Path: v.Path, Score: v.Score})
}
