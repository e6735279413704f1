"""Servers a process does not serve never crowd out its own (both backends): their pending
alerts, messages to delete and thread posts are left out of its reads (other shards' in the
SQL itself, one entry per server otherwise), so however many they are, its own servers' work
is read at its first pass; the case feed leaves them alone, quietly."""

from __future__ import annotations

import logging
from typing import Any

from core.case_feed import CaseFeed, FeedKind
from core.models import CaseAction, GuildScope, GuildSettings
from core.outbox import MAX_EXCLUDED, AlertDispatcher, DeliveryFailed, Destination
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportService
from tests.core.test_outbox import CHANNEL, FakePoster
from tests.core.test_relay import MOD, FakeThreads
from tests.helpers import GUILD, OTHER_GUILD, clock, count_rows, submission

SHARDS = 2
MY_SHARD = (GUILD >> 22) % SHARDS


def guild_on_shard(n: int, shard: int) -> int:
    """The n-th made-up server Discord routes to `shard` (of SHARDS)."""
    return ((5000 + n) * SHARDS + shard) << 22


async def execute(store: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Rows written straight into the tables (one transaction), as other processes' work."""

    async def run(tx: Any) -> None:
        for params in rows:
            await tx.reports._db.execute(sql, params)

    await store.write(run)


async def other_servers_alerts(store: Any, guilds: list[int], per_guild: int) -> None:
    """Configured servers, each with `per_guild` urgent cases whose alerts wait."""
    stamp = "2026-01-01T00:00:00"
    await execute(
        store,
        "INSERT INTO guild_settings (guild_id, alert_channel_id, updated_at) VALUES (?, ?, ?)",
        [(guild, guild + 1, stamp) for guild in guilds],
    )
    await execute(
        store,
        "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
        "status, urgent, opened_at) VALUES (?, ?, ?, 'raider', 0, 'open', 1, ?)",
        [(g, n, 10**17 + n, stamp) for n in range(1, per_guild + 1) for g in guilds],
    )


async def my_servers_alert(store: Any) -> ReportService:
    """Harbour (served here) configured, and its urgent alert waiting (the newest case)."""
    c = clock()
    await store.write(
        lambda tx: tx.settings.save(GuildSettings(GUILD, alert_channel_id=CHANNEL), c.now())
    )
    reports = ReportService(store, c, RateLimit())
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    return reports


def harbour_only(guild_id: int) -> bool:
    return guild_id == GUILD


async def test_more_unserved_alerts_than_the_exclusion_holds_never_starve_served_ones(store):
    """300 servers this process does not see, two waiting alerts each: 600 alerts, more than
    MAX_EXCLUDED. Left out one entry per server, they cannot fill every batch (left out one
    entry per alert they did: the batch kept coming back full of them, and Harbour's alert,
    the newest, was never read)."""
    others = [guild_on_shard(n, MY_SHARD) for n in range(300)]
    await other_servers_alerts(store, others, per_guild=2)
    assert 2 * len(others) > MAX_EXCLUDED
    await my_servers_alert(store)
    poster = FakePoster()
    dispatcher = AlertDispatcher(
        store, CaseService(store, clock()), poster, base_delay=0.0, serves=harbour_only
    )
    for _ in range(20):
        await dispatcher.drain_once()
        if poster.posts:
            break
    assert [p[0] for p in poster.posts] == [CHANNEL]


async def test_other_shards_alerts_are_not_even_read(store):
    """600 servers of the other shard with waiting alerts (another process's, down for a
    while): this process's read keeps to its shard, so Harbour's alert goes at the first
    pass and no other server is even looked at."""
    others = [guild_on_shard(n, 1 - MY_SHARD) for n in range(600)]
    await other_servers_alerts(store, others, per_guild=1)
    await my_servers_alert(store)
    looked: list[int] = []

    def serves(guild_id: int) -> bool:
        looked.append(guild_id)
        return guild_id == GUILD

    poster = FakePoster()
    dispatcher = AlertDispatcher(
        store,
        CaseService(store, clock()),
        poster,
        base_delay=0.0,
        serves=serves,
        scope=lambda: GuildScope(shard_count=SHARDS, shard_ids=(MY_SHARD,)),
    )
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [CHANNEL]
    assert set(looked) == {GUILD}


async def test_a_server_vigil_left_is_in_no_processs_scope(store):
    """Vigil was removed from 600 servers whose alerts still wait (they are purged after the
    grace period): no process can deliver them, and none reads them."""
    others = [guild_on_shard(n, MY_SHARD) for n in range(600)]
    await other_servers_alerts(store, others, per_guild=1)
    await execute(
        store,
        "INSERT INTO departed_guilds (guild_id, left_at) VALUES (?, ?)",
        [(guild, "2026-01-01T00:00:00") for guild in others],
    )
    await my_servers_alert(store)
    poster = FakePoster()
    dispatcher = AlertDispatcher(
        store, CaseService(store, clock()), poster, base_delay=0.0, serves=harbour_only
    )
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [CHANNEL]


class ServingThreads(FakeThreads):
    """Discord's side of threads as a process sees it: a server it does not see cannot be
    routed (what cogs/alerts.py's route raises for it)."""

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        if guild_id != GUILD:
            raise DeliveryFailed("internal:not_served")
        return await super().route(guild_id, settings, target_id, named)


async def test_the_case_feed_leaves_other_processes_servers_alone_quietly(store, caplog):
    """Lighthouse is another process's server: its case's thread posts are neither tried
    (no thread started there, nothing posted, no warning every retry) nor allowed to fill
    the batch; Harbour's post goes at the first pass, and Lighthouse's items wait for their
    process."""
    c = clock()
    for guild, channel in ((OTHER_GUILD, 888), (GUILD, CHANNEL)):
        settings = GuildSettings(guild, alert_channel_id=channel, threshold=1)
        await store.write(lambda tx, s=settings: tx.settings.save(s, c.now()))
    reports = ReportService(store, c, RateLimit(max_reports=100))
    cases = CaseService(store, c)
    theirs = (await reports.submit(submission(1, target=7, guild=OTHER_GUILD))).case_id
    mine = (await reports.submit(submission(2, target=8))).case_id
    await AlertDispatcher(store, cases, FakePoster(), base_delay=0.0).drain_once()
    for n in range(60):  # more than a batch, all older than Harbour's
        await cases.act(OTHER_GUILD, theirs, CaseAction.NOTE, MOD, note=f"note {n}")
    await cases.act(GUILD, mine, CaseAction.NOTE, MOD, note="ours")
    threads = ServingThreads()
    feed = CaseFeed(store, cases, threads, retry_seconds=0.0, serves=harbour_only)
    with caplog.at_level(logging.WARNING, logger="core.case_feed"):
        await feed.drain_once()
        await feed.drain_once()
    assert [(p.kind, p.text) for _, _, p, _ in threads.posts] == [(FeedKind.NOTE, "ours")]
    assert len(threads.started) == 1  # Harbour's thread only
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert await count_rows(store, "case_feed", OTHER_GUILD) == 60  # left for their process
