"""The reporting rules, exercised through ReportService on a real temporary SQLite store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import CaseAction, CaseStatus, GuildSettings
from core.policy import RateLimit, Refusal, RefusalCode
from core.reasons import Reason
from core.service import (
    CaseActionRefused,
    CaseService,
    ReportAccepted,
    ReportService,
    SettingsService,
)
from storage.sqlite import SqliteStore
from tests.dbquery import query
from tests.helpers import GUILD, OTHER_GUILD, clock, count_rows, submission, user


def accepted(outcome: object) -> ReportAccepted:
    assert isinstance(outcome, ReportAccepted), outcome
    return outcome


@pytest.fixture
def fake_clock():
    return clock()


@pytest.fixture
def signals():
    return []


@pytest.fixture
def reports(store: SqliteStore, fake_clock, signals) -> ReportService:
    return ReportService(store, fake_clock, RateLimit(), on_alert_change=lambda: signals.append(1))


@pytest.fixture
def cases(store: SqliteStore, fake_clock) -> CaseService:
    return CaseService(store, fake_clock)


async def active_cases(store: SqliteStore, guild: int = GUILD):
    return await store.read(lambda tx: tx.cases.list_active(guild, 100))


async def test_threshold_opens_exactly_one_case(reports, store, signals):
    first = accepted(await reports.submit(submission(1)))
    second = accepted(await reports.submit(submission(2)))
    assert first.case_id is None and second.case_id is None
    assert second.distinct_reporters == 2
    assert signals == []
    third = accepted(await reports.submit(submission(3)))
    assert third.case_opened and third.case_id is not None and third.case_number == 1
    assert third.distinct_reporters == 3
    fourth = accepted(await reports.submit(submission(4)))
    assert not fourth.case_opened and fourth.case_id == third.case_id
    assert fourth.distinct_reporters == 4
    assert len(await active_cases(store)) == 1
    case = await store.read(lambda tx: tx.cases.get(third.case_id))
    assert case is not None and case.alert_revision == 2  # opened, then one edit
    assert len(await store.read(lambda tx: tx.reports.for_case(case.id))) == 4


async def test_same_reporter_twice_does_not_raise_the_count(reports, store):
    accepted(await reports.submit(submission(1)))
    again = accepted(await reports.submit(submission(1, details="more details")))
    assert again.duplicate and again.distinct_reporters == 1
    accepted(await reports.submit(submission(2)))
    assert await active_cases(store) == []
    opened = accepted(await reports.submit(submission(3)))
    assert opened.case_opened
    kept = await store.read(lambda tx: tx.reports.for_case(opened.case_id))
    assert len(kept) == 4  # details kept with the case
    dup_in_case = accepted(await reports.submit(submission(3, details="and again")))
    assert dup_in_case.duplicate and dup_in_case.distinct_reporters == 3


async def test_window_edges(reports, store, fake_clock):
    accepted(await reports.submit(submission(1)))
    accepted(await reports.submit(submission(2)))
    fake_clock.advance(timedelta(hours=24, seconds=1))
    outside = accepted(await reports.submit(submission(3)))
    assert outside.case_id is None and outside.distinct_reporters == 1
    fake_clock.advance(timedelta(hours=23, minutes=59))
    accepted(await reports.submit(submission(4)))
    inside = accepted(await reports.submit(submission(5)))
    assert inside.case_opened and inside.distinct_reporters == 3


async def test_window_boundary_is_inclusive(reports, fake_clock):
    accepted(await reports.submit(submission(1)))
    accepted(await reports.submit(submission(2)))
    fake_clock.advance(timedelta(hours=24))
    exactly = accepted(await reports.submit(submission(3)))
    assert exactly.case_opened


@pytest.mark.parametrize("reason", [Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT])
async def test_critical_reason_opens_urgent_case_on_first_report(reports, store, reason):
    outcome = accepted(await reports.submit(submission(1, reason=reason)))
    assert outcome.case_opened and outcome.distinct_reporters == 1
    case = await store.read(lambda tx: tx.cases.get(outcome.case_id))
    assert case is not None and case.urgent


async def test_critical_report_on_open_case_marks_it_urgent(reports, store):
    for n in (1, 2, 3):
        outcome = accepted(await reports.submit(submission(n)))
    accepted(await reports.submit(submission(4, reason=Reason.CHILD_SAFETY)))
    case = await store.read(lambda tx: tx.cases.get(outcome.case_id))
    assert case is not None and case.urgent


async def test_closed_case_resets_the_tally(reports, cases, store):
    for n in (1, 2, 3):
        opened = accepted(await reports.submit(submission(n)))
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    after = accepted(await reports.submit(submission(4)))
    assert after.case_id is None and after.distinct_reporters == 1
    accepted(await reports.submit(submission(5)))
    again = accepted(await reports.submit(submission(6)))
    assert again.case_opened and again.case_number == 2 and again.case_id != opened.case_id


async def test_rate_limit_refuses_and_stores_nothing(store, fake_clock):
    service = ReportService(store, fake_clock, RateLimit(max_reports=5, per=timedelta(minutes=10)))
    for target in range(10, 15):
        accepted(await service.submit(submission(1, target=target)))
    refused = await service.submit(submission(1, target=20))
    assert isinstance(refused, Refusal) and refused.code is RefusalCode.RATE_LIMITED
    assert await count_rows(store, "reports") == 5
    fake_clock.advance(timedelta(minutes=10, seconds=1))
    accepted(await service.submit(submission(1, target=20)))


@pytest.mark.parametrize(
    ("sub", "code"),
    [
        (submission(1, target=1), RefusalCode.SELF_REPORT),
        (submission(1, target_snapshot=user(7, bot=True)), RefusalCode.BOT_TARGET),
        (submission(1, link="https://example.com/channels/1/2/3"), RefusalCode.BAD_LINK),
        (submission(1, link="not a link"), RefusalCode.BAD_LINK),
        (
            submission(
                1,
                link=f"https://discord.com/channels/{OTHER_GUILD}/333333333333333333/444444444444444444",
            ),
            RefusalCode.FOREIGN_LINK,
        ),
        (submission(1, details="x" * 1001), RefusalCode.DETAILS_TOO_LONG),
        # This guild's ID in front of a channel that is not this guild's (another server's
        # channel, or one Vigil cannot see): "Delete messages" must never reach it.
        (
            submission(
                1,
                link=f"https://discord.com/channels/{GUILD}/555555555555555555/444444444444444444",
            ),
            RefusalCode.UNKNOWN_CHANNEL,
        ),
        (
            submission(
                1,
                link=f"https://discord.com/channels/{GUILD}/333333333333333333/444444444444444444",
                channels=None,
            ),
            RefusalCode.UNKNOWN_CHANNEL,
        ),
    ],
)
async def test_refusals_store_nothing(reports, store, sub, code):
    outcome = await reports.submit(sub)
    assert isinstance(outcome, Refusal) and outcome.code is code
    assert await count_rows(store, "reports") == 0


async def test_valid_link_variants_are_stored_canonically(reports, store):
    link = f"https://canary.discordapp.com/channels/{GUILD}/333333333333333333/444444444444444444"
    outcome = accepted(await reports.submit(submission(1, link=f"<{link}>")))
    stored = await store.read(lambda tx: tx.reports.about_target(GUILD, user(99).id, 10))
    assert outcome.report_id == stored[0].id
    assert stored[0].message_link == (
        f"https://discord.com/channels/{GUILD}/333333333333333333/444444444444444444"
    )
    assert stored[0].message_id == 444444444444444444


async def test_non_member_target_can_be_reported(reports, store):
    outcome = accepted(
        await reports.submit(
            submission(1, reason=Reason.CHILD_SAFETY, target_snapshot=user(50, member=False))
        )
    )
    case = await store.read(lambda tx: tx.cases.get(outcome.case_id))
    assert case is not None and not case.target_is_member


async def test_report_before_setup_is_kept_and_alert_waits(reports, store):
    outcome = accepted(await reports.submit(submission(1, reason=Reason.CHILD_SAFETY)))
    assert not outcome.alert_channel_configured
    assert await store.read(lambda tx: tx.cases.with_pending_alerts(10)) == []
    settings = GuildSettings(GUILD, alert_channel_id=555)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))
    pending = await store.read(lambda tx: tx.cases.with_pending_alerts(10))
    assert [c.id for c in pending] == [outcome.case_id]


async def test_guilds_are_isolated(reports, store, cases):
    for n in (1, 2):
        accepted(await reports.submit(submission(n)))
    other = accepted(await reports.submit(submission(3, guild=OTHER_GUILD)))
    assert other.case_id is None and other.distinct_reporters == 1
    opened = accepted(await reports.submit(submission(3)))
    with pytest.raises(CaseActionRefused):
        await cases.act(OTHER_GUILD, opened.case_id, CaseAction.DISMISS, actor_id=5)
    assert await active_cases(store, OTHER_GUILD) == []


async def test_case_actions_follow_the_lifecycle(reports, cases):
    opened = accepted(await reports.submit(submission(1, reason=Reason.SELF_HARM)))
    acked = await cases.act(GUILD, opened.case_id, CaseAction.ACKNOWLEDGE, actor_id=5)
    assert acked.status is CaseStatus.ACKNOWLEDGED and acked.handled_by == 5
    with pytest.raises(CaseActionRefused):
        await cases.act(GUILD, opened.case_id, CaseAction.ACKNOWLEDGE, actor_id=5)
    done = await cases.act(GUILD, opened.case_id, CaseAction.DISMISS, actor_id=6)
    assert done.status is CaseStatus.DISMISSED and done.closed_at is not None
    with pytest.raises(CaseActionRefused):
        await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    data = await cases.alert_data(opened.case_id)
    assert data is not None
    assert [e.action for e in data.events] == [CaseAction.ACKNOWLEDGE, CaseAction.DISMISS]


async def test_acknowledged_report_is_committed(reports, database_url):
    """Acknowledged means durable: another connection sees the row as soon as submit returns."""
    outcome = accepted(await reports.submit(submission(1)))
    assert query(database_url, "SELECT id FROM reports") == [(outcome.report_id,)]


class CountingWrites:
    """The store, counting the write transactions that go through it."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.writes = 0

    async def write(self, fn):  # type: ignore[no-untyped-def]
        self.writes += 1
        return await self._store.write(fn)

    async def read(self, fn):  # type: ignore[no-untyped-def]
        return await self._store.read(fn)


async def test_servers_languages_are_written_only_when_they_change(store, fake_clock):
    """At every ready Vigil notes the language of every server it is in: a write transaction
    of thousands of upserts when nothing changed would hold up the reports behind it."""
    counting = CountingWrites(store)
    settings = SettingsService(counting, fake_clock)  # type: ignore[arg-type]
    await settings.note_locales({GUILD: "de", OTHER_GUILD: "fr"})
    assert counting.writes == 1
    await settings.note_locales({GUILD: "de", OTHER_GUILD: "fr"})  # the next ready
    assert counting.writes == 1
    await settings.note_locales({GUILD: "de", OTHER_GUILD: "es-ES"})
    assert counting.writes == 2
    assert (await settings.get(GUILD)).locale == "de"
    assert (await settings.get(OTHER_GUILD)).locale == "es-ES"
    many = {GUILD + n: "en-US" for n in range(1200)}  # more than one IN (...) list
    await settings.note_locales(many)
    await settings.note_locales(many)
    assert counting.writes == 3
    assert (await settings.get(GUILD + 1199)).locale == "en-US"
