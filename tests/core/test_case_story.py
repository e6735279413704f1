"""A case's whole story for the record views (t15-followup), on both backends: the reporter
Q&A numbered as the alert numbers reporters, each reminder recorded once as it is sent (with
the outbox, by two processes), the escalation packet carrying the Q&A with reporters as
"Reporter N" only, retention and erasure taking the reminders with their case, and queues
that never list (or count) a case about the moderator looking at them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from core.export import build_export, export_json
from core.hotlines import HotlineDirectory
from core.models import (
    AlertData,
    CaseAction,
    DeliveryState,
    GuildSettings,
    RelayKind,
    RelayMessage,
    ReminderKind,
)
from core.policy import RateLimit
from core.reasons import Reason
from core.relay import RelayRefused, relay_story
from core.retention import RetentionService
from core.review import ReviewService
from core.service import ReportService
from tests.core.test_case_view import LINKED, data as case_data
from tests.core.test_outbox import FakePoster
from tests.core.test_relay import MOD, _case, _posted
from tests.core.test_reminders import _setup
from tests.helpers import GUILD, START, count_rows, submission, user

ANSWER = "At the meetup @everyone <@123> **loud**"


async def _exchange(store):
    """Two reporters; Reporter 2 is asked (delivered), answers and stops; Reporter 1's DMs
    are closed; Reporter 1 adds details. The case read with its story."""
    c, _, cases, relay, case_id = await _case(store, 1, 2)
    closed = await relay.ask(GUILD, case_id, None, MOD, 1, "Are you safe?")
    asked = await relay.ask(GUILD, case_id, None, MOD + 1, 2, "Where?")
    assert not isinstance(closed, RelayRefused) and not isinstance(asked, RelayRefused)
    await relay.question_sent(closed, DeliveryState.DMS_CLOSED)
    await relay.question_sent(asked, DeliveryState.SENT, 5, 6)
    c.advance(timedelta(minutes=1))
    await relay.answer(asked.id, user(2).id, ANSWER)
    await relay.stop(asked.id, user(2).id)
    first = (await store.read(lambda tx: tx.reports.for_case(case_id)))[0]
    await relay.add_details(first.id, user(1).id, GUILD, "More: it was in #general")
    data = await cases.alert_data(case_id, story=True)
    assert data is not None
    return c, cases, case_id, data


async def test_the_story_numbers_reporters_as_the_alert(store):
    _, cases, case_id, data = await _exchange(store)
    story = relay_story(data)
    assert [(e.kind, e.reporter) for e in story] == [
        (RelayKind.QUESTION, 1),
        (RelayKind.QUESTION, 2),
        (RelayKind.ANSWER, 2),
        (RelayKind.STOPPED, 2),
        (RelayKind.DETAILS, 1),
    ]
    assert [e.delivery for e in story[:2]] == [DeliveryState.DMS_CLOSED, DeliveryState.SENT]
    assert [e.moderator_id for e in story] == [MOD, MOD + 1, None, None, None]
    assert story[2].text == ANSWER and story[2].question_id == story[1].id
    # The alert itself reads none of it (its outbox renders often).
    plain = await cases.alert_data(case_id)
    assert plain is not None and plain.relay == () and plain.reminders == ()
    numbered = await cases.by_number(GUILD, 1, story=True)
    assert numbered is not None and len(numbered.relay) == 5


def test_a_reporter_without_reports_in_the_case_is_left_out():
    """Their reports were erased: their messages are gone from the story, as from the thread;
    the others keep their numbers as the alert shows them now."""
    base = replace(
        case_data(),
        reports=(replace(LINKED, id=1, reporter_id=30), replace(LINKED, id=2, reporter_id=10)),
    )
    message = RelayMessage(
        id=1,
        guild_id=GUILD,
        case_id=base.case.id,
        report_id=None,
        reporter_id=99,
        author_id=99,
        kind=RelayKind.ANSWER,
        question_id=None,
        text="gone",
        state=DeliveryState.KEPT,
        created_at=START,
    )
    kept = replace(message, id=2, reporter_id=10, text="kept")
    story: AlertData = replace(base, relay=(message, kept))
    assert [(e.reporter, e.text) for e in relay_story(story)] == [(2, "kept")]


async def test_the_packet_carries_the_exchange_with_reporters_by_number_only(store):
    _, _, _, data = await _exchange(store)

    def packet(include_reporters: bool) -> dict:
        built = build_export(
            data,
            guild_name="Harbour",
            directory=HotlineDirectory.load(),
            generated_at=START,
            generated_by=MOD,
            describe=lambda e: e.action.value,
            include_reporters=include_reporters,
        )
        return json.loads(export_json(built))

    anonymous = packet(False)
    steps = anonymous["reporter_messages"]
    assert [(s["kind"], s["reporter"]) for s in steps] == [
        ("question", "Reporter 1"),
        ("question", "Reporter 2"),
        ("answer", "Reporter 2"),
        ("stopped", "Reporter 2"),
        ("details", "Reporter 1"),
    ]
    assert steps[0] == {
        "at_utc": steps[0]["at_utc"],
        "kind": "question",
        "reporter": "Reporter 1",
        "moderator_id": str(MOD),
        "delivery": "dms_closed",
        "text": "Are you safe?",
    }
    assert steps[2]["text"] == ANSWER  # user text as written: JSON text, never markup
    assert steps[2]["question_asked_at_utc"] == steps[1]["at_utc"]
    assert "text" not in steps[3] and "moderator_id" not in steps[2]
    dumped = json.dumps(anonymous)
    for reporter in (user(1).id, user(2).id):
        assert str(reporter) not in dumped
    assert '"reporter_id"' not in dumped
    # The same numbers as the reports' aliases; IDs only when asked for.
    assert [r["reporter"] for r in anonymous["reports"]] == ["Reporter 1", "Reporter 2"]
    named = packet(True)["reporter_messages"]
    assert [s["reporter_id"] for s in named] == [str(user(n).id) for n in (1, 2, 2, 2, 1)]


async def test_each_reminder_is_recorded_once_as_it_is_sent(store):
    """Two processes share the outbox: each reminder and the owner's notice is sent and
    recorded once, with when; the timeline's record goes with the count."""
    c, cases, reports, dispatcher, told = await _setup(store)
    one, two = dispatcher(FakePoster()), dispatcher(FakePoster())
    case_id = (await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))).case_id
    assert case_id is not None
    await one.drain_once()
    sent_at = []
    for minutes in (15, 30, 60, 60):
        c.advance(timedelta(minutes=minutes))
        assert await one.send_reminders() + await two.send_reminders() == 1
        sent_at.append(c.now())
    data = await cases.alert_data(case_id, story=True)
    assert data is not None and data.case.reminders_sent == 4 and len(told) == 1
    assert [(r.number, r.kind, r.sent_at) for r in data.reminders] == [
        (1, ReminderKind.REMINDER, sent_at[0]),
        (2, ReminderKind.REMINDER, sent_at[1]),
        (3, ReminderKind.REMINDER, sent_at[2]),
        (4, ReminderKind.OWNER, sent_at[3]),
    ]
    # A compare-and-set that loses records nothing more.
    assert not await cases.record_reminder(case_id, 4, None, ReminderKind.OWNER)
    assert await count_rows(store, "case_reminders") == 4


async def test_a_skipped_reminder_is_counted_not_recorded(store):
    """Reminders turned off while one was due: the step is counted (nothing more is due)
    but nothing was sent, so the timeline shows nothing."""
    c, cases, reports, dispatcher, _told = await _setup(store)
    one = dispatcher(FakePoster())
    case_id = (await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))).case_id
    await one.drain_once()
    settings = GuildSettings(GUILD, alert_channel_id=9, urgent_reminder_minutes=0)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    c.advance(timedelta(minutes=15))
    assert await one.send_reminders() == 0
    data = await cases.alert_data(case_id, story=True)
    assert data is not None and data.case.reminders_sent == 1 and data.reminders == ()


async def test_retention_and_erasure_take_the_reminders_with_their_case(store):
    c, cases, reports, dispatcher, _told = await _setup(store)
    one = dispatcher(FakePoster())
    first = (await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))).case_id
    second = (await reports.submit(submission(2, target=98, reason=Reason.CHILD_SAFETY))).case_id
    assert first is not None and second is not None
    await one.drain_once()
    c.advance(timedelta(minutes=15))
    assert await one.send_reminders() == 2
    retention = RetentionService(store, c)
    await retention.forget(GUILD, user(99).id, MOD)  # the first case's target
    assert await count_rows(store, "case_reminders") == 1
    await cases.act(GUILD, second, CaseAction.RESOLVE, MOD)
    settings = GuildSettings(GUILD, alert_channel_id=9, retention_days=1)
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    c.advance(timedelta(days=3))
    await retention.sweep()
    assert await count_rows(store, "cases") == 0
    assert await count_rows(store, "case_reminders") == 0


async def test_no_queue_lists_or_counts_a_case_about_its_viewer(store):
    """A reported moderator (the attacker) pages through `/reports queue` and the
    dashboard's queue: their own case is neither listed nor counted, whatever the page;
    another moderator sees it."""
    c, _, cases, _, _ = await _case(store, 1, threshold=1)  # about user(99)
    reports = ReportService(store, c, RateLimit(max_reports=99))
    viewer, colleague = user(99).id, user(50).id
    for target in range(60, 69):  # nine more cases, about others
        await reports.submit(submission(2, target=target))
    mine = [await cases.queue_page(GUILD, page, viewer) for page in (1, 2, 3)]
    theirs = [await cases.queue_page(GUILD, page, colleague) for page in (1, 2)]
    assert [p.total for p in mine] == [9, 9, 9] and [p.pages for p in mine] == [2, 2, 2]
    assert all(case.target_id != viewer for p in mine for case in p.cases)
    assert sum(len(p.cases) for p in mine[:2]) == 9
    assert theirs[0].total == 10 and any(
        case.target_id == viewer for p in theirs for case in p.cases
    )
    review = ReviewService(store)
    web = [await review.queue(GUILD, page, viewer, size=4) for page in (1, 2, 3, 4)]
    assert [o.total for o in web] == [9] * 4 and web[0].pages == 3
    assert all(s.case.target_id != viewer for o in web for s in o.cases)
    assert sum(len(o.cases) for o in web[:3]) == 9
    other = await review.queue(GUILD, 1, colleague, size=50)
    assert other.total == 10 and any(s.case.target_id == viewer for s in other.cases)
    # Posting the alerts changes nothing of that.
    await _posted(store, cases)
    assert (await cases.queue_page(GUILD, 1, viewer)).total == 9
