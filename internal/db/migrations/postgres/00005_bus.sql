-- +goose Up
-- bus: per-row back-off of the outbox relay, so that one event the bus keeps
-- refusing is retried later without holding back the events behind it.
ALTER TABLE outbox ADD COLUMN next_try_at BIGINT NOT NULL DEFAULT 0;
