"""Deleting the messages of purged and erased cases (`alert_cleanup`) fairly, on both backends:
a server whose DELETEs hang or fail (Discord answering 429 or 502 for ever) holds only its own
place, never another server's alert or cleanup nor the outbox's loop; a refusal keeps the row
and waits out that server's backoff; only the process that serves a server deletes its
messages, and never two processes the same one; a crash leaves the row for the restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.models import CaseAction, GuildSettings
from core.outbox import CLEANUP_PER_GUILD, AlertDispatcher, AlertMessage, DeliveryFailed
from core.policy import RateLimit
from core.reasons import Reason
from core.retention import RetentionService
from core.service import CaseService, ReportService
from storage import open_store
from tests.core.test_outbox import CHANNEL, OTHER_CHANNEL, FakePoster
from tests.helpers import GUILD, OTHER_GUILD, clock, scalar, submission, user


@dataclass
class DeletingPoster(FakePoster):
    """Discord's side of deletions: in `hanging` channels a DELETE hangs until `go` is set
    (a 429 or 502 retried inside discord.py, up to the request's cap); in `refusing` ones it
    fails (what the outbox hears after those retries). `asked`: every DELETE begun."""

    hanging: set[int] = field(default_factory=set)
    refusing: set[int] = field(default_factory=set)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    asked: list[tuple[int, int]] = field(default_factory=list)
    hold_post_to: int | None = None  # a POST there waits for `post_go` (its answer is late)
    post_go: asyncio.Event = field(default_factory=asyncio.Event)

    async def delete(self, channel_id: int, message_id: int) -> None:
        self.asked.append((channel_id, message_id))
        if channel_id in self.hanging:
            await self.go.wait()
        if channel_id in self.refusing:
            raise DeliveryFailed("http:502")
        self.deleted.append((channel_id, message_id))

    async def post(self, channel_id: int, alert: AlertMessage, nonce: str) -> int:
        if channel_id == self.hold_post_to:
            message_id = await super().post(channel_id, alert, nonce)  # it reached Discord
            await self.post_go.wait()
            return message_id
        return await super().post(channel_id, alert, nonce)


def _dispatcher(store: Any, poster: FakePoster, **options: Any) -> AlertDispatcher:
    options.setdefault("base_delay", 0.0)
    options.setdefault("max_delay", 0.0)
    return AlertDispatcher(store, CaseService(store, clock()), poster, **options)


async def _queue(store: Any, guild_id: int, channel_id: int, *message_ids: int) -> None:
    """Messages of purged cases, queued for deletion as a purge queues them."""
    now = clock().now()
    for message_id in message_ids:
        await store.write(
            lambda tx, m=message_id: tx.guild_data.queue_message_cleanup(
                guild_id, channel_id, m, now
            )
        )


async def _queued(store: Any, guild_id: int) -> int:
    return int(
        await scalar(store, "SELECT COUNT(*) FROM alert_cleanup WHERE guild_id = ?", (guild_id,))
    )


async def _until(condition: Callable[[], object], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def _released(poster: DeletingPoster, *dispatchers: AlertDispatcher) -> AsyncIterator[None]:
    """A failed assertion must not leave a hung deletion holding a database connection."""
    try:
        yield
    finally:
        poster.go.set()
        poster.post_go.set()
        for dispatcher in dispatchers:
            dispatcher.stop()
            await dispatcher.settle(5.0)


async def test_a_server_whose_deletions_hang_holds_only_its_own_place(store):
    """Harbour's DELETEs hang (a 429 or 502 for ever): a look for messages to delete returns
    at once all the same, Lighthouse's message is deleted meanwhile, and Harbour's rows are
    tried one at a time, in Harbour's own task."""
    poster = DeletingPoster(hanging={CHANNEL})
    await _queue(store, GUILD, CHANNEL, 11, 12, 13)  # the oldest rows
    await _queue(store, OTHER_GUILD, OTHER_CHANNEL, 21)
    dispatcher = _dispatcher(store, poster, pass_wait=0.05)
    async with _released(poster, dispatcher):
        # Harbour's DELETE hangs until `go`: a look that waited for it would never return.
        # 10 s, not less: on a loaded machine a PostgreSQL look alone can take a second or two.
        await asyncio.wait_for(dispatcher.clean_up_purged(), 10.0)
        await _until(lambda: (OTHER_CHANNEL, 21) in poster.deleted, "Lighthouse's deletion")
        await _until(lambda: (CHANNEL, 11) in poster.asked, "Harbour's first DELETE")
        # The two servers' tasks run side by side: either may reach Discord first.
        both = sorted([(CHANNEL, 11), (OTHER_CHANNEL, 21)])
        assert sorted(poster.asked) == both  # Harbour: one at a time
        await dispatcher.clean_up_purged()  # a second look starts no second Harbour task
        assert sorted(poster.asked) == both
        assert await _queued(store, GUILD) == 3 and await _queued(store, OTHER_GUILD) == 0
        poster.go.set()  # Discord takes Harbour's deletions again
        await _until(lambda: len(poster.deleted) == 4, "Harbour's deletions")
        await _until(lambda: not dispatcher._cleaning, "Harbour's task to end")
    assert await _queued(store, GUILD) == 0


async def test_a_server_with_many_rows_to_delete_takes_turns_with_the_others(store):
    """60 older rows of Harbour cannot fill a read of 50: Lighthouse's newer row is in the
    first look, and Harbour's task gives its place up after CLEANUP_PER_GUILD rows."""
    poster = DeletingPoster()
    await _queue(store, GUILD, CHANNEL, *range(100, 160))
    await _queue(store, OTHER_GUILD, OTHER_CHANNEL, 21)
    dispatcher = _dispatcher(store, poster)
    assert await dispatcher.clean_up_purged() == CLEANUP_PER_GUILD + 1
    assert (OTHER_CHANNEL, 21) in poster.deleted
    assert await _queued(store, GUILD) == 60 - CLEANUP_PER_GUILD


async def test_a_refused_deletion_waits_out_its_servers_backoff(store):
    """Harbour's DELETEs fail: its turn ends at the first failure, its rows are kept, and the
    next looks leave Harbour alone until its backoff is over (Lighthouse's rows meanwhile go
    at once); then Harbour's are deleted once Discord takes them."""
    poster = DeletingPoster(refusing={CHANNEL})
    await _queue(store, GUILD, CHANNEL, 11, 12, 13)
    dispatcher = _dispatcher(store, poster, base_delay=0.5, max_delay=0.5)
    assert await dispatcher.clean_up_purged() == 0
    assert poster.asked == [(CHANNEL, 11)]  # not the whole queue of a failing server
    await _queue(store, OTHER_GUILD, OTHER_CHANNEL, 21)
    assert await dispatcher.clean_up_purged() == 1
    assert poster.asked == [(CHANNEL, 11), (OTHER_CHANNEL, 21)]  # Harbour: not hammered
    assert await _queued(store, GUILD) == 3
    poster.refusing.clear()
    await asyncio.sleep(0.5)
    assert await dispatcher.clean_up_purged() == 3
    assert await _queued(store, GUILD) == 0


async def test_only_the_process_that_serves_a_server_deletes_its_messages(store):
    """This process does not serve Harbour (another process does; it may not even see the
    channel): Harbour's 60 rows are never tried here and never fill its batch, Lighthouse's
    are deleted at once. Once Harbour is served here, its rows go too."""
    poster = DeletingPoster()
    served = {OTHER_GUILD}
    await _queue(store, GUILD, CHANNEL, *range(100, 160))
    await _queue(store, OTHER_GUILD, OTHER_CHANNEL, 21)
    dispatcher = _dispatcher(store, poster, serves=served.__contains__)
    assert await dispatcher.clean_up_purged() == 1
    assert poster.asked == [(OTHER_CHANNEL, 21)]
    async with store.claim("cleanup:1") as free:
        assert free  # Harbour's rows: not held either
    served.add(GUILD)
    dispatcher.serving_changed()
    assert await dispatcher.clean_up_purged() == CLEANUP_PER_GUILD
    assert {channel for channel, _ in poster.asked} == {CHANNEL, OTHER_CHANNEL}


async def test_a_server_vigil_left_still_has_its_dms_deleted(store):
    """Vigil was removed from Lighthouse: no process serves it any more, yet a purge of its
    cases during the grace period queued an owner's DM alert; the process of its shard still
    deletes it (in the server's channels Discord refuses, and the row is done)."""
    poster = DeletingPoster()
    owner_dm = 4444
    await _queue(store, OTHER_GUILD, owner_dm, 31)
    await store.write(lambda tx: tx.guild_data.mark_departed(OTHER_GUILD, clock().now()))
    dispatcher = _dispatcher(store, poster, serves=lambda _guild_id: False)
    assert await dispatcher.clean_up_purged() == 1
    assert poster.deleted == [(owner_dm, 31)]


class _LateClaims:
    """A second process's store whose claims wait for `go`: it read the rows before the first
    process deleted them, and claims them only after (its read is stale by then)."""

    def __init__(self, store: Any, go: asyncio.Event) -> None:
        self._store, self._go = store, go

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextlib.asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        await self._go.wait()
        async with self._store.claim(name) as mine:
            yield mine


async def test_two_processes_never_both_delete_a_message(store, database_url):
    """Two processes serving Harbour (a handover) look at once; the second takes each row's
    claim only after the first deleted it: the row, read again under the claim, is gone, so
    the second deletes nothing. Each message is deleted once."""
    second_store = await open_store(database_url) if "postgresql" in database_url else store
    try:
        poster = DeletingPoster()
        await _queue(store, GUILD, CHANNEL, 11, 12)
        go = asyncio.Event()
        first = _dispatcher(store, poster)
        second = _dispatcher(_LateClaims(second_store, go), poster, pass_wait=0.0)
        assert await asyncio.wait_for(second.clean_up_purged(), 10.0) == 0  # claims wait
        assert await first.clean_up_purged() == 2
        go.set()
        await _until(lambda: not second._cleaning, "the second process's look to end")
        assert sorted(poster.asked) == [(CHANNEL, 11), (CHANNEL, 12)]  # once each
        assert await _queued(store, GUILD) == 0
    finally:
        if second_store is not store:
            await second_store.close()


async def test_a_crash_in_the_middle_of_a_deletion_leaves_the_row_for_the_restart(store):
    """The process dies while Harbour's DELETE is on its way (its task cancelled): the row
    stays, and the next start deletes the message."""
    poster = DeletingPoster(hanging={CHANNEL})
    await _queue(store, GUILD, CHANNEL, 11)
    dying = _dispatcher(store, poster, pass_wait=0.05)
    await asyncio.wait_for(dying.clean_up_purged(), 10.0)  # never waits for the DELETE
    await _until(lambda: poster.asked, "Harbour's DELETE")
    dying.stop()
    await dying.settle(0.05)  # cancelled, as by a kill
    assert await _queued(store, GUILD) == 1
    restarted = _dispatcher(store, DeletingPoster())
    assert await restarted.clean_up_purged() == 1
    assert await _queued(store, GUILD) == 0


async def test_an_alert_erased_on_its_way_is_deleted_beside_the_passes(store):
    """Lighthouse's case is erased while its POST is on its way; the answer finds no case, so
    the message is queued for deletion. Harbour's DELETEs hang meanwhile: Lighthouse's
    delivery ends at once all the same (the deletion runs in Lighthouse's own cleanup, not in
    its delivery: it used to delete every server's queued messages there, oldest first), its
    next alert goes out, and the erased alert is deleted."""
    poster = DeletingPoster(hanging={CHANNEL}, hold_post_to=OTHER_CHANNEL)
    c = clock()
    for guild, channel in ((GUILD, CHANNEL), (OTHER_GUILD, OTHER_CHANNEL)):
        settings = GuildSettings(guild, alert_channel_id=channel)
        await store.write(lambda tx, s=settings: tx.settings.save(s, c.now()))
    await _queue(store, GUILD, CHANNEL, 11)  # Harbour's: hangs
    reports = ReportService(store, c, RateLimit(max_reports=1000))
    dispatcher = AlertDispatcher(
        store, CaseService(store, c), poster, base_delay=0.0, pass_wait=0.05
    )
    running = asyncio.create_task(dispatcher.run())
    async with _released(poster, dispatcher):
        target = 5000
        await reports.submit(
            submission(3, target=target, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD)
        )
        dispatcher.wake()
        await _until(lambda: poster.posts, "Lighthouse's POST")
        await RetentionService(store, c).forget(OTHER_GUILD, user(target).id, actor_id=5)
        poster.post_go.set()  # the POST's answer arrives: its case is gone
        erased = poster.in_channel[min(poster.in_channel)]
        await _until(lambda: (OTHER_CHANNEL, erased) in poster.deleted, "the erased alert deleted")
        await reports.submit(
            submission(4, target=5001, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD)
        )
        dispatcher.wake()
        await _until(lambda: len(poster.posts) == 2, "Lighthouse's next alert")
        assert (CHANNEL, 11) in poster.asked and (CHANNEL, 11) not in poster.deleted  # hangs
    await asyncio.wait_for(running, 5.0)


async def test_the_loop_looks_for_messages_to_delete_when_told_not_at_every_pass(store):
    """In a storm passes follow each other many times a second: the loop looks for messages
    to delete once at its start (what a crash left), then when told (`cleanup_queued`), not
    at every pass."""
    dispatcher = _dispatcher(store, FakePoster())
    looks: list[int] = []

    async def look(limit: int = 50) -> int:
        looks.append(limit)
        return 0

    dispatcher.clean_up_purged = look  # type: ignore[method-assign]
    running = asyncio.create_task(dispatcher.run())
    for _ in range(20):
        dispatcher.wake()
        await asyncio.sleep(0.01)
    assert len(looks) == 1
    dispatcher.cleanup_queued()
    await _until(lambda: len(looks) == 2, "the look after a purge")
    dispatcher.stop()
    await asyncio.wait_for(running, 5.0)


async def test_a_purged_cases_alert_is_deleted_by_the_loop(store):
    """The whole way: a case purged by retention, the loop told, the alert deleted."""
    poster = DeletingPoster()
    c = clock()
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, retention_days=1)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    cases = CaseService(store, c)
    opened = await ReportService(store, c, RateLimit()).submit(
        submission(1, reason=Reason.CHILD_SAFETY)
    )
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=0.0, pass_wait=0.05)
    await dispatcher.drain_once()
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    running = asyncio.create_task(dispatcher.run())
    c.advance(timedelta(days=2))
    await RetentionService(store, c).sweep()
    dispatcher.cleanup_queued()
    await _until(lambda: poster.deleted == [(CHANNEL, 1001)], "the purged alert deleted")
    dispatcher.stop()
    await asyncio.wait_for(running, 5.0)
