"""The dashboard's busiest pages read a bounded number of statements, on both backends: the
queue and a member's page cost the same whether the server has a few cases or many (no query
per case: a thousand-case server must render as fast as a small one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from core.models import CaseAction, CaseStatus, ReportSource, UserSnapshot
from core.ports import NewReport
from core.reasons import Reason
from core.review import ReviewService
from storage.sql import Params, Row
from storage.unit_of_work import build_unit_of_work
from tests.helpers import GUILD, START, user


class CountingExecutor:
    """An executor that counts the statements it runs (and runs them unchanged)."""

    def __init__(self, inner: Any, counter: list[str]) -> None:
        self._inner = inner
        self._counter = counter
        self.dialect = inner.dialect

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        self._counter.append(sql)
        result: Row | None = await self._inner.fetch_one(sql, params)
        return result

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        self._counter.append(sql)
        rows: list[Row] = await self._inner.fetch_all(sql, params)
        return rows

    async def execute(self, sql: str, params: Params = ()) -> int:
        self._counter.append(sql)
        changed: int = await self._inner.execute(sql, params)
        return changed

    async def insert(self, sql: str, params: Params = ()) -> int:
        self._counter.append(sql)
        new_id: int = await self._inner.insert(sql, params)
        return new_id


class CountingStore:
    """The store, with every read's statements counted."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.statements: list[str] = []

    async def read(self, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        async def counted(tx: Any) -> Any:
            executor = CountingExecutor(tx.reports._db, self.statements)
            return await fn(build_unit_of_work(executor))

        return await self._store.read(counted)


MEMBER = user(500)


def report(reporter: UserSnapshot, target: UserSnapshot, case_id: int, at: Any) -> NewReport:
    return NewReport(
        guild_id=GUILD,
        reporter=reporter,
        target=target,
        reason=Reason.HARASSMENT,
        source=ReportSource.SLASH,
        created_at=at,
        details="details",
        message_link=None,
        channel_id=None,
        message_id=None,
        case_id=case_id,
    )


async def seed(store: Any, count: int) -> None:
    """`count` open cases about different members (the queue), and `count` closed cases about
    MEMBER, each with a report and a note, plus `count` reports BY MEMBER in other cases."""

    async def write(tx: Any) -> None:
        for i in range(count):
            at = START + timedelta(minutes=i)
            other = user(1000 + i)
            case = await tx.cases.open(GUILD, other, i % 3 == 0, at)
            await tx.reports.add(report(user(2000 + i), other, case.id, at))
            await tx.reports.add(report(MEMBER, other, case.id, at))
            about = await tx.cases.open(GUILD, MEMBER, False, at)
            await tx.reports.add(report(user(3000 + i), MEMBER, about.id, at))
            await tx.cases.apply_action(
                about.id, CaseAction.NOTE, 7, at, allowed_from={CaseStatus.OPEN}, note="n"
            )
            await tx.cases.apply_action(
                about.id, CaseAction.RESOLVE, 7, at, allowed_from={CaseStatus.OPEN}
            )

    await store.write(write)


async def statements(store: Any, count: int) -> tuple[int, int]:
    """(statements of a queue page, statements of MEMBER's page) after seeding `count`."""
    await seed(store, count)
    counting = CountingStore(store)
    review = ReviewService(counting)  # type: ignore[arg-type]
    overview = await review.queue(GUILD, 1, user(9).id)
    queue = len(counting.statements)
    counting.statements.clear()
    record = await review.member(GUILD, MEMBER.id, user(9).id)
    assert len(record.cases) == min(count, 50) and len(record.events) == 2 * min(count, 50)
    assert len(record.case_numbers) == min(count, 50)
    assert len(overview.cases) == min(count, 25)
    return queue, len(counting.statements)


async def test_the_queue_and_member_pages_cost_the_same_for_few_and_many_cases(store):
    few = await statements(store, 3)
    await store.write(lambda tx: tx.guild_data.purge_guild(GUILD))
    many = await statements(store, 40)
    assert few == many, (few, many)
    assert max(many) <= 10


async def test_a_members_page_never_shows_who_reported_the_viewer(store):
    """t18-sec: MEMBER reported the moderator VIEWER (and someone else). On MEMBER's page the
    viewer sees the other report only, counted without theirs; a name search never lists the
    viewer, nor does their own ID; another moderator sees both reports."""
    viewer, other, colleague = user(600), user(601), user(602)
    at = START

    async def write(tx: Any) -> None:
        for target in (viewer, other):
            case = await tx.cases.open(GUILD, target, False, at)
            await tx.reports.add(report(MEMBER, target, case.id, at))

    await store.write(write)
    review = ReviewService(store)
    seen = await review.member(GUILD, MEMBER.id, viewer.id)
    assert [r.target_id for r in seen.reports_by] == [other.id]
    assert seen.reports_by_total == 1
    assert all(viewer.id not in (r.target_id, r.reporter_id) for r in seen.reports_about)
    assert set(seen.case_numbers) == {r.case_id for r in seen.reports_by}
    full = await review.member(GUILD, MEMBER.id, colleague.id)
    assert {r.target_id for r in full.reports_by} == {viewer.id, other.id}
    assert full.reports_by_total == 2
    assert await review.search(GUILD, "user60", viewer.id) == [(other.id, other.name)]
    assert await review.search(GUILD, str(viewer.id), viewer.id) == []
    assert {u for u, _ in await review.search(GUILD, "user60", colleague.id)} == {
        viewer.id,
        other.id,
    }
    with pytest.raises(ValueError):
        await review.member(GUILD, viewer.id, viewer.id)
