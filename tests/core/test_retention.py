"""Retention, erasure and departed guilds, on both backends with a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.models import CaseAction, GuildSettings
from core.policy import RateLimit
from core.ports import DashboardSession
from core.reasons import Reason
from core.retention import RetentionService
from core.service import CaseService, ReportService
from tests.helpers import GUILD, OTHER_GUILD, clock, count_rows, scalar, submission, user


@pytest.fixture
def fake_clock():
    return clock()


@pytest.fixture
def services(store, fake_clock):
    reports = ReportService(store, fake_clock, RateLimit(max_reports=100))
    cases = CaseService(store, fake_clock)
    retention = RetentionService(store, fake_clock, grace_days=30)
    return reports, cases, retention


async def test_sweep_purges_closed_cases_and_loose_reports_past_retention(
    store, services, fake_clock
):
    reports, cases, retention = services
    opened = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    await reports.submit(submission(2, target=50))  # a loose report, never in a case
    still_open = await reports.submit(submission(3, target=60, reason=Reason.SELF_HARM))
    fake_clock.advance(timedelta(days=179))
    assert (await retention.sweep()).reports == 0
    fake_clock.advance(timedelta(days=2))
    purged = await retention.sweep()
    assert purged.cases == 1 and purged.reports == 2
    remaining = await count_rows(store, "reports", GUILD)
    assert remaining == 1  # the open case's report is kept, however old
    assert await store.read(lambda tx: tx.cases.get(still_open.case_id)) is not None
    assert await store.read(lambda tx: tx.cases.get(opened.case_id)) is None


async def test_retention_zero_keeps_everything(store, services, fake_clock):
    reports, cases, retention = services
    settings = replace(GuildSettings(GUILD), retention_days=0)
    await store.write(lambda tx: tx.settings.save(settings, fake_clock.now()))
    opened = await reports.submit(submission(1, reason=Reason.CHILD_SAFETY))
    await cases.act(GUILD, opened.case_id, CaseAction.DISMISS, actor_id=5)
    fake_clock.advance(timedelta(days=3000))
    assert (await retention.sweep()).reports == 0
    assert await count_rows(store, "reports", GUILD) == 1


async def test_departed_guild_is_purged_after_grace_unless_it_returns(store, services, fake_clock):
    reports, _, retention = services
    await reports.submit(submission(1))
    await reports.submit(submission(1, guild=OTHER_GUILD))
    await retention.guild_left(GUILD)
    await retention.guild_left(OTHER_GUILD)
    await retention.guild_present(OTHER_GUILD)  # it came back
    fake_clock.advance(timedelta(days=29))
    await retention.sweep()
    assert await count_rows(store, "reports", GUILD) == 1
    fake_clock.advance(timedelta(days=2))
    await retention.sweep()
    assert await count_rows(store, "reports", GUILD) == 0
    assert await count_rows(store, "reports", OTHER_GUILD) == 1


async def test_reconcile_marks_guilds_missing_at_start(store, services, fake_clock):
    reports, _, retention = services
    await reports.submit(submission(1))
    await reports.submit(submission(1, guild=OTHER_GUILD))
    await retention.reconcile_guilds({OTHER_GUILD}, owns=lambda guild_id: True)
    assert await count_rows(store, "departed_guilds", GUILD) == 1
    assert await count_rows(store, "departed_guilds", OTHER_GUILD) == 0


async def test_forget_erases_a_user_as_target_and_as_reporter(store, services):
    reports, _, retention = services
    erin = user(7)
    about_erin = await reports.submit(submission(1, target=7, reason=Reason.CHILD_SAFETY))
    by_erin = await reports.submit(
        submission(7, target=8, reason=Reason.SELF_HARM)
    )  # erin reports someone else
    await reports.submit(submission(2, target=8))  # another reporter, same case
    erasure = await retention.forget(GUILD, erin.id, actor_id=5)
    assert erasure.counts.cases == 1 and erasure.counts.reports == 2
    assert [c.case_id for c in erasure.erased_cases] == [about_erin.case_id]
    left = await store.read(lambda tx: tx.reports.for_case(by_erin.case_id))
    assert [r.reporter_id for r in left] == [user(2).id]
    case = await store.read(lambda tx: tx.cases.get(by_erin.case_id))
    assert case is not None and case.alert_revision > 1  # the alert is redrawn without her
    assert await count_rows(store, "erasures", GUILD) == 1
    history = await store.read(lambda tx: tx.reports.about_target(GUILD, erin.id, 10))
    assert history == []


async def test_forget_queues_the_erased_cases_alerts_in_its_own_transaction(store, services):
    """Finding 3: the alert goes through `alert_cleanup` (deleted and retried by the outbox),
    committed with the erasure: no failed DELETE or crash afterwards can leave it for ever."""
    reports, cases, retention = services
    about_erin = await reports.submit(submission(1, target=7, reason=Reason.CHILD_SAFETY))
    assert about_erin.case_id is not None
    case = await store.read(lambda tx: tx.cases.get(about_erin.case_id))
    assert case is not None
    assert await cases.alert_delivered(case, case.alert_revision, 777, 5555, 0)
    erasure = await retention.forget(GUILD, user(7).id, actor_id=5)
    assert erasure.counts.cases == 1
    queued = await store.read(lambda tx: tx.guild_data.pending_cleanup(10))
    assert [(q.guild_id, q.channel_id, q.message_id, q.thread) for q in queued] == [
        (GUILD, 777, 5555, False)
    ]


async def test_an_alert_recorded_after_its_case_was_erased_is_queued_for_deletion(store, services):
    """Finding 1: the POST's answer comes back after the erasure: nothing refers to that
    message, so recording it queues it for deletion instead (in the same write)."""
    reports, cases, retention = services
    about_erin = await reports.submit(submission(1, target=7, reason=Reason.CHILD_SAFETY))
    assert about_erin.case_id is not None
    case = await store.read(lambda tx: tx.cases.get(about_erin.case_id))
    assert case is not None and case.alert_message_id is None  # the POST is in flight
    await retention.forget(GUILD, user(7).id, actor_id=5)
    assert await store.read(lambda tx: tx.guild_data.pending_cleanup(10)) == []
    assert not await cases.alert_delivered(case, case.alert_revision, 777, 5556, 0)
    queued = await store.read(lambda tx: tx.guild_data.pending_cleanup(10))
    assert [(q.channel_id, q.message_id) for q in queued] == [(777, 5556)]


async def test_notice_is_recorded_once_until_cleared(store, services):
    _, _, retention = services
    assert await retention.record_notice(GUILD, "missing permission")
    assert not await retention.record_notice(GUILD, "missing permission")
    await retention.clear_notices(GUILD)
    assert await retention.record_notice(GUILD, "missing permission")


# --- t18-more: the dashboard's sessions ------------------------------------------------------


async def _open_session(
    store, fake_clock, token: str, user_id: int, guilds: tuple[int, ...], hours: float = 12
) -> None:
    session = DashboardSession(
        user_id=user_id,
        user_name=f"user {user_id}",
        locale="en-GB",
        guild_ids=guilds,
        csrf_token="csrf-" + token,
        expires_at=fake_clock.now() + timedelta(hours=hours),
    )
    await store.write(lambda tx: tx.dashboard.add_session(token, session, fake_clock.now()))


async def test_sweep_purges_expired_dashboard_sessions_and_sign_ins(store, services, fake_clock):
    """Not only at the next sign-in: a server whose moderators stop signing in keeps no
    expired session (who signed in, their servers) past the next sweep."""
    _, _, retention = services
    await _open_session(store, fake_clock, "short", user(1).id, (GUILD,), hours=1)
    await _open_session(store, fake_clock, "long", user(2).id, (GUILD,), hours=24)
    now = fake_clock.now()
    await store.write(lambda tx: tx.dashboard.add_login("state", now, now + timedelta(minutes=10)))
    fake_clock.advance(timedelta(hours=2))
    await retention.sweep()
    assert await scalar(store, "SELECT token_hash FROM dashboard_sessions") == "long"
    assert await count_rows(store, "dashboard_logins") == 0
    alive = await store.read(lambda tx: tx.dashboard.get_session("long", fake_clock.now()))
    assert alive is not None and alive.user_id == user(2).id


async def test_forget_signs_the_member_out_of_the_dashboard(store, services, fake_clock):
    """Erasure reaches the member's dashboard sessions that list this server (their ID, name,
    language and servers); other people's, and theirs listing only other servers, stay."""
    _, _, retention = services
    erin, other = user(7).id, user(8).id
    await _open_session(store, fake_clock, "erin-here", erin, (OTHER_GUILD, GUILD))
    await _open_session(store, fake_clock, "erin-elsewhere", erin, (OTHER_GUILD,))
    await _open_session(store, fake_clock, "other-here", other, (GUILD,))
    # A server whose ID merely contains this one's digits is not this server.
    await _open_session(store, fake_clock, "erin-similar", erin, (int(f"{GUILD}1"),))
    await retention.forget(GUILD, erin, actor_id=5)
    rows = await store.read(lambda tx: tx.dashboard.get_session("erin-here", fake_clock.now()))
    assert rows is None
    for token in ("erin-elsewhere", "other-here", "erin-similar"):
        kept = await store.read(lambda tx, t=token: tx.dashboard.get_session(t, fake_clock.now()))
        assert kept is not None, token
