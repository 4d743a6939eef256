package auth

import (
	"context"
	"time"

	"vigie"
	"vigie/internal/db"
)

// Response to an account under attack (the shield's "account under
// attack" detection: failed sign-ins on one account from several
// addresses). Staff already pass a second factor at every sign-in, so a
// stolen password alone opens nothing; what is left to do is to stop the
// guessing. LockUnderAttack locks the account for a while, whatever
// password is given, on every replica (the lock is in the database). It
// does not end the sessions already open: the attacker has none, and the
// agent at work keeps working. An administrator lifts the lock early as
// for a lock-out after failed sign-ins: re-enabling the account or
// setting a new password clears it.
//
// The lock is a denial of service the attacker can renew as long as the
// attack lasts; that is the price of not letting the guessing go on, and
// the alert tells a security officer who can ban the sources.

// MaxAttackLock bounds one lock ordered by the shield.
const MaxAttackLock = 24 * time.Hour

// LockUnderAttack locks account userID until now+d, unless it is already
// locked longer, and journals it with why (the detection). It returns the
// end of the lock in force. d is clamped to [1 min, MaxAttackLock]. A
// disabled or unknown account is left alone (KindNotFound for unknown).
func (a *Auth) LockUnderAttack(ctx context.Context, userID int64, d time.Duration, why string) (time.Time, error) {
	d = min(max(d, time.Minute), MaxAttackLock)
	now := a.now()
	var until time.Time
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		until = now.Add(d)
		if u.LockedUntil.After(until) {
			until = u.LockedUntil
			return nil // a longer lock is in force: nothing to change
		}
		if u.Disabled {
			until = time.Time{}
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET locked_until = ?, updated_at = ? WHERE id = ?`,
			db.Millis(until), db.Millis(now), userID); err != nil {
			return err
		}
		// The journal's actor is the caller's context (the shield's
		// worker acts as the system).
		return a.record(ctx, tx, nil, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID,
			Detail: "account locked under attack until " + until.UTC().Format(time.RFC3339) + ": " + truncate(why, 200)})
	})
	if err != nil {
		return time.Time{}, err
	}
	return until, nil
}
