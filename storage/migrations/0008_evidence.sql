-- Evidence (issue 14): the text of a reported message, kept with the report when a member uses
-- "Report message". Never the attachments, their URLs or their file names: only how many there
-- were and their content types. Deleted with the report (retention, erasure, departed guilds).
ALTER TABLE reports ADD COLUMN evidence_text TEXT CHECK (evidence_text IS NULL OR length(evidence_text) <= 4000);
ALTER TABLE reports ADD COLUMN evidence_author_id INTEGER;
ALTER TABLE reports ADD COLUMN evidence_sent_at TEXT;
ALTER TABLE reports ADD COLUMN evidence_edited INTEGER;
ALTER TABLE reports ADD COLUMN evidence_attachments INTEGER;
ALTER TABLE reports ADD COLUMN evidence_types TEXT;

-- The text captured when the menu opened, until the form is submitted (the form is stateless:
-- its custom ID names this row). Unclaimed rows are deleted after an hour by the sweep.
CREATE TABLE pending_evidence (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    reporter_id INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    text        TEXT NOT NULL CHECK (length(text) <= 4000),
    sent_at     TEXT NOT NULL,
    edited      INTEGER NOT NULL,
    attachments INTEGER NOT NULL,
    types       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX ix_pending_evidence_created ON pending_evidence (created_at);
