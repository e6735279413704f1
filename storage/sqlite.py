"""The SQLite store: aiosqlite's connection thread, WAL, and group commit.

Every transaction runs entirely inside the database thread: the transaction function is a
coroutine that only awaits repository calls, which on SQLite never suspend, so it is driven to
completion there in one hop instead of one hop per statement. Transactions that arrive while
another batch commits are grouped: one BEGIN ... COMMIT for the batch, a SAVEPOINT per
transaction so one failure rolls back only itself, and each caller is answered only after the
COMMIT that made its work durable. A batch of reports (`core.ports.Replayable`) skips the
savepoints unless one of them fails: then the batch is rolled back to its start (inside the
transaction, which keeps its write lock) and run again with them.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from core.ports import Replayable
from storage.leases import LocalLeases
from storage.migrate import migrate
from storage.sql import Params, Row, answer_failed, answer_stopped, refuse_upsert, run_to_completion
from storage.unit_of_work import StoreUnitOfWork, build_unit_of_work

T = TypeVar("T")
MAX_BATCH = 256

# Python 3.11's sqlite3 binds None through its adaptation protocol: no adapter registered
# for NoneType, then `__adapt__` looked up on the protocol type and `__conform__` on None,
# each a failed lookup whose AttributeError message is formatted and cleared (~1,000
# instructions a None, and a report binds three to six). With an adapter registered the
# first lookup finds it: `{}.get(None)` returns None, which binds as NULL exactly as before
# (tests/storage/test_sqlite_binding.py). Process-wide, for every sqlite3 connection, and
# changes no value: None stays NULL.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))


TransactionFn = Callable[[StoreUnitOfWork], Coroutine[Any, Any, Any]]


async def in_driver_thread(
    conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]
) -> T:
    """Run `work(raw)` on aiosqlite's own connection thread, with its raw sqlite3 connection.

    The ONE place Vigil touches aiosqlite's private API: `Connection._execute` (queue a
    callable for the connection's thread, await its result; aiosqlite's own backup() and
    iterdump() use it) and `Connection._conn` (the sqlite3 connection, only safe to use in that
    thread). A whole transaction then costs one thread hop instead of one per statement, and
    it is ordered with every other aiosqlite call on the connection (one queue, one thread).
    Private API, hence the version range in pyproject.toml; tests/storage/
    test_aiosqlite_contract.py fails loudly if a new aiosqlite changes any of this.
    """
    result: T = await conn._execute(lambda: work(conn._conn))  # type: ignore[no-untyped-call]
    return result


class SqliteExecutor:
    """Blocking sqlite3 calls behind async signatures; only ever run in the database thread."""

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection, cursor: sqlite3.Cursor) -> None:
        """`cursor` is `raw`'s, made in the database thread (sqlite3 checks the thread)."""
        self._raw = raw
        # One cursor for the statements that return no rows (execute, insert): a cursor
        # object made and freed per statement cost ~1,000 instructions each, and a report
        # runs several. Safe because every call runs in the one database thread, to its end:
        # such a statement is finished (reset) when `execute` returns. Reads keep a cursor
        # of their own, freed (and so reset) as soon as their rows are taken, so no read
        # statement is ever left open to hold a snapshot past its transaction.
        self._cursor = cursor

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._raw.execute(sql, params).fetchone()
        return row

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return self._raw.execute(sql, params).fetchall()

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = self._cursor
        cursor.execute(sql, params)
        if cursor.description is not None:  # it returned rows: finish it, leave nothing open
            cursor.fetchall()
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        # The rowid SQLite just assigned, without a RETURNING clause: SQLite runs RETURNING
        # through a temporary result table, which cost the report's INSERT about a fifth of
        # its time (issue 19). A statement that inserted nothing (or something else than one
        # row) would leave lastrowid stale: refused, never guessed; so is an upsert, whose
        # update branch changes one row and leaves lastrowid at the previous insert's.
        refuse_upsert(sql)
        cursor = self._cursor
        cursor.execute(sql, params)
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            raise RuntimeError(f"expected one inserted row, got {cursor.rowcount}: {sql[:60]}")
        return cursor.lastrowid


def _create_private_file(path: Path) -> None:
    """Create the database readable by its owner only: it holds evidence about people."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


class SqliteTooOld(RuntimeError):
    """This SQLite lacks what Vigil's statements use: refused at start, not report by report."""


async def require_json_functions(conn: aiosqlite.Connection) -> None:
    """A report's read returns the server's settings as one `json_array` (storage/reports.py):
    SQLite has it built in since 3.38 and in most builds before; a build without it would
    fail every report, so the store refuses to open instead, saying why."""
    try:
        await conn.execute("SELECT json_array(1)")
    except sqlite3.OperationalError:
        raise SqliteTooOld(
            f"this SQLite ({sqlite3.sqlite_version}) has no JSON functions: Vigil needs SQLite "
            "3.38 or later (or a build with JSON1); or use PostgreSQL (DATABASE_URL)"
        ) from None


class SqliteStore(LocalLeases):
    def __init__(
        self, conn: aiosqlite.Connection, executor: SqliteExecutor, path: Path | None
    ) -> None:
        """`executor` wraps `conn`'s sqlite3 connection, for use only inside
        `in_driver_thread`."""
        self._conn = conn
        self.path = path
        self._uow = build_unit_of_work(executor)
        self._queue: list[tuple[TransactionFn, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # commits so far; a benchmark divides transactions by this

    @classmethod
    async def open(cls, path: Path | None, *, synchronous: str = "NORMAL") -> SqliteStore:
        """Open (creating if needed) and migrate. `path=None` is an in-memory database."""
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        if path is not None:
            _create_private_file(path)
        # isolation_level=None: no implicit transactions; we BEGIN and COMMIT explicitly.
        conn = await aiosqlite.connect(
            ":memory:" if path is None else str(path), isolation_level=None
        )
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute(f"PRAGMA synchronous = {synchronous}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            await require_json_functions(conn)
            await migrate(conn)
        except BaseException:
            await conn.close()  # its thread would otherwise outlive the refusal
            raise
        executor = await in_driver_thread(conn, lambda raw: SqliteExecutor(raw, raw.cursor()))
        return cls(conn, executor, path)

    async def write(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` in a transaction; returns once it is committed (durable)."""
        # The running loop's future, made directly: `loop.create_future()` is a Python frame
        # that passes the loop as a keyword (a dict) to the same constructor (issue 19).
        future: asyncio.Future[T] = asyncio.Future()
        self._queue.append((fn, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="vigil-sqlite-writer")
        return await future

    async def read(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` (reads only) in the database thread."""
        return await in_driver_thread(self._conn, lambda _raw: run_to_completion(fn(self._uow)))

    async def _drain(self) -> None:
        """Commit the queued transactions, a batch at a time. If the writer itself is
        cancelled (a shutdown), every transaction it has not answered, in its batch or still
        queued, is answered with an error rather than left waiting: none is told it was
        committed (the batch in the database thread may commit all the same, as when a
        COMMIT's outcome is unknown)."""
        batch: list[tuple[TransactionFn, asyncio.Future[Any]]] = []
        try:
            await self._drain_queue(batch)
        except BaseException:
            answer_stopped([*batch, *self._queue])
            self._queue.clear()
            raise

    async def _drain_queue(self, batch: list[tuple[TransactionFn, asyncio.Future[Any]]]) -> None:
        while self._queue:
            batch[:] = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
            try:
                outcomes = await in_driver_thread(
                    self._conn, functools.partial(self._run_batch, [fn for fn, _ in batch])
                )
            except BaseException as error:  # the COMMIT itself failed: nothing in it is durable
                if isinstance(error, asyncio.CancelledError):
                    raise  # the writer stopped: `_drain` answers the batch and the queue
                answer_failed(batch, error)
                continue
            self.batches += 1
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _run_batch(
        self, fns: list[TransactionFn], raw: sqlite3.Connection
    ) -> list[tuple[bool, Any]]:
        """In the database thread: one transaction for the batch. The statements go through
        one cursor (none returns rows: each is finished when it returns).

        A batch of `Replayable` functions (a report's) runs first without a savepoint each;
        if one fails, the batch's work is rolled back to its start and it runs again with a
        savepoint each, as every other batch does, so the failing one is rolled back alone and
        the others commit. Both runs are in the one transaction: the write lock taken by
        BEGIN IMMEDIATE is never let go in between, so no other connection can take it and
        make the second run fail for everyone. Nothing is answered before the COMMIT."""
        step = raw.cursor().execute
        uow = self._uow
        step("BEGIN IMMEDIATE")
        try:
            outcomes = None
            if all(isinstance(fn, Replayable) for fn in fns):
                outcomes = _run_without_savepoints(fns, uow, step)
            if outcomes is None:
                outcomes = _run_with_savepoints(fns, uow, step)
            step("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        return outcomes

    async def close(self) -> None:
        """Let queued transactions commit, then close the connection."""
        if self._writer is not None and not self._writer.done():
            await self._writer
        await self._conn.close()


def _run_without_savepoints(
    fns: list[TransactionFn], uow: StoreUnitOfWork, step: Callable[[str], Any]
) -> list[tuple[bool, Any]] | None:
    """Each function in turn, with one savepoint for them all; None if one raised (then all
    their work is rolled back to the savepoint, inside the transaction)."""
    step("SAVEPOINT vigil_batch")
    try:
        outcomes: list[tuple[bool, Any]] = [(True, run_to_completion(fn(uow))) for fn in fns]
    except Exception:
        step("ROLLBACK TO vigil_batch")
        step("RELEASE vigil_batch")
        return None
    step("RELEASE vigil_batch")
    return outcomes


def _run_with_savepoints(
    fns: list[TransactionFn], uow: StoreUnitOfWork, step: Callable[[str], Any]
) -> list[tuple[bool, Any]]:
    """Each function in turn, in a savepoint of its own: one that raises is rolled back alone
    and answered with its error."""
    outcomes: list[tuple[bool, Any]] = []
    for fn in fns:
        step("SAVEPOINT vigil_item")
        try:
            value: Any = run_to_completion(fn(uow))
        except Exception as error:
            step("ROLLBACK TO vigil_item")
            step("RELEASE vigil_item")
            outcomes.append((False, error))
        else:
            step("RELEASE vigil_item")
            outcomes.append((True, value))
    return outcomes
