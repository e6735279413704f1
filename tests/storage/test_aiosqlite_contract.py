"""What storage/sqlite.py relies on in aiosqlite's private API, checked against the installed
aiosqlite: a new version that changes any of it fails here, loudly, before it loses a report.

`in_driver_thread` is the one function that uses `Connection._execute` and `Connection._conn`;
the last test keeps it that way.
"""

from __future__ import annotations

import ast
import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

import storage
from storage.sqlite import in_driver_thread


class Boom(Exception):
    pass


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(str(tmp_path / "contract.db"), isolation_level=None)
    try:
        yield connection
    finally:
        await connection.close()


async def test_work_runs_in_aiosqlite_own_thread(conn: aiosqlite.Connection) -> None:
    # A SQL function is called by sqlite3 in the thread that runs the statement: the thread
    # aiosqlite runs its public calls in.
    await conn.create_function("thread_id", 0, threading.get_ident)
    async with conn.execute("SELECT thread_id()") as cur:
        row = await cur.fetchone()
    assert row is not None
    driver_thread = row[0]
    seen = await in_driver_thread(conn, lambda raw: threading.get_ident())
    assert seen == driver_thread
    assert seen != threading.get_ident(), "the work ran on the event loop's thread"


async def test_work_gets_the_raw_connection_behind_aiosqlite(conn: aiosqlite.Connection) -> None:
    def create(raw: sqlite3.Connection) -> type:
        # A TEMP table exists only on the connection that created it.
        raw.execute("CREATE TEMP TABLE contract (n INTEGER)")
        raw.execute("INSERT INTO contract VALUES (41)")
        return type(raw)

    assert issubclass(await in_driver_thread(conn, create), sqlite3.Connection)
    await conn.execute("UPDATE contract SET n = n + 1")
    async with conn.execute("SELECT n FROM temp.contract") as cur:
        assert list(await cur.fetchall()) == [(42,)]
    assert await in_driver_thread(
        conn, lambda raw: raw.execute("SELECT n FROM contract").fetchall()
    ) == [(42,)]


async def test_exceptions_propagate_and_the_connection_keeps_serving(
    conn: aiosqlite.Connection,
) -> None:
    def fail(raw: sqlite3.Connection) -> None:
        raise Boom("from the driver thread")

    with pytest.raises(Boom, match="from the driver thread"):
        await in_driver_thread(conn, fail)
    with pytest.raises(sqlite3.OperationalError):
        await in_driver_thread(conn, lambda raw: raw.execute("SELECT * FROM no_such_table"))
    assert await in_driver_thread(conn, lambda raw: raw.execute("SELECT 1").fetchone()) == (1,)
    async with conn.execute("SELECT 2") as cur:
        assert await cur.fetchone() == (2,)


async def test_order_with_ordinary_aiosqlite_calls_is_kept(conn: aiosqlite.Connection) -> None:
    """Calls queued in this order run in this order: one queue, one thread. The store relies on
    it (a read after a write sees the write; close() comes after the last batch)."""
    await conn.execute("CREATE TABLE seq (n INTEGER)")

    def raw_insert(n: int) -> asyncio.Future[None] | object:
        return in_driver_thread(
            conn, lambda raw: raw.execute("INSERT INTO seq VALUES (?)", (n,)).rowcount
        )

    calls = [
        raw_insert(n) if n % 2 else conn.execute("INSERT INTO seq VALUES (?)", (n,))
        for n in range(40)
    ]
    await asyncio.gather(*calls)  # type: ignore[arg-type]
    async with conn.execute("SELECT n FROM seq ORDER BY rowid") as cur:
        assert [r[0] for r in await cur.fetchall()] == list(range(40))


async def test_a_closed_connection_refuses_instead_of_hanging(tmp_path: Path) -> None:
    connection = await aiosqlite.connect(str(tmp_path / "closed.db"))
    await connection.close()
    with pytest.raises((ValueError, sqlite3.ProgrammingError)):
        # The bound is a hang guard for a changed aiosqlite, not a timing assertion.
        await asyncio.wait_for(in_driver_thread(connection, lambda raw: 1), timeout=30)


def _private_uses(tree: ast.AST) -> set[str]:
    """Names of the functions that read `._execute` or `._conn` off anything but `self`."""
    found: set[str] = set()
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"_execute", "_conn"}
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            ):
                found.add(func.name)
    return found


def test_the_private_api_is_used_in_one_function_only() -> None:
    users = {
        (path.name, name)
        for path in Path(storage.__file__).parent.glob("*.py")
        for name in _private_uses(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert users == {("sqlite.py", "in_driver_thread")}
