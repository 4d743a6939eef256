package auth

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"vigie"
	"vigie/internal/db"
)

var b64url = base64.RawURLEncoding

// passkeyRow is a stored credential: what the account page shows and what
// the library needs to verify an assertion.
type passkeyRow struct {
	Passkey
	UserID int64
	Cred   webauthn.Credential
}

const passkeyCols = `id, user_id, credential_id, public_key, sign_count, transports, aaguid, flags,
	attestation_type, attestation_format, name, created_at, last_used_at`

func scanPasskey(sc interface{ Scan(...any) error }) (*passkeyRow, error) {
	var p passkeyRow
	var credID, pub, transports, aaguid string
	var count, created, used int64
	var flags int
	err := sc.Scan(&p.ID, &p.UserID, &credID, &pub, &count, &transports, &aaguid, &flags,
		&p.Cred.AttestationType, &p.Cred.AttestationFormat, &p.Name, &created, &used)
	if err != nil {
		return nil, err
	}
	if p.Cred.ID, err = b64url.DecodeString(credID); err != nil {
		return nil, err
	}
	if p.Cred.PublicKey, err = b64url.DecodeString(pub); err != nil {
		return nil, err
	}
	if aaguid != "" {
		id, err := uuid.Parse(aaguid)
		if err != nil {
			return nil, err
		}
		p.Cred.Authenticator.AAGUID = id[:]
	}
	p.Cred.Authenticator.SignCount = uint32(count)
	p.Cred.Flags = webauthn.CredentialFlagsFromMsgpByte(byte(flags))
	if transports != "" {
		for _, t := range strings.Split(transports, ",") {
			p.Cred.Transport = append(p.Cred.Transport, protocol.AuthenticatorTransport(t))
			p.Transports = append(p.Transports, t)
		}
	}
	p.AAGUID, p.SignCount = aaguid, uint32(count)
	p.CreatedAt, p.LastUsed = db.Time(created), db.Time(used)
	return &p, nil
}

// aaguidText returns the AAGUID as a UUID string, "" when absent or malformed.
func aaguidText(b []byte) string {
	id, err := uuid.FromBytes(b)
	if err != nil {
		return ""
	}
	return id.String()
}

func insertPasskey(ctx context.Context, q querier, userID int64, name string, c *webauthn.Credential, now time.Time) (int64, error) {
	ts := make([]string, 0, len(c.Transport))
	for _, t := range c.Transport {
		ts = append(ts, string(t))
	}
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO webauthn_credentials (user_id, credential_id, public_key, sign_count,
		transports, aaguid, flags, attestation_type, attestation_format, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		userID, b64url.EncodeToString(c.ID), b64url.EncodeToString(c.PublicKey), int64(c.Authenticator.SignCount),
		strings.Join(ts, ","), aaguidText(c.Authenticator.AAGUID), int(c.Flags.MsgpByte()),
		c.AttestationType, c.AttestationFormat, name, db.Millis(now)).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, vigie.E(vigie.KindConflict, "auth.insertPasskey", "This passkey is already registered.", err)
	}
	return id, err
}

func listPasskeys(ctx context.Context, q querier, userID int64) ([]*passkeyRow, error) {
	rows, err := q.Query(ctx, `SELECT `+passkeyCols+` FROM webauthn_credentials WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*passkeyRow
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func countPasskeys(ctx context.Context, q querier, userID int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// usePasskey records a verified assertion. The update is conditional on
// the counter read before verification, so that two replicas accepting
// two copies of one assertion at once cannot both succeed.
func usePasskey(ctx context.Context, q querier, id int64, oldCount, newCount uint32, flags byte, now time.Time) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE webauthn_credentials SET sign_count = ?, flags = ?, last_used_at = ?
		WHERE id = ? AND sign_count = ?`, int64(newCount), int(flags), db.Millis(now), id, int64(oldCount))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func renamePasskey(ctx context.Context, q querier, userID, id int64, name string) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func deletePasskey(ctx context.Context, q querier, userID, id int64) (bool, error) {
	res, err := q.Exec(ctx, `DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// deletePasskeysOf removes every passkey of an account (second factor
// reset by an administrator).
func deletePasskeysOf(ctx context.Context, q querier, userID int64) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// userHandle returns the WebAuthn user handle of an account, creating it
// on first use. Two replicas racing to create it agree through the
// UNIQUE/PRIMARY KEY constraint: the loser reads the winner's.
func userHandle(ctx context.Context, q querier, userID int64) ([]byte, error) {
	var h string
	err := q.QueryRow(ctx, `SELECT handle FROM webauthn_handles WHERE user_id = ?`, userID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err = q.Exec(ctx, `INSERT INTO webauthn_handles (user_id, handle) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`,
			userID, randomToken(32)); err != nil {
			return nil, err
		}
		err = q.QueryRow(ctx, `SELECT handle FROM webauthn_handles WHERE user_id = ?`, userID).Scan(&h)
	}
	if err != nil {
		return nil, err
	}
	return b64url.DecodeString(h)
}

// Ceremony kinds, one of each at most per session.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// putCeremony stores the server half of a ceremony for a session,
// replacing any earlier one of the same kind (whose challenge is void).
func putCeremony(ctx context.Context, q querier, sessionHash, kind string, sd *webauthn.SessionData, exp, now time.Time) error {
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, db.Millis(now)); err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO webauthn_ceremonies (session_hash, kind, data, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_hash, kind) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		sessionHash, kind, string(b), db.Millis(exp))
	return err
}

// takeCeremony reads and deletes the ceremony of a session in one
// statement: a challenge is usable once, whatever the outcome, even when
// two replicas receive the same response at the same time.
func takeCeremony(ctx context.Context, q querier, sessionHash, kind string, now time.Time) (*webauthn.SessionData, error) {
	var data string
	var exp int64
	err := q.QueryRow(ctx, `DELETE FROM webauthn_ceremonies WHERE session_hash = ? AND kind = ? RETURNING data, expires_at`,
		sessionHash, kind).Scan(&data, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !db.Time(exp).After(now) {
		return nil, nil
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(data), &sd); err != nil {
		return nil, err
	}
	return &sd, nil
}
