"""Alert delivery: an outbox drained with retries, so a failed post never loses an alert.

The decision to alert is committed with the report (a case's `alert_revision` moves ahead of
`alert_posted_revision`). This loop makes Discord catch up: post once (with a nonce, so a
post interrupted by a crash is not duplicated), then edit the same message as the case grows.

Servers are delivered side by side: a pass gives each server's due cases to one task of
their own, which delivers them one after another (one case of a server at a time, its
channel's alerts in order); at most one such task per server, `max_in_flight` in all. A
server whose channel is slow or refuses (a rate limit, Discord's 5xx) holds only its own
place: a pass never waits for it longer than `pass_wait`, and other servers' alerts (and
urgent reminders, which run beside the passes) go out meanwhile.

A process delivers only the alerts of servers it serves (`serves`): routing needs the
server's members and channels (a reported moderator's alert must not reach a channel they
can read), and only the process that sees the server has them. Other servers' alerts are
left unclaimed for their process; if no live process serves a server, they wait. Its reads
keep to its own shards' servers (`scope`), so other processes' servers never fill a batch.

Messages of purged and erased cases (`alert_cleanup`) are deleted the same way: each
server's rows in a task of its own (at most `max_cleanups`), beside the passes, never in an
alert's way; a server whose deletions fail waits out its own backoff, its rows kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.followthrough import MINUTE, next_step, owner_notice_waited
from core.models import (
    AlertCleanup,
    AlertData,
    Case,
    CaseStatus,
    GuildScope,
    GuildSettings,
    ReminderKind,
)
from core.ports import Store, UnitOfWork
from core.service import CaseService

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """Discord did not take the alert. `message_gone`: the alert message was deleted."""

    def __init__(
        self,
        problem: str,
        *,
        retry_after: float | None = None,
        message_gone: bool = False,
        admins_must_fix: bool = False,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.message_gone = message_gone
        # The channel is gone or Vigil lacks a permission: retrying alone won't fix it.
        self.admins_must_fix = admins_must_fix


#: `Destination.rerouted` codes (the alert says why, ui/alert_view words them).
TO_ADMIN_CHANNEL = "admin_channel"  # the target reads the alert channel, not this one
TO_OWNER_DM = "owner_dm"  # the target reads both channels (or there is no admin channel)
#: Every place Vigil could post is read by the target: a case about the server owner, who
#: reads every channel. The alert stays in the alert channel without reporters, their words,
#: the reported messages, the signals, the actions or the notes, and no thread or reporter Q&A
#: follows it. The whole case is in `/reports case` and the dashboard, which refuse the owner.
WITHHELD = "withheld"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a case's alert goes. `rerouted`: not the whole alert in the alert channel,
    because the target can read it (TO_ADMIN_CHANNEL, TO_OWNER_DM, WITHHELD). `readers`: the
    members the alert's retaliation line would name who can read it there, so it leaves them
    out (core.signals.seen_by)."""

    channel_id: int
    rerouted: str | None = None
    readers: frozenset[int] = frozenset()

    @property
    def withheld(self) -> bool:
        return self.rerouted == WITHHELD


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What an alert must show, as plain data: the case as read, the server's language and,
    when the alert left the alert channel, why. ui/alert_view.py words and draws it."""

    data: AlertData
    locale: str
    rerouted: str | None = None
    # Members the retaliation line would name who read where it goes (Destination.readers).
    readers: frozenset[int] = frozenset()

    @property
    def case_id(self) -> int:
        return self.data.case.id


@dataclass(frozen=True, slots=True)
class UrgentPing:
    """The reminder that an alert turned urgent: ui/ words it and mentions the role."""

    number: int
    role_id: int | None
    locale: str
    reminder: int = 0  # 0: the case just turned urgent; 1..3: nobody has acted on it yet


@dataclass(frozen=True, slots=True)
class UnansweredCase:
    """An urgent case nobody acted on after every reminder: the owner (or the admin channel)
    is told its number and how long it waited, never its content."""

    guild_id: int
    case_number: int
    waited_minutes: int
    settings: GuildSettings
    locale: str


class AlertPoster(Protocol):
    async def post(self, channel_id: int, alert: AlertMessage, nonce: str) -> int:
        """Post the alert; returns the message ID."""
        ...

    async def edit(self, channel_id: int, message_id: int, alert: AlertMessage) -> None: ...

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        """The alert channel, unless the reported member can read it; with which of `named`
        (the members the retaliation line names) can read the destination."""
        ...

    async def find_posted(self, channel_id: int, case_id: int, nonce: str) -> int | None:
        """The ID of this case's alert among the channel's recent messages, if a post of an
        earlier (crashed) attempt reached Discord; None if there is none."""
        ...

    async def ping(
        self, channel_id: int, message_id: int | None, ping: UrgentPing, nonce: str
    ) -> None:
        """A new message replying to the alert (`message_id`; None: in the case's thread, no
        reply) that mentions the moderator role only: an edit's mention does not notify, a new
        message does."""
        ...

    async def delete(self, channel_id: int, message_id: int) -> None:
        """Delete a message; an already deleted message is not a failure."""
        ...

    async def clear_thread(self, thread_id: int) -> None:
        """Delete Vigil's own messages in a thread (of a purged case, or one the reported
        member may now read); a thread already gone is not a failure."""
        ...


@dataclass(slots=True)
class _Backoff:
    attempts: int = 0
    next_at: float = 0.0
    problem: str = ""


class AlertSignal:
    """Tells the dispatcher an alert changed. Services hold it before any dispatcher exists."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def connect(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __call__(self) -> None:
        for listener in list(self._listeners):
            listener()


def alert_nonce(case_id: int) -> str:
    """Stable per case, at most 25 characters, so Discord can reject a duplicate post."""
    return f"vigil-case-{case_id}"


def reminder_nonce(case_id: int, number: int) -> str:
    """One per case and reminder number, so a retried reminder is not posted twice."""
    return f"vigil-rem-{case_id}-{number}"[:25]


def ping_nonce(case_id: int, upgrade: int) -> str:
    """One per upgrade to urgent, so a retried ping is not posted twice."""
    return f"vigil-ping-{case_id}-{upgrade}"[:25]


#: Cases the outbox leaves out of one read because they wait for a retry (a bound on the SQL).
MAX_EXCLUDED = 500
#: At most this long between two looks for due reminders while passes run back to back.
REMINDER_CHECK_SECONDS = 1.0
#: A server this process does not serve: its alerts are looked at again after this long
#: (at once when a server becomes available: `serving_changed`).
UNSERVED_RECHECK_SECONDS = 5.0
#: A reminder that was not sent (Discord refused, or nobody may send it here) is left out of
#: the reads this long: it is not asked again at every pass, and never fills a read.
REMINDER_RETRY_SECONDS = 30.0
#: Rows to delete that other processes queued (their purges, erasures) are looked for this
#: often; this process's own are looked for at once (`cleanup_queued`).
CLEANUP_CHECK_SECONDS = 30.0
#: A server's cleanup takes at most this many rows per look, then gives its place up.
CLEANUP_PER_GUILD = 10


class AlertDispatcher:
    def __init__(
        self,
        store: Store,
        cases: CaseService,
        poster: AlertPoster,
        *,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        batch: int = 50,
        on_channel_problem: Callable[[int, str], Awaitable[None]] | None = None,
        on_channel_recovered: Callable[[int], Awaitable[None]] | None = None,
        edit_interval: float = 1.0,
        locale_for: Callable[[int], str | None] | None = None,
        on_pass: Callable[[], Awaitable[None]] | None = None,
        reminder_minute: timedelta = MINUTE,
        on_unanswered: Callable[[UnansweredCase], Awaitable[bool]] | None = None,
        on_delivered: Callable[[int], Awaitable[None]] | None = None,
        serves: Callable[[int], bool] | None = None,
        max_in_flight: int = 4,
        pass_wait: float | None = None,
        scope: Callable[[], GuildScope] | None = None,
        max_cleanups: int = 2,
    ) -> None:
        self._store = store
        self._cases = cases
        self._poster = poster
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._batch = batch
        self._wake = asyncio.Event()
        self._backoff: dict[int, _Backoff] = {}
        self._stopping = False
        self._on_problem = on_channel_problem
        self._on_recovered = on_channel_recovered
        self._troubled_guilds: set[int] = set()
        # At most one edit per alert per `edit_interval`: in a storm, many reports land on the
        # same case within a second, and one edit showing all of them is what moderators need
        # (and what Discord's per-channel rate limits allow). First posts are never delayed.
        self._edit_interval = edit_interval
        # Case ID -> not before this time (edits coalesced, or another process holds it).
        self._not_before: dict[int, float] = {}
        # Guild ID -> the server's Discord locale when this process sees the server (None:
        # the locale stored in its settings, so any process renders in the server's language).
        self._locale_for = locale_for or (lambda _guild_id: None)
        self._on_pass = on_pass
        self._minute = reminder_minute
        self._on_unanswered = on_unanswered
        # After an alert without a thread was delivered: its thread is started (core/case_feed).
        self._on_delivered = on_delivered
        self._next_reminder_check = 0.0  # time.monotonic()
        # Guild ID -> whether this process can route its alerts (sees the server).
        self._serves = serves or (lambda _guild_id: True)
        # The servers Discord routes to this process (its shards): what its reads keep to.
        self._scope = scope or GuildScope
        # Guild ID -> when to look again at a server this process does not serve (left out
        # of the reads until then: one entry per server, however many alerts it has).
        self._unserved: dict[int, float] = {}
        self._reminder_retry: dict[int, float] = {}  # case ID -> when its reminder may retry
        # Guild ID -> (case IDs, task): the deliveries in flight for that server, one after
        # another in one task (one task per server at most).
        # On PostgreSQL each holds a pooled connection (its claim) while Discord answers: the
        # bound stays well below the pool's size.
        self._max_in_flight = max(1, max_in_flight)
        self._in_flight: dict[int, tuple[frozenset[int], asyncio.Task[bool]]] = {}
        # Deliveries a pass stopped waiting for: their end wakes the loop.
        self._detached: set[asyncio.Task[bool]] = set()
        # How long a pass waits for the deliveries it started; None: until they end (a single
        # pass then does all it read, as tests expect; the bot sets a fraction of a second).
        self._pass_wait = pass_wait
        self._reminders: asyncio.Task[int] | None = None
        # Guild ID -> the task deleting that server's messages of purged cases (one per
        # server, `max_cleanups` in all: each holds a claim, on PostgreSQL a pooled connection,
        # while Discord answers; deletions are less urgent than alerts).
        self._max_cleanups = max(1, max_cleanups)
        self._cleaning: dict[int, asyncio.Task[int]] = {}
        # Guild ID -> its deletions' backoff: a server refusing them is not asked every pass.
        self._cleanup_backoff: dict[int, _Backoff] = {}
        self._cleanup_due = True  # what a crash or another process left is looked for first
        self._cleanup_held = False  # a look found more servers than free places
        self._next_cleanup = 0.0  # time.monotonic() of the next look, due or not

    def wake(self) -> None:
        self._wake.set()

    def serving_changed(self) -> None:
        """A server became available to this process: its waiting alerts (and messages to
        delete) are due now."""
        self._unserved.clear()
        self._cleanup_due = True
        self._wake.set()

    def cleanup_queued(self) -> None:
        """Messages to delete were queued (a purge, an erasure): looked for at the next pass."""
        self._cleanup_due = True
        self._wake.set()

    def problems(self) -> dict[int, str]:
        """Case ID -> last delivery problem seen by this process (the database has them per
        guild for `/reports config`: `CaseService.delivery_problems`)."""
        return {cid: b.problem for cid, b in self._backoff.items() if b.problem}

    async def run(self) -> None:
        """Deliver until stopped. Undelivered alerts from before a restart go out first."""
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self.drain_once()
            except Exception:
                log.exception("alert outbox pass failed; retrying")
                delay = max(self._base_delay, 1.0)
            if self._on_pass is not None:
                try:
                    await self._on_pass()
                except Exception:
                    log.exception("after-pass work of the alert outbox failed")
            if self._cleanup_due or time.monotonic() >= self._next_cleanup:
                self._plan_cleanup()
                try:
                    await self.clean_up_purged()
                except Exception:
                    log.exception("looking for messages of purged cases failed; retrying")
            # Reminders are minutes apart: in a storm, when passes follow each other many
            # times a second, looking for due ones once a second is enough (each look is a
            # read competing with the reports being stored).
            # They run beside the passes: a server slow to take its reminder delays neither
            # other servers' alerts nor the next pass.
            if time.monotonic() >= self._next_reminder_check and (
                self._reminders is None or self._reminders.done()
            ):
                self._next_reminder_check = time.monotonic() + min(
                    REMINDER_CHECK_SECONDS, self._minute.total_seconds() / 2
                )
                self._reminders = asyncio.create_task(
                    self._remind_quietly(), name="vigil-urgent-reminders"
                )
            # Due reminders are looked for at least twice a (reminder) minute.
            delay = min(delay, max(0.2, self._minute.total_seconds() / 2))
            delay = min(delay, max(0.0, self._next_cleanup - time.monotonic()))
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _remind_quietly(self) -> int:
        try:
            return await self.send_reminders()
        except Exception:
            log.exception("urgent reminders failed; retrying at the next pass")
            return 0

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def settle(self, seconds: float) -> None:
        """At shutdown: let deliveries and reminders in flight finish, for at most that many
        seconds; then they are cancelled (as by a crash: the next start resumes them, a post
        that reached Discord is found by its nonce or in the channel)."""
        tasks: set[asyncio.Task[Any]] = {task for _case, task in self._in_flight.values()}
        tasks.update(self._cleaning.values())
        if self._reminders is not None:
            tasks.add(self._reminders)
        tasks = {task for task in tasks if not task.done()}
        if not tasks:
            return
        _done, late = await asyncio.wait(tasks, timeout=seconds)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)

    def _waiting(self, now: float) -> dict[int, float]:
        """Case ID -> when it may be tried again, for cases not due yet."""
        waiting = {cid: b.next_at for cid, b in self._backoff.items() if b.next_at > now}
        for cid, at in self._not_before.items():
            if at > now:
                waiting[cid] = max(at, waiting.get(cid, 0.0))
        return waiting

    def _read_scope(self, now: float, *waiting: int) -> GuildScope:
        """What a read keeps to: this process's shards, without the servers it cannot serve
        now (the most recently found first) and those in `waiting`; MAX_EXCLUDED at most (a
        server beyond it is read, and left out again here)."""
        unserved = [g for g, at in self._unserved.items() if at > now]
        unserved.sort(key=self._unserved.__getitem__, reverse=True)
        skip = tuple(dict.fromkeys([*waiting, *unserved]))[:MAX_EXCLUDED]
        return replace(self._scope(), skip=skip)

    async def drain_once(self) -> float:
        """One pass over pending alerts. Returns how long to sleep before the next pass.

        Cases waiting for a retry, or in flight, are left out of the read, and guilds take
        turns, so one guild's failing alerts never hold up another's. Each due case of a
        server this process serves, and with no delivery in flight, starts its delivery; the
        pass waits for them at most `pass_wait` (a delivery still running then goes on alone
        and wakes the loop when it ends). A case that raises is logged and retried later.
        The sleep is until the earliest due retry (0 only after progress)."""
        now = time.monotonic()
        self._not_before = {k: v for k, v in self._not_before.items() if v > now}
        self._unserved = {k: v for k, v in self._unserved.items() if v > now}
        waiting = self._waiting(now)
        busy = {case_id for case_ids, _task in self._in_flight.values() for case_id in case_ids}
        exclude = [*busy, *sorted(waiting, key=waiting.__getitem__, reverse=True)]
        exclude = exclude[:MAX_EXCLUDED]
        scope = self._read_scope(now)
        pending = await self._store.read(
            lambda tx: tx.cases.with_pending_alerts(self._batch, exclude, scope)
        )
        lanes: dict[int, list[Case]] = {}  # guild ID -> its due cases, in the read's order
        held_back = False  # due, but its server (or every place) is busy: look again soon
        for case in pending:
            if case.id in waiting or case.id in busy:
                continue  # beyond MAX_EXCLUDED: read, but not due yet (or in flight)
            if not self._serves(case.guild_id):
                # Routing needs the server (its members and channels): left unclaimed for the
                # process that serves it, so that one delivers at once; the server stays out
                # of this process's reads until the recheck (or `serving_changed`).
                self._unserved[case.guild_id] = now + UNSERVED_RECHECK_SECONDS
                continue
            if case.guild_id in self._in_flight:
                held_back = True
                continue
            lanes.setdefault(case.guild_id, []).append(case)
        started: list[asyncio.Task[bool]] = []
        for guild_id, cases in lanes.items():
            if len(self._in_flight) >= self._max_in_flight:
                held_back = True
                break
            task = asyncio.create_task(self._lane(cases), name=f"vigil-alerts-{guild_id}")
            self._in_flight[guild_id] = (frozenset(c.id for c in cases), task)
            task.add_done_callback(functools.partial(self._landed, guild_id))
            started.append(task)
        progressed = False
        if started:
            finished, running = await asyncio.wait(started, timeout=self._pass_wait)
            self._detached.update(running)
            progressed = any(t.result() for t in finished if not t.cancelled())
            if held_back and finished:
                return 0.0  # a place freed during this pass: the held-back cases can start
        if progressed and len(pending) >= self._batch:
            return 0.0  # more may be waiting behind this batch
        # Against the pass's own `now`: a case left out of this read because it was not due
        # then stays in the answer even if it fell due since (a timer may wake the loop a
        # moment early), and its wait comes out as 0. Measured from a later clock it would
        # vanish from the answer, and its edit would sleep until something else woke the loop.
        later = [*self._waiting(now).values(), *self._unserved.values()]
        if not later:
            return 60.0
        return max(0.0, min(60.0, min(later) - time.monotonic()))

    def _landed(self, guild_id: int, task: asyncio.Task[bool]) -> None:
        """A delivery ended: its server's place is free. If no pass waits for it any more,
        the loop wakes to record its outcome's follow-up (the next edit, held-back cases)."""
        entry = self._in_flight.get(guild_id)
        if entry is not None and entry[1] is task:
            del self._in_flight[guild_id]
        if task in self._detached:
            self._detached.discard(task)
            self._wake.set()

    async def _lane(self, cases: list[Case]) -> bool:
        """One server's due cases, one after another (its channel's alerts stay in order).
        True: at least one was delivered (progress)."""
        progressed = False
        for case in cases:
            progressed = await self._attempt(case) or progressed
        return progressed

    async def _attempt(self, case: Case) -> bool:
        """One delivery of a case's alert under its claim. True: delivered (progress)."""
        try:
            async with self._store.claim(f"alert:{case.id}") as mine:
                delivered = await self._deliver(case) if mine else None
        except Exception as error:
            log.exception("alert for case %s failed unexpectedly; skipped for now", case.id)
            self._note_failure(case.id, DeliveryFailed(f"internal:{type(error).__name__}"))
            return False
        if delivered is None:  # another process is delivering it; look again soon
            self._not_before[case.id] = time.monotonic() + max(self._base_delay, 0.5)
        elif delivered:
            self._backoff.pop(case.id, None)
            if self._edit_interval > 0:
                self._not_before[case.id] = time.monotonic() + self._edit_interval
        return bool(delivered)

    async def _deliver(self, case: Case) -> bool:
        data = await self._cases.alert_data(case.id)
        if data is None or data.settings.alert_channel_id is None:
            return True
        current = data.case
        if current.alert_posted_revision >= current.alert_revision:
            return True  # delivered meanwhile (by another process) since the pending list
        locale = self._locale_for(case.guild_id) or data.settings.locale or "en"
        revision = current.alert_revision
        try:
            where = await self._poster.route(
                case.guild_id, data.settings, current.target_id, data.signals.retaliation
            )
            channel_id = where.channel_id
            content = AlertMessage(data, locale, where.rerouted, where.readers)
            message_id = current.alert_message_id
            first = message_id is None or current.alert_channel_id != channel_id
            if not first and message_id is not None:
                try:
                    await self._poster.edit(channel_id, message_id, content)
                except DeliveryFailed as failure:
                    if not failure.message_gone:
                        raise
                    gone = message_id
                    if not await self._store.write(
                        lambda tx: tx.cases.forget_alert_message(case.id, gone)
                    ):
                        return True  # erased meanwhile (its alert with it): nothing to post
                    # Re-rendered from a read after that write: never from the data read
                    # before the edit, which an erasure or a redraw may have overtaken.
                    fresh = await self._cases.alert_data(case.id)
                    if fresh is None:
                        return True
                    log.warning("alert for case %s was deleted; posting it again", case.id)
                    again = await self._poster.route(
                        case.guild_id, fresh.settings, current.target_id, fresh.signals.retaliation
                    )
                    if again.channel_id != channel_id:
                        raise DeliveryFailed("internal:moved") from failure  # routed anew next
                    content = AlertMessage(fresh, locale, again.rerouted, again.readers)
                    revision = fresh.case.alert_revision
                    message_id = await self._poster.post(
                        channel_id, content, f"{alert_nonce(case.id)}-{revision}"[:25]
                    )
            else:
                message_id = await self._first_post(current, channel_id, content)
                moved = current.alert_channel_id not in (None, channel_id)
                if moved and current.alert_message_id and current.alert_channel_id:
                    # Whichever way it moved (back to the alert channel too): one copy only.
                    await self._remove_old(current.alert_channel_id, current.alert_message_id)
                if current.alert_channel_id not in (None, channel_id):
                    await self._cases.thread_moved(current)  # the old thread stays behind
                    current = replace(current, thread_id=None)
            assert message_id is not None
            ping_sent = current.ping_sent
            if first:
                ping_sent = current.ping_wanted  # a first post's mention notifies by itself
            elif current.ping_wanted > current.ping_sent and current.urgent:
                await self._ping(
                    current,
                    channel_id,
                    message_id,
                    UrgentPing(current.number, data.settings.mod_role_id, locale),
                    ping_nonce(case.id, current.ping_wanted),
                )
                ping_sent = current.ping_wanted
        except DeliveryFailed as failure:
            self._note_failure(case.id, failure)
            await self._cases.note_delivery_problem(case.guild_id, failure.problem)
            if failure.admins_must_fix and self._on_problem is not None:
                self._troubled_guilds.add(case.guild_id)
                await self._on_problem(case.guild_id, failure.problem)
            return False
        if not await self._cases.alert_delivered(
            current, revision, channel_id, message_id, ping_sent
        ):
            # Erased (or purged) while the alert was on its way: the message was queued for
            # deletion with that finding; the cleanup deletes it beside the passes (this
            # server's task, never inline here: a refused DELETE holds no alert up).
            log.info("case %s was erased while its alert was posted; deleting it", case.id)
            self.cleanup_queued()
            return True
        if case.guild_id in self._troubled_guilds:
            self._troubled_guilds.discard(case.guild_id)
            if self._on_recovered is not None:
                await self._on_recovered(case.guild_id)
        if current.thread_id is None and self._on_delivered is not None and not where.withheld:
            try:
                await self._on_delivered(case.id)
            except Exception:
                log.exception("the thread of case %s was not started; tried again later", case.id)
        return True

    async def _ping(
        self, case: Case, channel_id: int, message_id: int, ping: UrgentPing, nonce: str
    ) -> None:
        """Into the case's thread when it has one under this alert (t15-relay), else (or if the
        thread refuses it) as a reply to the alert: a reminder is never lost to a thread."""
        thread = case.thread
        if thread is not None and channel_id == case.alert_channel_id:
            try:
                await self._poster.ping(thread, None, ping, nonce)
                return
            except DeliveryFailed as failure:
                log.warning("reminder for case %s not in its thread: %s", case.id, failure.problem)
        await self._poster.ping(channel_id, message_id, ping, nonce)

    async def _remove_old(self, channel_id: int, message_id: int) -> None:
        """The reported member can read where the alert was: it goes, now that it is
        elsewhere (best effort; a failure is logged, the new alert stands)."""
        try:
            await self._poster.delete(channel_id, message_id)
        except DeliveryFailed as failure:
            log.warning("could not remove an alert its target can read: %s", failure.problem)

    async def _first_post(self, case: Case, channel_id: int, content: AlertMessage) -> int:
        """Post a case's alert, unless an earlier attempt already did.

        Discord's nonce only deduplicates for a short while; an attempt that crashed after
        its POST reached Discord (but before the message ID was stored) left
        `alert_post_started` set, so the channel is searched before posting again. A move to
        another channel is searched too (the stored channel is still the old one until the
        new post is recorded), and carries a nonce of its own: the first post's, reused in a
        channel it once was in, could give back that old (deleted) message."""
        nonce = alert_nonce(case.id)
        if case.alert_channel_id not in (None, channel_id):
            nonce = f"{nonce}-{case.alert_revision}"[:25]
        if case.alert_post_started:
            found = await self._poster.find_posted(channel_id, case.id, nonce)
            if found is not None:
                log.info("alert for case %s was already posted; adopting it", case.id)
                await self._poster.edit(channel_id, found, content)
                return found
        if not case.alert_post_started:
            await self._cases.note_post_started(case.id)
        return await self._poster.post(channel_id, content, nonce)

    def _note_failure(self, case_id: int, failure: DeliveryFailed) -> None:
        b = self._backoff.setdefault(case_id, _Backoff())
        delay = self._back_off(b, failure)
        log.warning(
            "alert for case %s not delivered (%s); attempt %s, retrying in %.1fs",
            case_id,
            failure.problem,
            b.attempts,
            delay,
        )

    def _back_off(self, b: _Backoff, failure: DeliveryFailed) -> float:
        """One more failure: the next try waits twice as long (at most `max_delay`, at least
        Discord's retry_after). Returns the wait."""
        b.attempts += 1
        delay: float = min(self._max_delay, self._base_delay * 2.0 ** (b.attempts - 1))
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        b.next_at = time.monotonic() + delay
        b.problem = failure.problem
        return delay

    async def send_reminders(self, limit: int = 20) -> int:
        """Remind moderators of urgent cases nobody has acted on (core/followthrough.py
        decides the schedule): a reply to the alert mentioning the moderator role, then a
        notice to the owner. Claimed per case and reminder number, recorded by a
        compare-and-set, so several processes send each one once. Returns how many went."""
        now = self._cases.now()
        at = time.monotonic()
        self._reminder_retry = {k: v for k, v in self._reminder_retry.items() if v > at}
        waiting = sorted(self._reminder_retry, key=self._reminder_retry.__getitem__)
        exclude = waiting[-MAX_EXCLUDED:]  # the latest to fail: the longest to wait
        scope = self._read_scope(at)
        due = await self._store.read(lambda tx: tx.cases.due_reminders(now, limit, exclude, scope))
        by_guild: dict[int, list[Case]] = {}
        for case in due:
            by_guild.setdefault(case.guild_id, []).append(case)
        places = asyncio.Semaphore(self._max_in_flight)

        async def one_guild(cases: list[Case]) -> int:
            # Servers side by side, like alerts: one whose channel is slow delays only its own.
            async with places:
                return sum([await self._remind_one(case, now) for case in cases])

        return sum(await asyncio.gather(*(one_guild(cases) for cases in by_guild.values())))

    async def _remind_one(self, case: Case, now: datetime) -> int:
        try:
            async with self._store.claim(f"reminder:{case.id}:{case.reminders_sent + 1}") as mine:
                if mine and await self._remind(case.id, case.reminders_sent, now):
                    return 1
        except DeliveryFailed as failure:
            log.warning("reminder for case %s not sent yet: %s", case.id, failure.problem)
        except Exception:
            log.exception("reminder for case %s failed unexpectedly", case.id)
        # Not sent: left out of the next reads for a while, so it is not asked again at once
        # (and, with the servers' turns, never fills a read).
        self._reminder_retry[case.id] = time.monotonic() + REMINDER_RETRY_SECONDS
        return 0

    async def _remind(self, case_id: int, seen_sent: int, now: datetime) -> bool:
        data = await self._cases.alert_data(case_id)
        if data is None:
            return False
        case, settings = data.case, data.settings
        if (
            case.reminders_sent != seen_sent
            or case.next_reminder_at is None
            or case.next_reminder_at > now
            or case.status is not CaseStatus.OPEN
            or case.alert_channel_id is None
            or case.alert_message_id is None
        ):
            return False  # acted on, or sent by another process, since it was read
        step = next_step(
            reminders_sent=seen_sent,
            minutes=settings.urgent_reminder_minutes,
            now=now,
            minute=self._minute,
        )
        if step is None:  # reminders were turned off meanwhile
            await self._cases.record_reminder(case_id, seen_sent + 1, None)
            return False
        locale = self._locale_for(case.guild_id) or settings.locale or "en"
        if step.notify_owner:
            if self._on_unanswered is None:
                return False
            waited = owner_notice_waited(
                settings.urgent_reminder_minutes, case.next_reminder_at, now, self._minute
            )
            notice = UnansweredCase(case.guild_id, case.number, waited, settings, locale)
            if not await self._on_unanswered(notice):
                return False  # not this process's server, or not delivered: retried
            kind = ReminderKind.OWNER
        else:
            await self._ping(
                case,
                case.alert_channel_id,
                case.alert_message_id,
                UrgentPing(case.number, settings.mod_role_id, locale, reminder=step.number),
                reminder_nonce(case_id, step.number),
            )
            kind = ReminderKind.REMINDER
        return await self._cases.record_reminder(case_id, step.number, step.next_at, kind)

    async def clean_up_purged(self, limit: int = 50) -> int:
        """Delete the messages of purged and erased cases (queued in `alert_cleanup` with the
        purge): one read, then each due server's rows in a task of its own, as alerts are
        delivered, so a server whose deletions hang or fail holds only its own place, never
        the loop nor an alert. Waits for those tasks at most `pass_wait` (one still running
        goes on alone). Returns how many rows the tasks that ended handled."""
        now = time.monotonic()
        resting = [g for g, b in self._cleanup_backoff.items() if b.next_at > now]
        # Servers Vigil left too: no process serves them, their shard's process deletes.
        scope = replace(self._read_scope(now, *self._cleaning, *resting), departed=True)
        rows = await self._store.read(lambda tx: tx.guild_data.pending_cleanup(limit, scope))
        started: list[asyncio.Task[int]] = []
        for guild_id, items in self._cleanup_turns(rows, now):
            task = self._start_cleanup(guild_id, items)
            if task is not None:
                started.append(task)
        if not started:
            return 0
        finished, _running = await asyncio.wait(started, timeout=self._pass_wait)
        return sum(t.result() for t in finished if not t.cancelled())

    def _plan_cleanup(self) -> None:
        """The loop looks now; the next look is for other processes' rows, or when a
        server's backoff ends, whichever comes first (or when told: `cleanup_queued`)."""
        now = time.monotonic()
        self._cleanup_due = False
        ends = [b.next_at for b in self._cleanup_backoff.values() if b.next_at > now]
        self._next_cleanup = min([now + CLEANUP_CHECK_SECONDS, *ends])

    def _cleanup_turns(
        self, rows: list[AlertCleanup], now: float
    ) -> list[tuple[int, list[AlertCleanup]]]:
        """The read's rows per server this process serves and may clean up now (not already
        cleaning, not waiting out a backoff), CLEANUP_PER_GUILD each, in the read's order."""
        turns: dict[int, list[AlertCleanup]] = {}
        for item in rows:
            guild_id = item.guild_id
            backoff = self._cleanup_backoff.get(guild_id)
            if guild_id in self._cleaning or (backoff is not None and backoff.next_at > now):
                continue  # beyond MAX_EXCLUDED: read, but not its turn
            if not self._serves(guild_id) and not item.departed:
                # Only the process that serves a server deletes its messages (it may be the
                # only one that can see the channel): left for it, as its alerts are.
                self._unserved[guild_id] = now + UNSERVED_RECHECK_SECONDS
                continue
            turn = turns.setdefault(guild_id, [])
            if len(turn) < CLEANUP_PER_GUILD:
                turn.append(item)
        return list(turns.items())

    def _start_cleanup(self, guild_id: int, items: list[AlertCleanup]) -> asyncio.Task[int] | None:
        """A server's cleanup task, if a place is free (else it waits for one: when a task
        ends, the next pass looks again)."""
        if len(self._cleaning) >= self._max_cleanups:
            self._cleanup_held = True
            return None
        task = asyncio.create_task(
            self._clean_guild(guild_id, items), name=f"vigil-cleanup-{guild_id}"
        )
        self._cleaning[guild_id] = task
        task.add_done_callback(functools.partial(self._cleaned, guild_id))
        return task

    def _cleaned(self, guild_id: int, task: asyncio.Task[int]) -> None:
        """A server's cleanup ended: its place is free. If it deleted something (more may be
        queued) or a server waited for a place, the next pass looks again."""
        if self._cleaning.get(guild_id) is task:
            del self._cleaning[guild_id]
        progressed = not task.cancelled() and task.result() > 0
        if progressed or self._cleanup_held:
            self._cleanup_held = False
            self.cleanup_queued()

    async def _clean_guild(self, guild_id: int, items: list[AlertCleanup]) -> int:
        """One server's rows, one after another. The first failure ends its turn: its rows
        stay (for a restart too) and wait out the server's backoff, so a server refusing
        deletions is not asked again at every pass. Returns how many rows were done."""
        done = 0
        for item in items:
            try:
                done += await self._clean_one(item)
            except DeliveryFailed as failure:
                self._cleanup_failed(guild_id, failure)
                return done
            except Exception as error:
                log.exception("deleting a purged case's message in guild %s failed", guild_id)
                self._cleanup_failed(guild_id, DeliveryFailed(f"internal:{type(error).__name__}"))
                return done
        self._cleanup_backoff.pop(guild_id, None)
        return done

    async def _clean_one(self, item: AlertCleanup) -> bool:
        """One row, under its claim: its message (or the thread's, or the searched-for
        alert) deleted, then the row. False: another process holds it or has done it (the
        row is read again under the claim: a read from before that process's work would
        delete twice). Raises DeliveryFailed when Discord refused: the row stays."""
        async with self._store.claim(f"cleanup:{item.id}") as mine:
            if not mine:
                return False
            if not await self._store.read(lambda tx: tx.guild_data.cleanup_pending(item.id)):
                return False
            try:
                await self._delete_for(item)
            except DeliveryFailed as failure:
                if not failure.admins_must_fix:
                    raise
                # The channel is gone or closed to Vigil: nothing left that it can delete.
            await self._store.write(_cleanup_done(item.id))
        return True

    async def _delete_for(self, item: AlertCleanup) -> None:
        if item.thread:
            await self._poster.clear_thread(item.channel_id)
        elif item.search:  # message_id is the case's ID: its alert, if posted
            case_id = item.message_id
            found = await self._poster.find_posted(item.channel_id, case_id, alert_nonce(case_id))
            if found is not None:
                await self._poster.delete(item.channel_id, found)
        else:
            await self._poster.delete(item.channel_id, item.message_id)

    def _cleanup_failed(self, guild_id: int, failure: DeliveryFailed) -> None:
        b = self._cleanup_backoff.setdefault(guild_id, _Backoff())
        delay = self._back_off(b, failure)
        self._next_cleanup = min(self._next_cleanup, b.next_at)
        log.warning(
            "messages of purged cases in guild %s not deleted yet (%s); retrying in %.1fs",
            guild_id,
            failure.problem,
            delay,
        )


def _cleanup_done(cleanup_id: int) -> Callable[[UnitOfWork], Coroutine[Any, Any, None]]:
    async def done(tx: UnitOfWork) -> None:
        await tx.guild_data.cleanup_done(cleanup_id)

    return done
