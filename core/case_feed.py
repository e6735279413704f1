"""A thread per case (issue 15): the case's story in one place, so the alert stays short.

When Vigil may start threads in the channel of a case's alert, the case gets one public thread
under its alert message; it inherits the channel's permissions, so it is as private as the
alert channel. Into it go, in order: the audit of moderators' actions, notes, the questions
moderators asked a reporter and the reporters' answers, details reporters added, a reporter's
"stop messages", and the urgent reminders (core/outbox.py). Without the permission, Vigil does
what it did before threads: events stay with the case (the alert, `/reports case`), reminders
reply to the alert, and the relay's messages reply to the alert too.

Once: the case's thread is started under a claim and recorded by a compare-and-set, and
Discord itself starts at most one thread per message (a second attempt is refused; the thread
has the message's ID, so an attempt that crashed before recording it is adopted). Each feed item
is posted under a per-case claim with a nonce of its own, then deleted from the outbox.
Everything waits in the database: a restart or a failed post loses nothing.

Like the alert outbox, a process posts only into threads of servers it serves (`serves`): its
reads keep to its shards' servers (`scope`), and a server of its shards it does not see yet
is left alone, quietly, until it does (`serving_changed`) or a while has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from core.models import (
    AlertData,
    CaseAction,
    CaseEvent,
    DeliveryState,
    FeedItem,
    GuildScope,
    GuildSettings,
    RelayKind,
)
from core.outbox import MAX_EXCLUDED, UNSERVED_RECHECK_SECONDS, DeliveryFailed, Destination
from core.outcomes import Vocabulary
from core.ports import Store, UnitOfWork
from core.relay import reporter_number
from core.service import CaseService

log = logging.getLogger(__name__)

#: How long a channel where Vigil may not start threads is not tried again (by this process).
REFUSED_SECONDS = 300.0


class FeedKind(Vocabulary):
    EVENT = "event"  # a moderator's action (the audit trail)
    NOTE = "note"
    QUESTION = "question"
    ANSWER = "answer"
    DETAILS = "details"
    STOPPED = "stopped"

    @property
    def is_relay(self) -> bool:
        """The relay's messages: without a thread they still go under the alert."""
        return self not in (FeedKind.EVENT, FeedKind.NOTE)


_RELAY_KINDS: dict[RelayKind, FeedKind] = {
    RelayKind.QUESTION: FeedKind.QUESTION,
    RelayKind.ANSWER: FeedKind.ANSWER,
    RelayKind.DETAILS: FeedKind.DETAILS,
    RelayKind.STOPPED: FeedKind.STOPPED,
}


@dataclass(frozen=True, slots=True)
class FeedPost:
    """One post for a case's thread, as plain data: ui/ words it. Reporters appear only by
    their number ("Reporter 2"), never by name or mention."""

    kind: FeedKind
    case_number: int
    locale: str
    actor_id: int | None = None  # the moderator (an event, a note, a question)
    event: CaseEvent | None = None
    reporter_number: int | None = None
    text: str | None = None  # a note, a question, an answer, details (user text)
    delivery: DeliveryState | None = None  # a question's


class ThreadRefused(Exception):
    """Vigil may not start a thread there (a permission, or not a text channel)."""


class ThreadPending(Exception):
    """The case's thread may yet be started (another task or process is starting it, or
    Discord failed for now): what goes into it waits, rather than going elsewhere."""


class ThreadPoster(Protocol):
    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        """Where the case's alert belongs now (core/outbox.AlertPoster.route)."""
        ...

    async def may_start_thread(self, guild_id: int, channel_id: int) -> bool | None:
        """Whether Vigil may start threads in the channel and post in them (None: this process
        does not see the server; then it tries)."""
        ...

    async def start_thread(
        self, channel_id: int, message_id: int, case_number: int, locale: str
    ) -> int:
        """Start the thread under the alert; its ID. A thread the message already has (an
        attempt that crashed before it was recorded) is returned as it is. Raises
        ThreadRefused, or DeliveryFailed to try again later."""
        ...

    async def post(self, channel_id: int, reply_to: int | None, post: FeedPost, nonce: str) -> int:
        """Post in the thread (or, `reply_to` the alert, in its channel); the message's ID.
        Raises DeliveryFailed, with `message_gone` when the thread no longer exists."""
        ...


def feed_nonce(feed_id: int) -> str:
    return f"vigil-feed-{feed_id}"[:25]


class CaseFeed:
    def __init__(
        self,
        store: Store,
        cases: CaseService,
        poster: ThreadPoster,
        *,
        locale_for: Callable[[int], str | None] | None = None,
        poll_seconds: float = 5.0,
        retry_seconds: float = 2.0,
        batch: int = 50,
        serves: Callable[[int], bool] | None = None,
        scope: Callable[[], GuildScope] | None = None,
    ) -> None:
        self._store = store
        self._cases = cases
        self._poster = poster
        self._locale_for = locale_for or (lambda _guild_id: None)
        self._poll = poll_seconds
        self._retry = retry_seconds
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._not_before: dict[int, float] = {}  # case ID -> monotonic time of its next try
        self._refused: dict[int, float] = {}  # channel ID -> until when not to try threads
        # As the outbox decides: whether this process sees the server, and its shards' servers.
        self._serves = serves or (lambda _guild_id: True)
        self._scope = scope or GuildScope
        self._unserved: dict[int, float] = {}  # guild ID -> when to look at it again

    def serving_changed(self) -> None:
        """A server became available to this process: what waits for its threads is due."""
        self._unserved.clear()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain_once()
            except Exception:
                log.exception("case feed pass failed; retrying")
            if self._stopping:
                break
            delay = self._poll
            waiting = [at - time.monotonic() for at in self._not_before.values()]
            if waiting:
                delay = max(0.1, min(delay, *waiting))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def _locale(self, data: AlertData) -> str:
        return self._locale_for(data.case.guild_id) or data.settings.locale or "en"

    async def ensure_thread(self, case_id: int, data: AlertData | None = None) -> int | None:
        """The case's thread, started now if it has none and Vigil may start one there; None
        when it will have none (no permission, not a text channel, deleted). Raises
        ThreadPending while that is not known yet. `data`: the case as just read."""
        data = data or await self._cases.alert_data(case_id)
        if data is None:
            return None
        case = data.case
        if case.thread_id is not None:
            return case.thread
        channel_id, message_id = case.alert_channel_id, case.alert_message_id
        if channel_id is None or message_id is None:
            raise ThreadPending(f"case {case_id}: its alert is not posted yet")
        if self._refused.get(channel_id, 0.0) > time.monotonic():
            return None
        if await self._poster.may_start_thread(case.guild_id, channel_id) is False:
            return None  # today's behaviour, until the permission is given
        async with self._store.claim(f"thread:{case_id}") as mine:
            if not mine:
                raise ThreadPending(f"case {case_id}: another task is starting its thread")
            current = await self._store.read(lambda tx: tx.cases.get(case_id))
            if current is None:
                return None
            if current.thread_id is not None or current.alert_message_id != message_id:
                return current.thread  # started (or the alert moved) since it was read
            try:
                thread_id = await self._poster.start_thread(
                    channel_id, message_id, case.number, self._locale(data)
                )
            except ThreadRefused:
                self._refused[channel_id] = time.monotonic() + REFUSED_SECONDS
                return None
            except DeliveryFailed as failure:
                raise ThreadPending(f"case {case_id}: {failure.problem}") from failure
            if await self._cases.set_thread(case_id, thread_id):
                log.info("case %s has its thread", case_id)
                return thread_id
            current = await self._store.read(lambda tx: tx.cases.get(case_id))
            return current.thread if current is not None else None

    async def drain_once(self) -> None:
        """One pass: each case with something to post, under its claim, oldest first."""
        now = time.monotonic()
        self._not_before = {k: v for k, v in self._not_before.items() if v > now}
        self._unserved = {k: v for k, v in self._unserved.items() if v > now}
        waiting = sorted(self._not_before)[:MAX_EXCLUDED]
        unserved = sorted(self._unserved, key=self._unserved.__getitem__, reverse=True)
        scope = replace(self._scope(), skip=tuple(unserved[:MAX_EXCLUDED]))
        items = await self._store.read(
            lambda tx: tx.relay.pending_feed(self._batch, waiting, scope)
        )
        for case_id, guild_id in dict.fromkeys((item.case_id, item.guild_id) for item in items):
            if not self._serves(guild_id):
                # Not a server this process sees (another process's, or not available yet):
                # its process posts there. Left out of the reads for a while, quietly.
                self._unserved[guild_id] = now + UNSERVED_RECHECK_SECONDS
                continue
            try:
                async with self._store.claim(f"feed:{case_id}") as mine:
                    if mine:
                        await self._drain_case(case_id)
                    else:
                        self._later(case_id)
            except DeliveryFailed as failure:
                log.warning("thread post for case %s not sent yet: %s", case_id, failure.problem)
                self._later(case_id)
            except ThreadPending as pending:
                log.info("thread post waits: %s", pending)
                self._later(case_id)
            except Exception:
                log.exception("thread post for case %s failed unexpectedly", case_id)
                self._later(case_id)

    def _later(self, case_id: int) -> None:
        self._not_before[case_id] = time.monotonic() + self._retry

    async def _drain_case(self, case_id: int) -> None:
        data = await self._cases.alert_data(case_id)
        if data is None:
            return  # erased or purged: its items went with it
        case = data.case
        if case.alert_channel_id is None or case.alert_message_id is None:
            self._later(case_id)  # the alert is not posted yet; its thread follows it
            return
        items = await self._store.read(lambda tx: tx.relay.feed_for_case(case_id, self._batch))
        if not items:
            return
        if data.settings.alert_channel_id is not None:
            where = await self._poster.route(case.guild_id, data.settings, case.target_id)
            if where.withheld:
                # The target reads every place Vigil could post (the case is about the owner):
                # the reporters' questions and answers stay in the case's record (`/reports
                # case`, the dashboard), never under its alert.
                await self._done(*(item.id for item in items))
                return
            if where.channel_id != case.alert_channel_id:
                # The reported member can read where the alert (and its thread) is: nothing
                # more goes there. The outbox moves the alert first.
                await self._cases.request_redraw(case_id)
                self._later(case_id)
                return
        thread = await self.ensure_thread(case_id, data)
        locale = self._locale(data)
        if thread is None:  # events stay with the case, as before threads: dropped at once
            events = [item.id for item in items if item.event_id is not None]
            if events:
                await self._done(*events)
            items = [item for item in items if item.relay_id is not None]
        if not items:
            return
        for item in items:
            post = await self._load(item, data, locale)
            while post is not None:
                if thread is not None:
                    channel_id, reply_to = thread, None
                elif post.kind.is_relay:
                    channel_id, reply_to = case.alert_channel_id, case.alert_message_id
                else:
                    break  # no thread: events stay with the case, as before threads
                try:
                    message_id = await self._poster.post(
                        channel_id, reply_to, post, feed_nonce(item.id)
                    )
                except DeliveryFailed as failure:
                    if thread is None or not failure.message_gone:
                        raise
                    log.warning("the thread of case %s was deleted", case_id)
                    await self._cases.thread_gone(case_id, thread)
                    thread = None
                    continue
                if item.relay_id is not None:
                    await self._posted(item.relay_id, channel_id, message_id)
                break
            await self._done(item.id)
        if len(items) >= self._batch:
            self.wake()

    async def _load(self, item: FeedItem, data: AlertData, locale: str) -> FeedPost | None:
        async def load(tx: UnitOfWork) -> FeedPost | None:
            return await _post_for(tx, item, data, locale)

        return await self._store.read(load)

    async def _posted(self, relay_id: int, channel_id: int, message_id: int) -> None:
        async def record(tx: UnitOfWork) -> None:
            await tx.relay.mark_posted(relay_id, channel_id, message_id)

        await self._store.write(record)

    async def _done(self, *feed_ids: int) -> None:
        async def done(tx: UnitOfWork) -> None:
            for feed_id in feed_ids:
                await tx.relay.feed_done(feed_id)

        await self._store.write(done)


async def _post_for(
    tx: UnitOfWork, item: FeedItem, data: AlertData, locale: str
) -> FeedPost | None:
    """What an item shows; None when what it names is gone (then it is dropped)."""
    number = data.case.number
    if item.event_id is not None:
        event = await tx.cases.event(item.event_id)
        if event is None:
            return None
        if event.action is CaseAction.NOTE:
            return FeedPost(FeedKind.NOTE, number, locale, actor_id=event.actor_id, text=event.note)
        return FeedPost(FeedKind.EVENT, number, locale, actor_id=event.actor_id, event=event)
    if item.relay_id is None:
        return None
    message = await tx.relay.get(item.relay_id)
    if message is None:
        return None
    reporter = reporter_number(data.reports, message.reporter_id)
    if reporter is None:
        return None  # their reports were erased: their messages went with them
    return FeedPost(
        _RELAY_KINDS[message.kind],
        number,
        locale,
        actor_id=message.author_id if message.kind is RelayKind.QUESTION else None,
        reporter_number=reporter,
        text=message.text,
        delivery=message.state if message.kind is RelayKind.QUESTION else None,
    )
