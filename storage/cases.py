"""SQL for cases and their events, including the alert outbox columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.models import Case, CaseAction, CaseEvent, CaseStatus, UserSnapshot
from storage.codec import from_db, optional_from_db, optional_to_db, to_db
from storage.sql import Executor

_COLUMNS = (
    "id, guild_id, number, target_id, target_name, target_is_member, target_joined_at, status, "
    "urgent, opened_at, closed_at, handled_by, handled_at, alert_channel_id, alert_message_id, "
    "alert_revision, alert_posted_revision"
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
    )


class CaseRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Case | None:
        row = await self._db.fetch_one(sql, params)
        return _case(row) if row else None

    async def _many(self, sql: str, params: tuple[Any, ...]) -> list[Case]:
        return [_case(row) for row in await self._db.fetch_all(sql, params)]

    async def active_for_target(self, guild_id: int, target_id: int) -> Case | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? AND target_id = ? "
            "AND status IN ('open', 'acknowledged')",
            (guild_id, target_id),
        )

    async def open(self, guild_id: int, target: UserSnapshot, urgent: bool, now: datetime) -> Case:
        case_id = await self._db.insert(
            "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
            "target_joined_at, status, urgent, opened_at) "
            "VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM cases WHERE guild_id = ?), "
            "?, ?, ?, ?, 'open', ?, ?) RETURNING id",
            (
                guild_id,
                guild_id,
                target.id,
                target.name,
                int(target.joined_at is not None),
                optional_to_db(target.joined_at),
                int(urgent),
                to_db(now),
            ),
        )
        case = await self.get(case_id)
        assert case is not None
        return case

    async def note_new_report(self, case_id: int, target: UserSnapshot, urgent: bool) -> None:
        await self._db.execute(
            "UPDATE cases SET alert_revision = alert_revision + 1, target_name = ?, "
            "target_is_member = ?, target_joined_at = ?, "
            "urgent = CASE WHEN urgent = 1 OR ? = 1 THEN 1 ELSE 0 END WHERE id = ?",
            (
                target.name,
                int(target.joined_at is not None),
                optional_to_db(target.joined_at),
                int(urgent),
                case_id,
            ),
        )

    async def get(self, case_id: int) -> Case | None:
        return await self._one(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (case_id,))

    async def apply_action(
        self, case_id: int, action: CaseAction, actor_id: int, now: datetime
    ) -> Case:
        status = action.resulting_status
        closed_at = None if status.is_active else to_db(now)
        await self._db.execute(
            "UPDATE cases SET status = ?, closed_at = ?, handled_by = ?, handled_at = ?, "
            "alert_revision = alert_revision + 1 WHERE id = ?",
            (status.value, closed_at, actor_id, to_db(now), case_id),
        )
        await self._db.execute(
            "INSERT INTO case_events (case_id, actor_id, action, created_at) VALUES (?, ?, ?, ?)",
            (case_id, actor_id, action.value, to_db(now)),
        )
        case = await self.get(case_id)
        assert case is not None
        return case

    async def events(self, case_id: int) -> list[CaseEvent]:
        rows = await self._db.fetch_all(
            "SELECT case_id, actor_id, action, created_at, note FROM case_events "
            "WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [
            CaseEvent(
                case_id=row[0],
                actor_id=row[1],
                action=CaseAction(row[2]),
                created_at=from_db(row[3]),
                note=row[4],
            )
            for row in rows
        ]

    async def with_pending_alerts(self, limit: int) -> list[Case]:
        return await self._many(
            f"SELECT {', '.join('c.' + c.strip() for c in _COLUMNS.split(','))} "
            "FROM cases AS c JOIN guild_settings AS s ON s.guild_id = c.guild_id "
            "WHERE c.alert_posted_revision < c.alert_revision "
            "AND s.alert_channel_id IS NOT NULL ORDER BY c.urgent DESC, c.id LIMIT ?",
            (limit,),
        )

    async def mark_alert_posted(
        self, case_id: int, revision: int, channel_id: int, message_id: int
    ) -> None:
        await self._db.execute(
            "UPDATE cases SET alert_posted_revision = CASE WHEN alert_posted_revision > ? "
            "THEN alert_posted_revision ELSE ? END, alert_channel_id = ?, alert_message_id = ? "
            "WHERE id = ?",
            (revision, revision, channel_id, message_id, case_id),
        )

    async def forget_alert_message(self, case_id: int) -> None:
        await self._db.execute(
            "UPDATE cases SET alert_channel_id = NULL, alert_message_id = NULL, "
            "alert_posted_revision = 0 WHERE id = ?",
            (case_id,),
        )

    async def list_active(self, guild_id: int, limit: int) -> list[Case]:
        return await self._many(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? "
            "AND status IN ('open', 'acknowledged') ORDER BY urgent DESC, opened_at, id LIMIT ?",
            (guild_id, limit),
        )

    async def for_target(self, guild_id: int, target_id: int, limit: int) -> list[Case]:
        return await self._many(
            f"SELECT {_COLUMNS} FROM cases WHERE guild_id = ? AND target_id = ? "
            "ORDER BY opened_at DESC, id DESC LIMIT ?",
            (guild_id, target_id, limit),
        )

    async def count_by_status(self, guild_id: int, status: CaseStatus) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM cases WHERE guild_id = ? AND status = ?",
            (guild_id, status.value),
        )
        return int(row[0]) if row else 0
