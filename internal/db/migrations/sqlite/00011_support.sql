-- +goose Up
-- mail_outbox: e-mail queued in the transaction of the action that causes
-- it (internal/mail), sent by a worker at least once. message is the whole
-- RFC 5322 message, 7-bit (headers RFC 2047, bodies quoted-printable or
-- base64), built at enqueue so that a retry sends the same bytes with the
-- same Message-ID; it is blanked once sent. status: queued | sending |
-- sent | failed. A 'sending' row whose lease (locked_until) has passed was
-- left by a crashed worker and is sent again.
CREATE TABLE mail_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT    NOT NULL UNIQUE,
    recipient    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'queued',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT  NOT NULL,
    locked_until BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    sent_at      BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_at);
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- signups: citizen sign-ups waiting for their e-mail address to be
-- verified (internal/auth, signup.go). Only the SHA-256 of the emailed
-- token is stored; the account (users) is created when the link is
-- followed, so an address typed by someone else never blocks its owner.
CREATE TABLE signups (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    lang          TEXT    NOT NULL DEFAULT 'fr',
    password_hash TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX signups_expiry ON signups (expires_at);

-- signup_attempts: sign-up and resend requests per client address and per
-- e-mail address (hashed), for throttling shared by every replica.
CREATE TABLE signup_attempts (
    ip         TEXT   NOT NULL,
    email_hash TEXT   NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX signup_attempts_ip ON signup_attempts (ip, at);
CREATE INDEX signup_attempts_email ON signup_attempts (email_hash, at);
