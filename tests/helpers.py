"""Shared builders for unit tests: submissions, a fake clock, and direct database counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.models import ReportSource, ReportSubmission, UserSnapshot
from core.ports import NewReport
from core.reasons import Reason
from core.service import ReportAccepted
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


async def scalar(store: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of `sql` (`?` placeholders), run in the store's own
    read path on either backend: for tests that check the database beside the repositories."""

    async def run(tx: Any) -> Any:
        row = await tx.reports._db.fetch_one(sql, params)
        return None if row is None else row[0]

    return await store.read(run)


async def count_rows(store: Any, table: str, guild_id: int | None = None) -> int:
    """Rows in `table` (of one guild if given)."""
    if guild_id is None:
        return int(await scalar(store, f"SELECT COUNT(*) FROM {table}"))
    return int(await scalar(store, f"SELECT COUNT(*) FROM {table} WHERE guild_id = ?", (guild_id,)))


async def schema_version(store: Any) -> int:
    """The newest migration applied to the store's database (0 for none)."""
    return int(await scalar(store, "SELECT COALESCE(MAX(version), 0) FROM schema_version"))


def report_accepted(**changes: Any) -> ReportAccepted:
    """A stored report's outcome as the service returns it (the first reporter, below a
    threshold of 3, no case yet), with `changes`: for tests of what a reporter is told."""
    base = ReportAccepted(
        report_id=1,
        case_id=None,
        case_number=None,
        case_opened=False,
        distinct_reporters=1,
        threshold=3,
        duplicate=False,
        alert_channel_configured=True,
        region=None,
    )
    return replace(base, **changes)


def new_report(reporter: int, target: int = 99, **changes: Any) -> NewReport:
    """The row a report's transaction stores, as `ReportService` builds it from
    `submission(reporter, target)` without details or a link, at START, in no case yet;
    `changes` replace fields (`case_id`, `details`, ...)."""
    base = NewReport(
        guild_id=GUILD,
        reporter=user(reporter),
        target=user(target),
        reason=Reason.HARASSMENT,
        source=ReportSource.SLASH,
        created_at=START,
        details=None,
        message_link=None,
        channel_id=None,
        message_id=None,
        case_id=None,
    )
    return replace(base, **changes)
