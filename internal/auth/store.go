package auth

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// querier is what *db.DB and *db.Tx have in common.
type querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// userRow is an account with its secrets and counters, as stored.
type userRow struct {
	Account
	PasswordHash string
	TOTPSecret   string
	TOTPLast     int64
	FailedCount  int
	LockCount    int
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const userCols = `id, login, name, email, role, unit_id, dept, lang, password_hash, totp_secret,
	totp_last_counter, mfa_enrolled, disabled, failed_count, lock_count, locked_until, demo, created_at`

func scanUser(sc interface{ Scan(...any) error }) (*userRow, error) {
	var u userRow
	var role string
	var mfa, disabled, demo int
	var locked, created int64
	err := sc.Scan(&u.ID, &u.Login, &u.Name, &u.Email, &role, &u.UnitID, &u.Dept, &u.Lang, &u.PasswordHash,
		&u.TOTPSecret, &u.TOTPLast, &mfa, &disabled, &u.FailedCount, &u.LockCount, &locked, &demo, &created)
	if err != nil {
		return nil, err
	}
	u.Role = vigie.Role(role)
	u.MFAEnrolled, u.Disabled, u.Demo = mfa != 0, disabled != 0, demo != 0
	u.LockedUntil, u.CreatedAt = db.Time(locked), db.Time(created)
	return &u, nil
}

func insertUser(ctx context.Context, q querier, n NewUser, hash, secret string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO users (login, name, email, role, unit_id, dept, lang, password_hash,
		totp_secret, demo, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.Login, n.Name, n.Email, string(n.Role), n.UnitID, n.Dept, n.Lang, hash, secret, b2i(n.Demo),
		db.Millis(now), db.Millis(now)).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, vigie.E(vigie.KindConflict, "auth.insertUser", "This login is already taken.", err)
	}
	return id, err
}

func userByLogin(ctx context.Context, q querier, login string) (*userRow, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE login = ?`, normLogin(login)))
	if err != nil {
		return nil, db.NotFound("auth.userByLogin", err)
	}
	return u, nil
}

func userByID(ctx context.Context, q querier, id int64) (*userRow, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, db.NotFound("auth.userByID", err)
	}
	return u, nil
}

// userByEmail finds a staff account by e-mail (for OpenID Connect); an
// address shared by several accounts matches none.
func userByEmail(ctx context.Context, q querier, email string) (*userRow, error) {
	rows, err := q.Query(ctx, `SELECT `+userCols+` FROM users WHERE email = ? AND role <> ? LIMIT 2`,
		strings.TrimSpace(email), string(vigie.RoleCitizen))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []*userRow
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(found) != 1 {
		return nil, db.NotFound("auth.userByEmail", sql.ErrNoRows)
	}
	return found[0], nil
}

func listUsers(ctx context.Context, q querier, f Filter) ([]Account, error) {
	var where []string
	var args []any
	if s := strings.ToLower(strings.TrimSpace(f.Query)); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
		where = append(where, `(login LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	if f.Role != "" {
		where = append(where, "role = ?")
		args = append(args, string(f.Role))
	}
	if f.Dept != "" {
		where = append(where, "dept = ?")
		args = append(args, f.Dept)
	}
	if f.UnitID != 0 {
		where = append(where, "unit_id = ?")
		args = append(args, f.UnitID)
	}
	if f.Disabled != nil {
		where = append(where, "disabled = ?")
		args = append(args, b2i(*f.Disabled))
	}
	query := `SELECT ` + userCols + ` FROM users`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	query += " ORDER BY login LIMIT ? OFFSET ?"
	args = append(args, limit, max(f.Offset, 0))
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u.Account)
	}
	return out, rows.Err()
}

func updateUser(ctx context.Context, q querier, id int64, n NewUser, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE users SET name = ?, email = ?, role = ?, unit_id = ?, dept = ?, lang = ?,
		updated_at = ? WHERE id = ?`, n.Name, n.Email, string(n.Role), n.UnitID, n.Dept, n.Lang, db.Millis(now), id)
	return err
}

func setDisabled(ctx context.Context, q querier, id int64, disabled bool, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, b2i(disabled), db.Millis(now), id)
	return err
}

func setPassword(ctx context.Context, q querier, id int64, hash string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE users SET password_hash = ?, failed_count = 0, locked_until = 0, updated_at = ?
		WHERE id = ?`, hash, db.Millis(now), id)
	return err
}

// setTOTP stores a new (not yet confirmed) secret, or clears MFA when
// secret is "".
func setTOTP(ctx context.Context, q querier, id int64, secret string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE users SET totp_secret = ?, mfa_enrolled = 0, totp_last_counter = 0, updated_at = ?
		WHERE id = ?`, secret, db.Millis(now), id)
	return err
}

// markEnrolled enrols the stored secret without a first code (demo seeds).
func markEnrolled(ctx context.Context, q querier, id int64) error {
	_, err := q.Exec(ctx, `UPDATE users SET mfa_enrolled = 1 WHERE id = ?`, id)
	return err
}

// useTOTPCounter records that the code of counter was used, and enrols the
// account. SECURITY: the conditional update makes a code usable once, even
// when two replicas receive it at the same moment.
func useTOTPCounter(ctx context.Context, q querier, id, counter int64, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE users SET totp_last_counter = ?, mfa_enrolled = 1, updated_at = ?
		WHERE id = ? AND totp_last_counter < ?`, counter, db.Millis(now), id, counter)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// addFailure counts one more failed sign-in, atomically, and returns the
// counters after it.
func addFailure(ctx context.Context, q querier, id int64) (failed, locks int, err error) {
	err = q.QueryRow(ctx, `UPDATE users SET failed_count = failed_count + 1 WHERE id = ?
		RETURNING failed_count, lock_count`, id).Scan(&failed, &locks)
	return failed, locks, err
}

// lockUser locks an account until the given time and restarts its count.
func lockUser(ctx context.Context, q querier, id int64, until time.Time) error {
	_, err := q.Exec(ctx, `UPDATE users SET failed_count = 0, lock_count = lock_count + 1, locked_until = ?
		WHERE id = ?`, db.Millis(until), id)
	return err
}

// clearFailures forgets failures and lock-outs after a complete sign-in.
func clearFailures(ctx context.Context, q querier, id int64) error {
	_, err := q.Exec(ctx, `UPDATE users SET failed_count = 0, lock_count = 0, locked_until = 0 WHERE id = ?`, id)
	return err
}

// unlockUser lifts a lock-out (administrator).
func unlockUser(ctx context.Context, q querier, id int64) error { return clearFailures(ctx, q, id) }

func addIPFailure(ctx context.Context, q querier, ip string, now time.Time, window time.Duration) error {
	// Old rows of this address are pruned on the way, so the table stays
	// the size of the current window.
	if _, err := q.Exec(ctx, `DELETE FROM auth_failures WHERE ip = ? AND at < ?`, ip, db.Millis(now.Add(-window))); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO auth_failures (ip, at) VALUES (?, ?)`, ip, db.Millis(now))
	return err
}

func countIPFailures(ctx context.Context, q querier, ip string, since time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM auth_failures WHERE ip = ? AND at >= ?`, ip, db.Millis(since)).Scan(&n)
	return n, err
}

// Session is a server-side session as its owner sees it.
type Session struct {
	ID        string    `json:"id"` // SHA-256 of the cookie value, hex
	UserID    int64     `json:"-"`
	MFADone   bool      `json:"-"`
	Via       string    `json:"via"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Current   bool      `json:"current"`
}

func insertSession(ctx context.Context, q querier, s Session) error {
	_, err := q.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, mfa_done, via, created_at, last_seen, expires_at,
		ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.UserID, b2i(s.MFADone), s.Via,
		db.Millis(s.CreatedAt), db.Millis(s.LastSeen), db.Millis(s.ExpiresAt), s.IP, s.UserAgent)
	return err
}

const sessionCols = `id_hash, user_id, mfa_done, via, created_at, last_seen, expires_at, ip, user_agent`

func scanSession(sc interface{ Scan(...any) error }) (*Session, error) {
	var s Session
	var mfa int
	var c, l, e int64
	if err := sc.Scan(&s.ID, &s.UserID, &mfa, &s.Via, &c, &l, &e, &s.IP, &s.UserAgent); err != nil {
		return nil, err
	}
	s.MFADone = mfa != 0
	s.CreatedAt, s.LastSeen, s.ExpiresAt = db.Time(c), db.Time(l), db.Time(e)
	return &s, nil
}

func sessionByHash(ctx context.Context, q querier, hash string) (*Session, error) {
	s, err := scanSession(q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id_hash = ?`, hash))
	if err != nil {
		return nil, db.NotFound("auth.sessionByHash", err)
	}
	return s, nil
}

func listSessions(ctx context.Context, q querier, userID int64) ([]Session, error) {
	rows, err := q.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE user_id = ? AND mfa_done = 1
		ORDER BY last_seen DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

func touchSession(ctx context.Context, q querier, hash string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, db.Millis(now), hash)
	return err
}

func deleteSession(ctx context.Context, q querier, hash string) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func deleteUserSession(ctx context.Context, q querier, userID int64, hash string) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ? AND user_id = ?`, hash, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func deleteUserSessions(ctx context.Context, q querier, userID int64) error {
	_, err := q.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

// deleteExpiredSessions removes sessions past their absolute lifetime or
// idle for longer than idle.
func deleteExpiredSessions(ctx context.Context, q querier, now time.Time, idle time.Duration) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ? OR last_seen < ?`,
		db.Millis(now), db.Millis(now.Add(-idle)))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Token is an API token as its owner sees it (never the secret).
type Token struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"-"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastUsed  time.Time `json:"last_used_at,omitzero"`
}

func insertToken(ctx context.Context, q querier, t Token, hash string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, t.UserID, t.Name, hash, db.Millis(t.CreatedAt), db.Millis(t.ExpiresAt)).Scan(&id)
	return id, err
}

const tokenCols = `id, user_id, name, created_at, expires_at, last_used_at`

func scanToken(sc interface{ Scan(...any) error }) (*Token, error) {
	var t Token
	var c, e, l int64
	if err := sc.Scan(&t.ID, &t.UserID, &t.Name, &c, &e, &l); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsed = db.Time(c), db.Time(e), db.Time(l)
	return &t, nil
}

func tokenByHash(ctx context.Context, q querier, hash string) (*Token, error) {
	t, err := scanToken(q.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = ?`, hash))
	if err != nil {
		return nil, db.NotFound("auth.tokenByHash", err)
	}
	return t, nil
}

func listTokens(ctx context.Context, q querier, userID int64) ([]Token, error) {
	rows, err := q.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

func touchToken(ctx context.Context, q querier, id int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, db.Millis(now), id)
	return err
}

func deleteToken(ctx context.Context, q querier, userID, id int64) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func insertGrant(ctx context.Context, q querier, g Grant, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO grants (user_id, perm, target_kind, target_id, unit_id, reason, granted_by,
		created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, g.UserID, string(g.Perm), g.Kind,
		g.TargetID, g.UnitID, g.Reason, g.GrantedBy, db.Millis(now), db.Millis(g.ExpiresAt)).Scan(&id)
	return id, err
}

func grantsFor(ctx context.Context, q querier, userID int64, perm vigie.Perm, now time.Time) ([]Grant, error) {
	rows, err := q.Query(ctx, `SELECT id, user_id, perm, target_kind, target_id, unit_id, reason, granted_by, expires_at
		FROM grants WHERE user_id = ? AND perm = ? AND expires_at > ?`, userID, string(perm), db.Millis(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var perm string
		var exp int64
		if err := rows.Scan(&g.ID, &g.UserID, &perm, &g.Kind, &g.TargetID, &g.UnitID, &g.Reason, &g.GrantedBy, &exp); err != nil {
			return nil, err
		}
		g.Perm, g.ExpiresAt = vigie.Perm(perm), db.Time(exp)
		out = append(out, g)
	}
	return out, rows.Err()
}

// grantOwner returns the account an explicit permission was given to.
func grantOwner(ctx context.Context, q querier, id int64) (int64, error) {
	var userID int64
	err := q.QueryRow(ctx, `SELECT user_id FROM grants WHERE id = ?`, id).Scan(&userID)
	return userID, err
}

func deleteGrant(ctx context.Context, q querier, id int64) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM grants WHERE id = ?`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// oidcState is an OpenID Connect sign-in in flight.
type oidcState struct {
	Nonce, Verifier, Next string
	ExpiresAt             time.Time
}

func deleteExpiredOIDCStates(ctx context.Context, q querier, now time.Time) error {
	_, err := q.Exec(ctx, `DELETE FROM oidc_states WHERE expires_at < ?`, db.Millis(now))
	return err
}

func insertOIDCState(ctx context.Context, q querier, stateHash string, s oidcState, now time.Time) error {
	if err := deleteExpiredOIDCStates(ctx, q, now); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO oidc_states (state_hash, nonce, verifier, next, expires_at) VALUES (?, ?, ?, ?, ?)`,
		stateHash, s.Nonce, s.Verifier, s.Next, db.Millis(s.ExpiresAt))
	return err
}

// takeOIDCState reads and deletes a state: each one is usable once.
func takeOIDCState(ctx context.Context, q querier, stateHash string) (*oidcState, error) {
	var s oidcState
	var exp int64
	err := q.QueryRow(ctx, `SELECT nonce, verifier, next, expires_at FROM oidc_states WHERE state_hash = ?`, stateHash).
		Scan(&s.Nonce, &s.Verifier, &s.Next, &exp)
	if err != nil {
		return nil, db.NotFound("auth.takeOIDCState", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM oidc_states WHERE state_hash = ?`, stateHash); err != nil {
		return nil, err
	}
	s.ExpiresAt = db.Time(exp)
	return &s, nil
}
