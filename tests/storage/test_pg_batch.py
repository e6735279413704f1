"""PostgreSQL group commit of report transactions (storage/pg_batch.py).

Reports that arrive together are stored in one transaction; what must hold all the same:
one bad report fails alone and the others are stored, two processes batching the same members
in opposite orders never wait on each other, a connection lost mid-batch leaves nothing
half-stored and nothing acknowledged that is not stored, and the kept reporter counts stay
exact (`drift`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from core.models import GuildSettings
from core.policy import RateLimit
from core.ports import ReportWrite
from core.reasons import Reason
from core.service import ReportAccepted, ReportService
from storage import pg_batch
from storage.leases import advisory_key
from storage.postgres import PostgresStore
from storage.sql import StoreStopped
from tests.helpers import GUILD, START, clock, new_report, submission, user
from tests.storage.test_reporter_count import configure, drift


def _reporting(store: Any) -> ReportService:
    return ReportService(store, clock(), RateLimit(max_reports=100))


async def _stored(store: PostgresStore) -> list[tuple[int, int, int | None]]:
    async def read(tx: Any) -> list[tuple[int, int, int | None]]:
        rows = await tx.reports._db.fetch_all(
            "SELECT id, reporter_id, case_id FROM reports ORDER BY id"
        )
        return [(int(r[0]), int(r[1]), r[2]) for r in rows]

    result: list[tuple[int, int, int | None]] = await store.read(read)
    return result


def _write(reporter: int, target: int, fn: Any) -> ReportWrite:
    return ReportWrite(fn, GUILD, user(reporter).id, user(target).id)


# -- pure: the batch's lock order and its waves ------------------------------------------------


def test_locks_are_taken_reporters_first_then_targets_each_sorted():
    items = [_write(r, t, None) for r, t in ((5, 90), (3, 91), (4, 90), (3, 92))]
    keys = pg_batch.lock_keys(items)
    reporters = sorted({advisory_key("reporter", GUILD, user(r).id) for r in (5, 3, 4)})
    targets = sorted({advisory_key("target", GUILD, user(t).id) for t in (90, 91, 92)})
    assert keys == reporters + targets


def test_waves_share_no_member_and_keep_each_members_order():
    items = [
        _write(1, 90, None),
        _write(2, 90, None),  # same target as the first: next wave
        _write(3, 91, None),
        _write(90, 1, None),  # member 90, reported in the first two: after both
        _write(2, 92, None),  # reporter 2 again: after their first
        _write(4, 93, None),
    ]
    assert pg_batch.waves(items) == [[0, 2, 5], [1], [3, 4]]


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
async def pg(two_processes: tuple[PostgresStore, ...]) -> PostgresStore:
    return two_processes[0]


async def test_reports_arriving_together_are_committed_in_batches_and_counted_exactly(pg):
    await configure(pg, threshold=3)
    service = _reporting(pg)
    subs = [submission(n, target=90 + n % 7) for n in range(1, 141)]
    outcomes = await asyncio.gather(*(service.submit(s) for s in subs))
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    assert 1 <= pg.batches < 20 and pg.fallbacks == 0  # batched, never one by one
    stored = await _stored(pg)
    assert sorted(o.report_id for o in outcomes if isinstance(o, ReportAccepted)) == [
        row[0] for row in stored
    ]
    assert all(case is not None for _, _, case in stored)  # every target reached 3
    counts: dict[int, int] = {}
    for o in outcomes:
        assert isinstance(o, ReportAccepted)
        if o.case_id is not None:
            counts[o.case_id] = max(counts.get(o.case_id, 0), o.distinct_reporters)
    assert sorted(counts.values()) == [20] * 7  # 140 reporters, 20 per target
    assert await drift(pg) == []


async def test_a_batch_decides_with_the_servers_settings_as_stored(pg):
    """The batch's read carries the server's settings row as one JSON array per report
    (`CONTEXT_BATCH_SQL`): its reports are decided and answered with the stored values."""
    stored = GuildSettings(
        GUILD,
        alert_channel_id=(1 << 63) - 1,
        threshold=7,
        region="de",
        min_account_age_days=0,
        locale='pt-BR "quoted" é',
    )
    await pg.write(lambda tx: tx.settings.save(stored, START))
    service = _reporting(pg)
    outcomes = await asyncio.gather(
        *(service.submit(submission(n, target=90 + n % 3)) for n in range(1, 22))
    )
    assert pg.fallbacks == 0 and pg.batches < 21  # batched, never one by one
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    answers = {
        (o.threshold, o.region, o.alert_channel_configured)
        for o in outcomes
        if isinstance(o, ReportAccepted)
    }
    assert answers == {(7, "de", True)}
    opened = [o for o in outcomes if isinstance(o, ReportAccepted) and o.case_opened]
    assert len(opened) == 3  # the seventh reporter of each target, not the third


async def test_one_failing_report_fails_alone_and_the_rest_of_its_batch_is_stored(pg):
    """Two failures, one in Python after the report's INSERT was gathered into the batch's
    statement, one in PostgreSQL (a CHECK, failing the batch's INSERT for its whole wave):
    each fails its own caller only; the batch's other reports are stored once each."""
    await configure(pg, threshold=3)
    service = _reporting(pg)

    async def too_long(tx: Any) -> Any:
        await tx.reports.lock_for_report(GUILD, user(500).id, user(90).id)
        report = new_report(500, 90, details="x" * 1001)  # the schema's CHECK: at most 1,000
        return await tx.reports.add_unassigned(report, START)

    async def raises_after_its_insert(tx: Any) -> Any:
        await tx.reports.lock_for_report(GUILD, user(501).id, user(91).id)
        await tx.reports.report_context(
            GUILD, user(501).id, user(91).id, rate_since=START, window_floor=START
        )
        report = new_report(501, 91)
        await tx.reports.add_unassigned(report, START)
        raise RuntimeError("boom")

    good = [service.submit(submission(n, target=90 + n % 3)) for n in range(1, 31)]
    results = await asyncio.gather(
        pg.write(_write(500, 90, too_long)),
        *good,
        pg.write(_write(501, 91, raises_after_its_insert)),
        return_exceptions=True,
    )
    assert isinstance(results[0], asyncpg.CheckViolationError)
    assert isinstance(results[-1], RuntimeError)
    accepted = [r for r in results[1:-1] if isinstance(r, ReportAccepted)]
    assert len(accepted) == 30
    assert pg.fallbacks >= 1
    stored = await _stored(pg)
    assert sorted(r.report_id for r in accepted) == [row[0] for row in stored]
    assert {row[1] for row in stored} == {user(n).id for n in range(1, 31)}
    assert await drift(pg) == []


async def test_two_processes_batching_the_same_members_in_opposite_orders_never_deadlock(
    two_processes,
):
    """Each process's batch holds the same 12 targets, in opposite orders, and a third
    connection holds the lock of a target in the middle until both batches wait for it: taken
    in one sorted order, one batch then waits for the other; taken in the reports' order, each
    would hold what the other waits for (PostgreSQL aborts one after deadlock_timeout, and its
    batch falls back to one report at a time)."""
    a, b = two_processes
    await configure(a, threshold=2)
    targets = [90 + t for t in range(12)]
    forward = [submission(100 + t, target=target) for t, target in enumerate(targets)]
    backward = [submission(200 + t, target=target) for t, target in enumerate(reversed(targets))]
    blocker = await asyncpg.connect(a.url)
    try:
        blocking = blocker.transaction()
        await blocking.start()
        middle = advisory_key("target", GUILD, user(targets[6]).id)
        await blocker.execute("SELECT pg_advisory_xact_lock($1)", middle)
        services = (_reporting(a), _reporting(b))
        reports = asyncio.gather(
            *(services[0].submit(s) for s in forward),
            *(services[1].submit(s) for s in backward),
        )
        for _ in range(100):  # until both batches wait for a lock
            await asyncio.sleep(0.05)
            waiting = await blocker.fetchval(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if waiting >= 2:
                break
        assert waiting >= 2
        await blocking.commit()
        outcomes = await asyncio.wait_for(reports, 30)
    finally:
        await blocker.close()
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    assert a.batches == 1 and b.batches == 1
    assert a.fallbacks == 0 and b.fallbacks == 0  # no deadlock, no retry
    opened = [o for o in outcomes if isinstance(o, ReportAccepted) and o.case_opened]
    assert len(opened) == len(targets)  # every target reached 2, once
    assert await drift(a) == []


async def _case_for_target_90(store: PostgresStore) -> list[tuple[int, int, int | None]]:
    await configure(store, threshold=3)
    for n in range(1, 4):
        assert isinstance(await _reporting(store).submit(submission(n, target=90)), ReportAccepted)
    return await _stored(store)


async def _terminate(store: PostgresStore, pid: int) -> None:
    async def terminate(tx: Any) -> None:
        await tx.reports._db.fetch_one("SELECT pg_terminate_backend(?)", (pid,))

    await store.write(terminate)


async def test_a_connection_killed_mid_batch_stores_nothing_half_and_acknowledges_only_stored(
    two_processes, monkeypatch
):
    """The batch's connection is terminated after its reads, before its writes: nothing of
    it is stored, its reports run again one by one on new connections, and every report
    acknowledged is stored exactly once."""
    a, b = two_processes
    before = await _case_for_target_90(a)
    read, killed = asyncio.Event(), asyncio.Event()
    pids: list[int] = []
    contexts = pg_batch._FLUSH["context"]

    async def killed_after_reading(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
        result = await contexts(conn, calls)
        if not pids:
            pids.append(conn.get_server_pid())
            read.set()
            await killed.wait()
        return result

    monkeypatch.setitem(pg_batch._FLUSH, "context", killed_after_reading)
    service = _reporting(a)
    reports = asyncio.gather(*(service.submit(submission(n, target=90)) for n in range(10, 30)))
    await asyncio.wait_for(read.wait(), 10)
    await _terminate(b, pids[0])
    killed.set()
    outcomes = await asyncio.wait_for(reports, 30)
    assert a.fallbacks == 1
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    new = [row for row in await _stored(b) if row not in before]
    assert sorted(o.report_id for o in outcomes if isinstance(o, ReportAccepted)) == [
        row[0] for row in new
    ]
    assert sorted(row[1] for row in new) == [user(n).id for n in range(10, 30)]
    assert max(o.distinct_reporters for o in outcomes if isinstance(o, ReportAccepted)) == 23
    assert await drift(b) == []


async def test_a_connection_killed_at_the_commit_acknowledges_nothing_unstored(
    two_processes, monkeypatch
):
    """Terminated just before the COMMIT: whether the batch is run again (the loss was seen
    first) or every caller gets the error (a COMMIT that failed may have committed, so it is
    not run again), no report is acknowledged that is not stored, and none is stored twice."""
    a, b = two_processes
    before = await _case_for_target_90(a)
    commit = asyncpg.transaction.Transaction.commit
    killing = asyncio.Lock()

    async def killed_first(self: Any) -> None:
        async with killing:
            if not pids:
                pids.append(self._connection.get_server_pid())
                await _terminate(b, pids[0])
                await asyncio.sleep(0.1)
        await commit(self)

    pids: list[int] = []
    monkeypatch.setattr(asyncpg.transaction.Transaction, "commit", killed_first)
    service = _reporting(a)
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(service.submit(submission(n, target=90)) for n in range(10, 30)),
            return_exceptions=True,
        ),
        30,
    )
    monkeypatch.undo()
    new = [row for row in await _stored(b) if row not in before]
    acknowledged = [o for o in outcomes if isinstance(o, ReportAccepted)]
    assert {o.report_id for o in acknowledged} <= {row[0] for row in new}
    assert len({row[1] for row in new}) == len(new)  # no reporter's report stored twice
    failed = [o for o in outcomes if not isinstance(o, ReportAccepted)]
    assert all(
        isinstance(o, asyncpg.InterfaceError | OSError | asyncpg.PostgresError) for o in failed
    )
    assert len(acknowledged) + len(failed) == 20
    assert await drift(b) == []


async def test_reports_joining_one_case_in_one_statement_count_in_arrival_order(pg):
    """Ten reporters join one case in one wave (the case row-locked by the batch): each is
    answered the count after their own report, the case gets one revision per report, and
    the one urgent report among them makes it urgent once, with its first reminder."""
    before = await _case_for_target_90(pg)
    case_id = before[-1][2]
    assert case_id is not None
    old = await pg.read(lambda tx: tx.cases.get(case_id))
    service = _reporting(pg)
    subs = [
        submission(n, target=90, reason=Reason.SELF_HARM if n == 15 else Reason.HARASSMENT)
        for n in (10, 11, 12, 2, 13, 14, 15, 16, 17, 18)  # 2 is in the case already
    ]
    outcomes = await asyncio.gather(*(service.submit(s) for s in subs))
    assert pg.batches == 1 and pg.fallbacks == 0
    counts = [o.distinct_reporters for o in outcomes if isinstance(o, ReportAccepted)]
    assert counts == [4, 5, 6, 6, 7, 8, 9, 10, 11, 12]
    assert [o.duplicate for o in outcomes if isinstance(o, ReportAccepted)][3]
    case = await pg.read(lambda tx: tx.cases.get(case_id))
    assert case.alert_revision == old.alert_revision + 10
    assert not old.urgent and case.urgent and case.ping_wanted == old.ping_wanted + 1
    assert case.next_reminder_at is not None
    assert await drift(pg) == []


async def test_details_added_before_a_case_join_the_case_a_batch_opens(pg):
    """A reporter's details wait in no case (t15-relay); the batch that opens the case (one
    statement for the wave's openings) moves them into the case's feed."""
    from core.relay import RelayService, ReporterTurn

    await configure(pg, threshold=3)
    service = _reporting(pg)
    first = await service.submit(submission(1, target=90))
    assert isinstance(first, ReportAccepted) and first.case_id is None
    added = await RelayService(pg, clock()).add_details(
        first.report_id, user(1).id, GUILD, "more about it"
    )
    assert isinstance(added, ReporterTurn)
    outcomes = await asyncio.gather(
        service.submit(submission(2, target=90)),
        service.submit(submission(3, target=90)),
        service.submit(submission(4, target=91)),
    )
    assert pg.batches == 1
    opened = [o for o in outcomes if isinstance(o, ReportAccepted) and o.case_opened]
    assert len(opened) == 1 and opened[0].case_id is not None
    case_id = opened[0].case_id
    feed = await pg.read(lambda tx: tx.relay.feed_for_case(case_id, 10))
    assert [item.relay_id is not None for item in feed] == [True]
    assert await drift(pg) == []


async def test_a_new_database_gets_the_statistics_of_reports_after_its_first_reports(
    postgres_available,
):
    """A new database's `reports` has no planner statistics until autovacuum's first look
    (up to a minute): the store gathers them once it has stored `STATISTICS_AFTER` reports,
    so a first storm's reads use the reporter's index; a database with them is left alone."""
    from storage import postgres as pg_store
    from tests import postgres as helpers

    helpers.skip_without_postgres(postgres_available)
    url = await helpers.create_database("vigil_test_statistics")
    try:
        store = await PostgresStore.open(url)
        try:
            assert store._needs_statistics
            await configure(store, threshold=3)
            service = _reporting(store)
            subs = [submission(n, target=90 + n % 50) for n in range(1, 301)]
            await asyncio.gather(*(service.submit(s) for s in subs))
        finally:
            await store.close()

        async def has_statistics(tx: Any) -> bool:
            row = await tx.reports._db.fetch_one(pg_store._HAS_NO_STATISTICS)
            return not row[0]

        again = await PostgresStore.open(url)
        try:
            assert await again.read(has_statistics)
            assert not again._needs_statistics
        finally:
            await again.close()
    finally:
        await helpers.drop_database(url)


async def test_a_batch_waiting_on_a_row_held_elsewhere_gives_up_and_runs_one_by_one(pg):
    """Past its own locks, a batch waits at most BATCH_LOCK_WAIT for a row someone else holds
    (here the server's case-number counter, as an erasure holds report rows): it gives up,
    letting go of every case it holds, and its reports run one by one, waiting as long as they
    need. Holding its cases while it waited could make PostgreSQL abort the other side."""
    await configure(pg, threshold=2)
    service = _reporting(pg)
    for n in (1, 2):  # a first case: the server's counter row exists
        assert isinstance(await service.submit(submission(n, target=80)), ReportAccepted)
    holder = await asyncpg.connect(pg.url)
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT * FROM case_numbers WHERE guild_id = $1 FOR UPDATE", GUILD)
        # Two reporters each about five targets: the second report about each opens a case.
        subs = [submission(10 + n, target=91 + n % 5) for n in range(10)]
        reports = asyncio.gather(*(service.submit(s) for s in subs))
        for _ in range(100):  # the batch gave up while the counter is still held
            await asyncio.sleep(0.05)
            if pg.fallbacks:
                break
        assert pg.fallbacks == 1
        await holding.commit()  # the holder was never aborted
        outcomes = await asyncio.wait_for(reports, 30)
    finally:
        await holder.close()
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    assert sum(1 for o in outcomes if isinstance(o, ReportAccepted) and o.case_opened) == 5
    assert await drift(pg) == []


async def test_a_cancelled_writer_answers_every_report_it_had_not_stored(pg):
    """At a shutdown the writer may be cancelled while its batch waits and more reports are
    queued: each caller gets an error (none is told it was stored, none waits for ever) and
    nothing of the batch is stored."""
    await configure(pg, threshold=3)
    service = _reporting(pg)
    blocker = await asyncpg.connect(pg.url)
    try:
        blocking = blocker.transaction()
        await blocking.start()
        target = advisory_key("target", GUILD, user(90).id)
        await blocker.execute("SELECT pg_advisory_xact_lock($1)", target)
        first = [asyncio.ensure_future(service.submit(submission(n, target=90))) for n in (1, 2)]
        for _ in range(100):  # the first batch waits for the target's lock
            await asyncio.sleep(0.05)
            waiting = await blocker.fetchval(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if waiting:
                break
        queued = [asyncio.ensure_future(service.submit(submission(n, target=91))) for n in (3, 4)]
        await asyncio.sleep(0.05)
        assert pg._writer is not None
        pg._writer.cancel()
        answers = await asyncio.wait_for(
            asyncio.gather(*first, *queued, return_exceptions=True), 10
        )
        await blocking.commit()
    finally:
        await blocker.close()
    assert all(isinstance(a, StoreStopped) for a in answers), answers
    assert await _stored(pg) == []


def _decision(outcome: Any) -> tuple[Any, ...]:
    """What a reporter and the moderators are told of one report, ids left out (a batch
    numbers the cases it opens in wave order, not arrival order)."""
    if isinstance(outcome, ReportAccepted):
        return (
            "accepted",
            outcome.case_id is not None,
            outcome.case_opened,
            outcome.distinct_reporters,
            outcome.duplicate,
        )
    return ("refused", outcome.code)


async def test_a_batch_decides_each_report_as_if_it_ran_alone_in_arrival_order(
    two_processes, tmp_path
):
    """The same reports, arriving together on PostgreSQL (batched) and submitted one at a
    time on SQLite, get the same decision each: the rate limit, duplicates, a case opened
    at the threshold and joined after it, a target reporting their reporter back, a report
    about oneself."""
    from storage import open_store

    pg = two_processes[0]
    lite = await open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    try:
        subs = [
            submission(1, target=90),
            submission(1, target=90),  # the same report again: a duplicate
            submission(1, target=91),
            submission(1, target=92),  # reporter 1's fourth: over the rate limit of 3
            submission(2, target=90),
            submission(3, target=90),  # the threshold (3) at the third reporter: a case
            submission(4, target=90),  # joins the case
            submission(90, target=4),  # the target reports a reporter back
            submission(5, target=5),  # about oneself
            submission(6, target=93, reason=Reason.CHILD_SAFETY),  # urgent: a case at once
            submission(7, target=93),
        ]
        decided = []
        for store in (pg, lite):
            await configure(store, threshold=3)
            service = ReportService(store, clock(), RateLimit(max_reports=3))
            if store is pg:
                outcomes = await asyncio.gather(*(service.submit(s) for s in subs))
            else:
                outcomes = [await service.submit(s) for s in subs]
            decided.append([_decision(o) for o in outcomes])
        assert pg.batches >= 1 and pg.fallbacks == 0
        assert decided[0] == decided[1]
        assert await drift(pg) == []
    finally:
        await lite.close()
