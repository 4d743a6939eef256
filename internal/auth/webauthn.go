package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"vigie"
	"vigie/internal/db"
)

// Passkeys (WebAuthn) are a second factor for staff, next to TOTP: a
// signed-in staff member registers one from /account; at the next sign-in,
// /login/mfa offers it instead of the code. The server half of each
// ceremony lives in the database, bound to the session that began it.

// ceremonyTTL bounds the time between "begin" and "finish" of a ceremony;
// it is also the timeout the browser is given.
const ceremonyTTL = 5 * time.Minute

// maxPasskeys bounds the passkeys of one account (and the size of the
// lists sent to browsers).
const maxPasskeys = 20

// Passkey is a registered WebAuthn credential, as its owner sees it.
type Passkey struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	AAGUID     string    `json:"aaguid,omitempty"` // authenticator model
	Transports []string  `json:"transports,omitempty"`
	SignCount  uint32    `json:"sign_count"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsed   time.Time `json:"last_used_at,omitzero"`
}

var (
	errPasskeysOff     = vigie.E(vigie.KindNotFound, "auth.passkey", "Passkeys are not enabled on this server.", nil)
	errCeremony        = vigie.E(vigie.KindInvalid, "auth.passkey", "This passkey request has expired or was already used. Please try again.", nil)
	errPasskey         = vigie.E(vigie.KindInvalid, "auth.passkey", "The passkey could not be verified. Try again, or use your authenticator app.", nil)
	errTooManyPasskeys = vigie.E(vigie.KindInvalid, "auth.passkey", "You have 20 passkeys, the most allowed. Delete one first.", nil)
	errBrowserOnly     = vigie.E(vigie.KindForbidden, "auth.passkey", "Passkeys are managed from your browser session, not with an API token.", nil)
)

// newRelyingParty returns the WebAuthn relying party of cfg, nil when
// passkeys are disabled (no RP id).
func newRelyingParty(cfg Config) (*webauthn.WebAuthn, error) {
	if cfg.WebAuthnRPID == "" {
		return nil, nil
	}
	if len(cfg.WebAuthnOrigins) == 0 {
		return nil, fmt.Errorf("auth: WebAuthnOrigins is required with WebAuthnRPID %q", cfg.WebAuthnRPID)
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.WebAuthnRPID,
		RPDisplayName: cfg.Issuer,
		RPOrigins:     cfg.WebAuthnOrigins,
		// The challenge lifetime is enforced by the ceremony store on the
		// configured clock; the library would use the wall clock.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: webauthn: %w", err)
	}
	return rp, nil
}

// PasskeysEnabled reports whether passkeys are configured.
func (a *Auth) PasskeysEnabled() bool { return a.rp != nil }

// passkeyUser is an account as the WebAuthn library sees it.
type passkeyUser struct {
	handle      []byte
	login, name string
	creds       []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.login }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (a *Auth) loadPasskeyUser(ctx context.Context, q querier, id int64, login, name string) (*passkeyUser, []*passkeyRow, error) {
	h, err := userHandle(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := listPasskeys(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	u := &passkeyUser{handle: h, login: login, name: name}
	for _, r := range rows {
		u.creds = append(u.creds, r.Cred)
	}
	return u, rows, nil
}

// passkeyName trims and checks the name its owner gives a passkey.
func passkeyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 100 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' }) {
		return "", vigie.Invalidf("auth.passkeyName", "Give the passkey a name of at most 100 characters.")
	}
	return s, nil
}

// passkeyOwner returns the acting user when passkeys may be managed:
// a staff member in a browser session (which passed the second factor,
// or it would not be a session).
func (a *Auth) passkeyOwner(ctx context.Context) (*vigie.User, error) {
	if a.rp == nil {
		return nil, errPasskeysOff
	}
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	if u.Via != "session" || u.SessionID == "" {
		return nil, errBrowserOnly
	}
	if !u.Role.Staff() {
		return nil, vigie.E(vigie.KindForbidden, "auth.passkey", "Passkeys are for staff accounts.", nil)
	}
	return u, nil
}

// BeginPasskeyRegistration starts registering a passkey for the acting
// user and returns the options to hand to navigator.credentials.create.
func (a *Auth) BeginPasskeyRegistration(ctx context.Context) (*protocol.CredentialCreation, error) {
	u, err := a.passkeyOwner(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	var out *protocol.CredentialCreation
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		pu, rows, err := a.loadPasskeyUser(ctx, tx, u.ID, u.Login, u.Name)
		if err != nil {
			return err
		}
		if len(rows) >= maxPasskeys {
			return errTooManyPasskeys
		}
		creation, sd, err := a.rp.BeginRegistration(pu,
			webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
			webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
			webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
				ResidentKey:      protocol.ResidentKeyRequirementPreferred,
				UserVerification: protocol.VerificationPreferred,
			}))
		if err != nil {
			return err
		}
		out = creation
		return putCeremony(ctx, tx, u.SessionID, ceremonyRegister, sd, now.Add(ceremonyTTL), now)
	})
	return out, err
}

// FinishPasskeyRegistration checks the authenticator's attestation
// (response: the PublicKeyCredential as JSON) against the ceremony begun
// in the same session and stores the new passkey under name.
func (a *Auth) FinishPasskeyRegistration(ctx context.Context, name string, response []byte) (*Passkey, error) {
	const op = "auth.FinishPasskeyRegistration"
	u, err := a.passkeyOwner(ctx)
	if err != nil {
		return nil, err
	}
	if name, err = passkeyName(name); err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, op, "The passkey response could not be read.", err)
	}
	now := a.now()
	// The challenge is spent first, in its own statement, so that a
	// failed attempt cannot be retried against it.
	sd, err := takeCeremony(ctx, a.d, u.SessionID, ceremonyRegister, now)
	if err != nil {
		return nil, err
	}
	if sd == nil {
		return nil, errCeremony
	}
	var out *Passkey
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		pu, rows, err := a.loadPasskeyUser(ctx, tx, u.ID, u.Login, u.Name)
		if err != nil {
			return err
		}
		if len(rows) >= maxPasskeys {
			return errTooManyPasskeys
		}
		cred, err := a.rp.CreateCredential(pu, *sd, parsed)
		if err != nil {
			return vigie.E(vigie.KindInvalid, op, "The passkey could not be verified. Please try again.", err)
		}
		id, err := insertPasskey(ctx, tx, u.ID, name, cred, now)
		if err != nil {
			return err
		}
		out = &Passkey{ID: id, Name: name, AAGUID: aaguidText(cred.Authenticator.AAGUID),
			SignCount: cred.Authenticator.SignCount, CreatedAt: now}
		for _, t := range cred.Transport {
			out.Transports = append(out.Transports, string(t))
		}
		return a.record(ctx, tx, nil, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "passkey registered: #" + itoa(id) + " " + name})
	})
	return out, err
}

// MyPasskeys lists the passkeys of the acting user.
func (a *Auth) MyPasskeys(ctx context.Context) ([]Passkey, error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, vigie.ErrUnauthenticated
	}
	rows, err := listPasskeys(ctx, a.d, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, len(rows))
	for i, r := range rows {
		out[i] = r.Passkey
	}
	return out, nil
}

// RenamePasskey renames a passkey of the acting user.
func (a *Auth) RenamePasskey(ctx context.Context, id int64, name string) error {
	u, err := a.passkeyOwner(ctx)
	if err != nil {
		return err
	}
	if name, err = passkeyName(name); err != nil {
		return err
	}
	return a.d.InTx(ctx, func(tx *db.Tx) error {
		ok, err := renamePasskey(ctx, tx, u.ID, id, name)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.E(vigie.KindNotFound, "auth.RenamePasskey", "Unknown passkey.", nil)
		}
		return a.record(ctx, tx, nil, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "passkey renamed: #" + itoa(id) + " " + name})
	})
}

// DeletePasskey deletes a passkey of the acting user.
func (a *Auth) DeletePasskey(ctx context.Context, id int64) error {
	u, err := a.passkeyOwner(ctx)
	if err != nil {
		return err
	}
	return a.d.InTx(ctx, func(tx *db.Tx) error {
		ok, err := deletePasskey(ctx, tx, u.ID, id)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.E(vigie.KindNotFound, "auth.DeletePasskey", "Unknown passkey.", nil)
		}
		return a.record(ctx, tx, nil, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
			Dept: u.Dept, UnitID: u.UnitID, Detail: "passkey deleted: #" + itoa(id)})
	})
}

// HasPasskeys reports whether the account of a session waiting for its
// second factor may use a passkey (for /login/mfa to offer it).
func (a *Auth) HasPasskeys(ctx context.Context, token string) bool {
	if a.rp == nil {
		return false
	}
	_, u, err := a.pending(ctx, token)
	if err != nil || !u.MFAEnrolled {
		return false
	}
	n, err := countPasskeys(ctx, a.d, u.ID)
	return err == nil && n > 0
}

// BeginPasskeyMFA starts the assertion that replaces the TOTP code for
// the pending session of token, and returns the options to hand to
// navigator.credentials.get.
func (a *Auth) BeginPasskeyMFA(ctx context.Context, token string) (*protocol.CredentialAssertion, error) {
	if a.rp == nil {
		return nil, errPasskeysOff
	}
	s, u, err := a.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	// SECURITY: after an administrator reset the second factor (lost
	// device), the old passkeys must not open the account again.
	if !u.MFAEnrolled {
		return nil, vigie.E(vigie.KindConflict, "auth.BeginPasskeyMFA", "Set up your authenticator app first.", nil)
	}
	now := a.now()
	var out *protocol.CredentialAssertion
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		pu, rows, err := a.loadPasskeyUser(ctx, tx, u.ID, u.Login, u.Name)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return vigie.E(vigie.KindConflict, "auth.BeginPasskeyMFA", "No passkey is registered for this account.", nil)
		}
		assertion, sd, err := a.rp.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return err
		}
		out = assertion
		return putCeremony(ctx, tx, s.ID, ceremonyLogin, sd, now.Add(ceremonyTTL), now)
	})
	return out, err
}

// FinishPasskeyMFA checks the assertion (response: the PublicKeyCredential
// as JSON) of the pending session of token and, when right, completes the
// sign-in as a TOTP code does: the pending session is replaced by a
// complete one (the id rotates). Every refusal counts as a failed sign-in.
func (a *Auth) FinishPasskeyMFA(ctx context.Context, token string, response []byte) (*SignedIn, error) {
	if a.rp == nil {
		return nil, errPasskeysOff
	}
	s, u, err := a.pending(ctx, token)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "auth.FinishPasskeyMFA", "The passkey response could not be read.", err)
	}
	if !u.MFAEnrolled {
		return nil, vigie.E(vigie.KindConflict, "auth.FinishPasskeyMFA", "Set up your authenticator app first.", nil)
	}
	now := a.now()
	sd, err := takeCeremony(ctx, a.d, s.ID, ceremonyLogin, now)
	if err != nil {
		return nil, err
	}
	if sd == nil {
		return nil, a.secondFactorRefused(ctx, u, "no passkey request in progress (expired or replayed)", errCeremony)
	}
	pu, rows, err := a.loadPasskeyUser(ctx, a.d, u.ID, u.Login, u.Name)
	if err != nil {
		return nil, err
	}
	cred, err := a.rp.ValidateLogin(pu, *sd, parsed)
	if err != nil {
		return nil, a.secondFactorRefused(ctx, u, "passkey not verified", errPasskey)
	}
	var row *passkeyRow
	for _, r := range rows {
		if string(r.Cred.ID) == string(cred.ID) {
			row = r
		}
	}
	if row == nil { // the library found it among the same rows
		return nil, fmt.Errorf("auth.FinishPasskeyMFA: verified credential not in the account's list")
	}
	// SECURITY: a signature counter that does not move forward means two
	// copies of the private key exist (or a replayed assertion): refuse,
	// and say so in the journal for the security officer.
	if cred.Authenticator.CloneWarning {
		return nil, a.secondFactorRefused(ctx, u, "passkey #"+itoa(row.ID)+" refused: signature counter went backwards (cloned authenticator?)", errPasskey)
	}
	var out *SignedIn
	err = a.d.InTx(ctx, func(tx *db.Tx) error {
		ok, err := usePasskey(ctx, tx, row.ID, row.SignCount, cred.Authenticator.SignCount, cred.Flags.MsgpByte(), now)
		if err != nil {
			return err
		}
		if !ok {
			return errPasskey // used concurrently: the counter moved under us
		}
		out, err = a.completeSecondFactor(ctx, tx, s, u, now, "sign-in (second factor: passkey #"+itoa(row.ID)+" "+row.Name+")")
		return err
	})
	if errors.Is(err, errPasskey) {
		return nil, a.secondFactorRefused(ctx, u, "passkey #"+itoa(row.ID)+" refused: used concurrently", errPasskey)
	}
	return out, err
}

// completeSecondFactor replaces a pending session by a complete one (the
// id rotates), clears the failure count and journals the sign-in: what
// VerifyMFA does after a right TOTP code.
func (a *Auth) completeSecondFactor(ctx context.Context, tx *db.Tx, s *Session, u *userRow, now time.Time, detail string) (*SignedIn, error) {
	if _, err := deleteSession(ctx, tx, s.ID); err != nil {
		return nil, err
	}
	tok, err := a.newSession(ctx, tx, u, true, s.Via, now)
	if err != nil {
		return nil, err
	}
	if err := clearFailures(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	actor := u.User("session")
	if err := a.record(ctx, tx, actor, vigie.Record{Action: vigie.ActAuth, Object: "user", ObjectID: itoa(u.ID),
		Dept: u.Dept, UnitID: u.UnitID, Detail: detail}); err != nil {
		return nil, err
	}
	return &SignedIn{Token: tok, Step: StepDone, User: actor}, nil
}
