-- +goose Up
-- webauthn_handles: the WebAuthn user handle of an account, 32 random bytes
-- (base64url) rather than the account id, so that an authenticator never
-- stores anything that identifies the person.
CREATE TABLE webauthn_handles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  TEXT   NOT NULL UNIQUE
);

-- webauthn_credentials: passkeys registered by staff (internal/auth).
-- credential_id and public_key (COSE) are base64url text, portable across
-- engines. sign_count is the last signature counter seen (cloned
-- authenticators show it going backwards); flags keeps the UV/BE/BS bits
-- the library checks at each assertion.
CREATE TABLE webauthn_credentials (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      TEXT    NOT NULL UNIQUE,
    public_key         TEXT    NOT NULL,
    sign_count         BIGINT  NOT NULL DEFAULT 0,
    transports         TEXT    NOT NULL DEFAULT '',
    aaguid             TEXT    NOT NULL DEFAULT '',
    flags              INTEGER NOT NULL DEFAULT 0,
    attestation_type   TEXT    NOT NULL DEFAULT '',
    attestation_format TEXT    NOT NULL DEFAULT '',
    name               TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    last_used_at       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- webauthn_ceremonies: the server half of a registration or assertion in
-- flight (challenge and parameters, JSON), bound to the session that began
-- it, usable once, short-lived. In the database so that any replica may
-- finish what another began.
CREATE TABLE webauthn_ceremonies (
    session_hash TEXT   NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    kind         TEXT   NOT NULL,
    data         TEXT   NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (session_hash, kind)
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
