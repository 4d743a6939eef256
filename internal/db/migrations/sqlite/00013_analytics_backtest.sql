-- +goose Up
-- analytics_backtests: the backtests the analytics worker runs on each
-- département's own recorded offences (internal/analytics, RunBacktest):
-- rolling-origin weekly forecasts of every candidate model over the last
-- weeks, scored, and the shipping rule's decision. The risk map uses the
-- model offered by the département's latest backtest. from_at/to_at bound
-- the scored weeks (Unix ms); methods is JSON (figures and decision per
-- model); offered is the model the rule offers; duration_ms how long it ran.
CREATE TABLE analytics_backtests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dept        TEXT    NOT NULL,
    ran_at      BIGINT  NOT NULL,
    from_at     BIGINT  NOT NULL,
    to_at       BIGINT  NOT NULL,
    weeks       INTEGER NOT NULL,
    empty_weeks INTEGER NOT NULL DEFAULT 0,
    cells       INTEGER NOT NULL,
    cell_size   DOUBLE PRECISION NOT NULL,
    events      INTEGER NOT NULL,
    baseline    TEXT    NOT NULL,
    offered     TEXT    NOT NULL,
    methods     TEXT    NOT NULL,
    duration_ms BIGINT  NOT NULL
);
CREATE INDEX analytics_backtests_dept ON analytics_backtests (dept, ran_at);
