-- +goose Up
-- analytics_events: the risk map's sources (internal/analytics): recorded
-- offences, calls for service, plate-reader (LAPI) detections and patrol
-- reports. A time window [started_at, ended_at] (equal for a point in time,
-- Unix ms) and a WGS84 place; never a person. unit_id is the brigade whose
-- territory holds the place (0 when none); plan_id links a patrol report to
-- its plan; batch groups the rows of one import; ref names the record an
-- event came from on the bus ("casefile:123"), once (unique when set).
CREATE TABLE analytics_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dept       TEXT    NOT NULL,
    unit_id    BIGINT  NOT NULL DEFAULT 0,
    source     TEXT    NOT NULL,            -- offence | call | lapi | patrol
    category   TEXT    NOT NULL DEFAULT '',
    started_at BIGINT  NOT NULL,
    ended_at   BIGINT  NOT NULL,
    lon        DOUBLE PRECISION NOT NULL,
    lat        DOUBLE PRECISION NOT NULL,
    plan_id    BIGINT  NOT NULL DEFAULT 0,
    batch      TEXT    NOT NULL DEFAULT '',
    ref        TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE INDEX analytics_events_dept ON analytics_events (dept, started_at);
CREATE UNIQUE INDEX analytics_events_ref ON analytics_events (ref) WHERE ref <> '';

-- patrol_plans: a unit's patrol plan for one shift. stops is JSON (the
-- ordered cells of each patrol, with their centres and scores); cells the
-- planned cell numbers (JSON) on the grid of the unit at cell_size metres.
-- reported_at is set when the patrol report is filed.
CREATE TABLE patrol_plans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dept        TEXT    NOT NULL,
    unit_id     BIGINT  NOT NULL,
    shift_start BIGINT  NOT NULL,
    shift_end   BIGINT  NOT NULL,
    model       TEXT    NOT NULL,
    cell_size   DOUBLE PRECISION NOT NULL,
    params      TEXT    NOT NULL,
    stops       TEXT    NOT NULL,
    created_by  BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    reported_at BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX patrol_plans_unit ON patrol_plans (unit_id, shift_start);
