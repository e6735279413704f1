"""SQL for the dashboard's read-only review pages: many cases' reports and events at once, a
member's reports as reporter, and the targets whose stored name matches a search. A page reads
a bounded number of statements, however many cases it lists (no query per case)."""

from __future__ import annotations

from typing import Any

from core.models import CaseEvent, Report
from storage.cases import EVENT_COLUMNS, event_from_row
from storage.reports import _COLUMNS as REPORT_COLUMNS, _report
from storage.sql import Executor


class ReviewRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def reports_for_cases(self, case_ids: list[int]) -> list[Report]:
        """The reports of several cases in one statement (a queue page's summaries)."""
        if not case_ids:
            return []
        marks = ", ".join("?" for _ in case_ids)
        rows = await self._db.fetch_all(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE case_id IN ({marks}) "
            "ORDER BY case_id, created_at, id",
            tuple(case_ids),
        )
        return [_report(row) for row in rows]

    async def events_for_cases(self, case_ids: list[int]) -> list[CaseEvent]:
        """The events of several cases in one statement (a member's page), oldest first."""
        if not case_ids:
            return []
        marks = ", ".join("?" for _ in case_ids)
        rows = await self._db.fetch_all(
            f"SELECT {EVENT_COLUMNS} FROM case_events WHERE case_id IN ({marks}) "
            "ORDER BY created_at, id",
            tuple(case_ids),
        )
        return [event_from_row(row) for row in rows]

    async def case_numbers(self, guild_id: int, case_ids: list[int]) -> dict[int, int]:
        """Case ID -> number, for this server's cases among `case_ids`, in one statement."""
        if not case_ids:
            return {}
        marks = ", ".join("?" for _ in case_ids)
        rows = await self._db.fetch_all(
            f"SELECT id, number FROM cases WHERE guild_id = ? AND id IN ({marks})",
            (guild_id, *case_ids),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def by_reporter(
        self, guild_id: int, reporter_id: int, limit: int, *, not_about: int
    ) -> list[Report]:
        """The reports `reporter_id` filed, except those about `not_about` (the viewer: no
        moderator learns who reported them)."""
        rows = await self._db.fetch_all(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE guild_id = ? AND reporter_id = ? "
            "AND target_id <> ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (guild_id, reporter_id, not_about, limit),
        )
        return [_report(row) for row in rows]

    async def count_by_reporter(self, guild_id: int, reporter_id: int, *, not_about: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM reports WHERE guild_id = ? AND reporter_id = ? "
            "AND target_id <> ?",
            (guild_id, reporter_id, not_about),
        )
        return int(row[0]) if row else 0

    async def search_targets(
        self, guild_id: int, text: str, limit: int, *, not_about: int
    ) -> list[tuple[int, str]]:
        """(user ID, name at the latest report) of reported members whose name contains
        `text` (case-insensitive; LIKE wildcards in `text` are matched literally), except
        `not_about` (the viewer: whether they were reported is not theirs to see)."""
        pattern = "%" + _escape_like(text.lower()) + "%"
        rows: list[Any] = await self._db.fetch_all(
            "SELECT target_id, MAX(target_name) FROM reports WHERE guild_id = ? "
            "AND target_id <> ? AND LOWER(target_name) LIKE ? ESCAPE '\\' GROUP BY target_id "
            "ORDER BY MAX(created_at) DESC LIMIT ?",
            (guild_id, not_about, pattern, limit),
        )
        return [(int(row[0]), str(row[1])) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
