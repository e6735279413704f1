"""The PostgreSQL leg of the suite: a throwaway database per test session on a local server.

The server is VIGIL_TEST_POSTGRES_URL (an admin URL whose database is used only to CREATE and
DROP), else postgresql://postgres@127.0.0.1:5432/postgres. With neither reachable, every
PostgreSQL-parametrised test is skipped from one place, so pytest's summary shows one line.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

T = TypeVar("T")

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SKIP_REASON = (
    "PostgreSQL leg skipped: no server at 127.0.0.1:5432 and VIGIL_TEST_POSTGRES_URL unset"
)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, in its own thread and event loop (so it
    never touches the loop pytest-asyncio gives a test)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def admin_url() -> str:
    return os.environ.get("VIGIL_TEST_POSTGRES_URL", "").strip() or DEFAULT_ADMIN_URL


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database(prefix: str = "vigil_test") -> str:
    """CREATE a fresh, empty database; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    return with_database(admin_url(), name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_available() -> bool:
    """Whether the leg runs. A set VIGIL_TEST_POSTGRES_URL that fails is an error, not a skip."""

    async def probe() -> None:
        await _admin("SELECT 1")

    try:
        run_sync(probe())
    except (TimeoutError, OSError) as error:
        if os.environ.get("VIGIL_TEST_POSTGRES_URL", "").strip():
            raise RuntimeError(f"VIGIL_TEST_POSTGRES_URL is unreachable: {error}") from error
        return False
    except ImportError:
        return False
    return True


def skip_without_postgres(available: bool) -> None:
    if not available:
        pytest.skip(SKIP_REASON)


def empty(url: str) -> None:
    """Empty the database at `url` (the session's, between tests), from sync code, over the
    connection tests/dbquery.py keeps for it.

    Why: a new connection before every PostgreSQL test cost the server a new backend with cold
    catalogue caches (~25 ms, about half of the emptying). A kept connection that broke
    meanwhile is replaced (tests/test_database_fixtures.py).
    """
    from tests.dbquery import on_kept_connection

    on_kept_connection(url, _empty_on)


async def _empty_on(conn: Any) -> None:
    """Every table emptied and its ids restarted (the schema and its version stay)."""
    tables: list[Any] = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'schema_version'"
    )
    if not tables:
        return
    sequences: list[Any] = await conn.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    )
    # DELETE, not TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE pays for
    # new files for every table (about 6x slower here, before every PostgreSQL test).
    # Foreign keys are not checked meanwhile (replica role), so the order does not matter.
    statements = [
        "SET LOCAL session_replication_role = replica",
        *(f'DELETE FROM "{t[0]}"' for t in tables),
        *(f'ALTER SEQUENCE "{s[0]}" RESTART' for s in sequences),
    ]
    async with conn.transaction():
        await conn.execute(";\n".join(statements))
