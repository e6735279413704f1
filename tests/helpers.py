"""Shared builders for unit tests: submissions, a fake clock, and direct database counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.models import ReportSource, ReportSubmission, UserSnapshot
from core.reasons import Reason
from core.snowflakes import snowflake_at
from tests.fakes import FakeClock

GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
CHANNEL = 333333333333333333  # a channel of GUILD (the cog passes the guild's channel set)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def user(n: int, *, bot: bool = False, member: bool = True) -> UserSnapshot:
    uid = snowflake_at(datetime(2020, 1, 1, tzinfo=UTC), n)
    return UserSnapshot(
        id=uid,
        name=f"user{n}",
        is_bot=bot,
        joined_at=datetime(2024, 1, 1, tzinfo=UTC) if member else None,
    )


def submission(
    reporter: int,
    target: int = 99,
    reason: Reason = Reason.HARASSMENT,
    *,
    guild: int = GUILD,
    details: str | None = "they keep insulting me",
    link: str | None = None,
    target_snapshot: UserSnapshot | None = None,
    channels: frozenset[int] | None = frozenset({CHANNEL}),
) -> ReportSubmission:
    return ReportSubmission(
        guild_id=guild,
        reporter=user(reporter),
        target=target_snapshot or user(target),
        reason=reason,
        source=ReportSource.SLASH,
        details=details,
        message_link=link,
        guild_channel_ids=channels,
    )


def clock() -> FakeClock:
    return FakeClock(START)


async def count_rows(store: Any, table: str, guild_id: int | None = None) -> int:
    """Rows in `table` (of one guild if given), read with plain SQL in the store's own read
    path, on either backend: the production repositories have no count-everything query."""
    sql = f"SELECT COUNT(*) FROM {table}"
    params: tuple[int, ...] = ()
    if guild_id is not None:
        sql, params = sql + " WHERE guild_id = ?", (guild_id,)

    async def run(tx: Any) -> int:
        row = await tx.reports._db.fetch_one(sql, params)
        return int(row[0])

    count: int = await store.read(run)
    return count
