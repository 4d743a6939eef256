-- +goose Up
-- Case files (internal/casefile). Times are BIGINT Unix milliseconds.

-- case_seq: the last sequence number given to a case of a unit in a year;
-- numbers are dense per unit and year (2026-01053-000042).
CREATE TABLE case_seq (
    unit_id BIGINT NOT NULL,
    year    INTEGER NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (unit_id, year)
);

-- cases: one case file (dossier), held by one unit. complaint_id is the
-- complaint it was opened from (0: opened directly). status follows the
-- workflow in casefile.go; version guards concurrent changes.
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    number        TEXT    NOT NULL UNIQUE,
    dept          TEXT    NOT NULL,
    unit_id       BIGINT  NOT NULL REFERENCES units (id),
    complaint_id  BIGINT  NOT NULL DEFAULT 0,
    complaint_no  TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    priority      TEXT    NOT NULL DEFAULT 'normal',
    title         TEXT    NOT NULL,
    narrative     TEXT    NOT NULL DEFAULT '',
    facts_from    BIGINT  NOT NULL DEFAULT 0,
    facts_to      BIGINT  NOT NULL DEFAULT 0,
    place_address TEXT    NOT NULL DEFAULT '',
    place_insee   TEXT    NOT NULL DEFAULT '',
    lat           REAL NOT NULL DEFAULT 0,
    lon           REAL NOT NULL DEFAULT 0,
    submitted_at  BIGINT  NOT NULL DEFAULT 0,
    created_by    BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    closed_at     BIGINT  NOT NULL DEFAULT 0,
    version       BIGINT  NOT NULL DEFAULT 1
);
CREATE INDEX cases_unit ON cases (unit_id, updated_at, id);
CREATE INDEX cases_unit_status ON cases (unit_id, status, updated_at, id);
CREATE INDEX cases_complaint ON cases (complaint_id);

-- case_parties: persons of a case (victim, witness, suspect): personal data.
CREATE TABLE case_parties (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    birth_date TEXT   NOT NULL DEFAULT '',
    address    TEXT   NOT NULL DEFAULT '',
    phone      TEXT   NOT NULL DEFAULT '',
    email      TEXT   NOT NULL DEFAULT '',
    account_id BIGINT NOT NULL DEFAULT 0,
    details    TEXT   NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_parties_case ON case_parties (case_id);

-- case_items: things of a case (phone, vehicle, card, object, money). A
-- card is kept masked only (identifier holds the masked display).
CREATE TABLE case_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind         TEXT   NOT NULL,
    description  TEXT   NOT NULL DEFAULT '',
    identifier   TEXT   NOT NULL DEFAULT '',
    extra        TEXT   NOT NULL DEFAULT '',
    amount_cents BIGINT NOT NULL DEFAULT 0,
    occurred_on  TEXT   NOT NULL DEFAULT '',
    iban         TEXT   NOT NULL DEFAULT '',
    created_by   BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX case_items_case ON case_items (case_id);

-- case_documents: files of a case, stored in the blob store by SHA-256.
CREATE TABLE case_documents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    sha256     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    type       TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    created_by BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_documents_case ON case_documents (case_id);

-- case_tasks: things to do, with a due date and an assignee.
CREATE TABLE case_tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    title       TEXT   NOT NULL,
    due_at      BIGINT NOT NULL DEFAULT 0,
    assignee_id BIGINT NOT NULL DEFAULT 0,
    assignee    TEXT   NOT NULL DEFAULT '',
    done_at     BIGINT NOT NULL DEFAULT 0,
    created_by  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX case_tasks_case ON case_tasks (case_id);

-- case_notes: free notes of the investigators.
CREATE TABLE case_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    body       TEXT   NOT NULL,
    author     TEXT   NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id);

-- case_timeline: everything that happened to a case, appended, never changed.
CREATE TABLE case_timeline (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at       BIGINT NOT NULL,
    actor_id BIGINT NOT NULL DEFAULT 0,
    actor    TEXT   NOT NULL DEFAULT '',
    kind     TEXT   NOT NULL,
    detail   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, id);

-- ident_links: the linked-identifier index. (kind, value) is an identifier
-- in canonical form (ident.Identifier.Value: a card is a keyed hash); the
-- source is a complaint or a case, with the unit that holds it.
CREATE TABLE ident_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    display     TEXT   NOT NULL DEFAULT '',
    source_kind TEXT   NOT NULL,
    source_id   BIGINT NOT NULL,
    dept        TEXT   NOT NULL,
    unit_id     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX ident_links_value ON ident_links (kind, value, source_kind, source_id);
CREATE INDEX ident_links_source ON ident_links (source_kind, source_id);

-- access_requests: an agent asks the unit that holds a linked record for
-- access; an approval creates a time-limited grant (internal/auth grants).
CREATE TABLE access_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_id   BIGINT NOT NULL,
    requester      TEXT   NOT NULL,
    requester_unit BIGINT NOT NULL DEFAULT 0,
    requester_dept TEXT   NOT NULL DEFAULT '',
    source_kind    TEXT   NOT NULL,
    source_id      BIGINT NOT NULL,
    holder_dept    TEXT   NOT NULL,
    holder_unit    BIGINT NOT NULL,
    link_kind      TEXT   NOT NULL DEFAULT '',
    link_display   TEXT   NOT NULL DEFAULT '',
    from_case      BIGINT NOT NULL DEFAULT 0,
    reason         TEXT   NOT NULL,
    status         TEXT   NOT NULL,
    decided_by     BIGINT NOT NULL DEFAULT 0,
    decided_at     BIGINT NOT NULL DEFAULT 0,
    decision_note  TEXT   NOT NULL DEFAULT '',
    grant_id       BIGINT NOT NULL DEFAULT 0,
    expires_at     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX access_requests_holder ON access_requests (holder_unit, status);
CREATE INDEX access_requests_requester ON access_requests (requester_id, created_at);

-- triage_corrections: an agent's confirmed category and priority for a
-- narrative, kept to retrain the triage classifier.
CREATE TABLE triage_corrections (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    text               TEXT   NOT NULL,
    category           TEXT   NOT NULL,
    priority           TEXT   NOT NULL,
    suggested_category TEXT   NOT NULL DEFAULT '',
    suggested_priority TEXT   NOT NULL DEFAULT '',
    dept               TEXT   NOT NULL DEFAULT '',
    created_by         BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL
);

