"""Storage against real temporary SQLite files: migrations, durability settings, query plans."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import aiosqlite
import pytest

from storage import UnsupportedDatabaseURL, open_store, sqlite_path
from storage.migrate import available_migrations
from storage.sql import AwaitedOutsideStorage
from storage.sqlite import SqliteStore
from tests.helpers import count_rows, schema_version


@pytest.fixture
async def store(tmp_path: Path):
    """SQLite only here (the shared `store` fixture runs both backends)."""
    opened = await SqliteStore.open(tmp_path / "vigil.db")
    yield opened
    await opened.close()


async def test_migrates_from_empty_and_is_idempotent(tmp_path: Path):
    path = tmp_path / "nested" / "dir" / "vigil.db"
    first = await SqliteStore.open(path)
    latest = available_migrations()[-1].number
    assert await schema_version(first) == latest
    await first.close()
    again = await SqliteStore.open(path)
    assert await schema_version(again) == latest
    await again.close()
    async with (
        aiosqlite.connect(path) as conn,
        conn.execute("SELECT COUNT(*) FROM schema_version") as cur,
    ):
        row = await cur.fetchone()
    assert row == (latest,)  # each migration applied exactly once


async def test_database_file_is_private(tmp_path: Path):
    store = await SqliteStore.open(tmp_path / "vigil.db")
    await store.close()
    assert stat.S_IMODE((tmp_path / "vigil.db").stat().st_mode) == 0o600


async def test_wal_and_foreign_keys_are_on(store: SqliteStore):
    conn = store._conn
    async with conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
    async with conn.execute("PRAGMA synchronous") as cur:
        assert (await cur.fetchone())[0] == 1  # NORMAL


async def test_full_synchronous_is_available(tmp_path: Path):
    store = await SqliteStore.open(tmp_path / "v.db", synchronous="FULL")
    async with store._conn.execute("PRAGMA synchronous") as cur:
        assert (await cur.fetchone())[0] == 2
    await store.close()


async def test_failed_transaction_rolls_back(store: SqliteStore):
    async def fails(tx):
        await tx.meta.set("k", "v")
        raise RuntimeError("boom")

    async def succeeds(tx):
        await tx.meta.set("other", "kept")

    results = await asyncio.gather(
        store.write(fails), store.write(succeeds), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert await store.read(lambda tx: tx.meta.get("k")) is None
    assert await store.read(lambda tx: tx.meta.get("other")) == "kept"


async def test_concurrent_writes_are_grouped_and_all_committed(store: SqliteStore):
    """Group commit: many concurrent transactions, few commits, every one durable."""
    await asyncio.gather(
        *(store.write(lambda tx, n=n: tx.meta.set(f"k{n}", str(n))) for n in range(200))
    )
    assert store.batches < 200
    with sqlite3.connect(store.path) as other:
        assert other.execute("SELECT COUNT(*) FROM meta").fetchone() == (200,)


async def test_transaction_functions_may_not_do_network_io(store: SqliteStore):
    async def sneaky(tx):
        await asyncio.sleep(0)

    with pytest.raises(AwaitedOutsideStorage):
        await store.write(sneaky)


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE guild_id = 1 AND target_id = 2 "
            "AND case_id IS NULL AND counts_toward_threshold = 1 AND created_at >= '2026'",
            "ix_reports_tally",
        ),
        (
            "SELECT COUNT(*) FROM reports WHERE guild_id = 1 AND reporter_id = 2 "
            "AND created_at >= '2026'",
            "ix_reports_reporter",
        ),
        (
            "SELECT id FROM cases WHERE guild_id = 1 AND target_id = 2 "
            "AND status IN ('open', 'acknowledged')",
            "ux_cases_active_target",
        ),
        (
            # Every report joining a case counts its reporters: from the index alone (0012),
            # not a table row per report already in the case.
            "SELECT COUNT(DISTINCT reporter_id) FROM reports "
            "WHERE case_id = 1 AND counts_toward_threshold = 1",
            "COVERING INDEX ix_reports_case",
        ),
    ],
)
async def test_hot_queries_use_an_index(store: SqliteStore, sql: str, index: str):
    """The tally must not scan the table: its cost stays flat as history grows."""
    async with store._conn.execute("EXPLAIN QUERY PLAN " + sql) as cur:
        plan = " ".join(str(row[3]) for row in await cur.fetchall())
    assert index in plan and "SCAN reports" not in plan


def test_database_url_forms(tmp_path: Path):
    assert sqlite_path("sqlite:///data/vigil.db") == Path("data/vigil.db")
    assert sqlite_path("sqlite:////var/lib/vigil.db") == Path("/var/lib/vigil.db")
    assert sqlite_path("sqlite://:memory:") is None
    with pytest.raises(UnsupportedDatabaseURL):
        sqlite_path("mysql://x")


async def test_open_store_in_memory():
    store = await open_store("sqlite://:memory:")
    assert await count_rows(store, "reports") == 0
    await store.close()
