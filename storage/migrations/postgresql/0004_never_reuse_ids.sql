-- PostgreSQL version of ../0004_never_reuse_ids.sql. Identity columns never hand out an ID
-- twice, so `cases` needs no rebuild here; case numbers get the same per-guild counter.

-- The last case number given out in each guild. It only grows: deleting cases never lowers it.
CREATE TABLE case_numbers (
    guild_id    BIGINT PRIMARY KEY,
    last_number INTEGER NOT NULL
);
INSERT INTO case_numbers (guild_id, last_number)
SELECT guild_id, MAX(number) FROM cases GROUP BY guild_id;
