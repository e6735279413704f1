"""Read a test database from outside the bot, whichever backend it is (sync, for assertions)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from storage import is_postgres_url, sqlite_path
from storage.postgres_sql import to_dollar_params

T = TypeVar("T")


class _PostgresReader:
    """One background event loop and one connection per database, reused across queries:
    tests check the database after every step, and a new connection each time costs more
    CPU than the scenario itself. (Sessions drop their databases WITH (FORCE).)"""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="test-db-reader", daemon=True
                ).start()
            return self._loop

    async def _with_connection(self, url: str, work: Callable[[Any], Awaitable[T]]) -> T:
        import asyncpg

        # InternalClientError: the protocol met a connection that ended under it.
        broken = (
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            ConnectionError,
            OSError,
        )
        conn = self._connections.get(url)
        if conn is not None and not conn.is_closed():
            try:
                return await work(conn)
            except broken:
                # A kept connection can end while idle (its backend terminated, the server
                # restarted) before this loop notices: `work` runs once more, on a new one.
                self._connections.pop(url, None)
        conn = self._connections[url] = await asyncpg.connect(url)
        try:
            return await work(conn)
        except broken:
            self._connections.pop(url, None)  # the next use connects again
            raise

    def run(self, url: str, work: Callable[[Any], Awaitable[T]]) -> T:
        future = asyncio.run_coroutine_threadsafe(
            self._with_connection(url, work), self._running_loop()
        )
        return future.result(timeout=30)

    def query(self, url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async def fetch(conn: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await conn.fetch(to_dollar_params(sql), *params)]

        return self.run(url, fetch)


_POSTGRES = _PostgresReader()


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` placeholders), on a connection of its own."""
    if not is_postgres_url(database_url):
        path = sqlite_path(database_url)
        assert path is not None, "an in-memory database cannot be read from outside"
        with sqlite3.connect(path) as conn:
            return conn.execute(sql, params).fetchall()
    return _POSTGRES.query(database_url, sql, params)


def on_kept_connection(database_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """`work(connection)` on the PostgreSQL connection this module keeps for `database_url`.
    If the kept connection turns out broken, `work` runs again on a new one, so it must be
    safe to repeat (a read, an emptying)."""
    return _POSTGRES.run(database_url, work)
