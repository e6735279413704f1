-- A thread per case and the anonymous relay between moderators and reporters (issue 15).

-- The case's thread, started under its alert (NULL: none yet; 0: it was deleted, so none
-- again: notes stay with the case, answers go under the alert).
ALTER TABLE cases ADD COLUMN thread_id INTEGER;

-- What moderators asked a reporter (by DM, as "the moderators of the server"), what reporters
-- answered or added to their report, and a reporter's "stop messages". AUTOINCREMENT: a
-- question's ID is in the custom ID of its Answer button, and must never name another one.
-- `case_id` NULL: details added to a report that is not in a case (yet); they join it when
-- a case opens. Deleted with the case, the report, or the reporter (retention, erasure).
CREATE TABLE relay_messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    case_id           INTEGER REFERENCES cases (id),
    report_id         INTEGER REFERENCES reports (id),
    reporter_id       INTEGER NOT NULL,
    author_id         INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('question', 'answer', 'details', 'stopped')),
    question_id       INTEGER REFERENCES relay_messages (id),
    text              TEXT CHECK (text IS NULL OR length(text) <= 1000),
    state             TEXT NOT NULL
        CHECK (state IN ('kept', 'sending', 'sent', 'dms_closed', 'failed')),
    created_at        TEXT NOT NULL,
    -- Where the question's DM is, and where an answer or details were posted (an erasure
    -- deletes them from Discord too).
    dm_channel_id     INTEGER,
    dm_message_id     INTEGER,
    posted_channel_id INTEGER,
    posted_message_id INTEGER
);
CREATE INDEX ix_relay_case ON relay_messages (case_id, kind, created_at);
CREATE INDEX ix_relay_report ON relay_messages (report_id, created_at);
CREATE INDEX ix_relay_reporter ON relay_messages (guild_id, reporter_id);
-- One answer per question, whichever process takes it.
CREATE UNIQUE INDEX ux_relay_one_answer ON relay_messages (question_id) WHERE kind = 'answer';

-- Reporters who chose "Stop messages about this report": never asked again about that case.
CREATE TABLE relay_optouts (
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    reporter_id INTEGER NOT NULL,
    guild_id    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, reporter_id)
);

-- What still has to go into a case's thread, in order (an outbox: a row is deleted once
-- posted). AUTOINCREMENT: the ID is the post's nonce, so a deleted row's ID must never return.
CREATE TABLE case_feed (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    event_id   INTEGER REFERENCES case_events (id),
    relay_id   INTEGER REFERENCES relay_messages (id),
    created_at TEXT NOT NULL,
    CHECK ((event_id IS NULL) <> (relay_id IS NULL))
);
CREATE INDEX ix_case_feed_case ON case_feed (case_id, id);

-- A purged case's thread is cleaned up like its alert: 'thread' rows name the thread (its ID
-- in both columns), whose messages by Vigil are deleted.
ALTER TABLE alert_cleanup ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'
    CHECK (kind IN ('message', 'thread'));
