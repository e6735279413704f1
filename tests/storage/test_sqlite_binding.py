"""How the SQLite executor binds and runs statements (issue 19's cheaper paths): None is NULL
through a registered adapter, and the shared write cursor leaves no statement open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.ports import Replayable
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
    assert not [s for s in statements if "SAVEPOINT" in s or "RELEASE" in s]
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
    # Rolled back whole, then run again with a savepoint each: 1 ran twice, 3 once (the
    # first run stopped at 2), and only 1 and 3 are stored, once each.
    assert "ROLLBACK" in statements and statements.count("SAVEPOINT vigil_item") == 3
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
    assert len(seen) == 1 and type(seen[0]) is Replayable
