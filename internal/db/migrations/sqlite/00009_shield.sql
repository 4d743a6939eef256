-- +goose Up
-- shield_ban: bans by address or network (internal/shield). prefix is the
-- canonical netip.Prefix text ("203.0.113.7/32", "2001:db8::/64"). A ban is
-- active while lifted_at = 0 and expires_at is in the future; rows are kept
-- 30 days after they end, to escalate repeat offenders (level counts them).
CREATE TABLE shield_ban (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    origin     TEXT    NOT NULL,
    level      INTEGER NOT NULL DEFAULT 0,
    alert_id   BIGINT  NOT NULL DEFAULT 0,
    created_by TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    lifted_at  BIGINT  NOT NULL DEFAULT 0,
    lifted_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX shield_ban_active ON shield_ban (lifted_at, expires_at);
CREATE INDEX shield_ban_prefix ON shield_ban (prefix, created_at);

-- shield_version: one row bumped by every change of shield_ban, so that
-- each replica refreshes its in-memory snapshot by reading one number.
CREATE TABLE shield_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT  NOT NULL
);
INSERT INTO shield_version (id, n) VALUES (1, 0);

-- shield_alert: one detection that grows while the attack goes on. open_key
-- is the deduplication key while the alert is not closed (NULL once
-- closed), so one attack is one alert; dedup_key keeps it for good (the
-- insider detectors do not reopen what an officer closed the same day). evidence is JSON. dept and unit_id
-- scope who may see it (national when empty).
CREATE TABLE shield_alert (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    open_key    TEXT    UNIQUE,
    dedup_key   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    dept        TEXT    NOT NULL DEFAULT '',
    unit_id     BIGINT  NOT NULL DEFAULT 0,
    evidence    TEXT    NOT NULL,
    hits        BIGINT  NOT NULL DEFAULT 1,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'new',
    ack_by      TEXT    NOT NULL DEFAULT '',
    ack_at      BIGINT  NOT NULL DEFAULT 0,
    ack_comment TEXT    NOT NULL DEFAULT '',
    closed_by   TEXT    NOT NULL DEFAULT '',
    closed_at   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX shield_alert_last ON shield_alert (status, last_at);
CREATE INDEX shield_alert_dedup ON shield_alert (dedup_key);

-- shield_event: the security timeline (WAF blocks, detections, bans,
-- lifts), written in batches; purged after 90 days.
CREATE TABLE shield_event (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     BIGINT  NOT NULL,
    kind   TEXT    NOT NULL,
    source TEXT    NOT NULL,
    rule   TEXT    NOT NULL,
    path   TEXT    NOT NULL,
    detail TEXT    NOT NULL
);
CREATE INDEX shield_event_at ON shield_event (at);

-- shield_lease: who runs the once-per-deployment detectors (journal tail,
-- insider misuse) among the replicas, until when.
CREATE TABLE shield_lease (
    name   TEXT   PRIMARY KEY,
    holder TEXT   NOT NULL,
    until  BIGINT NOT NULL,
    cursor BIGINT NOT NULL DEFAULT 0
);
