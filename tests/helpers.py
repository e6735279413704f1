"""Shared builders for unit tests: a real store on a temporary file and a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import FakeClock
from core.models import ReportSource, ReportSubmission, UserSnapshot
from core.reasons import Reason
from core.snowflakes import snowflake_at

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
