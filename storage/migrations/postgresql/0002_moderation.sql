-- PostgreSQL version of ../0002_moderation.sql (BIGINT for snowflakes; otherwise identical).
-- Moderator workflow: audit channel, brigading controls, reporter feedback, richer events.

ALTER TABLE guild_settings ADD COLUMN audit_channel_id BIGINT;
ALTER TABLE guild_settings ADD COLUMN min_account_age_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE guild_settings ADD COLUMN reporter_feedback INTEGER NOT NULL DEFAULT 1;

-- Reports from accounts younger than the server's minimum are kept but not counted.
ALTER TABLE reports ADD COLUMN counts_toward_threshold INTEGER NOT NULL DEFAULT 1;
DROP INDEX ix_reports_tally;
CREATE INDEX ix_reports_tally ON reports (guild_id, target_id, created_at, reporter_id)
    WHERE case_id IS NULL AND counts_toward_threshold = 1;

ALTER TABLE cases ADD COLUMN dismiss_reason TEXT
    CHECK (dismiss_reason IS NULL OR dismiss_reason IN ('not_violation', 'duplicate', 'malicious'));
CREATE INDEX ix_cases_dismissed ON cases (guild_id, dismiss_reason) WHERE dismiss_reason IS NOT NULL;

ALTER TABLE case_events ADD COLUMN detail TEXT;

-- One short DM per reporter when moderators act on a case: an outbox, like alerts.
CREATE TABLE reporter_feedback (
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    reporter_id BIGINT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dms_closed', 'failed')),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, reporter_id)
);
CREATE INDEX ix_reporter_feedback_pending ON reporter_feedback (case_id) WHERE state = 'pending';
