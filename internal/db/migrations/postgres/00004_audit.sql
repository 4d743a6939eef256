-- +goose Up
-- audit_entry: the consultation journal, append-only and hash-chained.
-- seq is dense (1, 2, 3...) and is also the Merkle leaf index + 1; hash is
-- SHA-256 over the canonical encoding of every column and prev_hash (see
-- internal/audit/entry.go). Nothing updates a row; only Purge deletes the
-- oldest ones, after writing an anchor.
CREATE TABLE audit_entry (
    seq         BIGINT  PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor_id    BIGINT  NOT NULL,
    actor_login TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    actor_unit  BIGINT  NOT NULL,
    actor_dept  TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    dept        TEXT    NOT NULL,
    unit_id     BIGINT  NOT NULL,
    motif       TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    prev_hash   BYTEA   NOT NULL,
    hash        BYTEA   NOT NULL
);
CREATE INDEX audit_entry_actor  ON audit_entry (actor_login, seq);
CREATE INDEX audit_entry_object ON audit_entry (object, object_id, seq);
CREATE INDEX audit_entry_dept   ON audit_entry (dept, seq);

-- audit_head: one row, the last seq and hash. Appends lock it (PostgreSQL:
-- SELECT ... FOR UPDATE or a conditional UPDATE) so that the chain has one
-- writer at a time across replicas.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash BYTEA   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- audit_checkpoint: signed Merkle tree heads (RFC 6962), append-only.
-- range holds the compact range [0, size) so the next checkpoint resumes
-- from it instead of rehashing the whole journal.
CREATE TABLE audit_checkpoint (
    size     BIGINT PRIMARY KEY,
    root     BYTEA  NOT NULL,
    at       BIGINT NOT NULL,
    key_id   TEXT   NOT NULL,
    sig      BYTEA  NOT NULL,
    range_hashes BYTEA  NOT NULL
);

-- audit_anchor: one row once the journal has been purged: the seq and hash
-- of the last purged entry and the compact range [0, seq), signed, so that
-- verification starts there.
CREATE TABLE audit_anchor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          BIGINT NOT NULL,
    hash         BYTEA  NOT NULL,
    range_hashes BYTEA  NOT NULL,
    at           BIGINT NOT NULL,
    before_at    BIGINT NOT NULL,
    key_id       TEXT   NOT NULL,
    sig          BYTEA  NOT NULL
);

-- audit_verification: the outcome of each verification, for the status page.
CREATE TABLE audit_verification (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT  NOT NULL,
    ok          INTEGER NOT NULL,
    entries     BIGINT  NOT NULL,
    checkpoints BIGINT  NOT NULL,
    bad_seq     BIGINT  NOT NULL,
    problem     TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    duration_ms BIGINT  NOT NULL
);
