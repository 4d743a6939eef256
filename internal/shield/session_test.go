package shield

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

// TestAlertKindsTranslated: every alert kind has a French label (the
// pages show {{t .Kind}}).
func TestAlertKindsTranslated(t *testing.T) {
	b, err := os.ReadFile("templates/messages.fr.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{KindStuffing, KindGuessing, KindNetwork, KindAccount, KindMFA, KindSlow, KindScan,
		KindScannerTool, KindWAF, KindInsiderVolume, KindInsiderExport, KindInsiderJourn, KindInsiderScope, KindSessionReuse} {
		if m[k] == "" {
			t.Errorf("alert kind %q has no French label", k)
		}
	}
}

// TestSessionReusedRaisesAlert: a reused session reported by auth becomes
// one high alert scoped to the account's unit, with the two clients as
// evidence; a second report grows it.
func TestSessionReusedRaisesAlert(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
		s := newTestShield(t, d, newJournal(t, d), c, "a")
		e := SessionReuse{AccountID: 42, Login: "agent", Dept: "01", UnitID: 7, Via: "password",
			SignedInAt: c.now().Add(-time.Hour), SignInIP: "203.0.113.7", SignInAgent: "Firefox/140.0",
			IP: "198.51.100.9", Agent: "curl/8.9.1"}
		s.SessionReused(context.Background(), e)
		s.SessionReused(context.Background(), e)
		// The findings wait for the worker; drain them as Run would.
		for i := 0; i < 2; i++ {
			s.handle(context.Background(), <-s.found)
		}
		as, err := s.Alerts(vigie.WithUser(context.Background(), officer), AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 {
			t.Fatalf("alerts: %d, want 1", len(as))
		}
		a := as[0]
		if a.Kind != KindSessionReuse || a.Severity != SevHigh || a.Dept != "01" || a.UnitID != 7 || a.Hits != 2 || a.Subject != "agent" {
			t.Errorf("alert: %+v", a)
		}
		var ev map[string]any
		json.Unmarshal([]byte(a.Evidence), &ev)
		if ev["sign_in_address"] != "203.0.113.7" || ev["address"] != "198.51.100.9" || ev["user_agent"] != "curl/8.9.1" || ev["response"] != "session ended" {
			t.Errorf("evidence: %v", ev)
		}
	})
}

// TestAccountUnderAttackIsLocked: the "account under attack" finding locks
// the account through Config.LockAccount, renewed at most once per half
// lock while the attack goes on; the other findings lock nothing, and a
// negative AccountLock turns the response off.
func TestAccountUnderAttackIsLocked(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
		j := newJournal(t, d)
		type lock struct {
			id    int64
			d     time.Duration
			actor string
		}
		var mu sync.Mutex
		var locks []lock
		lockFn := func(ctx context.Context, id int64, dur time.Duration, why string) (time.Time, error) {
			mu.Lock()
			defer mu.Unlock()
			locks = append(locks, lock{id, dur, vigie.UserFrom(ctx).Login})
			return c.now().Add(dur), nil
		}
		s := New(Config{DB: d, Journal: j, Now: c.now, LockAccount: lockFn})
		attack := func(s *Shield, login string, id int64) {
			for i := 0; i < DefaultThresholds.AcctFailures; i++ {
				fs := s.det.AuthFailed(AuthFailure{At: c.now(), Addr: ParseAddr([]string{"203.0.113.1", "198.51.100.2", "192.0.2.3"}[i%3]),
					Login: login, AccountID: id, Dept: "01", UnitID: 7})
				s.handle(context.Background(), fs)
			}
		}
		attack(s, "lea", 42)
		if len(locks) != 1 || locks[0].id != 42 || locks[0].d != DefaultAccountLock || locks[0].actor != "shield" {
			t.Fatalf("locks after the attack: %+v, want one of account 42 for %v by the shield", locks, DefaultAccountLock)
		}
		// The attack goes on: no new lock while more than half remains.
		c.add(time.Minute)
		attack(s, "lea", 42)
		if len(locks) != 1 {
			t.Errorf("locks a minute later: %d, want still 1", len(locks))
		}
		c.add(DefaultAccountLock/2 + time.Minute)
		attack(s, "lea", 42)
		if len(locks) != 2 {
			t.Errorf("locks when the lock nears its end: %d, want 2 (renewed)", len(locks))
		}
		// Guessing from one address, unknown accounts: no lock.
		for i := 0; i < 20; i++ {
			s.handle(context.Background(), s.det.AuthFailed(AuthFailure{At: c.now(), Addr: ParseAddr("203.0.113.50"), Login: "nobody"}))
		}
		if len(locks) != 2 {
			t.Errorf("locks after guessing unknown logins: %d, want 2", len(locks))
		}
		off := New(Config{DB: d, Journal: j, Now: c.now, LockAccount: lockFn, AccountLock: -1})
		attack(off, "paul", 43)
		if len(locks) != 2 {
			t.Errorf("locks with the response off: %d, want 2", len(locks))
		}
	})
}
