package shield

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vigie/internal/db"
)

// The sign-in detectors read failed sign-ins from the consultation journal
// (internal/auth journals every refusal with its real cause, the client
// address and the attempted login), so they need no hook in auth and see
// the failures of every replica. One replica at a time reads it (lease
// "journal-tail"); the cursor is the journal's seq.

const (
	leaseTail  = "journal-tail"
	leaseFor   = 10 * time.Second
	tailBatch  = 2000
	maxTailLag = 50_000 // after a long stop, skip to the recent entries
	// tailCatchUp is how far back the first reading goes.
	tailCatchUp = 5 * time.Minute
)

// AuthEntry is what the detectors need of a journal entry about sign-in.
type AuthEntry struct {
	Seq      int64
	At       time.Time
	Login    string
	ObjectID string
	IP       string
	Dept     string
	UnitID   int64
	Detail   string
}

// ParseAuthFailure reads a journal entry of action "auth" and returns the
// failed sign-in it records, if it records one. The details it knows are
// internal/auth's: "sign-in refused: <why>" and "second factor refused:
// <why>". Anything else (sign-in, sign-out, enrolment) is not a failure.
func ParseAuthFailure(e AuthEntry) (AuthFailure, bool) {
	var mfa bool
	switch {
	case strings.HasPrefix(e.Detail, "sign-in refused:"):
	case strings.HasPrefix(e.Detail, "second factor refused:"):
		mfa = true
	default:
		return AuthFailure{}, false
	}
	f := AuthFailure{At: e.At, Addr: ParseAddr(e.IP), Login: clip(strings.ToLower(strings.TrimSpace(e.Login)), 64), Dept: e.Dept, UnitID: e.UnitID, MFA: mfa, Seq: e.Seq}
	if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil && id > 0 {
		f.AccountID = id
	}
	// An unknown login is recorded as the system actor with the attempt in
	// parentheses: "sign-in refused: unknown login (bob)".
	if f.AccountID == 0 {
		if i := strings.LastIndex(e.Detail, "("); i >= 0 && strings.HasSuffix(e.Detail, ")") {
			f.Login = clip(strings.ToLower(e.Detail[i+1:len(e.Detail)-1]), 64)
		}
	}
	return f, true
}

// TailJournal reads the sign-in entries appended since the last call and
// feeds them to the detectors; findings are handled at once (a ban is in
// force before TailJournal returns).
func (s *Shield) TailJournal(ctx context.Context) error {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	now := s.now()
	if now.Sub(s.tailLeaseAt) > leaseFor/2 {
		got, cursor, err := takeLease(ctx, s.db, leaseTail, s.cfg.Replica, now, now.Add(leaseFor))
		if err != nil {
			return err
		}
		if !got {
			s.tailLeaseAt, s.tailCursor, s.tailStarted = time.Time{}, 0, false
			return nil
		}
		if cursor > s.tailCursor {
			s.tailCursor, s.tailStarted = cursor, true
		}
		s.tailLeaseAt = now
		defer func() {
			if err := saveCursor(ctx, s.db, leaseTail, s.cfg.Replica, s.tailCursor); err != nil {
				s.log.Warn("shield: save journal cursor", "err", err)
			}
		}()
	}
	var head int64
	if err := s.db.QueryRow(ctx, "SELECT seq FROM audit_head WHERE id = 1").Scan(&head); err != nil {
		return fmt.Errorf("shield: journal head: %w", err)
	}
	if !s.tailStarted || head-s.tailCursor > maxTailLag {
		// First start (no saved cursor) or a very long stop: read back the
		// last few minutes only, so that an attack already under way is
		// seen whole; older history is the insider detectors' business.
		var from int64
		if err := s.db.QueryRow(ctx, "SELECT COALESCE(MIN(seq), ?) FROM audit_entry WHERE seq > ? AND at >= ?",
			head+1, max(head-maxTailLag, 0), db.Millis(now.Add(-tailCatchUp))).Scan(&from); err != nil {
			return fmt.Errorf("shield: journal catch-up: %w", err)
		}
		s.tailCursor, s.tailStarted = from-1, true
	}
	if head <= s.tailCursor {
		return nil
	}
	to := min(head, s.tailCursor+tailBatch)
	rows, err := s.db.Query(ctx, `SELECT seq, at, actor_login, object_id, ip, dept, unit_id, detail FROM audit_entry
		WHERE seq > ? AND seq <= ? AND action = 'auth' ORDER BY seq`, s.tailCursor, to)
	if err != nil {
		return fmt.Errorf("shield: read journal: %w", err)
	}
	var findings []Finding
	for rows.Next() {
		var e AuthEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Login, &e.ObjectID, &e.IP, &e.Dept, &e.UnitID, &e.Detail); err != nil {
			rows.Close()
			return err
		}
		e.At = db.Time(at)
		if f, ok := ParseAuthFailure(e); ok {
			findings = append(findings, s.det.AuthFailed(f)...)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	s.tailCursor = to
	if len(findings) > 0 {
		s.handle(ctx, findings)
	}
	return nil
}
