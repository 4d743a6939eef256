-- +goose Up
-- Hearings in person (internal/complaint): when the eligibility step says
-- an offence needs a hearing in person (known author, violence), the
-- citizen books one of the free slots of the brigade of their commune.
-- Times are Unix milliseconds.

-- hearing_requests: one booking of a hearing in person. reason is why the
-- eligibility step sent the citizen there (author_known | violence);
-- description is the citizen's short text for the brigade. cancelled_at
-- is 0 while the booking holds.
CREATE TABLE hearing_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     BIGINT  NOT NULL,
    dept         TEXT    NOT NULL,
    unit_id      BIGINT  NOT NULL,
    slot_id      BIGINT  NOT NULL,
    insee        TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    cancelled_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX hearing_requests_owner ON hearing_requests (owner_id, created_at);
CREATE INDEX hearing_requests_unit ON hearing_requests (unit_id, created_at);

-- A slot is taken by a complaint (complaint_id) or by a hearing
-- (hearing_id); a free slot has both at 0. Booking is a guarded UPDATE
-- (... WHERE complaint_id = 0 AND hearing_id = 0).
ALTER TABLE complaint_slots ADD COLUMN hearing_id BIGINT NOT NULL DEFAULT 0;
