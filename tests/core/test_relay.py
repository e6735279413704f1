"""The relay and the case feed (t15-relay) on both backends, with a fake clock and a fake
Discord: numbering, the rules a question must pass, one answer per question, limits that hold
between processes, details joining a case, and the thread: started once (adopted after a
crash), events dropped without one, answers under the alert, a deleted thread, a moved alert."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from core.case_feed import CaseFeed, FeedKind, FeedPost, ThreadPending, ThreadRefused
from core.models import CaseAction, DeliveryState, GuildSettings
from core.outbox import AlertDispatcher, DeliveryFailed, Destination
from core.policy import RateLimit
from core.reasons import Reason
from core.relay import (
    QUESTIONS_PER_HOUR,
    UNCONFIRMED_AFTER,
    RelayRefusal,
    RelayRefused,
    RelayService,
    ReporterTurn,
    reporter_number,
    reporter_order,
    reporter_reason,
)
from core.retention import RetentionService
from core.service import CaseActionRefused, CaseService, OwnCaseRefused, ReportService
from tests.core.test_outbox import CHANNEL, FakePoster
from tests.helpers import GUILD, OTHER_GUILD, clock, count_rows, scalar, submission, user

MOD = 5151
THREAD_MESSAGE = 1001  # FakePoster's first alert message ID


@dataclass
class FakeThreads:
    """Discord's side of the case thread, as core/case_feed.py sees it."""

    allowed: bool | None = True
    started: list[int] = field(default_factory=list)  # message IDs a thread was started under
    exists: set[int] = field(default_factory=set)  # messages that have a thread
    gone: set[int] = field(default_factory=set)  # threads deleted
    posts: list[tuple[int, int | None, FeedPost, str]] = field(default_factory=list)
    route_to: int | None = None
    slow: float = 0.0

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        assert settings.alert_channel_id is not None
        return Destination(self.route_to or settings.alert_channel_id)

    async def may_start_thread(self, guild_id: int, channel_id: int) -> bool | None:
        return self.allowed

    async def start_thread(
        self, channel_id: int, message_id: int, case_number: int, locale: str
    ) -> int:
        if self.allowed is False:
            raise ThreadRefused("50013")
        await asyncio.sleep(self.slow)
        self.started.append(message_id)
        self.exists.add(message_id)  # Discord: a message's thread has the message's ID
        return message_id

    async def post(self, channel_id: int, reply_to: int | None, post: FeedPost, nonce: str) -> int:
        if channel_id in self.gone:
            raise DeliveryFailed("thread_gone", message_gone=True)
        self.posts.append((channel_id, reply_to, post, nonce))
        return 9000 + len(self.posts)


async def _case(store, *reporters: int, reason: Reason = Reason.HARASSMENT, threshold: int = 2):
    c = clock()
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, threshold=threshold)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    reports = ReportService(store, c, RateLimit(max_reports=100))
    case_id = None
    for reporter in reporters:
        outcome = await reports.submit(submission(reporter, reason=reason))
        case_id = outcome.case_id or case_id
    return c, reports, CaseService(store, c), RelayService(store, c), case_id


async def _posted(store, cases: CaseService) -> None:
    """The alert outbox posts the pending alerts (FakePoster)."""
    await AlertDispatcher(store, cases, FakePoster(), base_delay=0.0).drain_once()


def test_reporters_are_numbered_as_the_alert_lists_them():
    from dataclasses import replace

    from tests.core.test_case_view import LINKED

    reports = [
        replace(LINKED, id=1, reporter_id=30),
        replace(LINKED, id=2, reporter_id=10, reason=Reason.SELF_HARM),
        replace(LINKED, id=3, reporter_id=30, reason=Reason.CHILD_SAFETY),
    ]
    assert reporter_order(reports) == [30, 10]
    assert reporter_number(reports, 10) == 2 and reporter_number(reports, 99) is None
    assert reporter_reason(reports, 30) is Reason.CHILD_SAFETY  # the most critical first
    assert reporter_reason(reports, 99) is Reason.OTHER


async def test_a_question_goes_to_the_numbered_reporter(store):
    _, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, user(99).id, MOD, 2, "  Where?  ")
    assert not isinstance(question, RelayRefused)
    assert (question.reporter_id, question.number, question.text) == (user(2).id, 2, "Where?")
    assert question.case_number == 1 and question.target_name == "user99"
    # Stored before it is sent; queued for the thread only once its delivery is known.
    assert await scalar(store, "SELECT state FROM relay_messages") == "sending"
    assert await count_rows(store, "case_feed") == 0
    await relay.question_sent(question, DeliveryState.SENT, 5, 6)
    assert await scalar(store, "SELECT dm_message_id FROM relay_messages") == 6
    assert await count_rows(store, "case_feed") == 1


async def test_a_question_its_process_left_unconfirmed_is_settled_once_never_sent_again(store):
    """A process stored two questions and died before confirming their DMs: one reached its
    reporter (found in their DM channel), one never left. After UNCONFIRMED_AFTER, two
    processes look at once: each question is settled once, queued once for the thread, and
    the one not found is FAILED (not counted, so it may be asked again), never re-sent."""
    c, _, _, relay, case_id = await _case(store, 1, 2)
    went = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    lost = await relay.ask(GUILD, case_id, None, MOD, 2, "When?")
    assert not isinstance(went, RelayRefused) and not isinstance(lost, RelayRefused)
    looked: list[int] = []

    async def find_dm(question):
        looked.append(question.id)
        await asyncio.sleep(0)
        return (70, 71) if question.id == went.id else None

    # Too recent: its own process may still be sending it.
    c.advance(UNCONFIRMED_AFTER - timedelta(seconds=1))
    assert await relay.settle_unconfirmed(UNCONFIRMED_AFTER, find_dm) == []
    assert looked == []
    c.advance(timedelta(seconds=2))
    other = RelayService(store, c)  # a second process on the same database
    outcomes = await asyncio.gather(
        relay.settle_unconfirmed(UNCONFIRMED_AFTER, find_dm),
        other.settle_unconfirmed(UNCONFIRMED_AFTER, find_dm),
    )
    assert sorted(outcome for settled in outcomes for outcome in settled) == [
        (went.id, DeliveryState.SENT),
        (lost.id, DeliveryState.FAILED),
    ]
    rows = await store.read(lambda tx: tx.relay.for_case(case_id))
    assert [(r.state, r.dm_channel_id, r.dm_message_id) for r in rows] == [
        (DeliveryState.SENT, 70, 71),
        (DeliveryState.FAILED, None, None),
    ]
    assert await count_rows(store, "case_feed") == 2  # each question once, for the thread
    # A process that read the list before and claims a question after it was settled changes
    # nothing: the settling is a compare-and-set.
    late = await store.write(lambda tx: tx.relay.settle_unconfirmed(went.id, "failed", None, None))
    assert late is False
    assert (
        await scalar(store, "SELECT state FROM relay_messages WHERE id = ?", (went.id,)) == "sent"
    )
    assert await relay.settle_unconfirmed(UNCONFIRMED_AFTER, find_dm) == []  # nothing left
    # The undelivered one does not count: the moderator may ask again at once.
    again = await relay.ask(GUILD, case_id, None, MOD, 2, "When?")
    assert not isinstance(again, RelayRefused)


async def test_a_lookup_that_fails_waits_for_the_next_look_and_holds_up_no_other(store):
    c, _, _, relay, case_id = await _case(store, 1, 2)
    first = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    second = await relay.ask(GUILD, case_id, None, MOD, 2, "When?")
    assert not isinstance(first, RelayRefused) and not isinstance(second, RelayRefused)
    c.advance(UNCONFIRMED_AFTER * 2)

    async def first_unreachable(question):
        if question.id == first.id:
            raise DeliveryFailed("network:ClientConnectorError")
        return (70, 71)

    assert await relay.settle_unconfirmed(UNCONFIRMED_AFTER, first_unreachable) == [
        (second.id, DeliveryState.SENT)
    ]
    rows = await store.read(lambda tx: tx.relay.for_case(case_id))
    assert [r.state for r in rows] == [DeliveryState.SENDING, DeliveryState.SENT]
    assert await count_rows(store, "case_feed") == 1

    async def not_there(_question):
        return None

    assert await relay.settle_unconfirmed(UNCONFIRMED_AFTER, not_there) == [
        (first.id, DeliveryState.FAILED)
    ]


async def test_a_question_its_live_process_is_still_sending_is_never_judged(store):
    """Discord takes longer than UNCONFIRMED_AFTER to answer the process sending a question:
    the look leaves it alone (the sender holds its claim), and the sender's outcome is the
    one recorded, once, in the thread once."""
    c, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    assert not isinstance(question, RelayRefused)
    sending, answered = asyncio.Event(), asyncio.Event()

    async def slow_send(_question):
        sending.set()
        await answered.wait()
        return DeliveryState.SENT, 70, 71

    async def not_there(_question):
        return None

    delivery = asyncio.create_task(relay.deliver(question, slow_send))
    await sending.wait()
    c.advance(UNCONFIRMED_AFTER * 2)
    other = RelayService(store, c)  # another process looks meanwhile, on the same database
    assert await other.settle_unconfirmed(UNCONFIRMED_AFTER, not_there) == []
    assert await relay.settle_unconfirmed(UNCONFIRMED_AFTER, not_there) == []
    answered.set()
    assert await delivery == (DeliveryState.SENT, 70, 71)
    assert await scalar(store, "SELECT state FROM relay_messages") == "sent"
    assert await count_rows(store, "case_feed") == 1


async def test_a_dm_that_went_after_all_is_recorded_and_one_erased_meanwhile_is_deleted(store):
    """The sender lost its claim (a dropped database session) and the look settled its
    question as undelivered: the DM that did go is still recorded, and the thread told. A DM
    sent for a question erased meanwhile is queued for deletion from Discord."""
    c, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    erased = await relay.ask(GUILD, case_id, None, MOD, 2, "When?")
    assert not isinstance(question, RelayRefused) and not isinstance(erased, RelayRefused)
    c.advance(UNCONFIRMED_AFTER * 2)

    async def not_there(found):
        return None

    await relay.settle_unconfirmed(UNCONFIRMED_AFTER, not_there, limit=1)
    assert await scalar(store, "SELECT state FROM relay_messages WHERE id = ?", (question.id,)) == (
        "failed"
    )
    await relay.question_sent(question, DeliveryState.SENT, 70, 71)
    rows = await store.read(lambda tx: tx.relay.for_case(case_id))
    assert (rows[0].state, rows[0].dm_channel_id, rows[0].dm_message_id) == (
        DeliveryState.SENT,
        70,
        71,
    )
    assert await count_rows(store, "case_feed") == 2  # "not delivered", then the correction
    await relay.question_sent(question, DeliveryState.SENT, 70, 71)  # told again: nothing new
    assert await count_rows(store, "case_feed") == 2

    async def drop(tx):
        await tx.reports._db.execute("DELETE FROM relay_messages WHERE id = ?", (erased.id,))

    await store.write(drop)
    await relay.question_sent(erased, DeliveryState.SENT, 80, 81)
    cleanups = await store.read(lambda tx: tx.guild_data.pending_cleanup(10))
    assert [(x.guild_id, x.channel_id, x.message_id) for x in cleanups] == [(GUILD, 80, 81)]


async def test_what_a_question_must_pass(store):
    _, _, cases, relay, case_id = await _case(store, 1, 2)
    target = user(99).id
    with pytest.raises(OwnCaseRefused):  # a reported moderator never questions reporters
        await relay.ask(GUILD, case_id, target, target, 1, "Who?")
    with pytest.raises(CaseActionRefused):  # not this server's case
        await relay.ask(OTHER_GUILD, case_id, None, MOD, 1, "Who?")
    with pytest.raises(CaseActionRefused):
        await relay.ask(GUILD, 2**63 + 5, None, MOD, 1, "Who?")
    codes = [
        await relay.ask(GUILD, case_id, user(98).id, MOD, 1, "Who?"),  # an old form
        await relay.ask(GUILD, case_id, target, MOD, 3, "Who?"),  # no Reporter 3
        await relay.ask(GUILD, case_id, target, MOD, 0, "Who?"),
        await relay.ask(GUILD, case_id, target, MOD, 1, " \n "),
    ]
    assert [o.code for o in codes if isinstance(o, RelayRefused)] == [
        RelayRefusal.OUTDATED,
        RelayRefusal.NO_REPORTER,
        RelayRefusal.NO_REPORTER,
        RelayRefusal.EMPTY,
    ]
    await cases.act(GUILD, case_id, CaseAction.RESOLVE, MOD)
    closed = await relay.ask(GUILD, case_id, target, MOD, 1, "Who?")
    assert isinstance(closed, RelayRefused) and closed.code is RelayRefusal.CLOSED
    assert await count_rows(store, "relay_messages") == 0


async def test_at_most_three_questions_an_hour_undelivered_ones_not_counted(store):
    c, _, _, relay, case_id = await _case(store, 1, 2)
    closed = await relay.ask(GUILD, case_id, None, MOD, 1, "q0")
    assert not isinstance(closed, RelayRefused)
    await relay.question_sent(closed, DeliveryState.DMS_CLOSED)
    for n in range(QUESTIONS_PER_HOUR):
        c.advance(timedelta(minutes=1))
        asked = await relay.ask(GUILD, case_id, None, MOD, 1 + n % 2, f"q{n + 1}")
        assert not isinstance(asked, RelayRefused)
    refused = await relay.ask(GUILD, case_id, None, MOD, 2, "one more")
    assert isinstance(refused, RelayRefused) and refused.code is RelayRefusal.LIMIT
    assert refused.next_at is not None and refused.next_at == clock().now() + timedelta(
        hours=1, minutes=1
    )
    c.advance(timedelta(minutes=59))  # the first counted question has left the hour
    assert not isinstance(await relay.ask(GUILD, case_id, None, MOD, 2, "later"), RelayRefused)


async def test_the_hourly_limit_holds_between_processes(store):
    _, _, _, relay, case_id = await _case(store, 1, 2)
    other = RelayService(store, clock())  # a second process on the same database
    outcomes = await asyncio.gather(
        *((relay if n % 2 else other).ask(GUILD, case_id, None, MOD, 1, f"q{n}") for n in range(6))
    )
    assert sum(not isinstance(o, RelayRefused) for o in outcomes) == QUESTIONS_PER_HOUR
    assert await count_rows(store, "relay_messages") == QUESTIONS_PER_HOUR


async def test_one_answer_per_question_only_from_its_reporter(store):
    _, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, None, MOD, 2, "Where?")
    assert not isinstance(question, RelayRefused)
    stranger = await relay.answer(question.id, user(1).id, "forged")  # the other reporter
    assert isinstance(stranger, RelayRefused) and stranger.code is RelayRefusal.NOT_YOURS
    assert stranger.reason is None  # a stranger learns nothing of the case
    turn = await relay.check_question(question.id, user(2).id)
    assert isinstance(turn, ReporterTurn) and turn.question_text == "Where?"
    answers = await asyncio.gather(
        relay.answer(question.id, user(2).id, "first"),
        RelayService(store, clock()).answer(question.id, user(2).id, "second"),
    )
    assert sorted(isinstance(a, ReporterTurn) for a in answers) == [False, True]
    refused = next(a for a in answers if isinstance(a, RelayRefused))
    assert refused.code is RelayRefusal.ANSWERED and refused.reason is Reason.HARASSMENT
    assert await count_rows(store, "relay_messages") == 2
    gone = await relay.answer(99999, user(2).id, "x")
    assert isinstance(gone, RelayRefused) and gone.code is RelayRefusal.GONE


async def test_stop_messages_is_kept_and_told_once(store):
    _, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    assert not isinstance(question, RelayRefused)
    assert isinstance(await relay.stop(question.id, user(2).id), RelayRefused)  # not theirs
    for _ in range(2):
        assert isinstance(await relay.stop(question.id, user(1).id), ReporterTurn)
    stopped = await scalar(store, "SELECT COUNT(*) FROM relay_messages WHERE kind = 'stopped'")
    assert stopped == 1 and await count_rows(store, "relay_optouts") == 1
    again = await relay.ask(GUILD, case_id, None, MOD, 1, "Again?")
    assert isinstance(again, RelayRefused) and again.code is RelayRefusal.STOPPED
    assert not isinstance(await relay.ask(GUILD, case_id, None, MOD, 2, "You?"), RelayRefused)


async def test_stop_waits_for_a_question_being_decided_on_its_case(store, database_url):
    """A moderator's question is being decided on the case (its transaction holds the case's
    relay lock and has read "not stopped") when the reporter presses Stop: the stop waits
    for it, so it is never committed in between and the question stored after it
    (review of stop 30, finding 4)."""
    if "postgresql" not in database_url:
        pytest.skip("SQLite admits one writer at a time already (BEGIN IMMEDIATE)")
    import asyncpg

    from storage.leases import advisory_key

    _, _, _, relay, case_id = await _case(store, 1, 2)
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    assert not isinstance(question, RelayRefused)
    deciding = await asyncpg.connect(database_url)  # another process's `ask`, mid-way
    try:
        held = deciding.transaction()
        await held.start()
        await deciding.execute("SELECT pg_advisory_xact_lock($1)", advisory_key("relay", case_id))
        stopping = asyncio.create_task(relay.stop(question.id, user(1).id))
        await asyncio.sleep(0.3)
        assert not stopping.done()  # it waits for the question being decided
        await held.commit()
        assert isinstance(await asyncio.wait_for(stopping, 10), ReporterTurn)
    finally:
        await deciding.close()
    again = await relay.ask(GUILD, case_id, None, MOD, 1, "Again?")
    assert isinstance(again, RelayRefused) and again.code is RelayRefusal.STOPPED


async def test_details_before_a_case_join_it_when_it_opens(store):
    _, reports, _, relay, case_id = await _case(store, 1)
    assert case_id is None
    report_id = int(await scalar(store, "SELECT id FROM reports"))
    assert isinstance(await relay.check_report(report_id, user(2).id, GUILD), RelayRefused)
    assert isinstance(await relay.check_report(report_id, user(1).id, OTHER_GUILD), RelayRefused)
    for n in range(3):
        added = await relay.add_details(report_id, user(1).id, GUILD, f"more {n}")
        assert isinstance(added, ReporterTurn) and added.case_id is None
    limited = await relay.add_details(report_id, user(1).id, GUILD, "too many")
    assert isinstance(limited, RelayRefused) and limited.code is RelayRefusal.LIMIT
    assert limited.reason is Reason.HARASSMENT and limited.guild_id == GUILD  # their help
    assert await count_rows(store, "case_feed") == 0
    opened = await reports.submit(submission(2))
    assert opened.case_opened
    attached = await scalar(
        store, "SELECT COUNT(*) FROM relay_messages WHERE case_id = ?", (opened.case_id,)
    )
    assert attached == 3 and await count_rows(store, "case_feed") == 3


async def test_one_thread_even_when_two_processes_try_at_once(store):
    _, _, cases, _, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads(slow=0.05)
    one, two = CaseFeed(store, cases, threads), CaseFeed(store, cases, threads)
    got = await asyncio.gather(
        one.ensure_thread(case_id), two.ensure_thread(case_id), return_exceptions=True
    )
    assert THREAD_MESSAGE in got and threads.started == [THREAD_MESSAGE]
    assert all(g == THREAD_MESSAGE or isinstance(g, ThreadPending) for g in got)
    assert await scalar(store, "SELECT thread_id FROM cases") == THREAD_MESSAGE
    assert await one.ensure_thread(case_id) == THREAD_MESSAGE and len(threads.started) == 1


async def test_what_goes_to_the_thread_waits_while_it_is_being_started(store):
    """Another task (the outbox, another process) is starting the thread: nothing is dropped
    or posted elsewhere meanwhile."""
    _, _, cases, _, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads()
    feed = CaseFeed(store, cases, threads, retry_seconds=0.0)
    await cases.act(GUILD, case_id, CaseAction.NOTE, MOD, note="kept")
    async with store.claim(f"thread:{case_id}") as mine:
        assert mine
        await feed.drain_once()
        assert threads.posts == [] and await count_rows(store, "case_feed") == 1
    await feed.drain_once()
    assert [(c, p.kind) for c, _, p, _ in threads.posts] == [(THREAD_MESSAGE, FeedKind.NOTE)]


async def test_events_go_to_the_thread_in_order_once(store):
    _, _, cases, relay, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads()
    feeds = [CaseFeed(store, cases, threads), CaseFeed(store, cases, threads)]
    await cases.act(GUILD, case_id, CaseAction.NOTE, MOD, note="first")
    await cases.act(GUILD, case_id, CaseAction.ACKNOWLEDGE, MOD)
    question = await relay.ask(GUILD, case_id, None, MOD, 2, "Where?")
    assert not isinstance(question, RelayRefused)
    await relay.question_sent(question, DeliveryState.SENT, 1, 2)
    await relay.answer(question.id, user(2).id, "There.")
    await asyncio.gather(*(feed.drain_once() for feed in feeds))
    await asyncio.gather(*(feed.drain_once() for feed in feeds))
    kinds = [post.kind for _, _, post, _ in threads.posts]
    assert kinds == [FeedKind.NOTE, FeedKind.EVENT, FeedKind.QUESTION, FeedKind.ANSWER]
    assert {channel for channel, _, _, _ in threads.posts} == {THREAD_MESSAGE}
    assert all(reply is None for _, reply, _, _ in threads.posts)
    assert len({nonce for *_, nonce in threads.posts}) == 4
    answer = threads.posts[-1][2]
    assert answer.reporter_number == 2 and answer.actor_id is None and answer.text == "There."
    assert await count_rows(store, "case_feed") == 0
    posted = await scalar(
        store, "SELECT posted_message_id FROM relay_messages WHERE kind = 'answer'"
    )
    assert posted == 9004


async def test_without_threads_events_stay_and_answers_go_under_the_alert(store):
    _, _, cases, relay, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads(allowed=False)
    feed = CaseFeed(store, cases, threads)
    await cases.act(GUILD, case_id, CaseAction.NOTE, MOD, note="kept with the case")
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    assert not isinstance(question, RelayRefused)
    await relay.question_sent(question, DeliveryState.SENT)
    await relay.answer(question.id, user(1).id, "Here.")
    await feed.drain_once()
    assert threads.started == []
    assert [(c, r, p.kind) for c, r, p, _ in threads.posts] == [
        (CHANNEL, THREAD_MESSAGE, FeedKind.QUESTION),
        (CHANNEL, THREAD_MESSAGE, FeedKind.ANSWER),
    ]
    assert await count_rows(store, "case_feed") == 0
    assert await scalar(store, "SELECT thread_id FROM cases") is None


async def test_a_deleted_thread_is_never_started_again(store):
    _, _, cases, relay, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads()
    feed = CaseFeed(store, cases, threads)
    assert await feed.ensure_thread(case_id) == THREAD_MESSAGE
    threads.gone.add(THREAD_MESSAGE)
    question = await relay.ask(GUILD, case_id, None, MOD, 1, "Where?")
    assert not isinstance(question, RelayRefused)
    await relay.question_sent(question, DeliveryState.SENT)
    await feed.drain_once()
    assert [(c, r) for c, r, _, _ in threads.posts] == [(CHANNEL, THREAD_MESSAGE)]
    assert await scalar(store, "SELECT thread_id FROM cases") == 0
    assert await feed.ensure_thread(case_id) is None and threads.started == [THREAD_MESSAGE]


async def test_nothing_goes_where_the_reported_member_can_read(store):
    _, _, cases, _, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    threads = FakeThreads(route_to=4242)  # the target can read the alert channel now
    feed = CaseFeed(store, cases, threads)
    await cases.act(GUILD, case_id, CaseAction.NOTE, MOD, note="sensitive")
    revision = await scalar(store, "SELECT alert_revision FROM cases")
    await feed.drain_once()
    assert threads.posts == [] and await count_rows(store, "case_feed") == 1
    assert await scalar(store, "SELECT alert_revision FROM cases") == revision + 1  # moved


async def test_a_moved_alert_leaves_its_thread_to_be_cleared(store):
    _, _, cases, _, case_id = await _case(store, 1, 2)
    poster = FakePoster()
    dispatcher = AlertDispatcher(store, cases, poster, base_delay=0.0, edit_interval=0.0)
    await dispatcher.drain_once()
    assert await CaseFeed(store, cases, FakeThreads()).ensure_thread(case_id) == THREAD_MESSAGE
    poster.reroute_to = 4242
    await cases.request_redraw(case_id)
    await dispatcher.drain_once()
    assert await scalar(store, "SELECT thread_id FROM cases") is None
    rows = await scalar(store, "SELECT COUNT(*) FROM alert_cleanup WHERE kind = 'thread'")
    assert rows == 1


async def test_retention_and_erasure_cover_the_relay(store):
    c, reports, cases, relay, case_id = await _case(store, 1, 2)
    await _posted(store, cases)
    await CaseFeed(store, cases, FakeThreads()).ensure_thread(case_id)
    question = await relay.ask(GUILD, case_id, None, MOD, 2, "Where?")
    assert not isinstance(question, RelayRefused)
    await relay.question_sent(question, DeliveryState.SENT, 71, 72)
    await relay.answer(question.id, user(2).id, "There.")
    loose = await reports.submit(submission(3, target=77))  # no case: its details wait
    await relay.add_details(loose.report_id, user(3).id, GUILD, "later")
    retention = RetentionService(store, c)
    # Erasing Reporter 2: their question and answer go, and the question's DM is queued.
    await retention.forget(GUILD, user(2).id, MOD)
    assert (
        await scalar(
            store, "SELECT COUNT(*) FROM relay_messages WHERE reporter_id = ?", (user(2).id,)
        )
        == 0
    )
    assert await scalar(store, "SELECT COUNT(*) FROM alert_cleanup WHERE message_id = 72") == 1
    # The case closes and expires: the thread is queued for clearing, the loose details go.
    await cases.act(GUILD, case_id, CaseAction.RESOLVE, MOD)
    await store.write(
        lambda tx: tx.settings.save(
            GuildSettings(GUILD, alert_channel_id=CHANNEL, retention_days=1), c.now()
        )
    )
    c.advance(timedelta(days=3))
    await retention.sweep()
    for table in ("cases", "relay_messages", "case_feed", "relay_optouts", "reports"):
        assert await count_rows(store, table) == 0, table
    assert await scalar(store, "SELECT COUNT(*) FROM alert_cleanup WHERE kind = 'thread'") == 1
