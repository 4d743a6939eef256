-- +goose Up
-- meta: facts about this installation (demo marker, installation id).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- outbox: domain events written in the same transaction as the change they
-- describe, relayed to the bus by internal/bus (at least once).
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    subject    TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    created_at BIGINT  NOT NULL,
    sent_at    BIGINT  NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (sent_at, id);
