-- +goose Up
-- users: accounts of citizens and staff (internal/auth). login is stored
-- lower-cased, so UNIQUE makes it case-insensitive. unit_id refers to a unit
-- of internal/org (no foreign key across areas); dept is its département.
CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    login             TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    email             TEXT    NOT NULL DEFAULT '',
    role              TEXT    NOT NULL,
    unit_id           BIGINT  NOT NULL DEFAULT 0,
    dept              TEXT    NOT NULL DEFAULT '',
    lang              TEXT    NOT NULL DEFAULT 'fr',
    password_hash     TEXT    NOT NULL DEFAULT '',
    totp_secret       TEXT    NOT NULL DEFAULT '',
    totp_last_counter BIGINT  NOT NULL DEFAULT 0,
    mfa_enrolled      INTEGER NOT NULL DEFAULT 0,
    disabled          INTEGER NOT NULL DEFAULT 0,
    failed_count      INTEGER NOT NULL DEFAULT 0,
    lock_count        INTEGER NOT NULL DEFAULT 0,
    locked_until      BIGINT  NOT NULL DEFAULT 0,
    demo              INTEGER NOT NULL DEFAULT 0,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX users_scope ON users (dept, unit_id);
CREATE INDEX users_email ON users (email);

-- sessions: server-side sessions; only the SHA-256 of the cookie value is
-- stored. mfa_done = 0 marks the step between password and TOTP.
CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mfa_done   INTEGER NOT NULL DEFAULT 0,
    via        TEXT    NOT NULL DEFAULT 'password',
    created_at BIGINT  NOT NULL,
    last_seen  BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- api_tokens: bearer tokens for scripts; only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- auth_failures: failed sign-ins per client address, for throttling shared
-- by every replica.
CREATE TABLE auth_failures (
    ip TEXT   NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX auth_failures_ip ON auth_failures (ip, at);

-- oidc_states: in-flight OpenID Connect sign-ins (state, nonce, PKCE).
CREATE TABLE oidc_states (
    state_hash TEXT   PRIMARY KEY,
    nonce      TEXT   NOT NULL,
    verifier   TEXT   NOT NULL,
    next       TEXT   NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL
);

-- grants: explicit permissions outside the role rules, on one record
-- (target_kind + target_id) or on a unit's subtree (unit_id).
CREATE TABLE grants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    perm        TEXT   NOT NULL,
    target_kind TEXT   NOT NULL DEFAULT '',
    target_id   TEXT   NOT NULL DEFAULT '',
    unit_id     BIGINT NOT NULL DEFAULT 0,
    reason      TEXT   NOT NULL,
    granted_by  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX grants_user ON grants (user_id, perm);
