-- +goose Up
-- waf_rule: the firewall's virtual patches (internal/shield/waf), versioned
-- and append-only. Every change (new text, enabling, disabling, rolling
-- back) adds a row with the next version of the same rule_id; the current
-- state of a rule is its highest version, and the enabled current rules are
-- what every replica loads on top of CRS. The highest id is the rule set's
-- version: replicas compare it to reload within seconds.
CREATE TABLE waf_rule (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id    BIGINT  NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    seclang    TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (rule_id, version)
);

-- +goose Down
DROP TABLE waf_rule;
