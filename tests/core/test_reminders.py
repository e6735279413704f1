"""Urgent reminders through the outbox on both backends, with a fake clock: a reply to the
alert mentioning the moderator role after N minutes, then 2N, 4N, then the owner; any action
but a note stops them; two processes send each reminder once; state survives a restart."""

from __future__ import annotations

from datetime import timedelta

from core.models import CaseAction, GuildSettings
from core.outbox import (
    AlertDispatcher,
    DeliveryFailed,
    UnansweredCase,
    UrgentPing,
    reminder_nonce,
)
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportService
from tests.core.test_outbox import CHANNEL, OTHER_CHANNEL, FakePoster
from tests.helpers import GUILD, OTHER_GUILD, clock, submission
from ui.alert_view import render_unanswered

ROLE = 4242
MOD = 5151


async def _setup(store, minutes: int = 15):
    c = clock()
    cases = CaseService(store, c)
    told: list[UnansweredCase] = []

    async def tell(notice: UnansweredCase) -> bool:
        told.append(notice)
        return True

    def dispatcher(poster: FakePoster) -> AlertDispatcher:
        return AlertDispatcher(
            store, cases, poster, base_delay=0.0, max_delay=0.0, on_unanswered=tell
        )

    reports = ReportService(store, c, RateLimit())
    settings = GuildSettings(
        GUILD, alert_channel_id=CHANNEL, mod_role_id=ROLE, urgent_reminder_minutes=minutes
    )
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    return c, cases, reports, dispatcher, told


def _reminders(poster: FakePoster) -> list[tuple[int, str]]:
    return [(p[2], p[4]) for p in poster.pings if p[4].startswith("vigil-rem-")]


async def test_three_reminders_then_the_owner_once(store):
    c, _cases, reports, dispatcher, told = await _setup(store)
    poster = FakePoster()
    one, two = dispatcher(poster), dispatcher(poster)  # two processes, one database
    case_id = (await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))).case_id
    await one.drain_once()
    assert await one.send_reminders() == 0  # not due yet
    for minutes, number in ((15, 1), (30, 2), (60, 3)):
        c.advance(timedelta(minutes=minutes - 1))
        assert await one.send_reminders() + await two.send_reminders() == 0
        c.advance(timedelta(minutes=1))
        assert await one.send_reminders() + await two.send_reminders() == 1
        assert _reminders(poster)[-1] == (ROLE, reminder_nonce(case_id, number))
        text = poster.pings[-1][3]
        assert text.startswith(f"<@&{ROLE}> ") and "@everyone" not in text
    assert told == []
    c.advance(timedelta(minutes=60))
    assert await one.send_reminders() + await two.send_reminders() == 1
    assert len(told) == 1 and told[0].case_number == 1 and told[0].waited_minutes == 165
    text = render_unanswered("Server", 1, 165, "en")
    assert "165" in text and "#1" in text
    c.advance(timedelta(days=1))
    assert await one.send_reminders() + await two.send_reminders() == 0
    assert len(_reminders(poster)) == 3 and len(told) == 1


async def test_acknowledge_stops_reminders_but_a_note_does_not(store):
    c, cases, reports, dispatcher, told = await _setup(store)
    poster = FakePoster()
    d = dispatcher(poster)
    case_id = (await reports.submit(submission(1, reason=Reason.SELF_HARM))).case_id
    await d.drain_once()
    await cases.act(GUILD, case_id, CaseAction.NOTE, MOD, note="looking")
    c.advance(timedelta(minutes=15))
    assert await d.send_reminders() == 1
    await cases.act(GUILD, case_id, CaseAction.ACKNOWLEDGE, MOD)
    c.advance(timedelta(days=1))
    assert await d.send_reminders() == 0
    assert len(_reminders(poster)) == 1 and told == []


async def test_reminders_off_and_restart(store):
    c, _cases, reports, dispatcher, _told = await _setup(store, minutes=0)
    poster = FakePoster()
    await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await dispatcher(poster).drain_once()
    c.advance(timedelta(days=1))
    assert await dispatcher(poster).send_reminders() == 0
    # On: a new urgent case; a "restarted" dispatcher (a new object) finds its due reminder.
    settings = GuildSettings(
        GUILD, alert_channel_id=CHANNEL, mod_role_id=ROLE, urgent_reminder_minutes=1
    )
    await store.write(lambda tx: tx.settings.save(settings, c.now()))
    await reports.submit(submission(2, target=77, reason=Reason.VIOLENT_THREAT))
    await dispatcher(poster).drain_once()
    c.advance(timedelta(minutes=1))
    assert await dispatcher(FakePoster()).send_reminders() == 1


async def test_non_urgent_case_gets_no_reminder(store):
    c, _cases, reports, dispatcher, _told = await _setup(store)
    poster = FakePoster()
    for n in (1, 2, 3):
        await reports.submit(submission(n))
    await dispatcher(poster).drain_once()
    c.advance(timedelta(days=1))
    assert await dispatcher(poster).send_reminders() == 0


class RefusingReminders(FakePoster):
    """Harbour's alert channel takes alerts but refuses every reminder (429 for ever)."""

    async def ping(self, channel_id: int, message_id: int, ping: UrgentPing, nonce: str) -> None:
        if channel_id == CHANNEL:
            raise DeliveryFailed("http:429")
        await super().ping(channel_id, message_id, ping, nonce)


async def test_one_servers_refused_reminders_never_hold_up_anothers(store):
    """Harbour has 20 urgent cases whose reminders Discord keeps refusing; Lighthouse's one
    urgent case, due a second later, is reminded all the same: servers take turns in the read
    and a refused reminder waits before it is read again (review of stop 30: the 20 oldest
    due reminders used to fill every read)."""
    c, _cases, reports, dispatcher, _told = await _setup(store)
    other = GuildSettings(
        OTHER_GUILD, alert_channel_id=OTHER_CHANNEL, mod_role_id=ROLE, urgent_reminder_minutes=15
    )
    await store.write(lambda tx: tx.settings.save(other, c.now()))
    for n in range(20):
        opened = await reports.submit(submission(100 + n, 600 + n, reason=Reason.CHILD_SAFETY))
        assert opened.case_id is not None
    c.advance(timedelta(seconds=1))
    lighthouse = await reports.submit(
        submission(1, 700, reason=Reason.CHILD_SAFETY, guild=OTHER_GUILD, channels=None)
    )
    poster = RefusingReminders()
    d = dispatcher(poster)
    while await d.drain_once() == 0:
        pass  # every alert posted
    c.advance(timedelta(minutes=15))
    assert await d.send_reminders() == 1
    assert _reminders(poster) == [(ROLE, reminder_nonce(lighthouse.case_id, 1))]
