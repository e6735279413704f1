"""Alert delivery: one post per case, edits afterwards, retries that never duplicate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

import ui.alert_view
from core.i18n import tr
from core.models import CaseAction, GuildSettings
from core.outbox import (
    AlertDispatcher,
    AlertMessage,
    DeliveryFailed,
    Destination,
    UrgentPing,
    alert_nonce,
    ping_nonce,
)
from core.policy import RateLimit
from core.reasons import Reason
from core.retention import RetentionService
from core.service import CaseService, ReportService
from storage.sqlite import SqliteStore
from tests.helpers import GUILD, OTHER_GUILD, clock, submission, user
from ui.alert_view import AlertContent, render_message, render_ping

CHANNEL = 777


@dataclass
class FakePoster:
    fail_next: list[DeliveryFailed] = field(default_factory=list)
    posts: list[tuple[int, str, AlertContent]] = field(default_factory=list)
    edits: list[tuple[int, int, AlertContent]] = field(default_factory=list)
    pings: list[tuple[int, int, int | None, str, str]] = field(default_factory=list)
    deleted: list[tuple[int, int]] = field(default_factory=list)
    next_id: int = 1000
    broken_channels: set[int] = field(default_factory=set)  # every request there: 403
    attempts: int = 0
    lose_answer: bool = False  # the POST lands, then the answer is lost (a crash, a timeout)
    in_channel: dict[int, int] = field(default_factory=dict)  # case ID -> message ID
    posted_in: dict[int, int] = field(default_factory=dict)  # case ID -> its channel
    reroute_to: int | None = None  # the target can read the alert channel: go there

    async def post(self, channel_id: int, alert: AlertMessage, nonce: str) -> int:
        content = render_message(alert)
        self.attempts += 1
        if channel_id in self.broken_channels:
            raise DeliveryFailed("missing_permission", admins_must_fix=True)
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.next_id += 1
        self.posts.append((channel_id, nonce, content))
        self.in_channel[content.case_id] = self.next_id
        self.posted_in[content.case_id] = channel_id
        if self.lose_answer:
            raise DeliveryFailed("network:TimeoutError")
        return self.next_id

    async def edit(self, channel_id: int, message_id: int, alert: AlertMessage) -> None:
        content = render_message(alert)
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.edits.append((channel_id, message_id, content))

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        assert settings.alert_channel_id is not None
        if self.reroute_to is not None:
            return Destination(self.reroute_to, rerouted="owner_dm")
        return Destination(settings.alert_channel_id)

    async def find_posted(self, channel_id: int, case_id: int, nonce: str) -> int | None:
        if self.posted_in.get(case_id, channel_id) != channel_id:
            return None  # its newest alert is in another channel
        return self.in_channel.get(case_id)

    async def ping(self, channel_id: int, message_id: int, ping: UrgentPing, nonce: str) -> None:
        self.pings.append((channel_id, message_id, ping.role_id, render_ping(ping), nonce))

    async def delete(self, channel_id: int, message_id: int) -> None:
        self.deleted.append((channel_id, message_id))


async def setup(
    store: SqliteStore, poster: FakePoster, configured: bool = True, edit_interval: float = 0.0
):
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(
        store, cases, poster, base_delay=0.0, max_delay=0.0, edit_interval=edit_interval
    )
    reports = ReportService(store, c, RateLimit(), on_alert_change=dispatcher.wake)
    if configured:
        settings = GuildSettings(GUILD, alert_channel_id=CHANNEL)
        await store.write(lambda tx: tx.settings.save(settings, c.now()))
    return reports, dispatcher


async def test_one_post_then_edits(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.edits == []
    assert poster.posts[0][1] == alert_nonce(outcome.case_id)
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and len(poster.edits) == 1
    assert poster.edits[0][1] == 1001
    assert await store.read(lambda tx: tx.cases.with_pending_alerts(10)) == []


async def test_failed_posts_are_retried_without_duplicates(store):
    poster = FakePoster(fail_next=[DeliveryFailed("500"), DeliveryFailed("403")])
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.SELF_HARM))
    await dispatcher.drain_once()
    assert poster.posts == [] and "403" not in dispatcher.problems().values()
    await dispatcher.drain_once()
    assert dispatcher.problems()  # the admin can see why
    await dispatcher.drain_once()
    assert len(poster.posts) == 1
    assert dispatcher.problems() == {}
    await dispatcher.drain_once()
    assert len(poster.posts) == 1


async def test_deleted_alert_is_posted_again(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.VIOLENT_THREAT))
    await dispatcher.drain_once()
    poster.fail_next.append(DeliveryFailed("gone", message_gone=True))
    await reports.submit(submission(2, reason=Reason.VIOLENT_THREAT))
    await dispatcher.drain_once()
    assert len(poster.posts) == 2 and poster.posts[1][1] != poster.posts[0][1]


async def test_alert_waits_for_setup(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster, configured=False)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert poster.posts == []
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.posts[0][0] == CHANNEL


async def test_edits_are_coalesced_but_first_posts_are_not(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster, edit_interval=60.0)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    for n in (2, 3, 4):
        await reports.submit(submission(n, reason=Reason.CHILD_SAFETY))
        delay = await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.edits == []  # edits wait for the interval
    assert 0 < delay <= 60.0
    await reports.submit(submission(5, target=77, reason=Reason.SELF_HARM))
    await dispatcher.drain_once()
    assert len(poster.posts) == 2  # a new case's alert goes out at once


async def test_an_edit_left_out_just_before_it_fell_due_is_not_put_to_sleep(store, monkeypatch):
    """A pass leaves out a case whose edit interval ends a moment later (the loop's timer may
    fire that early); by the pass's end it is due: the next pass must come at once, not after
    the idle sleep (a check-in's redraw waited 30 s in the end-to-end suite)."""
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster, edit_interval=1.0)
    outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()  # first post; the next edit waits for the interval
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    due_at = dispatcher._not_before[outcome.case_id]
    clock_reads = iter([due_at - 0.001, due_at + 0.001, due_at + 0.002])

    class Monotonic:
        @staticmethod
        def monotonic() -> float:
            return next(clock_reads, due_at + 0.003)

    monkeypatch.setattr("core.outbox.time", Monotonic)
    delay = await dispatcher.drain_once()
    assert poster.edits == []  # left out: not due when the pass began
    assert delay == 0.0
    await dispatcher.drain_once()  # the pass that follows at once (the clock past due)
    assert len(poster.edits) == 1


OTHER_CHANNEL = 888


async def test_a_failing_guild_never_delays_another_guilds_alert(store):
    """60 urgent alerts of a guild whose channel refuses Vigil, then one of another guild: the
    other guild's alert goes out in the first pass, and nothing spins."""
    poster = FakePoster(broken_channels={CHANNEL})
    c = clock()
    cases = CaseService(store, c)
    # Retries wait a minute: long enough that none falls due while a loaded machine runs the
    # test (a due retry would count as a second attempt below).
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=60.0, max_delay=120.0)
    reports = ReportService(store, c, RateLimit(max_reports=1000))
    for guild, channel in ((GUILD, CHANNEL), (OTHER_GUILD, OTHER_CHANNEL)):
        settings = GuildSettings(guild, alert_channel_id=channel)
        await store.write(lambda tx, s=settings: tx.settings.save(s, c.now()))
    for target in range(1, 61):
        await reports.submit(submission(1, target=1000 + target, reason=Reason.CHILD_SAFETY))
    await reports.submit(submission(2, target=5000, reason=Reason.HARASSMENT, guild=OTHER_GUILD))
    await store.write(  # the other guild's alert is not even urgent; it still goes first
        lambda tx: tx.settings.save(
            GuildSettings(OTHER_GUILD, alert_channel_id=OTHER_CHANNEL, threshold=1), c.now()
        )
    )
    await reports.submit(submission(3, target=5000, reason=Reason.HARASSMENT, guild=OTHER_GUILD))
    delay = await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [OTHER_CHANNEL]
    passes = 1
    while delay == 0:  # a full batch made progress: the rest is read at once
        delay = await dispatcher.drain_once()
        passes += 1
        assert passes <= 3, "the outbox spins"
    # No busy loop: the next wake-up is the earliest retry, and passes before it do nothing.
    assert 0 < delay <= 120
    assert poster.attempts == 61  # each alert tried once
    tried = poster.attempts
    for _ in range(5):
        await dispatcher.drain_once()
    assert poster.attempts == tried
    problems = await cases.delivery_problems(GUILD)
    assert problems == [(GUILD, "missing_permission")]
    assert await cases.delivery_problems(OTHER_GUILD) == []


async def test_a_case_that_raises_is_skipped_not_the_pass(store, monkeypatch):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    bad = await reports.submit(submission(1, target=70, reason=Reason.CHILD_SAFETY))
    await reports.submit(submission(2, target=71, reason=Reason.CHILD_SAFETY))
    real = ui.alert_view.render_alert

    def render(data, locale=None):
        if data.case.id == bad.case_id:
            raise ValueError("a rendering bug")
        return real(data, locale)

    monkeypatch.setattr(ui.alert_view, "render_alert", render)
    await dispatcher.drain_once()
    assert [p[2].case_id for p in poster.posts] != [] and bad.case_id not in {
        p[2].case_id for p in poster.posts
    }
    assert len(poster.posts) == 1


async def test_upgrade_to_urgent_posts_one_notifying_reply(store):
    poster = FakePoster()
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(
        store, cases, poster, base_delay=0.0, max_delay=0.0, edit_interval=0.0
    )
    reports = ReportService(store, c, RateLimit(max_reports=100))
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, mod_role_id=4242)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    for n in (1, 2, 3):
        outcome = await reports.submit(submission(n, reason=Reason.HARASSMENT))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.pings == []
    await reports.submit(submission(4, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.pings) == 1
    channel, message, role, text, nonce = poster.pings[0]
    assert (channel, message, role) == (CHANNEL, 1001, 4242)
    assert text.startswith("<@&4242> ") and nonce == ping_nonce(outcome.case_id, 1)
    await reports.submit(submission(5, reason=Reason.SELF_HARM))  # already urgent
    await dispatcher.drain_once()
    assert len(poster.pings) == 1 and len(poster.posts) == 1


async def test_a_button_redraw_does_not_swallow_an_owed_ping(store):
    poster = FakePoster()
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=0.0, edit_interval=0.0)
    reports = ReportService(store, c, RateLimit(max_reports=100))
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, mod_role_id=4242, threshold=1)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    opened = await reports.submit(submission(1, reason=Reason.HARASSMENT))
    await dispatcher.drain_once()
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    case = await store.read(lambda tx: tx.cases.get(opened.case_id))
    # A moderator's button redraws the alert first (its response edits the message).
    await cases.mark_alert_rendered(case.id, case.alert_revision, CHANNEL, 1001)
    await dispatcher.drain_once()
    assert len(poster.pings) == 1


async def test_first_alert_urgent_needs_no_extra_ping(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and poster.pings == []


async def test_a_post_whose_answer_was_lost_is_adopted_after_a_restart(store):
    """The POST reached Discord but the message ID never got stored: the next process finds
    the alert in the channel instead of posting it a second time."""
    poster = FakePoster(lose_answer=True)
    reports, dispatcher = await setup(store, poster)
    outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1
    poster.lose_answer = False
    c = clock()
    restarted = AlertDispatcher(store, CaseService(store, c), poster, base_delay=0.0)
    await restarted.drain_once()
    assert len(poster.posts) == 1
    case = await store.read(lambda tx: tx.cases.get(outcome.case_id))
    assert case.alert_message_id == 1001 and case.alert_posted_revision == case.alert_revision


async def test_a_post_whose_answer_was_lost_is_deleted_if_the_case_is_erased_first(store):
    """The POST reached Discord, the process died before storing the message ID, and the case
    was erased before any process read it again: the erasure queues a search of the channel
    for the case's alert (found by its nonce or buttons), and the outbox deletes it."""
    poster = FakePoster(lose_answer=True)
    reports, dispatcher = await setup(store, poster)
    outcome = await reports.submit(submission(1, target=7, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert len(poster.posts) == 1 and outcome.case_id is not None
    posted = poster.in_channel[outcome.case_id]
    c = clock()
    await RetentionService(store, c).forget(GUILD, user(7).id, actor_id=5)
    restarted = AlertDispatcher(store, CaseService(store, c), poster, base_delay=0.0)
    await restarted.drain_once()
    assert await restarted.clean_up_purged() == 1
    assert poster.deleted == [(CHANNEL, posted)]
    assert await store.read(lambda tx: tx.guild_data.pending_cleanup(10)) == []
    assert len(poster.posts) == 1


async def test_alerts_use_the_stored_server_language_in_any_process(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)  # locale_for: this process sees no guild
    await store.write(lambda tx: tx.settings.note_locale(GUILD, "de", clock().now()))
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert poster.posts[0][2].footer == tr("alert.footer", "de", number=1)
    assert poster.posts[0][2].footer != tr("alert.footer", "en", number=1)


async def test_purged_case_alert_is_deleted_durably(store):
    poster = FakePoster()
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=0.0)
    reports = ReportService(store, c, RateLimit())
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    opened = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    c.advance(timedelta(days=181))
    await RetentionService(store, c).sweep()
    # Crash here: the purge is committed, the message not deleted yet. Another process
    # (or the next start) finds what is left to delete.
    poster.fail_next.append(DeliveryFailed("http:503"))
    original_delete = poster.delete

    async def failing_once(channel_id: int, message_id: int) -> None:
        if poster.fail_next:
            raise poster.fail_next.pop(0)
        await original_delete(channel_id, message_id)

    poster.delete = failing_once  # type: ignore[method-assign]
    assert await dispatcher.clean_up_purged() == 0
    later = AlertDispatcher(store, CaseService(store, c), poster)
    assert await later.clean_up_purged() == 1
    assert poster.deleted == [(CHANNEL, 1001)]
    assert await later.clean_up_purged() == 0


@pytest.mark.parametrize("holders", [2])
async def test_feedback_dm_is_claimed_by_one_process(store, holders):
    c = clock()
    reports = ReportService(store, c, RateLimit())
    cases = CaseService(store, c)
    opened = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    (pair,) = await cases.pending_feedback(10)
    claims = [await CaseService(store, c).claim_feedback(*pair) for _ in range(holders)]
    assert claims == [True, False]
    assert await cases.pending_feedback(10) == []  # held: not offered to anyone else
    c.advance(timedelta(minutes=6))  # the holder crashed: the lease runs out
    assert await cases.pending_feedback(10) == [pair]
    assert await cases.claim_feedback(*pair)
    await cases.mark_feedback(*pair, "sent")
    c.advance(timedelta(minutes=6))
    assert await cases.pending_feedback(10) == []


async def test_rerouted_alert_says_why_and_leaves_the_readable_channel(store):
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    poster.reroute_to = 4444  # the reported member was given access to the alert channel
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [CHANNEL, 4444]
    assert tr("alert.rerouted_owner") in poster.posts[1][2].description
    assert poster.deleted == [(CHANNEL, 1001)]


async def test_a_move_whose_answer_was_lost_is_adopted_after_a_restart(store):
    """The alert moves (its member can read the alert channel now); the POST in the new
    channel reaches Discord but its answer is lost, and the process dies. The next process
    searches the new channel, although the stored one is still the old: no second copy
    (storms and outbox review of stop 30, finding 2)."""
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    outcome = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    poster.reroute_to, poster.lose_answer = 4444, True
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    poster.lose_answer = False
    restarted = AlertDispatcher(store, CaseService(store, clock()), poster, base_delay=0.0)
    await restarted.drain_once()
    assert [p[0] for p in poster.posts] == [CHANNEL, 4444]
    case = await store.read(lambda tx: tx.cases.get(outcome.case_id))
    assert (case.alert_channel_id, case.alert_message_id) == (4444, 1002)
    assert poster.deleted == [(CHANNEL, 1001)]


async def test_an_alert_moving_back_leaves_no_copy_behind(store):
    """Moved to the owner's DMs and then back to the alert channel (the member lost access
    again): each move removes the copy it leaves, and the move back has a nonce of its own
    (the first post's, in the same channel, could give back the deleted original)."""
    poster = FakePoster()
    reports, dispatcher = await setup(store, poster)
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    poster.reroute_to = 4444
    await reports.submit(submission(2, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    poster.reroute_to = None
    await reports.submit(submission(3, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [CHANNEL, 4444, CHANNEL]
    assert poster.deleted == [(CHANNEL, 1001), (4444, 1002)]
    assert len({p[1] for p in poster.posts}) == 3  # three nonces


async def test_reminders_are_looked_for_once_a_second_while_passes_follow_each_other(store):
    """In a storm every report that joins a case wakes the outbox: its passes follow each other
    many times a second, and due reminders (minutes apart) are not looked for at each one."""
    _reports, dispatcher = await setup(store, FakePoster())
    looks: list[int] = []

    async def look(limit: int = 20) -> int:
        looks.append(limit)
        return 0

    dispatcher.send_reminders = look  # type: ignore[method-assign]
    running = asyncio.create_task(dispatcher.run())
    for _ in range(20):
        dispatcher.wake()
        await asyncio.sleep(0.01)
    dispatcher.stop()
    await running
    assert len(looks) == 1


@dataclass
class SlowPoster(FakePoster):
    """Posts into `slow_channel` hang until `go` is set (Discord answering 429 or 502 there,
    discord.py retrying inside the call); `started`: the channels of the POSTs begun."""

    slow_channel: int = CHANNEL
    go: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[int] = field(default_factory=list)

    async def post(self, channel_id: int, alert: AlertMessage, nonce: str) -> int:
        self.started.append(channel_id)
        if channel_id == self.slow_channel:
            await self.go.wait()
        return await super().post(channel_id, alert, nonce)


async def _two_guilds(store, poster: FakePoster, **options):
    c = clock()
    cases = CaseService(store, c)
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=0.0, max_delay=0.0, **options)
    reports = ReportService(store, c, RateLimit(max_reports=1000))
    for guild, channel in ((GUILD, CHANNEL), (OTHER_GUILD, OTHER_CHANNEL)):
        settings = GuildSettings(guild, alert_channel_id=channel)
        await store.write(lambda tx, s=settings: tx.settings.save(s, c.now()))
    return reports, dispatcher


async def test_a_slow_guild_holds_only_its_own_place(store):
    """A guild whose POST hangs (finding 4: a 429 or 502 for ever, retried inside discord.py)
    never holds up another guild's alert: the pass leaves it running; while it runs, no second
    delivery of that guild starts; when it ends, the loop is woken and the rest goes out."""
    poster = SlowPoster()
    reports, dispatcher = await _two_guilds(store, poster, pass_wait=0.05)
    async with _released(poster, dispatcher):
        await _slow_guild_holds_only_its_own_place(reports, dispatcher, poster)


@contextlib.asynccontextmanager
async def _released(poster: SlowPoster, dispatcher: AlertDispatcher) -> AsyncIterator[None]:
    """A failed assertion must not leave a hung delivery holding a database connection."""
    try:
        yield
    finally:
        poster.go.set()
        dispatcher.stop()
        await dispatcher.settle(5.0)


async def _until(condition: Callable[[], object], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _slow_guild_holds_only_its_own_place(
    reports: ReportService, dispatcher: AlertDispatcher, poster: SlowPoster
) -> None:
    await reports.submit(submission(1, target=101, reason=Reason.CHILD_SAFETY))
    await dispatcher.drain_once()  # Harbour's POST hangs; the pass returns all the same
    await _until(lambda: poster.started, "Harbour's POST")
    await reports.submit(submission(2, target=102, reason=Reason.CHILD_SAFETY))  # Harbour again
    await reports.submit(submission(3, target=5000, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD))
    await dispatcher.drain_once()
    await _until(lambda: poster.posts, "Lighthouse's alert")
    assert [p[0] for p in poster.posts] == [OTHER_CHANNEL]  # delivered while Harbour hangs
    assert poster.started == [CHANNEL, OTHER_CHANNEL]  # one delivery of Harbour at a time
    # Lighthouse's delivery ends (it records the post after Discord's answer); Harbour's runs on.
    await _until(lambda: list(dispatcher._in_flight) == [GUILD], "Lighthouse's delivery to end")
    poster.go.set()
    await _until(lambda: not dispatcher._in_flight, "Harbour's delivery to end")
    assert dispatcher._wake.is_set()  # the end of a delivery no pass waited for wakes the loop
    await dispatcher.drain_once()
    await _until(lambda: len(poster.posts) == 3, "Harbour's second alert")
    assert sorted(p[0] for p in poster.posts) == [CHANNEL, CHANNEL, OTHER_CHANNEL]
    assert len({p[1] for p in poster.posts}) == 3  # each case posted once


async def test_a_slow_guild_never_blocks_the_loop(store):
    """The loop itself runs on while a delivery hangs: a later alert of another guild goes
    out through `run`, not after the hung one."""
    poster = SlowPoster()
    reports, dispatcher = await _two_guilds(store, poster, pass_wait=0.05)
    async with _released(poster, dispatcher):
        await _slow_guild_never_blocks_the_loop(reports, dispatcher, poster)


async def _slow_guild_never_blocks_the_loop(
    reports: ReportService, dispatcher: AlertDispatcher, poster: SlowPoster
) -> None:
    await reports.submit(submission(1, target=101, reason=Reason.CHILD_SAFETY))
    running = asyncio.create_task(dispatcher.run())
    await _until(lambda: poster.started, "Harbour's POST")
    await reports.submit(submission(3, target=5000, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD))
    dispatcher.wake()
    await _until(lambda: poster.posts, "Lighthouse's alert")
    assert [p[0] for p in poster.posts] == [OTHER_CHANNEL] and not poster.go.is_set()
    poster.go.set()
    dispatcher.stop()
    await running
    await dispatcher.settle(5.0)
    assert sorted(p[0] for p in poster.posts) == [CHANNEL, OTHER_CHANNEL]


async def test_a_server_this_process_does_not_serve_is_left_to_its_process(store):
    """Finding 6: routing needs the server (is the reported member able to read the alert
    channel?), so a process that does not see it neither routes nor claims its alerts: the
    process that serves it delivers at once. When the server becomes available here, its
    alerts go out without waiting for the recheck."""
    poster = FakePoster()
    served: set[int] = {OTHER_GUILD}
    reports, dispatcher = await _two_guilds(store, poster, serves=served.__contains__)
    harbour = (await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))).case_id
    await reports.submit(submission(3, target=5000, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD))
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [OTHER_CHANNEL]  # Harbour's: not routed here
    async with store.claim(f"alert:{harbour}") as free:
        assert free  # not held: the serving process may take it now
    await dispatcher.drain_once()
    assert len(poster.posts) == 1  # nothing lost, nothing guessed: it waits
    served.add(GUILD)
    dispatcher.serving_changed()
    await dispatcher.drain_once()
    assert [p[0] for p in poster.posts] == [OTHER_CHANNEL, CHANNEL]
