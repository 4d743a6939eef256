-- +goose Up
-- Online complaints (internal/complaint). Times are Unix milliseconds.

-- complaint_drafts: a citizen's complaint being written, saved at every step
-- of the guided form (data is the form as JSON, raw values included, so
-- that a refused answer is never lost). Deleted when submitted.
CREATE TABLE complaint_drafts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   BIGINT  NOT NULL,
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX complaint_drafts_owner ON complaint_drafts (owner_id, updated_at);

-- complaints: one submitted complaint. data is the validated form as JSON
-- (victim, items, money trail, witnesses); the columns are what queues,
-- dashboards and the receipt query.
CREATE TABLE complaints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    number          TEXT    NOT NULL UNIQUE,   -- PL-2026-01-000123
    verify_code     TEXT    NOT NULL UNIQUE,   -- receipt verification code, 100 random bits
    dept            TEXT    NOT NULL,
    unit_id         BIGINT  NOT NULL,
    owner_id        BIGINT,                    -- the citizen account; NULL for demo history
    step            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    priority        TEXT    NOT NULL,
    suggested_category TEXT NOT NULL DEFAULT '',
    suggested_priority TEXT NOT NULL DEFAULT '',
    triage_by       BIGINT  NOT NULL DEFAULT 0, -- agent who confirmed or corrected the category
    insee           TEXT    NOT NULL DEFAULT '',
    routed_by       TEXT    NOT NULL,          -- commune | position | online | transfer
    facts_from      BIGINT  NOT NULL,
    facts_to        BIGINT  NOT NULL,
    assignee_id     BIGINT  NOT NULL DEFAULT 0,
    assignee_name   TEXT    NOT NULL DEFAULT '',
    case_id         BIGINT  NOT NULL DEFAULT 0,
    case_number     TEXT    NOT NULL DEFAULT '',
    data            TEXT    NOT NULL,
    submitted_at    BIGINT  NOT NULL,
    acked_at        BIGINT  NOT NULL DEFAULT 0, -- first taken in hand (claim, assign, any action)
    first_action_at BIGINT  NOT NULL DEFAULT 0, -- first answer the citizen sees
    closed_at       BIGINT  NOT NULL DEFAULT 0, -- accepted, rejected or closed
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX complaints_queue ON complaints (unit_id, step, submitted_at);
CREATE INDEX complaints_owner ON complaints (owner_id, submitted_at);
CREATE INDEX complaints_dept_time ON complaints (dept, submitted_at);

-- complaint_events: the timeline of a complaint: steps, messages both ways,
-- added information and evidence, appointments, transfers, assignments.
CREATE TABLE complaint_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id BIGINT  NOT NULL REFERENCES complaints (id),
    at           BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,   -- step | message | reply | info | evidence | appointment | transfer | assign | triage
    step         TEXT    NOT NULL DEFAULT '',
    author_id    BIGINT  NOT NULL DEFAULT 0,
    from_citizen INTEGER NOT NULL DEFAULT 0,
    public       INTEGER NOT NULL DEFAULT 1, -- shown to the citizen
    text         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at);

-- complaint_files: evidence files, stored in the blob store by SHA-256.
CREATE TABLE complaint_files (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id BIGINT  NOT NULL REFERENCES complaints (id),
    sha256       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    added_at     BIGINT  NOT NULL,
    added_by     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX complaint_files_complaint ON complaint_files (complaint_id);

-- complaint_slots: appointment slots a brigade publishes; complaint_id is
-- set when a citizen books one.
CREATE TABLE complaint_slots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id      BIGINT  NOT NULL,
    starts_at    BIGINT  NOT NULL,
    minutes      INTEGER NOT NULL,
    complaint_id BIGINT  NOT NULL DEFAULT 0,
    created_by   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX complaint_slots_unit ON complaint_slots (unit_id, starts_at);
CREATE INDEX complaint_slots_complaint ON complaint_slots (complaint_id);

-- complaint_numbers: the last number given per département and year.
CREATE TABLE complaint_numbers (
    dept TEXT    NOT NULL,
    year INTEGER NOT NULL,
    last BIGINT  NOT NULL,
    PRIMARY KEY (dept, year)
);

-- complaint_settings: per département, the unit that receives online
-- complaints with no place (default: the département's groupement).
CREATE TABLE complaint_settings (
    dept           TEXT   PRIMARY KEY,
    online_unit_id BIGINT NOT NULL
);
