-- Outbox hardening (issue 11): routing away from a reported moderator, alerts in the server's
-- language from any process, urgent pings that notify, posts reconciled after a crash,
-- feedback DMs claimed by one process, delivery problems per guild, alerts of purged cases.

-- Where alerts go when the reported member can read the alert channel (NULL: the owner's DMs).
ALTER TABLE guild_settings ADD COLUMN admin_channel_id INTEGER;
-- The server's Discord locale as last seen, so any process renders alerts in its language.
ALTER TABLE guild_settings ADD COLUMN locale TEXT;

-- An upgrade to urgent asks for one notifying reply; `ping_sent` catches up with `ping_wanted`.
ALTER TABLE cases ADD COLUMN ping_wanted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN ping_sent INTEGER NOT NULL DEFAULT 0;
-- Set before the first POST of an alert: a retry looks in the channel before posting again.
ALTER TABLE cases ADD COLUMN alert_post_started INTEGER NOT NULL DEFAULT 0;

-- A process holds a feedback DM until this time (a crash releases it when the lease runs out).
ALTER TABLE reporter_feedback ADD COLUMN claimed_until TEXT;

-- Why alerts of a guild could not be delivered, as codes (missing_permission, http:503, ...).
CREATE TABLE delivery_problems (
    guild_id   INTEGER NOT NULL,
    problem    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, problem)
);

-- Alert messages of purged cases still to delete from Discord (retried until done).
CREATE TABLE alert_cleanup (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (channel_id, message_id)
);
