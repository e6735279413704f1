-- PostgreSQL version of ../0006_stats_index.sql (identical).
-- /reports stats (issue 17): one guild's reports over a period, grouped by day and reason,
-- read from the index alone (a range scan, no table lookups), fast on a year of data.
CREATE INDEX ix_reports_stats ON reports (guild_id, created_at, reason, counts_toward_threshold);
-- The cases opened in the period, newest first: the timings read stops at its bound
-- instead of sorting all of a guild's cases.
CREATE INDEX ix_cases_opened ON cases (guild_id, opened_at);
