-- Case IDs and case numbers are never reused. Buttons and confirmations outlive the cases they
-- name (an erasure or a retention purge deletes cases), so a recycled ID would let an old button
-- act on another member's new case.
--
-- SQLite reuses the largest deleted INTEGER PRIMARY KEY unless the table is AUTOINCREMENT, which
-- only CREATE TABLE can say: the table is rebuilt (SQLite's documented procedure; migrate() runs
-- this with foreign keys off and checks them before committing). Every column, constraint and
-- index of `cases` is kept; the tables that reference it keep referring to it by name.

CREATE TABLE cases_rebuilt (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
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
    dismiss_reason        TEXT
        CHECK (dismiss_reason IS NULL OR dismiss_reason IN ('not_violation', 'duplicate', 'malicious')),
    UNIQUE (guild_id, number)
);

INSERT INTO cases_rebuilt (id, guild_id, number, target_id, target_name, target_is_member,
    target_joined_at, status, urgent, opened_at, closed_at, handled_by, handled_at,
    alert_channel_id, alert_message_id, alert_revision, alert_posted_revision, dismiss_reason)
SELECT id, guild_id, number, target_id, target_name, target_is_member,
    target_joined_at, status, urgent, opened_at, closed_at, handled_by, handled_at,
    alert_channel_id, alert_message_id, alert_revision, alert_posted_revision, dismiss_reason
FROM cases;

DROP TABLE cases;
ALTER TABLE cases_rebuilt RENAME TO cases;

CREATE UNIQUE INDEX ux_cases_active_target ON cases (guild_id, target_id)
    WHERE status IN ('open', 'acknowledged');
CREATE INDEX ix_cases_alert_pending ON cases (id)
    WHERE alert_posted_revision < alert_revision;
CREATE INDEX ix_cases_target ON cases (guild_id, target_id, opened_at);
CREATE INDEX ix_cases_dismissed ON cases (guild_id, dismiss_reason) WHERE dismiss_reason IS NOT NULL;
CREATE INDEX ix_cases_closed ON cases (guild_id, closed_at) WHERE closed_at IS NOT NULL;

-- The last case number given out in each guild. It only grows: deleting cases never lowers it.
CREATE TABLE case_numbers (
    guild_id    INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);
INSERT INTO case_numbers (guild_id, last_number)
SELECT guild_id, MAX(number) FROM cases GROUP BY guild_id;
