"""How the SQLite executor binds and runs statements (issue 19's cheaper paths): None is NULL
through a registered adapter, and the shared write cursor leaves no statement open."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from core.ports import Replayable
from storage.sql import StoreStopped
from storage.sqlite import SqliteExecutor, SqliteStore, in_driver_thread


@pytest.fixture
async def store(tmp_path: Path):
    opened = await SqliteStore.open(tmp_path / "vigil.db")
    yield opened
    await opened.close()


def test_none_has_an_adapter_registered():
    # Without one, Python 3.11's sqlite3 looks up `__adapt__` and `__conform__` for every
    # None bound, each a failed lookup with an error message formatted and cleared.
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters


async def test_none_is_still_bound_as_null(store: SqliteStore):
    def work(raw: sqlite3.Connection) -> list[tuple[object, ...]]:
        raw.execute("CREATE TEMP TABLE bound (a, b)")
        raw.execute("INSERT INTO bound (a, b) VALUES (?, ?)", (None, 1))
        return raw.execute(
            "SELECT typeof(a), a IS NULL, (SELECT COUNT(*) FROM bound WHERE a IS ?) FROM bound",
            (None,),
        ).fetchall()

    assert await in_driver_thread(store._conn, work) == [("null", 1, 1)]


def _executor(store: SqliteStore) -> SqliteExecutor:
    executor = store._uow.reports._db
    assert isinstance(executor, SqliteExecutor)
    return executor


async def test_a_write_that_returns_rows_is_finished_before_execute_returns(store: SqliteStore):
    # The write cursor is shared: a statement it left unfinished would hold its transaction
    # (and a snapshot) open after the caller's COMMIT. RETURNING through execute() is a misuse,
    # but must not leave anything open either.
    executor = _executor(store)

    async def work(raw: sqlite3.Connection) -> tuple[int, bool]:
        await executor.execute("CREATE TEMP TABLE written (a)")
        await executor.insert("INSERT INTO written (a) VALUES (?)", (1,))
        await executor.insert("INSERT INTO written (a) VALUES (?)", (2,))
        changed = await executor.execute("UPDATE written SET a = a + 10 RETURNING a")
        return changed, raw.in_transaction

    def run(raw: sqlite3.Connection) -> tuple[int, bool]:
        coroutine = work(raw)
        try:
            coroutine.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        raise AssertionError("the executor suspended")

    changed, open_transaction = await in_driver_thread(store._conn, run)
    assert changed == 2
    assert not open_transaction  # autocommit again: nothing left running


async def test_batch_savepoints_keep_a_failing_item_out(store: SqliteStore):
    executor = _executor(store)
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))

    async def good(tx: object) -> int:
        return await executor.insert("INSERT INTO kept (a) VALUES (?)", (1,))

    async def bad(tx: object) -> int:
        await executor.insert("INSERT INTO kept (a) VALUES (?)", (2,))
        raise ValueError("this item fails after writing")

    outcomes = await in_driver_thread(
        store._conn, lambda raw: store._run_batch([good, bad, good], raw)
    )
    assert [ok for ok, _ in outcomes] == [True, False, True]
    rows = await in_driver_thread(
        store._conn, lambda raw: raw.execute("SELECT a FROM kept ORDER BY rowid").fetchall()
    )
    assert rows == [(1,), (1,)]


class _Counted:
    """Transaction functions that insert one row each and count their runs."""

    def __init__(self, store: SqliteStore) -> None:
        self.executor = _executor(store)
        self.runs: dict[int, int] = {}

    def item(self, value: int, *, fails: bool = False):
        async def fn(tx: object) -> int:
            self.runs[value] = self.runs.get(value, 0) + 1
            await self.executor.insert("INSERT INTO kept (a) VALUES (?)", (value,))
            if fails:
                raise ValueError(f"item {value} fails after writing")
            return value

        return fn


async def _batch(store: SqliteStore, fns: list) -> tuple[list[tuple[bool, object]], list[str]]:
    """Run one batch with the statements traced; returns its outcomes and the statements."""
    statements: list[str] = []

    def run(raw: sqlite3.Connection):
        raw.set_trace_callback(statements.append)
        try:
            return store._run_batch(fns, raw)
        finally:
            raw.set_trace_callback(None)

    outcomes = await in_driver_thread(store._conn, run)
    return outcomes, statements


async def _kept(store: SqliteStore) -> list[int]:
    rows = await in_driver_thread(
        store._conn, lambda raw: raw.execute("SELECT a FROM kept ORDER BY rowid").fetchall()
    )
    return [a for (a,) in rows]


async def test_a_batch_of_replayable_reports_runs_without_savepoints(store: SqliteStore):
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))
    counted = _Counted(store)
    outcomes, statements = await _batch(store, [Replayable(counted.item(v)) for v in (1, 2, 3)])
    assert outcomes == [(True, 1), (True, 2), (True, 3)]
    assert statements.count("SAVEPOINT vigil_item") == 0  # one savepoint for the batch only
    assert statements.count("SAVEPOINT vigil_batch") == 1
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
    assert counted.runs == {1: 1, 2: 1, 3: 1}
    assert await _kept(store) == [1, 2, 3]


async def test_a_failing_replayable_report_never_sinks_its_batch(store: SqliteStore):
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))
    counted = _Counted(store)
    fns = [Replayable(counted.item(1)), Replayable(counted.item(2, fails=True))]
    fns.append(Replayable(counted.item(3)))
    outcomes, statements = await _batch(store, fns)
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], ValueError)
    # Rolled back to the batch's start, then run again with a savepoint each: 1 ran twice, 3
    # once (the first run stopped at 2), and only 1 and 3 are stored, once each.
    assert "ROLLBACK TO vigil_batch" in statements
    assert statements.count("SAVEPOINT vigil_item") == 3
    # One transaction throughout: its write lock is never let go between the two runs, so no
    # other connection can take it and make the second run fail for every report in it.
    assert statements.count("BEGIN IMMEDIATE") == 1 and "ROLLBACK" not in statements
    assert statements[-1] == "COMMIT"
    assert counted.runs == {1: 2, 2: 2, 3: 1}
    assert await _kept(store) == [1, 3]


async def test_a_batch_with_any_other_function_keeps_its_savepoints(store: SqliteStore):
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))
    counted = _Counted(store)
    fns = [Replayable(counted.item(1)), counted.item(2)]
    outcomes, statements = await _batch(store, fns)
    assert outcomes == [(True, 1), (True, 2)]
    assert statements.count("SAVEPOINT vigil_item") == 2
    assert counted.runs == {1: 1, 2: 1}  # each exactly once


async def test_the_report_service_hands_the_store_a_replayable_transaction(store: SqliteStore):
    from core.clock import SystemClock
    from core.models import ReportSource, ReportSubmission, UserSnapshot
    from core.reasons import Reason
    from core.service import ReportAccepted, ReportService

    seen: list[object] = []
    write = store.write

    async def spy(fn):
        seen.append(fn)
        return await write(fn)

    store.write = spy  # type: ignore[method-assign]
    submission = ReportSubmission(
        guild_id=1 << 40,
        reporter=UserSnapshot((1 << 40) + 1, "reporter"),
        target=UserSnapshot((1 << 40) + 2, "target"),
        reason=Reason.SPAM,
        source=ReportSource.SLASH,
    )
    outcome = await ReportService(store, SystemClock()).submit(submission)
    assert isinstance(outcome, ReportAccepted)
    assert len(seen) == 1 and isinstance(seen[0], Replayable)


def _replayable(store: SqliteStore, value: int, error: BaseException | None = None) -> Replayable:
    executor = _executor(store)

    async def fn(tx: object) -> int:
        await executor.insert("INSERT INTO kept (a) VALUES (?)", (value,))
        if error is not None:
            raise error
        return value

    return Replayable(fn)


async def _state(store: SqliteStore) -> tuple[bool, list[int]]:
    return await in_driver_thread(
        store._conn,
        lambda raw: (
            raw.in_transaction,
            [a for (a,) in raw.execute("SELECT a FROM kept ORDER BY rowid").fetchall()],
        ),
    )


async def test_through_write_a_failing_report_is_answered_alone(store: SqliteStore):
    """Reports written at once share a batch; the one that fails gets its error, the others
    their values, and only theirs are stored (the store's real write path)."""
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a UNIQUE)"))
    writes = [store.write(_replayable(store, v)) for v in (1, 2, 2, 3)]
    answers = await asyncio.gather(*writes, return_exceptions=True)
    assert answers[:2] == [1, 2] and answers[3] == 3
    assert isinstance(answers[2], sqlite3.IntegrityError)
    assert store.batches == 1
    assert await _state(store) == (False, [1, 2, 3])


async def test_a_failed_commit_answers_everyone_and_the_next_batch_commits(store: SqliteStore):
    """A COMMIT that fails (here a deferred foreign key) makes nothing in the batch durable:
    every caller gets the error, none a value; the connection is left out of any transaction
    and the next batch commits."""

    def tables(raw: sqlite3.Connection) -> None:
        raw.execute("CREATE TABLE kept (a)")
        raw.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        raw.execute(
            "CREATE TABLE child (parent REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )

    await in_driver_thread(store._conn, tables)
    foreign_keys = await in_driver_thread(
        store._conn, lambda raw: raw.execute("PRAGMA foreign_keys").fetchone()[0]
    )
    assert foreign_keys == 1
    executor = _executor(store)

    async def orphan(tx: object) -> str:
        await executor.insert("INSERT INTO child (parent) VALUES (?)", (999,))
        return "orphan"

    writes = [store.write(_replayable(store, 7)), store.write(Replayable(orphan))]
    writes.append(store.write(_replayable(store, 8)))
    answers = await asyncio.gather(*writes, return_exceptions=True)
    assert all(isinstance(a, sqlite3.IntegrityError) for a in answers), answers
    assert await _state(store) == (False, [])
    assert await store.write(_replayable(store, 9)) == 9
    assert await _state(store) == (False, [9])


async def test_an_interrupt_in_a_batch_leaves_no_transaction_open(store: SqliteStore):
    """A BaseException (not an ordinary failure) ends the batch: rolled back, raised to the
    writer, which answers every caller with it; the next batch commits."""
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))
    fns = [
        _replayable(store, 4),
        _replayable(store, 5, KeyboardInterrupt()),
        _replayable(store, 6),
    ]

    def run(raw: sqlite3.Connection) -> str:
        try:
            store._run_batch(fns, raw)
        except KeyboardInterrupt:
            return "interrupted"
        return "finished"

    assert await in_driver_thread(store._conn, run) == "interrupted"
    assert await _state(store) == (False, [])
    assert await store.write(_replayable(store, 10)) == 10


async def test_a_cancelled_writer_answers_every_write_it_had_not_confirmed(store: SqliteStore):
    """At a shutdown the writer may be cancelled while a batch is in the database thread and
    more writes are queued: every caller gets an error, none waits until some later write;
    the queued ones never ran."""
    await in_driver_thread(store._conn, lambda raw: raw.execute("CREATE TABLE kept (a)"))
    executor = _executor(store)

    async def slow(tx: object) -> int:
        time.sleep(0.3)  # noqa: ASYNC251 (runs in the database thread: the batch is still running when cancelled)
        return await executor.insert("INSERT INTO kept (a) VALUES (?)", (1,))

    running = asyncio.ensure_future(store.write(slow))
    await asyncio.sleep(0.1)
    queued = [asyncio.ensure_future(store.write(_replayable(store, v))) for v in (2, 3)]
    await asyncio.sleep(0)
    assert store._writer is not None
    store._writer.cancel()
    answers = await asyncio.wait_for(asyncio.gather(running, *queued, return_exceptions=True), 10)
    assert all(isinstance(a, StoreStopped) for a in answers), answers
    await asyncio.sleep(0.4)  # the batch in the thread ends (it may commit: never confirmed)
    _, kept = await _state(store)
    assert 2 not in kept and 3 not in kept
