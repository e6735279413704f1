-- The moderators' web dashboard (issue 18): sign-ins in progress and signed-in sessions.
-- Only hashes of the secrets are kept (a leaked database cannot be replayed as a cookie), and
-- any process sharing the database can serve the dashboard.

-- An OAuth2 sign-in started at /login: its state, usable once, until it expires.
CREATE TABLE dashboard_logins (
    state_hash TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- A signed-in moderator. guild_ids: the servers Discord listed at sign-in (candidates only:
-- every request checks the member's permissions again through the bot).
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    user_name  TEXT NOT NULL,
    locale     TEXT,
    guild_ids  TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX ix_dashboard_sessions_expiry ON dashboard_sessions (expires_at);
CREATE INDEX ix_dashboard_logins_expiry ON dashboard_logins (expires_at);
