"""SQL for a guild's data as a whole: retention purges, erasure, departed guilds, notices.

Deletes go children first (feedback, events, reports, cases) so foreign keys always hold.
"""

from __future__ import annotations

from datetime import datetime

from core.models import AlertCleanup, ErasedCase, GuildScope, PurgeCounts
from storage.cases import recount_reporters
from storage.codec import to_db
from storage.scope import scope_conditions
from storage.sql import Executor


class GuildDataRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def _delete_cases(self, where: str, params: tuple[object, ...]) -> int:
        """Delete the cases `where` selects, with everything that hangs off them."""
        selected = f"SELECT id FROM cases WHERE {where}"
        # The relay and the case feed first (t15-relay): they refer to events and reports.
        for table in ("case_feed", "relay_optouts", "relay_messages"):
            await self._db.execute(f"DELETE FROM {table} WHERE case_id IN ({selected})", params)
        await self._db.execute(
            "DELETE FROM relay_messages WHERE report_id IN "
            f"(SELECT id FROM reports WHERE case_id IN ({selected}))",
            params,
        )
        await self._db.execute(
            f"DELETE FROM reporter_feedback WHERE case_id IN ({selected})", params
        )
        await self._db.execute(f"DELETE FROM case_events WHERE case_id IN ({selected})", params)
        await self._db.execute(f"DELETE FROM case_reminders WHERE case_id IN ({selected})", params)
        await self._db.execute(f"DELETE FROM reports WHERE case_id IN ({selected})", params)
        return await self._db.execute(f"DELETE FROM cases WHERE {where}", params)

    async def known_guild_ids(self) -> set[int]:
        rows = await self._db.fetch_all(
            "SELECT guild_id FROM guild_settings UNION SELECT guild_id FROM cases "
            "UNION SELECT guild_id FROM reports WHERE case_id IS NULL"
        )
        return {int(row[0]) for row in rows}

    async def knows_guild(self, guild_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM guild_settings WHERE guild_id = ? UNION ALL "
            "SELECT 1 FROM cases WHERE guild_id = ? UNION ALL "
            "SELECT 1 FROM reports WHERE guild_id = ? AND case_id IS NULL LIMIT 1",
            (guild_id, guild_id, guild_id),
        )
        return row is not None

    async def purge_expired(self, guild_id: int, cutoff: datetime) -> PurgeCounts:
        """Closed cases closed before `cutoff`, and reports never in a case made before it.

        Open cases are kept whole, however old: moderators have not finished with them.
        """
        stamp = to_db(cutoff)
        # Details a reporter added to a report that never joined a case go with the report.
        await self._db.execute(
            "DELETE FROM relay_messages WHERE report_id IN (SELECT id FROM reports "
            "WHERE guild_id = ? AND case_id IS NULL AND created_at < ?)",
            (guild_id, stamp),
        )
        loose = await self._db.execute(
            "DELETE FROM reports WHERE guild_id = ? AND case_id IS NULL AND created_at < ?",
            (guild_id, stamp),
        )
        closed_where = "guild_id = ? AND closed_at IS NOT NULL AND closed_at < ?"
        in_cases = await self._db.fetch_one(
            f"SELECT COUNT(*) FROM reports WHERE case_id IN "
            f"(SELECT id FROM cases WHERE {closed_where})",
            (guild_id, stamp),
        )
        await self._queue_cleanup(closed_where, (guild_id, stamp), stamp)
        await self._queue_case_content(closed_where, (guild_id, stamp), stamp)
        cases = await self._delete_cases(closed_where, (guild_id, stamp))
        return PurgeCounts(reports=loose + int(in_cases[0] if in_cases else 0), cases=cases)

    async def purge_guild(self, guild_id: int) -> PurgeCounts:
        """Everything Vigil holds about a guild."""
        reports = await self._db.fetch_one(
            "SELECT COUNT(*) FROM reports WHERE guild_id = ?", (guild_id,)
        )
        for table in ("case_feed", "relay_optouts", "relay_messages"):
            await self._db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
        cases = await self._delete_cases("guild_id = ?", (guild_id,))
        await self._db.execute("DELETE FROM reports WHERE guild_id = ?", (guild_id,))
        for table in (
            "guild_settings",
            "departed_guilds",
            "delivery_notices",
            "erasures",
            "delivery_problems",
            "alert_cleanup",
            "pending_evidence",
            "muted_reporters",
            "reporter_count_events",
        ):
            await self._db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
        return PurgeCounts(reports=int(reports[0] if reports else 0), cases=cases)

    async def forget_user(
        self, guild_id: int, user_id: int, actor_id: int, now: datetime
    ) -> tuple[PurgeCounts, list[ErasedCase], list[int], list[int]]:
        """Erase a user as target and as reporter. Returns the counts, the erased cases (their
        alerts are queued in `alert_cleanup` here), the other cases that lost reports (to
        redraw their alerts), and the cases about `actor_id` that kept the user's reports."""
        if self._db.dialect == "postgresql":
            # Their reports' rows first: a case opening in another process that would take one
            # of them (it holds the target's lock, not theirs) waits here, before this erasure
            # holds the rows it would go on to need (their details), so neither waits on the
            # other. SQLite has one writer: nothing to order.
            await self._db.fetch_all(
                "SELECT id FROM reports WHERE guild_id = ? AND reporter_id = ? ORDER BY id "
                "FOR UPDATE",
                (guild_id, user_id),
            )
        rows = await self._db.fetch_all(
            "SELECT id, alert_channel_id, alert_message_id, alert_post_started FROM cases "
            "WHERE guild_id = ? AND target_id = ?",
            (guild_id, user_id),
        )
        erased = [ErasedCase(int(r[0]), r[1], r[2], bool(r[3])) for r in rows]
        as_target = await self._db.fetch_one(
            "SELECT COUNT(*) FROM reports WHERE guild_id = ? AND target_id = ?",
            (guild_id, user_id),
        )
        stamp = to_db(now)
        # Their cases' alerts, threads and the questions sent about them go from Discord, queued
        # in this transaction like a purge's: the outbox deletes them and retries a refusal (a
        # crash after this commit leaves the rows, not the messages' only trace).
        theirs = "guild_id = ? AND target_id = ?"
        await self._queue_cleanup(theirs, (guild_id, user_id), stamp)
        # A first post that may have reached Discord unrecorded (a crash between the POST and
        # its record): the alert channel is searched for the case's alert, and it is deleted.
        await self._db.execute(
            "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at, kind) "
            "SELECT c.guild_id, s.alert_channel_id, c.id, ?, 'search' FROM cases AS c "
            "JOIN guild_settings AS s ON s.guild_id = c.guild_id "
            "WHERE c.guild_id = ? AND c.target_id = ? AND c.alert_post_started = 1 "
            "AND c.alert_message_id IS NULL AND s.alert_channel_id IS NOT NULL "
            "ON CONFLICT (channel_id, message_id) DO NOTHING",
            (stamp, guild_id, user_id),
        )
        await self._queue_case_content(theirs, (guild_id, user_id), stamp)
        cases = await self._delete_cases("guild_id = ? AND target_id = ?", (guild_id, user_id))
        await self._db.execute(  # details added to reports about them not in a case
            "DELETE FROM relay_messages WHERE report_id IN "
            "(SELECT id FROM reports WHERE guild_id = ? AND target_id = ?)",
            (guild_id, user_id),
        )
        await self._db.execute(
            "DELETE FROM reports WHERE guild_id = ? AND target_id = ?", (guild_id, user_id)
        )
        # As a reporter: the questions they were sent (the DMs), their answers and additions
        # (where they were posted), their "stop messages". Not what they reported about the
        # manager running this erasure, nor their exchange in cases about that manager: that
        # is the evidence about the manager, not theirs to erase (README: another manager
        # must). It stays until another manager erases the member; each such case says so.
        mine = (
            "guild_id = ? AND reporter_id = ? "
            "AND (case_id IS NULL OR case_id NOT IN (SELECT id FROM cases WHERE target_id = ?)) "
            "AND (report_id IS NULL OR report_id NOT IN "
            "(SELECT id FROM reports WHERE target_id = ?))"
        )
        mine_params = (guild_id, user_id, actor_id, actor_id)
        await self._queue_relay_messages(mine, mine_params, stamp)
        await self._db.execute(
            f"DELETE FROM case_feed WHERE relay_id IN (SELECT id FROM relay_messages WHERE {mine})",
            mine_params,
        )
        await self._db.execute(f"DELETE FROM relay_messages WHERE {mine}", mine_params)
        await self._db.execute(
            "DELETE FROM relay_optouts WHERE guild_id = ? AND reporter_id = ? "
            "AND case_id NOT IN (SELECT id FROM cases WHERE target_id = ?)",
            (guild_id, user_id, actor_id),
        )
        # An earlier erasure of theirs, held back in a case about its manager, named them in
        # that case's audit trail: the event stays (who tried), their ID goes with the rest.
        await self._db.execute(
            "UPDATE case_events SET detail = NULL WHERE action = 'erasure_held' AND detail = ? "
            "AND case_id IN (SELECT id FROM cases WHERE guild_id = ?)",
            (str(user_id), guild_id),
        )
        held = await self._db.fetch_all(
            "SELECT DISTINCT case_id FROM reports WHERE guild_id = ? AND reporter_id = ? "
            "AND target_id = ? AND case_id IS NOT NULL ORDER BY case_id",
            (guild_id, user_id, actor_id),
        )
        # The cases that lost reports are those the deleted rows name as they are deleted (a
        # case opened meanwhile may have taken one of their reports in no case).
        removed = await self._db.fetch_all(
            "DELETE FROM reports WHERE guild_id = ? AND reporter_id = ? AND target_id <> ? "
            "RETURNING case_id",
            (guild_id, user_id, actor_id),
        )
        as_reporter = len(removed)
        touched_ids = sorted({int(r[0]) for r in removed if r[0] is not None})
        # Text held for a form not yet submitted, by this reporter or written by this author.
        await self._db.execute(
            "DELETE FROM pending_evidence "
            "WHERE guild_id = ? AND (reporter_id = ? OR author_id = ?)",
            (guild_id, user_id, user_id),
        )
        for table in ("muted_reporters", "reporter_count_events"):
            await self._db.execute(
                f"DELETE FROM {table} WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        await self._db.execute(
            "DELETE FROM reporter_feedback WHERE reporter_id = ? AND case_id IN "
            "(SELECT id FROM cases WHERE guild_id = ?)",
            (user_id, guild_id),
        )
        for case_id in touched_ids:
            await self._db.execute(
                "UPDATE cases SET alert_revision = alert_revision + 1 WHERE id = ?", (case_id,)
            )
        # Their reports no longer count in those cases: each case's kept count is counted again.
        await recount_reporters(self._db, touched_ids)
        # Their dashboard sessions that list this server (their ID, name, language and
        # servers): they are signed out, and may sign in again.
        await self._db.execute(
            "DELETE FROM dashboard_sessions WHERE user_id = ? AND (',' || guild_ids || ',') LIKE ?",
            (user_id, f"%,{guild_id},%"),
        )
        about = int(as_target[0]) if as_target else 0
        counts = PurgeCounts(reports=about + as_reporter, cases=cases)
        await self._db.insert(
            "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (guild_id, actor_id, counts.reports, counts.cases, to_db(now)),
        )
        return counts, erased, touched_ids, [int(r[0]) for r in held]

    async def mark_departed(self, guild_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO departed_guilds (guild_id, left_at) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO NOTHING",
            (guild_id, to_db(now)),
        )

    async def mark_present(self, guild_id: int) -> None:
        await self._db.execute("DELETE FROM departed_guilds WHERE guild_id = ?", (guild_id,))

    async def departed_before(self, cutoff: datetime) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT guild_id FROM departed_guilds WHERE left_at < ?", (to_db(cutoff),)
        )
        return [int(row[0]) for row in rows]

    async def record_notice(self, guild_id: int, problem: str, now: datetime) -> bool:
        """True if this problem had not been announced to this guild yet."""
        changed = await self._db.execute(
            "INSERT INTO delivery_notices (guild_id, problem, sent_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, problem) DO NOTHING",
            (guild_id, problem, to_db(now)),
        )
        return changed == 1

    async def clear_notices(self, guild_id: int) -> None:
        await self._db.execute("DELETE FROM delivery_notices WHERE guild_id = ?", (guild_id,))

    async def _queue_cleanup(self, where: str, params: tuple[object, ...], stamp: str) -> None:
        """In the purge's transaction: the purged cases' alert messages, to delete from Discord
        afterwards (a crash in between leaves the row, and the deletion is retried)."""
        await self._db.execute(
            "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at) "
            "SELECT guild_id, alert_channel_id, alert_message_id, ? FROM cases "
            f"WHERE {where} AND alert_channel_id IS NOT NULL AND alert_message_id IS NOT NULL "
            "ON CONFLICT (channel_id, message_id) DO NOTHING",
            (stamp, *params),
        )

    async def _queue_case_content(self, where: str, params: tuple[object, ...], stamp: str) -> None:
        """In the purge's transaction: the purged cases' threads (Vigil's messages in them),
        the questions Vigil sent about them by DM and the answers it posted, to delete from
        Discord afterwards, like their alerts."""
        await self._db.execute(
            "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at, kind) "
            f"SELECT guild_id, thread_id, thread_id, ?, 'thread' FROM cases WHERE {where} "
            "AND thread_id > 0 ON CONFLICT (channel_id, message_id) DO NOTHING",
            (stamp, *params),
        )
        await self._queue_relay_messages(
            f"case_id IN (SELECT id FROM cases WHERE {where})", params, stamp
        )

    async def _queue_relay_messages(
        self, where: str, params: tuple[object, ...], stamp: str
    ) -> None:
        """The relay messages' Discord copies: question DMs, and posted answers or details."""
        for channel, message in (
            ("dm_channel_id", "dm_message_id"),
            ("posted_channel_id", "posted_message_id"),
        ):
            await self._db.execute(
                "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at) "
                f"SELECT guild_id, {channel}, {message}, ? FROM relay_messages WHERE {where} "
                f"AND {message} IS NOT NULL ON CONFLICT (channel_id, message_id) DO NOTHING",
                (stamp, *params),
            )

    async def queue_thread_cleanup(self, guild_id: int, thread_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at, kind) "
            "VALUES (?, ?, ?, ?, 'thread') ON CONFLICT (channel_id, message_id) DO NOTHING",
            (guild_id, thread_id, thread_id, to_db(now)),
        )

    async def queue_message_cleanup(
        self, guild_id: int, channel_id: int, message_id: int, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel_id, message_id) DO NOTHING",
            (guild_id, channel_id, message_id, to_db(now)),
        )

    async def pending_cleanup(
        self, limit: int, scope: GuildScope | None = None
    ) -> list[AlertCleanup]:
        """Round robin over guilds (each guild's oldest first), as alerts: a guild whose
        deletions keep failing (its rows pile up) takes one place per round, never the batch.
        `scope`: the servers the reading process serves (and not waiting)."""
        scoped, params = scope_conditions("a.guild_id", scope)
        where = f"WHERE {' AND '.join(scoped)} " if scoped else ""
        rows = await self._db.fetch_all(
            "SELECT id, guild_id, channel_id, message_id, kind, departed FROM (SELECT a.id, "
            "a.guild_id, a.channel_id, a.message_id, a.kind, "
            "CASE WHEN d.guild_id IS NULL THEN 0 ELSE 1 END AS departed, ROW_NUMBER() OVER "
            "(PARTITION BY a.guild_id ORDER BY a.id) AS turn FROM alert_cleanup AS a "
            f"LEFT JOIN departed_guilds AS d ON d.guild_id = a.guild_id {where}) AS p "
            "ORDER BY turn, id LIMIT ?",
            (*params, limit),
        )
        return [
            AlertCleanup(
                int(r[0]),
                int(r[1]),
                int(r[2]),
                int(r[3]),
                thread=r[4] == "thread",
                search=r[4] == "search",
                departed=bool(r[5]),
            )
            for r in rows
        ]

    async def cleanup_pending(self, cleanup_id: int) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM alert_cleanup WHERE id = ?", (cleanup_id,))
        return row is not None

    async def cleanup_done(self, cleanup_id: int) -> None:
        await self._db.execute("DELETE FROM alert_cleanup WHERE id = ?", (cleanup_id,))

    async def note_delivery_problem(self, guild_id: int, problem: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO delivery_problems (guild_id, problem, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, problem) DO UPDATE SET updated_at = excluded.updated_at",
            (guild_id, problem, to_db(now)),
        )

    async def clear_delivery_problems(self, guild_id: int) -> None:
        await self._db.execute("DELETE FROM delivery_problems WHERE guild_id = ?", (guild_id,))

    async def delivery_problems(self, guild_id: int | None = None) -> list[tuple[int, str]]:
        """(guild_id, problem code) pairs: one guild's, or every guild's (None)."""
        if guild_id is None:
            rows = await self._db.fetch_all(
                "SELECT guild_id, problem FROM delivery_problems ORDER BY guild_id, problem"
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT guild_id, problem FROM delivery_problems WHERE guild_id = ? "
                "ORDER BY problem",
                (guild_id,),
            )
        return [(int(r[0]), str(r[1])) for r in rows]
