"""SQL for cases and their events, including the alert outbox columns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from core.models import (
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    DismissReason,
    GuildScope,
    ReminderKind,
    SentReminder,
    UserSnapshot,
)
from core.ports import CaseJoin
from core.welfare import CheckInResult
from storage.codec import from_db, optional_from_db, optional_to_db, to_db
from storage.leases import advisory_key
from storage.scope import scope_conditions
from storage.sql import Executor, Row

#: A check-in recorded as delivered since the case's current claim (`cases.check_in_at`), for
#: a WHERE clause on `cases`; its parameters are _DELIVERED_PARAMS.
_DELIVERED_SINCE_CLAIM = (
    "EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id "
    "AND e.action = ? AND e.detail = ? AND e.created_at >= cases.check_in_at)"
)
_DELIVERED_PARAMS = (CaseAction.CHECK_IN.value, CheckInResult.SENT.value)


def _nobody(user_id: int | None) -> int:
    """`target_id <> ?` excludes no one for 0 (no user or case target has ID 0)."""
    return 0 if user_id is None else user_id


_COLUMNS = (
    "id, guild_id, number, target_id, target_name, target_is_member, target_joined_at, status, "
    "urgent, opened_at, closed_at, handled_by, handled_at, alert_channel_id, alert_message_id, "
    "alert_revision, alert_posted_revision, dismiss_reason, ping_wanted, ping_sent, "
    "alert_post_started, reminders_sent, next_reminder_at, check_in_at, target_locale, thread_id"
)

EVENT_COLUMNS = "case_id, actor_id, action, created_at, note, detail"


def event_from_row(row: Row) -> CaseEvent:
    return CaseEvent(
        case_id=row[0],
        actor_id=row[1],
        action=CaseAction(row[2]),
        created_at=from_db(row[3]),
        note=row[4],
        detail=row[5],
    )


def _case(row: Any) -> Case:
    return Case(
        id=row[0],
        guild_id=row[1],
        number=row[2],
        target_id=row[3],
        target_name=row[4],
        target_is_member=bool(row[5]),
        target_joined_at=optional_from_db(row[6]),
        status=CaseStatus(row[7]),
        urgent=bool(row[8]),
        opened_at=from_db(row[9]),
        closed_at=optional_from_db(row[10]),
        handled_by=row[11],
        handled_at=optional_from_db(row[12]),
        alert_channel_id=row[13],
        alert_message_id=row[14],
        alert_revision=row[15],
        alert_posted_revision=row[16],
        dismiss_reason=DismissReason(row[17]) if row[17] else None,
        ping_wanted=int(row[18]),
        ping_sent=int(row[19]),
        alert_post_started=bool(row[20]),
        reminders_sent=int(row[21]),
        next_reminder_at=optional_from_db(row[22]),
        check_in_at=optional_from_db(row[23]),
        target_locale=row[24],
        thread_id=row[25],
    )


_NOTE_NEW_REPORT = (
    "UPDATE cases SET alert_revision = alert_revision + 1, target_name = ?, "
    "target_is_member = ?, target_joined_at = ?, counted_reporters = counted_reporters + ?"
)
_NOTE_URGENT = (
    # An upgrade to urgent asks for one notifying reply (an edit's mention is silent).
    ", ping_wanted = ping_wanted + CASE WHEN urgent = 0 THEN 1 ELSE 0 END, "
    "next_reminder_at = CASE WHEN urgent = 0 AND status = 'open' AND reminders_sent = 0 "
    "THEN ? ELSE next_reminder_at END, urgent = 1"
)
NOTE_NEW_REPORT_SQL = _NOTE_NEW_REPORT + " WHERE id = ?"
NOTE_URGENT_REPORT_SQL = _NOTE_NEW_REPORT + _NOTE_URGENT + " WHERE id = ?"


def note_new_report(join: CaseJoin) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE for a report joining a case (`CaseJoin`), and its parameters: refresh the
    target's snapshot, ask for an alert edit, and one more distinct counting reporter for a
    new one (relative, so it composes with a concurrent `recount_reporters`). An urgent report
    makes the case urgent and schedules its first reminder (of a case nobody has acted on
    yet; kept as it was when the case was already urgent). The other reports leave the
    urgency columns alone (no SET of them: SQLite then leaves the reminder index alone)."""
    target = join.target
    snapshot = (target.name, int(target.joined_at is not None), optional_to_db(target.joined_at))
    if join.urgent:
        return NOTE_URGENT_REPORT_SQL, (
            *snapshot,
            int(join.new_reporter),
            optional_to_db(join.reminder_at),
            join.case_id,
        )
    return NOTE_NEW_REPORT_SQL, (*snapshot, int(join.new_reporter), join.case_id)


RECOUNT_CHUNK = 500  # case IDs per statement, well under both drivers' parameter limits


async def recount_reporters(db: Executor, case_ids: Collection[int]) -> None:
    """Set each case's `counted_reporters` to its distinct counting reporters, counted.

    For the rare paths that move or remove reports in bulk (a case opening takes the reports
    in no case, an erasure removes a reporter's). The report transactions add to the count
    (`NOTE_NEW_REPORT_SQL`) instead of counting. On PostgreSQL the case rows are locked
    first, in a statement of their own: a READ COMMITTED statement that waited for a row
    lock would still count with the snapshot it started with, and write over what the
    transaction it waited for added. Once the rows are held, the count (a new statement, a
    new snapshot) sees every committed report, and a report transaction still running adds
    its one after this commits. SQLite has one writer at a time."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), RECOUNT_CHUNK):
        chunk = ids[start : start + RECOUNT_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        if db.dialect == "postgresql":
            await db.fetch_all(
                f"SELECT id FROM cases WHERE id IN ({marks}) ORDER BY id FOR NO KEY UPDATE",
                chunk,
            )
        await db.execute(
            "UPDATE cases SET counted_reporters = (SELECT COUNT(DISTINCT r.reporter_id) "
            "FROM reports AS r WHERE r.case_id = cases.id AND r.counts_toward_threshold = 1) "
            f"WHERE id IN ({marks})",
            chunk,
        )


RESERVE_CASE_NUMBERS = (
    "INSERT INTO case_numbers (guild_id, last_number) "
    "VALUES (?, (SELECT COALESCE(MAX(number), 0) FROM cases WHERE guild_id = ?) + ?) "
    "ON CONFLICT (guild_id) DO UPDATE SET last_number = case_numbers.last_number + ? "
    "RETURNING last_number"
)
"""The guild's next N case numbers; returns the last (params: guild, guild, N, N). A guild's
first counter row starts after any case already there (rows copied or bulk-loaded without
one); from then on only the counter decides."""


def new_case_values(
    guild_id: int,
    number: int,
    target: UserSnapshot,
    urgent: bool,
    now: datetime,
    reminder_at: datetime | None,
) -> tuple[Any, ...]:
    """A new case's columns, in the order `CaseRepository.open` inserts them (guild, number,
    target, name, member, joined, urgent, opened, reminder): a reminder only when urgent."""
    return (
        guild_id,
        number,
        target.id,
        target.name,
        int(target.joined_at is not None),
        optional_to_db(target.joined_at),
        int(urgent),
        to_db(now),
        optional_to_db(reminder_at if urgent else None),
    )


class CaseRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Case | None:
        row = await self._db.fetch_one(sql, params)
        return _case(row) if row else None

    async def _many(self, sql: str, params: tuple[Any, ...]) -> list[Case]:
        return [_case(row) for row in await self._db.fetch_all(sql, params)]

    async def lock_target(self, guild_id: int, target_id: int) -> None:
        """Serialise report transactions about one target across processes (until commit).

        SQLite needs nothing: BEGIN IMMEDIATE already admits one writer at a time.
        """
        if self._db.dialect == "postgresql":
            await self._db.fetch_one(
                "SELECT pg_advisory_xact_lock(?)", (advisory_key("target", guild_id, target_id),)
            )

    async def active_for_target(self, guild_id: int, target_id: int) -> Case | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? AND target_id = ? "
            "AND status IN ('open', 'acknowledged')",
            (guild_id, target_id),
        )

    async def open(
        self,
        guild_id: int,
        target: UserSnapshot,
        urgent: bool,
        now: datetime,
        reminder_at: datetime | None = None,
    ) -> Case:
        """Open a case with the guild's next number. Numbers come from `case_numbers`, which
        only grows, and IDs are never reused (AUTOINCREMENT / identity): a button or an open
        confirmation for a deleted case can never name a newer one. The upsert's row lock
        orders concurrent openings in one guild across processes."""
        row = await self._db.fetch_one(RESERVE_CASE_NUMBERS, (guild_id, guild_id, 1, 1))
        assert row is not None
        case_id = await self._db.insert(
            "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
            "target_joined_at, status, urgent, opened_at, next_reminder_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
            new_case_values(guild_id, int(row[0]), target, urgent, now, reminder_at),
        )
        case = await self.get(case_id)
        assert case is not None
        return case

    async def recount_reporters(self, case_ids: Collection[int]) -> None:
        """Count the cases' distinct counting reporters again, exactly (see
        `recount_reporters`)."""
        await recount_reporters(self._db, case_ids)

    async def get(self, case_id: int) -> Case | None:
        return await self._one(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (case_id,))

    async def apply_action(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        now: datetime,
        *,
        allowed_from: Collection[CaseStatus],
        note: str | None = None,
        detail: str | None = None,
        twin_since: datetime | None = None,
    ) -> Case | None:
        """Record `action` if the case is still in one of `allowed_from`; None if it is not.
        An identical event since `twin_since` is looked for only after the UPDATE, which holds
        the case's row until commit: a twin committed by another transaction is seen.

        A compare-and-set: the status condition is part of the UPDATE, so of two moderators
        acting at once (a Dismiss and an Acknowledge) exactly one wins whatever the isolation
        level, and the loser's action is not recorded."""
        if not allowed_from:
            return None
        statuses = sorted(s.value for s in allowed_from)
        marks = ", ".join("?" for _ in statuses)
        status = action.resulting_status
        if status is not None:
            dismiss_reason = detail if action is CaseAction.DISMISS else None
            changed = await self._db.execute(
                "UPDATE cases SET status = ?, "
                "closed_at = CASE WHEN ? = 1 THEN COALESCE(closed_at, ?) ELSE NULL END, "
                "handled_by = ?, handled_at = ?, dismiss_reason = ?, "
                f"alert_revision = alert_revision + 1 WHERE id = ? AND status IN ({marks})",
                (
                    status.value,
                    int(not status.is_active),
                    to_db(now),
                    actor_id,
                    to_db(now),
                    dismiss_reason,
                    case_id,
                    *statuses,
                ),
            )
        else:
            changed = await self._db.execute(
                "UPDATE cases SET alert_revision = alert_revision + 1 "
                f"WHERE id = ? AND status IN ({marks})",
                (case_id, *statuses),
            )
        if changed != 1:
            return None
        if twin_since is None or not await self._has_twin(
            case_id, action, actor_id, note, detail, twin_since
        ):
            await self._insert_event(case_id, action, actor_id, now, note, detail)
        return await self.get(case_id)

    async def _has_twin(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        note: str | None,
        detail: str | None,
        since: datetime,
    ) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM case_events WHERE case_id = ? AND actor_id = ? AND action = ? "
            "AND COALESCE(note, '') = ? AND COALESCE(detail, '') = ? AND created_at >= ? "
            "LIMIT 1",
            (case_id, actor_id, action.value, note or "", detail or "", to_db(since)),
        )
        return row is not None

    async def append_event(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        now: datetime,
        *,
        note: str | None = None,
        detail: str | None = None,
    ) -> Case | None:
        """Add `action` to the case's history without touching its status (None: no such case).

        For what already happened on Discord (a ban) after the case moved on: the audit trail
        must say so even when the status transition no longer applies."""
        changed = await self._db.execute(
            "UPDATE cases SET alert_revision = alert_revision + 1 WHERE id = ?", (case_id,)
        )
        if changed != 1:
            return None
        await self._insert_event(case_id, action, actor_id, now, note, detail)
        return await self.get(case_id)

    async def _insert_event(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        now: datetime,
        note: str | None,
        detail: str | None,
    ) -> None:
        event_id = await self._db.insert(
            "INSERT INTO case_events (case_id, actor_id, action, note, detail, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (case_id, actor_id, action.value, note, detail, to_db(now)),
        )
        # Every event goes to the case's thread (t15-relay), in the same transaction: the
        # case feed posts it there once, or drops it when the case has no thread.
        await self._db.execute(
            "INSERT INTO case_feed (guild_id, case_id, event_id, created_at) "
            "SELECT guild_id, id, ?, ? FROM cases WHERE id = ?",
            (event_id, to_db(now), case_id),
        )
        if action not in (CaseAction.NOTE, CaseAction.EXPORTED, CaseAction.ERASURE_HELD):
            # A moderator acted (a note, an export or a held erasure is not taking the case):
            # no more reminders.
            await self._db.execute(
                "UPDATE cases SET next_reminder_at = NULL WHERE id = ?", (case_id,)
            )

    # --- t15-welfare ---

    async def claim_check_in(
        self, case_id: int, now: datetime, free_before: datetime, lease_before: datetime
    ) -> bool:
        """Compare-and-set: hold the case's check-in at `now` unless one was held at or after
        `free_before`, or held at or after `lease_before` with no delivery recorded since (a
        claim whose process died before its record is not kept for the whole cooldown). The
        condition is part of the UPDATE, so of two moderators pressing at once exactly one
        wins (SQLite: one writer at a time; PostgreSQL: the second UPDATE waits for the
        first's row lock, then re-checks the condition and changes nothing)."""
        changed = await self._db.execute(
            "UPDATE cases SET check_in_at = ? WHERE id = ? "
            "AND (check_in_at IS NULL OR check_in_at < ? "
            f"OR (check_in_at < ? AND NOT {_DELIVERED_SINCE_CLAIM}))",
            (to_db(now), case_id, to_db(free_before), to_db(lease_before), *_DELIVERED_PARAMS),
        )
        return changed == 1

    async def check_in_delivered(self, case_id: int) -> bool:
        row = await self._db.fetch_one(
            f"SELECT 1 FROM cases WHERE id = ? AND {_DELIVERED_SINCE_CLAIM}",
            (case_id, *_DELIVERED_PARAMS),
        )
        return row is not None

    async def release_check_in(self, case_id: int, claimed_at: datetime) -> None:
        """Give back a claim that delivered nothing (only this claim: a later one stays)."""
        await self._db.execute(
            "UPDATE cases SET check_in_at = NULL WHERE id = ? AND check_in_at = ? "
            # A check-in delivered since (a slower process's, recorded late) keeps holding
            # the next one back for the cooldown.
            f"AND NOT {_DELIVERED_SINCE_CLAIM}",
            (case_id, to_db(claimed_at), *_DELIVERED_PARAMS),
        )

    async def set_target_locale(self, case_id: int, locale: str | None) -> None:
        """The member's own Discord locale (they asked for support); None keeps what is set."""
        await self._db.execute(
            "UPDATE cases SET target_locale = COALESCE(?, target_locale) WHERE id = ?",
            (locale, case_id),
        )

    # --- end t15-welfare ---

    async def due_reminders(
        self,
        now: datetime,
        limit: int,
        exclude: Sequence[int] = (),
        scope: GuildScope | None = None,
    ) -> list[Case]:
        """Urgent cases nobody has acted on whose next reminder is due (ix_cases_reminder_due)
        and whose alert is posted (the reminder replies to it). Servers take turns, as in
        `with_pending_alerts`: one server's reminders that keep failing take one place per
        turn, never the whole read; `exclude` (cases waiting to retry) and `scope` (the
        servers the reading process may serve) keep them out of it altogether."""
        where = [
            "c.next_reminder_at IS NOT NULL",
            "c.next_reminder_at <= ?",
            "c.status = 'open'",
            "c.urgent = 1",
            "c.alert_message_id IS NOT NULL",
        ]
        if exclude:
            where.append(f"c.id NOT IN ({', '.join('?' for _ in exclude)})")
        scoped, scope_params = scope_conditions("c.guild_id", scope)
        columns = ", ".join("c." + c.strip() for c in _COLUMNS.split(","))
        return await self._many(
            f"SELECT {_COLUMNS} FROM (SELECT {columns}, ROW_NUMBER() OVER "
            "(PARTITION BY c.guild_id ORDER BY c.next_reminder_at, c.id) AS turn "
            f"FROM cases AS c WHERE {' AND '.join(where + scoped)}) AS p "
            "ORDER BY turn, next_reminder_at, id LIMIT ?",
            (to_db(now), *exclude, *scope_params, limit),
        )

    async def reminder_sent(
        self,
        case_id: int,
        number: int,
        next_at: datetime | None,
        sent: tuple[ReminderKind, datetime] | None = None,
    ) -> bool:
        """Record reminder `number` as sent (compare-and-set on the count, so two processes
        never both record it); False when it was recorded already or the case was acted on.
        `sent`: what went and when, kept for the case's timeline (None: a step skipped)."""
        changed = await self._db.execute(
            "UPDATE cases SET reminders_sent = ?, next_reminder_at = ? "
            "WHERE id = ? AND reminders_sent = ? AND next_reminder_at IS NOT NULL",
            (number, optional_to_db(next_at), case_id, number - 1),
        )
        if changed == 1 and sent is not None:
            kind, at = sent
            await self._db.execute(
                "INSERT INTO case_reminders (case_id, number, kind, sent_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (case_id, number) DO NOTHING",
                (case_id, number, kind.value, to_db(at)),
            )
        return changed == 1

    async def reminders(self, case_id: int) -> list[SentReminder]:
        rows = await self._db.fetch_all(
            "SELECT case_id, number, kind, sent_at FROM case_reminders WHERE case_id = ? "
            "ORDER BY number",
            (case_id,),
        )
        return [SentReminder(int(r[0]), int(r[1]), ReminderKind(r[2]), from_db(r[3])) for r in rows]

    async def log_event(
        self, case_id: int, action: CaseAction, actor_id: int, now: datetime
    ) -> None:
        await self._insert_event(case_id, action, actor_id, now, None, None)

    async def events(self, case_id: int) -> list[CaseEvent]:
        rows = await self._db.fetch_all(
            f"SELECT {EVENT_COLUMNS} FROM case_events WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [event_from_row(row) for row in rows]

    async def event(self, event_id: int) -> CaseEvent | None:
        row = await self._db.fetch_one(
            "SELECT case_id, actor_id, action, created_at, note, detail FROM case_events "
            "WHERE id = ?",
            (event_id,),
        )
        return event_from_row(row) if row else None

    async def set_thread(self, case_id: int, thread_id: int | None, expected: int | None) -> bool:
        """Compare-and-set on the thread the case has now (None: none yet): of two processes
        that both started a thread for a case, one records it."""
        if expected is None:
            changed = await self._db.execute(
                "UPDATE cases SET thread_id = ? WHERE id = ? AND thread_id IS NULL",
                (thread_id, case_id),
            )
        else:
            changed = await self._db.execute(
                "UPDATE cases SET thread_id = ? WHERE id = ? AND thread_id = ?",
                (thread_id, case_id, expected),
            )
        return changed == 1

    async def request_redraw(self, case_id: int) -> None:
        await self._db.execute(
            "UPDATE cases SET alert_revision = alert_revision + 1 WHERE id = ?", (case_id,)
        )

    async def get_by_number(self, guild_id: int, number: int) -> Case | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? AND number = ?", (guild_id, number)
        )

    async def count_active(self, guild_id: int, *, not_about: int | None = None) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM cases WHERE guild_id = ? AND status IN ('open', 'acknowledged') "
            "AND target_id <> ?",
            (guild_id, _nobody(not_about)),
        )
        return int(row[0]) if row else 0

    async def queue_feedback(self, case_id: int, reporter_ids: list[int], now: datetime) -> None:
        for reporter_id in reporter_ids:
            await self._db.execute(
                "INSERT INTO reporter_feedback (case_id, reporter_id, state, updated_at) "
                "VALUES (?, ?, 'pending', ?) ON CONFLICT (case_id, reporter_id) DO NOTHING",
                (case_id, reporter_id, to_db(now)),
            )

    async def pending_feedback(self, limit: int, now: datetime) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT case_id, reporter_id FROM reporter_feedback WHERE state = 'pending' "
            "AND (claimed_until IS NULL OR claimed_until < ?) "
            "ORDER BY case_id, reporter_id LIMIT ?",
            (to_db(now), limit),
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    async def claim_feedback(
        self, case_id: int, reporter_id: int, now: datetime, until: datetime
    ) -> bool:
        """Compare-and-set: True in exactly one process, until the lease runs out (a crash
        between the claim and the DM then lets another process send it)."""
        changed = await self._db.execute(
            "UPDATE reporter_feedback SET claimed_until = ? WHERE case_id = ? "
            "AND reporter_id = ? AND state = 'pending' "
            "AND (claimed_until IS NULL OR claimed_until < ?)",
            (to_db(until), case_id, reporter_id, to_db(now)),
        )
        return changed == 1

    async def mark_feedback(
        self, case_id: int, reporter_id: int, state: str, now: datetime
    ) -> None:
        await self._db.execute(
            "UPDATE reporter_feedback SET state = ?, updated_at = ?, claimed_until = NULL "
            "WHERE case_id = ? AND reporter_id = ?",
            (state, to_db(now), case_id, reporter_id),
        )

    async def with_pending_alerts(
        self,
        limit: int,
        exclude: tuple[int, ...] | list[int] = (),
        scope: GuildScope | None = None,
    ) -> list[Case]:
        """Round robin over guilds (each guild's urgent first): a guild whose alerts keep
        failing takes one place per round, never the whole batch. `exclude`: cases waiting
        for a retry, left out so they cannot fill the batch either; `scope`: the servers
        the reading process may serve (other processes' servers never fill its batch)."""
        where = ["c.alert_posted_revision < c.alert_revision", "s.alert_channel_id IS NOT NULL"]
        if exclude:
            where.append(f"c.id NOT IN ({', '.join('?' for _ in exclude)})")
        scoped, scope_params = scope_conditions("c.guild_id", scope)
        columns = ", ".join("c." + c.strip() for c in _COLUMNS.split(","))
        return await self._many(
            f"SELECT {_COLUMNS} FROM (SELECT {columns}, ROW_NUMBER() OVER "
            "(PARTITION BY c.guild_id ORDER BY c.urgent DESC, c.id) AS turn "
            "FROM cases AS c JOIN guild_settings AS s ON s.guild_id = c.guild_id "
            f"WHERE {' AND '.join(where + scoped)}) AS p "
            "ORDER BY turn, urgent DESC, id LIMIT ?",
            (*exclude, *scope_params, limit),
        )

    async def mark_alert_posted(
        self,
        case_id: int,
        revision: int,
        channel_id: int,
        message_id: int,
        ping_sent: int | None = None,
    ) -> bool:
        """Record the alert's message. False: the case is gone (erased or purged meanwhile),
        so nothing refers to that message: the caller must have it deleted."""
        sent = -1 if ping_sent is None else ping_sent  # None: leave ping_sent as it is
        changed = await self._db.execute(
            # A redraw that sends no ping (a button's response) leaves an owed ping pending.
            "UPDATE cases SET alert_posted_revision = CASE "
            "WHEN ping_wanted > (CASE WHEN ping_sent > ? THEN ping_sent ELSE ? END) "
            "THEN alert_posted_revision WHEN alert_posted_revision > ? "
            "THEN alert_posted_revision ELSE ? END, alert_channel_id = ?, alert_message_id = ?, "
            "ping_sent = CASE WHEN ping_sent > ? THEN ping_sent ELSE ? END WHERE id = ?",
            (sent, sent, revision, revision, channel_id, message_id, sent, sent, case_id),
        )
        return changed == 1

    async def note_post_started(self, case_id: int) -> None:
        """Committed before a first POST: after a crash, look in the channel before posting."""
        await self._db.execute("UPDATE cases SET alert_post_started = 1 WHERE id = ?", (case_id,))

    async def forget_alert_message(self, case_id: int, message_id: int) -> bool:
        """The alert message was deleted (by a moderator): none again for this case, and its
        post again counts as started (committed before that POST, like `note_post_started`:
        after a crash the channel is searched, not posted to twice). False: the case is gone
        (erased or purged since it was read) or has another message by now; nothing changed,
        and nothing is to be posted again."""
        changed = await self._db.execute(
            "UPDATE cases SET alert_channel_id = NULL, alert_message_id = NULL, "
            "alert_posted_revision = 0, alert_post_started = 1 "
            "WHERE id = ? AND alert_message_id = ?",
            (case_id, message_id),
        )
        return changed == 1

    async def list_active(
        self, guild_id: int, limit: int, offset: int = 0, *, not_about: int | None = None
    ) -> list[Case]:
        return await self._many(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? "
            "AND status IN ('open', 'acknowledged') AND target_id <> ? "
            "ORDER BY urgent DESC, opened_at, id LIMIT ? OFFSET ?",
            (guild_id, _nobody(not_about), limit, offset),
        )

    async def for_target(self, guild_id: int, target_id: int, limit: int) -> list[Case]:
        return await self._many(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? AND target_id = ? "
            "ORDER BY opened_at DESC, id DESC LIMIT ?",
            (guild_id, target_id, limit),
        )
