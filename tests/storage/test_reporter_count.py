"""The distinct counting reporters a case keeps (`cases.counted_reporters`, migration 0015).

A report joining a case adds to the kept count instead of counting the case's reports again,
so the count must stay exactly what counting would give after everything that changes a
case's reports: reports that do not count (muted, retaliation, young accounts), duplicates, a
case opening on the reports in no case, a member asking for support, an erasure, a retention
purge, and, on PostgreSQL, transactions of two processes interleaving. Each test compares the
kept count of every case with a count of its reports, on both backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.models import CaseAction, GuildSettings, ReportSource, UserSnapshot
from core.policy import RateLimit
from core.reasons import Reason
from core.relay import RelayService, ReporterTurn
from core.retention import RetentionService
from core.service import CaseService, ReportAccepted, ReportService
from core.snowflakes import snowflake_at
from storage.postgres import PostgresStore
from storage.postgres_sql import PostgresExecutor
from tests.helpers import GUILD, START, clock, submission, user

CHANNEL = 777


async def drift(store: Any) -> list[tuple[int, int, int]]:
    """(case, kept, counted) for every case whose kept count is not its counted one."""

    async def read(tx: Any) -> list[tuple[int, int, int]]:
        rows = await tx.reports._db.fetch_all(
            "SELECT c.id, c.counted_reporters, (SELECT COUNT(DISTINCT r.reporter_id) "
            "FROM reports AS r WHERE r.case_id = c.id AND r.counts_toward_threshold = 1) "
            "FROM cases AS c ORDER BY c.id"
        )
        return [(int(r[0]), int(r[1]), int(r[2])) for r in rows if int(r[1]) != int(r[2])]

    result: list[tuple[int, int, int]] = await store.read(read)
    return result


async def kept(store: Any, case_id: int) -> int:
    async def read(tx: Any) -> int:
        row = await tx.reports._db.fetch_one(
            "SELECT counted_reporters FROM cases WHERE id = ?", (case_id,)
        )
        return int(row[0])

    result: int = await store.read(read)
    return result


def accepted(outcome: object) -> ReportAccepted:
    assert isinstance(outcome, ReportAccepted), outcome
    return outcome


async def configure(store: Any, threshold: int = 3, **changes: Any) -> None:
    settings = replace(
        GuildSettings(GUILD, alert_channel_id=CHANNEL, threshold=threshold), **changes
    )
    await store.write(lambda tx: tx.settings.save(settings, START))


@pytest.fixture
def fake_clock():
    return clock()


@pytest.fixture
def reports(store, fake_clock) -> ReportService:
    return ReportService(store, fake_clock, RateLimit(max_reports=100))


async def test_reports_that_do_not_count_and_duplicates_leave_the_count_alone(
    store, reports, fake_clock
):
    await configure(store, min_account_age_days=7)
    # Reporter 50's reports do not count (moderators said so) until it is lifted.
    await CaseService(store, fake_clock).set_reports_count(
        GUILD, user(50).id, counts=False, actor_id=5
    )
    outcomes = [accepted(await reports.submit(submission(n))) for n in (1, 2, 3)]
    case_id = outcomes[-1].case_id
    assert outcomes[-1].case_opened and outcomes[-1].distinct_reporters == 3
    assert await kept(store, case_id) == 3

    again = accepted(await reports.submit(submission(1)))  # a duplicate: no new reporter
    assert again.duplicate and again.distinct_reporters == 3
    muted = accepted(await reports.submit(submission(50)))
    assert not muted.duplicate and muted.distinct_reporters == 3
    young = UserSnapshot(id=snowflake_at(START - timedelta(days=1), 1), name="new")
    newcomer = accepted(
        await reports.submit(replace(submission(60), reporter=young))
    )  # an account a day old, under the server's seven days
    assert newcomer.distinct_reporters == 3
    assert await drift(store) == []

    # The muted reporter is in the case, but not counted: lifted, their next report counts.
    await CaseService(store, fake_clock).set_reports_count(
        GUILD, user(50).id, counts=True, actor_id=5
    )
    counted = accepted(await reports.submit(submission(50)))
    assert counted.duplicate and counted.distinct_reporters == 4
    assert accepted(await reports.submit(submission(4))).distinct_reporters == 5
    assert await kept(store, case_id) == 5
    assert await drift(store) == []


async def test_retaliation_is_kept_but_not_counted(store, reports):
    await configure(store, threshold=1)
    # Member 7 reported member 8 (a case about 8); member 8 now reports member 7 back.
    about_eight = accepted(await reports.submit(submission(7, target=8)))
    assert about_eight.case_opened
    back = accepted(await reports.submit(submission(8, target=7, reason=Reason.CHILD_SAFETY)))
    assert back.case_id is None and back.distinct_reporters == 0  # kept, never counted
    others = accepted(await reports.submit(submission(9, target=7)))
    assert others.case_opened and others.distinct_reporters == 1
    joined = accepted(await reports.submit(submission(8, target=7)))
    assert joined.duplicate and joined.distinct_reporters == 1
    assert await kept(store, others.case_id) == 1
    assert await drift(store) == []


async def test_a_case_opening_counts_the_reports_it_takes(store, reports, fake_clock):
    await configure(store, threshold=3)
    await CaseService(store, fake_clock).set_reports_count(
        GUILD, user(40).id, counts=False, actor_id=5
    )
    for n in (1, 1, 40, 2):  # a duplicate and a muted reporter among the reports in no case
        assert accepted(await reports.submit(submission(n))).case_id is None
    opened = accepted(await reports.submit(submission(3)))
    assert opened.case_opened and opened.distinct_reporters == 3
    assert await kept(store, opened.case_id) == 3
    assert accepted(await reports.submit(submission(40))).distinct_reporters == 3
    assert accepted(await reports.submit(submission(4))).distinct_reporters == 4
    assert await drift(store) == []


async def test_a_member_asking_for_support_is_counted_once(store, reports):
    await configure(store, threshold=3)
    member = user(99)
    await reports.submit(submission(1, target=99))
    await reports.request_support(GUILD, member, ReportSource.SLASH, "en-GB")  # opens the case
    case = await store.read(lambda tx: tx.cases.active_for_target(GUILD, member.id))
    assert await kept(store, case.id) == 2
    await reports.request_support(GUILD, member, ReportSource.SLASH, "en-GB")  # known: nothing
    assert accepted(await reports.submit(submission(2, target=99))).distinct_reporters == 3
    assert await drift(store) == []
    # Asking while a case about them is open joins it, as one more reporter.
    await reports.submit(submission(3, target=98, reason=Reason.CHILD_SAFETY))
    await reports.request_support(GUILD, user(98), ReportSource.SLASH, None)
    case = await store.read(lambda tx: tx.cases.active_for_target(GUILD, user(98).id))
    assert await kept(store, case.id) == 2
    assert await drift(store) == []


async def test_erasing_a_reporter_counts_their_cases_again(store, reports, fake_clock):
    await configure(store, threshold=2)
    retention = RetentionService(store, fake_clock, grace_days=30)
    for target in (99, 98):
        for n in (1, 2, 3):
            await reports.submit(submission(n, target=target))
    # Reporter 2 also has a report in no case, which a case opened later takes.
    await reports.submit(submission(2, target=97))
    opened = accepted(await reports.submit(submission(4, target=97)))
    assert opened.case_opened and opened.distinct_reporters == 2
    erasure = await retention.forget(GUILD, user(2).id, actor_id=5)
    assert erasure.counts.reports == 3
    assert await drift(store) == []
    assert accepted(await reports.submit(submission(5, target=99))).distinct_reporters == 3
    assert accepted(await reports.submit(submission(5, target=97))).distinct_reporters == 2
    # Erased as a target: their case goes, the others keep their counts.
    await reports.submit(submission(6, target=2, reason=Reason.CHILD_SAFETY))
    await retention.forget(GUILD, user(2).id, actor_id=5)
    assert await drift(store) == []


async def test_retention_purge_and_a_new_case_keep_counts_exact(store, reports, fake_clock):
    await configure(store, threshold=2, retention_days=30)
    cases = CaseService(store, fake_clock)
    retention = RetentionService(store, fake_clock, grace_days=30)
    closed = accepted(await reports.submit(submission(1, reason=Reason.CHILD_SAFETY)))
    await reports.submit(submission(2))
    await cases.act(GUILD, closed.case_id, CaseAction.RESOLVE, actor_id=5)
    await reports.submit(submission(3, target=98))  # in no case, old by the sweep
    fake_clock.advance(timedelta(days=31))
    await reports.submit(submission(4))
    purged = await retention.sweep()
    assert purged.cases == 1 and purged.reports == 3
    opened = accepted(await reports.submit(submission(5)))
    assert opened.case_opened and opened.distinct_reporters == 2
    assert accepted(await reports.submit(submission(3, target=98))).case_id is None
    assert await drift(store) == []


async def test_simultaneous_reporters_keep_the_count_exact(store, reports):
    """Many reporters at once (batched on SQLite, on ten connections on PostgreSQL), some of
    them twice, about the same few members: every case ends with its exact count."""
    await configure(store, threshold=2)
    subs = [submission(n % 40, target=90 + n % 3) for n in range(160)]  # 120+: again
    outcomes = [accepted(o) for o in await asyncio.gather(*(reports.submit(s) for s in subs))]
    for target in (90, 91, 92):
        case = await store.read(lambda tx, t=target: tx.cases.active_for_target(GUILD, user(t).id))
        assert case is not None
        joined = [o.distinct_reporters for o in outcomes if o.case_id == case.id]
        assert max(joined) == await kept(store, case.id) == 40
    assert await drift(store) == []


def test_the_kept_count_is_filled_for_cases_made_before_it(tmp_path):
    """Migration 0015 counts the reports of the cases already there."""
    import sqlite3
    from importlib import resources

    from storage.sqlite import SqliteStore

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    package = resources.files("storage.migrations")
    for n in range(1, 15):
        name = next(p.name for p in package.iterdir() if p.name.startswith(f"{n:04d}_"))
        conn.executescript(package.joinpath(name).read_text("utf-8"))
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (n,))
    conn.execute(
        "INSERT INTO cases (id, guild_id, number, target_id, target_name, target_is_member, "
        "status, opened_at) VALUES (7, ?, 1, 1, 'a', 1, 'open', '2026-01-01')",
        (GUILD,),
    )
    for reporter, counts in ((3, 1), (3, 1), (4, 0), (5, 1)):
        conn.execute(
            "INSERT INTO reports (guild_id, reporter_id, reporter_name, target_id, target_name, "
            "reason, source, created_at, case_id, counts_toward_threshold) "
            "VALUES (?, ?, 'r', 1, 'a', 'spam', 'slash', '2026-01-01', 7, ?)",
            (GUILD, reporter, counts),
        )
    conn.commit()
    conn.close()

    async def check() -> None:
        store = await SqliteStore.open(path)
        try:
            assert await kept(store, 7) == 2
            assert await drift(store) == []
        finally:
            await store.close()

    asyncio.run(check())


# -- PostgreSQL: two processes, transactions interleaved on purpose -----------------------------


class Paused:
    """A store (of one "process") whose writes keep their transaction open after their work,
    locks held and nothing committed, until `release` is set; `holding` says one got there."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def write(self, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        async def paused(tx: Any) -> Any:
            result = await fn(tx)
            self.holding.set()
            await self.release.wait()
            return result

        return await self._store.write(paused)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def started(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        await asyncio.wait_for(self.holding.wait(), 10)
        return task


async def _case_with_reporters(store: PostgresStore, *reporters: int) -> int:
    await configure(store, threshold=len(reporters))
    service = ReportService(store, clock(), RateLimit(max_reports=100))
    outcomes = [accepted(await service.submit(submission(n))) for n in reporters]
    assert outcomes[-1].case_opened and outcomes[-1].case_id is not None
    return outcomes[-1].case_id


def _erasing(store: Any) -> RetentionService:
    return RetentionService(store, clock(), grace_days=30)


def _reporting(store: Any) -> ReportService:
    return ReportService(store, clock(), RateLimit(max_reports=100))


async def test_an_erasure_waits_for_a_report_joining_the_case(two_processes):
    """A report in one process has joined the case (the case's row updated, not committed)
    when an erasure in the other removes another reporter of the case: the erasure counts
    once the report committed, and sees it."""
    a, b = two_processes
    case_id = await _case_with_reporters(a, 1, 2, 3)
    held = Paused(a)
    report = await held.started(_reporting(held).submit(submission(4)))
    erasure = asyncio.create_task(_erasing(b).forget(GUILD, user(2).id, actor_id=5))
    await asyncio.sleep(0.3)
    assert not erasure.done()  # waiting for the report's lock on the case's row
    held.release.set()
    assert accepted(await report).distinct_reporters == 4
    await erasure
    assert await kept(a, case_id) == 3  # 1, 3 and 4
    assert await drift(a) == []


async def test_a_report_joining_the_case_waits_for_an_erasure(two_processes):
    """An erasure in one process has counted the case again (not committed) when a report in
    the other joins it: the report's one more is added to the erasure's count."""
    a, b = two_processes
    case_id = await _case_with_reporters(a, 1, 2, 3)
    held = Paused(b)
    erasure = await held.started(_erasing(held).forget(GUILD, user(2).id, actor_id=5))
    report = asyncio.create_task(_reporting(a).submit(submission(4)))
    await asyncio.sleep(0.3)
    assert not report.done()  # its case update waits for the erasure's lock on the row
    held.release.set()
    await erasure
    assert accepted(await report).distinct_reporters == 3
    assert await kept(a, case_id) == 3
    assert await drift(a) == []


async def test_a_reporter_erased_while_reporting_again_is_counted_exactly(two_processes):
    """The erasure of reporter 2 holds their reporter lock: their new report, in the other
    process, waits for it, then finds no report of theirs in the case and counts as new."""
    a, b = two_processes
    case_id = await _case_with_reporters(a, 1, 2, 3)
    held = Paused(b)
    erasure = await held.started(_erasing(held).forget(GUILD, user(2).id, actor_id=5))
    report = asyncio.create_task(_reporting(a).submit(submission(2)))
    await asyncio.sleep(0.3)
    assert not report.done()  # waiting for reporter 2's lock, held by the erasure
    held.release.set()
    await erasure
    again = accepted(await report)
    assert not again.duplicate and again.distinct_reporters == 3
    assert await kept(a, case_id) == 3
    assert await drift(a) == []


async def test_an_erasure_and_a_case_opening_that_takes_their_report_do_not_deadlock(
    two_processes, monkeypatch
):
    """Reporter 2's report, in no case yet and with details added, is being erased in one
    process (their details already deleted) when a report in the other opens a case that takes
    it. The erasure holds their reports' rows from its start, so the opening waits for it;
    without that, the opening would hold the report's row and wait for the details' rows
    while the erasure waits for the report's row, and PostgreSQL would abort one of them."""
    a, b = two_processes
    await configure(a, threshold=3)
    reporting = _reporting(a)
    accepted(await reporting.submit(submission(1)))
    second = accepted(await reporting.submit(submission(2)))
    added = await RelayService(a, clock()).add_details(
        second.report_id, user(2).id, GUILD, "more about it"
    )
    assert isinstance(added, ReporterTurn)

    reached, go_on = asyncio.Event(), asyncio.Event()
    fetch_all = PostgresExecutor.fetch_all

    async def pausing(self: PostgresExecutor, sql: str, params: Any = ()) -> Any:
        if sql.startswith("DELETE FROM reports WHERE guild_id = ? AND reporter_id = ?"):
            reached.set()
            await go_on.wait()
        return await fetch_all(self, sql, params)

    monkeypatch.setattr(PostgresExecutor, "fetch_all", pausing)
    erasure = asyncio.create_task(_erasing(b).forget(GUILD, user(2).id, actor_id=5))
    await asyncio.wait_for(reached.wait(), 10)  # their details are gone, their report not yet
    opening = asyncio.create_task(reporting.submit(submission(3)))
    await asyncio.sleep(0.3)
    assert not opening.done()  # waiting for the erasure, which holds reporter 2's report
    go_on.set()
    await asyncio.wait_for(erasure, 10)
    outcome = accepted(await asyncio.wait_for(opening, 10))
    assert outcome.case_id is not None
    assert await drift(a) == []


async def test_two_processes_reporting_and_erasing_at_once_keep_counts_exact(two_processes):
    a, b = two_processes
    await configure(a, threshold=2)
    services = [_reporting(s) for s in (a, b)]
    first = [submission(n, target=90 + n % 2) for n in range(1, 21)]
    await asyncio.gather(*(services[n % 2].submit(s) for n, s in enumerate(first)))
    more = [services[n % 2].submit(submission(n % 30 + 1, target=90 + n % 3)) for n in range(90)]
    erasures = [_erasing(b).forget(GUILD, user(n).id, actor_id=5) for n in (3, 8, 13)]
    await asyncio.gather(*more, *erasures)
    assert await drift(a) == []


async def test_a_recount_waits_for_a_report_joining_the_case(two_processes):
    """`recount_reporters` alone (its callers also update the case's row first): a recount
    that waited for a report's row lock still counts that report, committed meanwhile."""
    a, b = two_processes
    case_id = await _case_with_reporters(a, 1, 2, 3)
    held = Paused(a)
    report = await held.started(_reporting(held).submit(submission(4)))
    recount = asyncio.create_task(b.write(lambda tx: tx.cases.recount_reporters([case_id])))
    await asyncio.sleep(0.3)
    assert not recount.done()
    held.release.set()
    await report
    await recount
    assert await kept(a, case_id) == 4
    assert await drift(a) == []


async def test_the_longest_window_is_read_to_its_start(store, reports, fake_clock):
    """The one read looks back as far as setup's longest window (720 h, which the schema's
    CHECK keeps every server within): retaliation and a report in no case 29 days back are
    found, 31 days back they are outside."""
    await configure(store, threshold=1, window_hours=720)
    assert accepted(await reports.submit(submission(7, target=8))).case_opened
    fake_clock.advance(timedelta(days=29))
    back = accepted(await reports.submit(submission(8, target=7)))
    assert back.case_id is None and back.distinct_reporters == 0  # retaliation: not counted
    again = accepted(await reports.submit(submission(8, target=7)))
    assert again.duplicate  # its report in no case, 29 days inside the window
    fake_clock.advance(timedelta(days=2))  # member 7's report is 31 days old: outside
    late = accepted(await reports.submit(submission(8, target=7)))
    assert late.case_opened and late.distinct_reporters == 1 and late.duplicate
    assert await drift(store) == []
