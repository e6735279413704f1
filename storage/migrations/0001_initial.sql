-- Vigil's first schema: guild settings, reports, cases, their events, and bot metadata.
-- Timestamps are UTC ISO-8601 text with microseconds, so they sort as text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE guild_settings (
    guild_id         INTEGER PRIMARY KEY,
    alert_channel_id INTEGER,
    threshold        INTEGER NOT NULL DEFAULT 3 CHECK (threshold BETWEEN 1 AND 50),
    window_hours     INTEGER NOT NULL DEFAULT 24 CHECK (window_hours BETWEEN 1 AND 720),
    region           TEXT CHECK (region IS NULL OR length(region) = 2),
    mod_role_id      INTEGER,
    updated_at       TEXT NOT NULL
);

CREATE TABLE cases (
    id                    INTEGER PRIMARY KEY,
    guild_id              INTEGER NOT NULL,
    number                INTEGER NOT NULL,
    target_id             INTEGER NOT NULL,
    target_name           TEXT NOT NULL,
    target_is_member      INTEGER NOT NULL,
    target_joined_at      TEXT,
    status                TEXT NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'resolved', 'dismissed')),
    urgent                INTEGER NOT NULL DEFAULT 0,
    opened_at             TEXT NOT NULL,
    closed_at             TEXT,
    handled_by            INTEGER,
    handled_at            TEXT,
    alert_channel_id      INTEGER,
    alert_message_id      INTEGER,
    alert_revision        INTEGER NOT NULL DEFAULT 1,
    alert_posted_revision INTEGER NOT NULL DEFAULT 0,
    UNIQUE (guild_id, number)
);

-- At most one active case per target: the database, not the code, guarantees one alert.
CREATE UNIQUE INDEX ux_cases_active_target ON cases (guild_id, target_id)
    WHERE status IN ('open', 'acknowledged');
-- The outbox: cases whose alert is behind. Stays small however many cases there are.
CREATE INDEX ix_cases_alert_pending ON cases (id)
    WHERE alert_posted_revision < alert_revision;
CREATE INDEX ix_cases_target ON cases (guild_id, target_id, opened_at);

CREATE TABLE reports (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    reporter_id      INTEGER NOT NULL,
    reporter_name    TEXT NOT NULL,
    reporter_joined_at TEXT,
    target_id        INTEGER NOT NULL,
    target_name      TEXT NOT NULL,
    reason           TEXT NOT NULL,
    source           TEXT NOT NULL,
    details          TEXT CHECK (details IS NULL OR length(details) <= 1000),
    message_link     TEXT,
    channel_id       INTEGER,
    message_id       INTEGER,
    created_at       TEXT NOT NULL,
    case_id          INTEGER REFERENCES cases (id)
);

-- The tally: distinct reporters of a target not yet in a case, inside the window.
CREATE INDEX ix_reports_tally ON reports (guild_id, target_id, created_at, reporter_id)
    WHERE case_id IS NULL;
-- The rate limit: one reporter's recent reports.
CREATE INDEX ix_reports_reporter ON reports (guild_id, reporter_id, created_at);
CREATE INDEX ix_reports_case ON reports (case_id, reporter_id);
CREATE INDEX ix_reports_target ON reports (guild_id, target_id, created_at);

CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    actor_id   INTEGER NOT NULL,
    action     TEXT NOT NULL,
    note       TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_case_events_case ON case_events (case_id, id);
