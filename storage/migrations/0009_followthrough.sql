-- Follow-through (issue 14): reminders for urgent cases nobody took, and signals against abuse
-- of reporting (retaliation, members whose reports moderators set to "don't count").

-- Minutes an urgent case may wait for a moderator before a reminder (0: off; at most 120).
ALTER TABLE guild_settings ADD COLUMN urgent_reminder_minutes INTEGER NOT NULL DEFAULT 15
    CHECK (urgent_reminder_minutes BETWEEN 0 AND 120);

-- Reminders sent for an urgent case (the owner's notice is number 4), and when the next is
-- due (NULL: none: not urgent, acted on, or all sent). Claimed per case and number.
ALTER TABLE cases ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN next_reminder_at TEXT;
CREATE INDEX ix_cases_reminder_due ON cases (next_reminder_at)
    WHERE next_reminder_at IS NOT NULL;

-- Why a stored report does not count toward the threshold: 'account_age', 'retaliation',
-- 'muted_reporter' (NULL: it counts, or it was stored before this was recorded).
ALTER TABLE reports ADD COLUMN not_counted_reason TEXT;

-- Members whose reports moderators set to "don't count" (silently, reversibly): their reports
-- are still stored and shown, never counted, never alerting on their own.
CREATE TABLE muted_reporters (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    muted_by INTEGER NOT NULL,
    muted_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Who switched "don't count" on or off for whom, and when: the audit trail of the switch.
CREATE TABLE reporter_count_events (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL,
    counts     INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_reporter_count_events ON reporter_count_events (guild_id, user_id, id);
