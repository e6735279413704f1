"""The suite's database fixtures: every test starts from an empty database at the newest
schema, whichever way the fixture got it (a copy of a migrated SQLite file, or the session's
PostgreSQL database emptied over a kept connection)."""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.migrate import available_migrations
from tests import postgres
from tests.dbquery import on_kept_connection, query


def _tables(url: str) -> list[str]:
    if url.startswith("sqlite"):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return [str(row[0]) for row in query(url, sql)]


def _assert_empty_and_newest(url: str) -> None:
    newest = available_migrations("postgresql" if url.startswith("postgresql") else "sqlite")
    assert query(url, "SELECT MAX(version) FROM schema_version")[0][0] == newest[-1].number
    filled = {t: query(url, f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in _tables(url)}
    filled = {t: n for t, n in filled.items() if n and t != "schema_version"}
    assert not filled, f"rows left from before the test: {filled}"


def test_a_test_gets_an_empty_database_at_the_newest_schema(database_url: str) -> None:
    _assert_empty_and_newest(database_url)


def test_emptying_recovers_from_a_broken_kept_connection(postgres_database: str) -> None:
    """The connection kept for emptying dies while idle (a restarted server, say): the next
    emptying connects again instead of failing every later test."""
    postgres.empty(postgres_database)

    async def backend_pid(conn: Any) -> int:
        return int(await conn.fetchval("SELECT pg_backend_pid()"))

    kept = on_kept_connection(postgres_database, backend_pid)

    async def end_it_and_leave_a_row() -> None:
        conn = await asyncpg.connect(postgres_database)
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", kept)
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, alert_channel_id, updated_at) "
                "VALUES (1, 2, '2026-11-30T00:00:00+00:00')"
            )
        finally:
            await conn.close()

    postgres.run_sync(end_it_and_leave_a_row())
    postgres.empty(postgres_database)
    _assert_empty_and_newest(postgres_database)
    assert on_kept_connection(postgres_database, backend_pid) != kept
