"""How the SQLite executor binds and runs statements (issue 19's cheaper paths): None is NULL
through a registered adapter, and the shared write cursor leaves no statement open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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
