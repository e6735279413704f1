"""Issue 14 follow-through: the reminder schedule (pure, fake clock) and the reports that do
not count (retaliation, muted reporters), decided in the report transaction on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.followthrough import (
    MAX_REMINDERS,
    CountDecision,
    NotCountedReason,
    count_decision,
    first_reminder_at,
    next_step,
    waited_minutes,
)
from core.models import GuildSettings
from core.policy import RateLimit
from core.reasons import Reason
from core.service import CaseService, ReportAccepted, ReportService
from tests.helpers import GUILD, START, clock, submission, user


def accepted(outcome: object) -> ReportAccepted:
    assert isinstance(outcome, ReportAccepted), outcome
    return outcome


# --- the reminder schedule -------------------------------------------------------------------


def test_reminders_off_when_zero() -> None:
    assert first_reminder_at(START, 0) is None
    assert next_step(reminders_sent=0, minutes=0, now=START) is None


def test_three_reminders_with_growing_intervals_then_the_owner() -> None:
    fake = clock()
    due = first_reminder_at(fake.now(), 15)
    assert due == START + timedelta(minutes=15)
    fake.advance(due - fake.now())
    assert due is not None
    sent, at = 0, []
    while (step := next_step(reminders_sent=sent, minutes=15, now=fake.now())) is not None:
        assert step.number == sent + 1
        at.append((int((fake.now() - due).total_seconds() // 60), step.notify_owner))
        sent += 1
        if step.next_at is None:
            assert step.notify_owner and step.number == MAX_REMINDERS + 1
            break
        fake.advance(step.next_at - fake.now())
    # Three reminders with growing intervals, then one notice to the owner.
    assert at == [(0, False), (30, False), (90, False), (150, True)]
    # Minutes after the first reminder (itself 15 after the case turned urgent): the owner is
    # told 165 minutes after; nothing after that.
    assert next_step(reminders_sent=MAX_REMINDERS + 1, minutes=15, now=START) is None


def test_waited_minutes_never_negative() -> None:
    assert waited_minutes(START, START + timedelta(minutes=165, seconds=59)) == 165
    assert waited_minutes(START, START - timedelta(minutes=1)) == 0


# --- which reports count ---------------------------------------------------------------------


def test_count_decision_order() -> None:
    assert count_decision(old_enough=True, retaliation=False, muted=False) == CountDecision(True)
    young = count_decision(old_enough=False, retaliation=False, muted=False)
    assert young.reason is NotCountedReason.ACCOUNT_AGE and young.may_alert
    back = count_decision(old_enough=False, retaliation=True, muted=False)
    assert back.reason is NotCountedReason.RETALIATION and not back.may_alert
    muted = count_decision(old_enough=True, retaliation=True, muted=True)
    assert muted.reason is NotCountedReason.MUTED and not muted.counts and not muted.may_alert


@pytest.fixture
def fake_clock():
    return clock()


@pytest.fixture
def reports(store, fake_clock) -> ReportService:
    return ReportService(store, fake_clock, RateLimit())


@pytest.fixture
def cases(store, fake_clock) -> CaseService:
    return CaseService(store, fake_clock)


async def _threshold(store, value: int) -> None:
    await store.write(
        lambda tx: tx.settings.save(
            GuildSettings(GUILD, alert_channel_id=1, threshold=value), START
        )
    )


async def test_retaliation_does_not_count_or_alert(reports, cases, store) -> None:
    """Member 1 and 2 report member 99 (a case opens); 99 reports them back: kept, shown as
    possible retaliation, never counted, and even a critical reason opens no case alone."""
    await _threshold(store, 2)
    first = accepted(await reports.submit(submission(1, target=99)))
    opened = accepted(await reports.submit(submission(2, target=99)))
    assert opened.case_opened and first.case_id is None
    target = user(99).id
    back = accepted(await reports.submit(_as(99, target=1, reason=Reason.CHILD_SAFETY)))
    assert back.case_id is None and not back.case_opened
    again = accepted(await reports.submit(_as(99, target=2)))
    assert again.case_id is None and again.distinct_reporters == 0
    stored = await store.read(lambda tx: tx.reports.about_target(GUILD, user(1).id, 10))
    assert [(r.reporter_id, r.counts_toward_threshold, r.not_counted_reason) for r in stored] == [
        (target, False, "retaliation")
    ]
    # An honest third member's report about 1 still counts; with it, the case shows the signal.
    honest = accepted(await reports.submit(submission(3, target=1)))
    assert honest.distinct_reporters == 1
    assert (await reports.submit(submission(4, target=1))).case_opened  # type: ignore[union-attr]
    case_id = (await store.read(lambda tx: tx.cases.active_for_target(GUILD, user(1).id))).id
    data = await cases.alert_data(case_id)
    assert data is not None and data.signals.retaliation == frozenset({target})
    assert data.distinct_reporters == 2


async def test_muted_reporter_kept_not_counted_and_reversible(reports, store) -> None:
    await _threshold(store, 2)
    muter = user(500).id
    assert await store.write(lambda tx: tx.reports.set_muted(GUILD, user(1).id, True, muter, START))
    assert not await store.write(
        lambda tx: tx.reports.set_muted(GUILD, user(1).id, True, muter, START)
    )
    critical = accepted(await reports.submit(submission(1, target=98, reason=Reason.SELF_HARM)))
    assert critical.case_id is None  # never alerts on their own, even critical
    assert not accepted(await reports.submit(submission(2, target=98))).case_opened
    assert await store.write(
        lambda tx: tx.reports.set_muted(GUILD, user(1).id, False, muter, START)
    )
    assert accepted(await reports.submit(submission(1, target=97))).distinct_reporters == 1


def _as(reporter_n: int, *, target: int, reason: Reason = Reason.HARASSMENT):
    return submission(reporter_n, target=target, reason=reason)
