-- +goose Up
-- départements: the territories Vigie serves; code is a string ("01", "2A", "974").
CREATE TABLE departements (
    code       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    region     TEXT    NOT NULL DEFAULT '',
    zone       TEXT    NOT NULL,            -- metro | outre-mer
    time_zone  TEXT    NOT NULL,            -- IANA name: Europe/Paris, Indian/Reunion
    created_at BIGINT  NOT NULL
);

-- units: groupement → compagnie → brigade, each in one département.
CREATE TABLE units (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dept       TEXT    NOT NULL REFERENCES departements (code),
    kind       TEXT    NOT NULL,            -- groupement | compagnie | brigade
    parent_id  BIGINT  REFERENCES units (id),
    name       TEXT    NOT NULL,
    code       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL
);
CREATE INDEX units_parent ON units (parent_id);
CREATE INDEX units_dept ON units (dept, kind);
-- One groupement per département, enforced by the database as well.
CREATE UNIQUE INDEX units_one_groupement ON units (dept) WHERE kind = 'groupement';

-- communes: INSEE code, population, postal codes (space separated) and the
-- geometry as GeoJSON text, so that a département can be imported as data.
CREATE TABLE communes (
    insee        TEXT    PRIMARY KEY,
    dept         TEXT    NOT NULL REFERENCES departements (code),
    name         TEXT    NOT NULL,
    population   BIGINT  NOT NULL DEFAULT 0,
    postal_codes TEXT    NOT NULL DEFAULT '',
    geometry     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX communes_dept ON communes (dept, insee);

-- brigade_communes: the territory of each brigade; a commune has at most one.
CREATE TABLE brigade_communes (
    insee      TEXT    PRIMARY KEY REFERENCES communes (insee) ON DELETE CASCADE,
    brigade_id BIGINT  NOT NULL REFERENCES units (id)
);
CREATE INDEX brigade_communes_brigade ON brigade_communes (brigade_id);

-- org_version: version is bumped by every change of units, communes or
-- territories, geo_version by every change of communes, so that other
-- replicas reload their in-memory unit tree and routing index after one
-- cheap read.
CREATE TABLE org_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     BIGINT  NOT NULL,
    geo_version BIGINT  NOT NULL
);
INSERT INTO org_version (id, version, geo_version) VALUES (1, 0, 0);
