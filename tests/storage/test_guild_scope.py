"""The three reads of pending work (alerts, messages to delete, thread posts) keep to a
process's servers (`GuildScope`): its shards, not the servers Vigil left, not those it skips;
the same parameterised SQL and the same answers on both backends."""

from __future__ import annotations

from typing import Any

from core.models import CaseAction, GuildScope, GuildSettings
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportService
from tests.helpers import GUILD, OTHER_GUILD, clock, submission

SHARDS = 4
HARBOUR_SHARD = (GUILD >> 22) % SHARDS  # 1
LIGHTHOUSE_SHARD = (OTHER_GUILD >> 22) % SHARDS  # 3
HARBOUR_ONLY = GuildScope(shard_count=SHARDS, shard_ids=(HARBOUR_SHARD,))


async def _queue(store: Any, guild_id: int, *message_ids: int) -> None:
    now = clock().now()
    for message_id in message_ids:
        await store.write(
            lambda tx, m=message_id: tx.guild_data.queue_message_cleanup(guild_id, 5, m, now)
        )


async def _cleanup(store: Any, limit: int, scope: GuildScope | None) -> list[tuple[int, int]]:
    rows = await store.read(lambda tx: tx.guild_data.pending_cleanup(limit, scope))
    return [(row.guild_id, row.message_id) for row in rows]


async def _left(store: Any, guild_id: int) -> None:
    await store.write(lambda tx: tx.guild_data.mark_departed(guild_id, clock().now()))


async def test_messages_to_delete_are_read_in_turns_per_server_and_in_scope(store):
    assert HARBOUR_SHARD != LIGHTHOUSE_SHARD
    await _queue(store, GUILD, 11, 12, 13)
    await _queue(store, OTHER_GUILD, 21)
    # Round robin: Lighthouse's one (newer) row is in a read of two, beside Harbour's oldest.
    assert await _cleanup(store, 2, None) == [(GUILD, 11), (OTHER_GUILD, 21)]
    assert await _cleanup(store, 10, HARBOUR_ONLY) == [(GUILD, 11), (GUILD, 12), (GUILD, 13)]
    assert await _cleanup(store, 10, GuildScope(skip=(GUILD,))) == [(OTHER_GUILD, 21)]
    await _left(store, OTHER_GUILD)
    assert await _cleanup(store, 10, GuildScope()) == [(GUILD, 11), (GUILD, 12), (GUILD, 13)]
    assert len(await _cleanup(store, 10, None)) == 4  # no scope: every server's
    # A server Vigil left is in its shard's scope when asked for, and says so.
    rows = await store.read(lambda tx: tx.guild_data.pending_cleanup(10, GuildScope(departed=True)))
    assert [(row.guild_id, row.departed) for row in rows][:2] == [
        (GUILD, False),
        (OTHER_GUILD, True),
    ]


async def test_pending_alerts_and_thread_posts_keep_to_the_scope(store):
    c = clock()
    reports = ReportService(store, c, RateLimit(max_reports=100))
    cases = CaseService(store, c)
    for guild in (GUILD, OTHER_GUILD):
        settings = GuildSettings(guild, alert_channel_id=guild + 1)
        await store.write(lambda tx, s=settings: tx.settings.save(s, c.now()))
        outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY, guild=guild))
        await cases.act(guild, outcome.case_id, CaseAction.NOTE, 5151, note="a note")

    async def alerts(scope: GuildScope | None) -> set[int]:
        pending = await store.read(lambda tx: tx.cases.with_pending_alerts(10, (), scope))
        return {case.guild_id for case in pending}

    async def posts(scope: GuildScope | None) -> set[int]:
        items = await store.read(lambda tx: tx.relay.pending_feed(10, (), scope))
        return {item.guild_id for item in items}

    for read in (alerts, posts):
        assert await read(None) == {GUILD, OTHER_GUILD}
        assert await read(HARBOUR_ONLY) == {GUILD}
        assert await read(GuildScope(shard_count=SHARDS, shard_ids=())) == set()
        seen = GuildScope(shard_count=SHARDS, shard_ids=(HARBOUR_SHARD,), seen=(OTHER_GUILD,))
        assert await read(seen) == {GUILD, OTHER_GUILD}  # a server changing hands, seen here
        assert await read(GuildScope(skip=(GUILD,))) == {OTHER_GUILD}
    await _left(store, GUILD)
    for read in (alerts, posts):
        assert await read(GuildScope()) == {OTHER_GUILD}
