"""PostgreSQL specifics: dialect migrations, the executor, and several processes on one database.

Each "process" here is a separate PostgresStore (its own connection pool), which is what a
second bot process is to the database. The two-process test against the emulator is
tests/e2e/test_sharding.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.models import GuildSettings
from core.outbox import AlertDispatcher, Destination
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportAccepted, ReportService
from core.settings import SettingsError, load_settings
from storage import is_postgres_url, open_store
from storage.migrate import available_migrations
from storage.postgres import PostgresStore
from storage.postgres_sql import _rowcount, to_dollar_params
from storage.sqlite import SqliteStore
from tests import postgres
from tests.helpers import GUILD, clock, schema_version, submission

CHANNEL = 777
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz0123456789ab"


@pytest.fixture
async def fresh_url(postgres_available: bool) -> AsyncIterator[str]:
    """An empty, unmigrated database of its own."""
    postgres.skip_without_postgres(postgres_available)
    url = await postgres.create_database("vigil_test_fresh")
    yield url
    await postgres.drop_database(url)


# -- migrations -------------------------------------------------------------------------------


def test_both_dialects_have_the_same_migrations():
    sqlite = available_migrations("sqlite")
    pg = available_migrations("postgresql")
    assert [(m.number, m.name) for m in pg] == [(m.number, m.name) for m in sqlite]


async def _columns_sqlite(path: Path) -> dict[str, set[str]]:
    store = await SqliteStore.open(path)
    conn = store._conn
    tables: dict[str, set[str]] = {}
    async with conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ) as cur:
        names = [r[0] for r in await cur.fetchall()]
    for name in names:
        async with conn.execute(f"PRAGMA table_info({name})") as cur:
            tables[name] = {r[1] for r in await cur.fetchall()}
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'") as cur:
        tables["<indexes>"] = {r[0] for r in await cur.fetchall() if not r[0].startswith("sqlite_")}
    await store.close()
    return tables


async def test_both_dialects_build_the_same_schema(fresh_url: str, tmp_path: Path):
    """Same tables, columns and named indexes: repositories can share their SQL."""
    store = await PostgresStore.open(fresh_url)
    await store.close()
    conn = await asyncpg.connect(fresh_url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        indexes = await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
        )
    finally:
        await conn.close()
    pg: dict[str, set[str]] = {}
    for table, column in rows:
        pg.setdefault(table, set()).add(column)
    pg["<indexes>"] = {r[0] for r in indexes}
    assert pg == await _columns_sqlite(tmp_path / "v.db")


async def test_concurrent_starts_migrate_once(fresh_url: str):
    stores = await asyncio.gather(*(PostgresStore.open(fresh_url) for _ in range(4)))
    latest = available_migrations("postgresql")[-1].number
    assert [await schema_version(s) for s in stores] == [latest] * 4
    for s in stores:
        await s.close()
    again = await PostgresStore.open(fresh_url)
    await again.close()
    conn = await asyncpg.connect(fresh_url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_version")]
    finally:
        await conn.close()
    assert sorted(versions) == list(range(1, latest + 1))  # each applied exactly once


# -- executor, URLs, settings ----------------------------------------------------------------


def test_placeholders_are_numbered_outside_literals():
    assert to_dollar_params("SELECT ? , 'a?b', ?") == "SELECT $1 , 'a?b', $2"
    assert to_dollar_params("x IN ('open', 'acknowledged') AND y = ?") == (
        "x IN ('open', 'acknowledged') AND y = $1"
    )
    assert [_rowcount(s) for s in ("UPDATE 3", "INSERT 0 1", "DELETE 0", "SELECT 2")] == [
        3,
        1,
        0,
        2,
    ]


def test_postgres_database_urls_are_accepted():
    for url in ("postgresql://vigil@db:5432/vigil", "postgres://u:p@127.0.0.1/vigil"):
        assert is_postgres_url(url)
        settings = load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": url})
        assert settings.database_url == url
        assert ":p@" not in repr(settings)
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load_settings({"DISCORD_TOKEN": TOKEN, "DATABASE_URL": "postgresql://u@host"})


async def test_open_store_dispatches_by_scheme(postgres_database: str, tmp_path: Path):
    pg = await open_store(postgres_database)
    assert isinstance(pg, PostgresStore)
    await pg.close()
    lite = await open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(lite, SqliteStore)
    await lite.close()


async def test_failed_transaction_rolls_back(two_processes):
    store, _ = two_processes

    async def fails(tx):
        await tx.meta.set("k", "v")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.write(fails)
    assert await store.read(lambda tx: tx.meta.get("k")) is None


# -- several processes, one database -----------------------------------------------------------


async def _configure(store, threshold: int) -> None:
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, threshold=threshold)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))


async def test_threshold_completed_in_two_processes_at_once_opens_one_case(two_processes):
    """Reporter 1 in one process and reporter 2 in the other complete threshold 2 together."""
    a, b = two_processes
    await _configure(a, threshold=2)
    c = clock()
    services = [
        ReportService(s, c, RateLimit(max_reports=100, per=timedelta(minutes=1))) for s in (a, b)
    ]
    targets = range(100, 130)
    outcomes = await asyncio.gather(
        *(services[i].submit(submission(reporter=i + 1, target=t)) for t in targets for i in (0, 1))
    )
    assert all(isinstance(o, ReportAccepted) for o in outcomes)
    opened = [o for o in outcomes if isinstance(o, ReportAccepted) and o.case_opened]
    assert len(opened) == len(targets)  # exactly one per target, never two, never none
    cases = await a.read(lambda tx: tx.cases.list_active(GUILD, 1000))
    assert len(cases) == len(targets)
    assert sorted(case.number for case in cases) == list(range(1, len(targets) + 1))
    for case in cases:
        reports = await a.read(lambda tx, cid=case.id: tx.reports.for_case(cid))
        assert len(reports) == 2


async def test_case_numbers_stay_unique_across_processes(two_processes):
    a, b = two_processes
    await _configure(a, threshold=3)
    c = clock()
    services = [ReportService(s, c) for s in (a, b)]
    outcomes = await asyncio.gather(
        *(
            services[t % 2].submit(
                submission(reporter=1 + t, target=200 + t, reason=Reason.SELF_HARM)
            )
            for t in range(20)
        )
    )
    numbers = sorted(o.case_number for o in outcomes if isinstance(o, ReportAccepted))
    assert numbers == list(range(1, 21))


@dataclass
class SlowPoster:
    """Discord, shared by both processes: records every post; each post takes a moment."""

    posts: list[tuple[int, str]] = field(default_factory=list)
    edits: list[int] = field(default_factory=list)
    next_id: int = 1000

    async def post(self, channel_id: int, content: Any, nonce: str) -> int:
        await asyncio.sleep(0.01)
        self.next_id += 1
        self.posts.append((channel_id, nonce))
        return self.next_id

    async def edit(self, channel_id: int, message_id: int, content: Any) -> None:
        await asyncio.sleep(0.01)
        self.edits.append(message_id)

    async def route(
        self, guild_id: int, settings: Any, target_id: int, named: frozenset[int] = frozenset()
    ) -> Destination:
        return Destination(settings.alert_channel_id)


async def test_outbox_is_drained_by_one_process_per_alert(two_processes):
    a, b = two_processes
    await _configure(a, threshold=1)
    c = clock()
    reports = ReportService(a, c)
    for t in range(15):
        await reports.submit(submission(reporter=1 + t, target=300 + t, reason=Reason.CHILD_SAFETY))
    poster = SlowPoster()
    dispatchers = [
        AlertDispatcher(s, CaseService(s, c), poster, base_delay=0.01, max_delay=0.01)
        for s in (a, b)
    ]
    for _ in range(3):
        await asyncio.gather(*(d.drain_once() for d in dispatchers))
    nonces = [nonce for _, nonce in poster.posts]
    assert len(nonces) == 15 and len(set(nonces)) == 15  # every alert once, none twice
    assert poster.edits == []
    assert await a.read(lambda tx: tx.cases.with_pending_alerts(100)) == []


async def test_claims_are_exclusive_across_processes(two_processes):
    a, b = two_processes
    async with (
        a.claim("alert:1") as first,
        b.claim("alert:1") as second,
        b.claim("alert:2") as other,
    ):
        assert (first, second, other) == (True, False, True)
    async with b.claim("alert:1") as again:
        assert again  # released with the block


async def test_exactly_one_leader_and_failover(postgres_database: str):
    a = await PostgresStore.open(postgres_database)
    b = await PostgresStore.open(postgres_database)
    try:
        results = await asyncio.gather(a.try_lead("retention"), b.try_lead("retention"))
        assert sorted(results) == [False, True]
        leader, follower = (a, b) if results[0] else (b, a)
        assert await leader.try_lead("retention")  # keeps it
        assert not await follower.try_lead("retention")
        assert await follower.try_lead("something-else")
        await leader.close()  # the leader stops (or dies): its session lock goes with it
        assert await follower.try_lead("retention")
    finally:
        await a.close() if a is not leader else None
        await b.close() if b is not leader else None


async def test_sqlite_claims_and_leadership_are_process_local(tmp_path: Path):
    store = await SqliteStore.open(tmp_path / "v.db")
    async with store.claim("alert:1") as first, store.claim("alert:1") as second:
        assert (first, second) == (True, False)
    async with store.claim("alert:1") as again:
        assert again
    assert await store.try_lead("retention")
    await store.close()
