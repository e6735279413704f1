-- Retention, erasure and departed guilds: keep evidence only as long as promised.

ALTER TABLE guild_settings ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 180
    CHECK (retention_days BETWEEN 0 AND 3650);

-- Guilds that removed Vigil: their data is purged after a grace period unless they return.
CREATE TABLE departed_guilds (
    guild_id INTEGER PRIMARY KEY,
    left_at  TEXT NOT NULL
);

-- That an erasure happened, by whom and when; never whom it was about.
CREATE TABLE erasures (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL,
    reports    INTEGER NOT NULL,
    cases      INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_erasures_guild ON erasures (guild_id, created_at);

-- One notice per guild and problem when alerts can't be posted (cleared once they can).
CREATE TABLE delivery_notices (
    guild_id INTEGER NOT NULL,
    problem  TEXT NOT NULL,
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (guild_id, problem)
);

CREATE INDEX ix_reports_unassigned_age ON reports (guild_id, created_at) WHERE case_id IS NULL;
CREATE INDEX ix_cases_closed ON cases (guild_id, closed_at) WHERE closed_at IS NOT NULL;
