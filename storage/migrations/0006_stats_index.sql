-- /reports stats (issue 17): one guild's reports over a period, grouped by day and reason,
-- read from the index alone (a range scan, no table lookups), fast on a year of data.
CREATE INDEX ix_reports_stats ON reports (guild_id, created_at, reason, counts_toward_threshold);
-- (Cases need no new index: a guild's cases are found by the (guild_id, number) key, and
-- there are far fewer of them than reports.)
