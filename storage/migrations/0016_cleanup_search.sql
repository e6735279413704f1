-- An erasure can meet a case whose alert POST may have reached Discord without its message ID
-- being stored (a crash between the POST and the record): 'search' rows name the channel and
-- the case (its ID in message_id); the outbox looks for that case's alert among the channel's
-- recent messages and deletes it. SQLite cannot change a CHECK: the table is rebuilt.
CREATE TABLE alert_cleanup_new (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    kind       TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'thread', 'search')),
    UNIQUE (channel_id, message_id)
);
INSERT INTO alert_cleanup_new (id, guild_id, channel_id, message_id, created_at, kind)
    SELECT id, guild_id, channel_id, message_id, created_at, kind FROM alert_cleanup;
DROP TABLE alert_cleanup;
ALTER TABLE alert_cleanup_new RENAME TO alert_cleanup;
