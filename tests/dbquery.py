"""Read a test database from outside the bot, whichever backend it is (sync, for assertions)."""

from __future__ import annotations

import sqlite3
from typing import Any

from storage import is_postgres_url, sqlite_path
from storage.postgres import to_dollar_params
from tests.postgres import run_sync


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` placeholders), on a connection of its own."""
    if not is_postgres_url(database_url):
        path = sqlite_path(database_url)
        assert path is not None, "an in-memory database cannot be read from outside"
        with sqlite3.connect(path) as conn:
            return conn.execute(sql, params).fetchall()

    async def fetch() -> list[tuple[Any, ...]]:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            return [tuple(r) for r in await conn.fetch(to_dollar_params(sql), *params)]
        finally:
            await conn.close()

    return run_sync(fetch())
