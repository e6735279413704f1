"""SQL for `/reports stats`: counts grouped in the database, durations computed in core/stats.py.

The same statements run on both backends (timestamps are ISO-8601 UTC text, so a day is the
first 10 characters and ranges compare as text). Counts and groupings are done by the
database; the per-case timestamps of the cases opened in the period are fetched (bounded by
`timing_limit`, newest first) so that medians and percentiles are computed once, in Python,
identically on SQLite (which has no percentile function) and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime

from core.reasons import Reason
from core.stats import CaseTiming, GuildStats, OutboxBacklog, StatsPeriod, build_stats
from storage.codec import from_db, optional_from_db, to_db
from storage.sql import Executor

# The newest 20,000 cases of a period are plenty for a median and a 90th percentile, and keep
# the read bounded (about 0.3 s on SQLite) however busy the guild (benchmarks/stats.py).
DEFAULT_TIMING_LIMIT = 20_000


class StatsRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def for_guild(
        self, guild_id: int, period: StatsPeriod, *, timing_limit: int = DEFAULT_TIMING_LIMIT
    ) -> GuildStats:
        since, until = to_db(period.since), to_db(period.until)
        rows = await self._db.fetch_all(
            "SELECT substr(created_at, 1, 10) AS day, reason, COUNT(*), "
            # A report kept as possible retaliation is left out of "did not count": the
            # figure would tell a moderator who reported someone back that their report was
            # taken as retaliation, i.e. that that member had reported them.
            "SUM(CASE WHEN counts_toward_threshold = 0 "
            "AND COALESCE(not_counted_reason, '') <> 'retaliation' THEN 1 ELSE 0 END) "
            "FROM reports WHERE guild_id = ? AND created_at >= ? AND created_at < ? "
            "GROUP BY substr(created_at, 1, 10), reason",
            (guild_id, since, until),
        )
        known = {r.value: r for r in Reason}
        by_day = [
            (date.fromisoformat(row[0]), known[row[1]], int(row[2]), int(row[3] or 0))
            for row in rows
            if row[1] in known  # a reason retired from the enum is not shown
        ]
        opened = await self._db.fetch_one(
            "SELECT COUNT(*) FROM cases WHERE guild_id = ? AND opened_at >= ? AND opened_at < ?",
            (guild_id, since, until),
        )
        closed = await self._db.fetch_one(
            "SELECT COUNT(*) FROM cases WHERE guild_id = ? AND closed_at IS NOT NULL "
            "AND closed_at >= ? AND closed_at < ?",
            (guild_id, since, until),
        )
        backlog = await self._db.fetch_one(
            "SELECT COUNT(*), SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), MIN(opened_at) "
            "FROM cases WHERE guild_id = ? AND status IN ('open', 'acknowledged')",
            (guild_id,),
        )
        assert opened is not None and closed is not None and backlog is not None
        timing_rows = await self._db.fetch_all(
            "SELECT c.urgent, c.opened_at, c.closed_at, "
            "(SELECT MIN(e.created_at) FROM case_events e "
            "WHERE e.case_id = c.id AND e.action NOT IN ('note', 'evidence_viewed', 'exported')) "
            "FROM cases c WHERE c.guild_id = ? AND c.opened_at >= ? AND c.opened_at < ? "
            "ORDER BY c.opened_at DESC LIMIT ?",
            (guild_id, since, until, timing_limit + 1),
        )
        timings = [
            CaseTiming(
                urgent=bool(row[0]),
                opened_at=from_db(row[1]),
                closed_at=optional_from_db(row[2]),
                first_action_at=optional_from_db(row[3]),
            )
            for row in timing_rows[:timing_limit]
        ]
        return build_stats(
            period,
            by_day=by_day,
            cases_opened=int(opened[0]),
            cases_closed=int(closed[0]),
            backlog_active=int(backlog[0]),
            backlog_unacknowledged=int(backlog[1] or 0),
            oldest_active_opened_at=optional_from_db(backlog[2]),
            timings=timings,
            timings_truncated=len(timing_rows) > timing_limit,
        )

    async def oldest_unacknowledged_urgent(self) -> datetime | None:
        """When the oldest urgent case nobody has acknowledged yet was opened, across all
        guilds (for the operators' gauge of urgent cases left waiting)."""
        row = await self._db.fetch_one(
            "SELECT MIN(opened_at) FROM cases WHERE status = 'open' AND urgent = 1"
        )
        return optional_from_db(row[0]) if row else None

    async def outbox_backlog(self) -> OutboxBacklog:
        """Alerts still to post or edit (in guilds with an alert channel), and when the case of
        the oldest never-posted one was opened: such an alert has been due since then. (An
        edit's due time is not stored; edits count in the backlog only.)"""
        row = await self._db.fetch_one(
            "SELECT COUNT(*), MIN(CASE WHEN c.alert_posted_revision = 0 THEN c.opened_at END) "
            "FROM cases AS c JOIN guild_settings AS s ON s.guild_id = c.guild_id "
            "WHERE c.alert_posted_revision < c.alert_revision AND s.alert_channel_id IS NOT NULL"
        )
        assert row is not None
        return OutboxBacklog(int(row[0]), optional_from_db(row[1]))

    async def ping(self) -> bool:
        """`SELECT 1`: the database answers (the health probe's database check)."""
        row = await self._db.fetch_one("SELECT 1")
        return row is not None and int(row[0]) == 1
