"""`/reports stats` figures on a known data set, on both backends (the `store` fixture).

The data set is written through the repositories (the same SQL the bot uses), with hand-picked
times, so every expected figure below can be checked by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.followthrough import NotCountedReason
from core.models import CaseAction, CaseStatus, ReportSource, UserSnapshot
from core.ports import NewReport
from core.reasons import Reason
from core.stats import (
    CaseTiming,
    StatsPeriod,
    build_stats,
    guild_stats,
    percentile,
    period_for,
)

GUILD = 1001
OTHER_GUILD = 2002
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)


def _report(
    guild: int, reporter: int, target: int, reason: Reason, when: datetime, *, counts: bool = True
) -> NewReport:
    return NewReport(
        guild_id=guild,
        reporter=UserSnapshot(reporter, f"reporter{reporter}"),
        target=UserSnapshot(target, f"target{target}"),
        reason=reason,
        source=ReportSource.SLASH,
        created_at=when,
        details=None,
        message_link=None,
        channel_id=None,
        message_id=None,
        case_id=None,
        counts_toward_threshold=counts,
    )


async def _case(
    tx: Any,
    guild: int,
    target: int,
    urgent: bool,
    opened: datetime,
    actions: list[tuple[CaseAction, timedelta]],
) -> int:
    case = await tx.cases.open(guild, UserSnapshot(target, f"t{target}"), urgent, opened)
    for action, after in actions:
        updated = await tx.cases.apply_action(
            case.id, action, 9, opened + after, allowed_from=ACTIVE
        )
        assert updated is not None
        case = updated
    return int(case.id)


async def _load(store: Any) -> None:
    day = timedelta(days=1)
    minute = timedelta(minutes=1)

    async def fill(tx: Any) -> None:
        # Reports: 3 harassment + 1 spam today, 2 harassment (one not counted) 2 days ago,
        # 1 child safety 10 days ago; one report 40 days ago (outside 30 days); another guild's.
        today = NOW - timedelta(hours=1)
        for r in (1, 2, 3):
            await tx.reports.add(_report(GUILD, r, 50, Reason.HARASSMENT, today))
        await tx.reports.add(_report(GUILD, 4, 51, Reason.SPAM, today))
        await tx.reports.add(_report(GUILD, 5, 52, Reason.HARASSMENT, today - 2 * day))
        await tx.reports.add(
            _report(GUILD, 6, 52, Reason.HARASSMENT, today - 2 * day, counts=False)
        )
        await tx.reports.add(_report(GUILD, 7, 53, Reason.CHILD_SAFETY, today - 10 * day))
        await tx.reports.add(_report(GUILD, 8, 54, Reason.SCAM, NOW - 40 * day))
        await tx.reports.add(_report(OTHER_GUILD, 1, 50, Reason.HATE, today))

        # Urgent cases: first actions after 2, 4 and 10 minutes; resolved after 30 and 60.
        base = NOW - 5 * day
        await _case(
            tx,
            GUILD,
            60,
            True,
            base,
            [
                (CaseAction.NOTE, minute),  # a note is not a first action
                (CaseAction.ACKNOWLEDGE, 2 * minute),
                (CaseAction.RESOLVE, 30 * minute),
            ],
        )
        await _case(tx, GUILD, 61, True, base, [(CaseAction.BAN, 4 * minute)])
        # (a ban resolves the case: 4 minutes to first action and to resolution)
        await _case(
            tx,
            GUILD,
            62,
            True,
            base + day,
            [(CaseAction.ACKNOWLEDGE, 10 * minute), (CaseAction.DISMISS, 60 * minute)],
        )
        # Normal cases: one acknowledged after an hour and still active; one untouched (open,
        # oldest active); one dismissed after 3 hours; only a note on another (open).
        await _case(tx, GUILD, 70, False, base, [(CaseAction.ACKNOWLEDGE, 60 * minute)])
        await _case(tx, GUILD, 71, False, NOW - 20 * day, [])
        await _case(tx, GUILD, 72, False, base, [(CaseAction.DISMISS, 180 * minute)])
        await _case(tx, GUILD, 73, False, base, [(CaseAction.NOTE, minute)])
        # Outside the period: opened 40 days ago, closed 3 days ago (counts as closed only).
        await _case(
            tx, GUILD, 74, False, NOW - 40 * day, [(CaseAction.RESOLVE, timedelta(days=37))]
        )
        # Another guild's case must not leak in.
        await _case(tx, OTHER_GUILD, 80, True, base, [(CaseAction.ACKNOWLEDGE, minute)])

    await store.write(fill)


async def test_figures_on_a_known_data_set(store: Any):
    await _load(store)
    stats = await guild_stats(store, GUILD, 30, NOW)

    assert stats.period.days == 30
    assert stats.period.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert stats.reports_total == 7
    assert stats.reports_by_reason == (
        (Reason.HARASSMENT, 5),
        (Reason.CHILD_SAFETY, 1),
        (Reason.SPAM, 1),
    )
    by_day = {(d.day, d.reason): d.count for d in stats.reports_by_day}
    assert by_day == {
        (date(2026, 11, 30), Reason.HARASSMENT): 3,
        (date(2026, 11, 30), Reason.SPAM): 1,
        (date(2026, 11, 28), Reason.HARASSMENT): 2,
        (date(2026, 11, 20), Reason.CHILD_SAFETY): 1,
    }
    assert stats.reports_not_counted == 1
    assert stats.not_counted_share == pytest.approx(1 / 7)

    assert stats.cases_opened == 7
    # Closed in the period: 60 (resolve), 61 (ban), 62 (dismiss), 72 (dismiss), 74 (resolve).
    assert stats.cases_closed == 5
    # Active now: 70 (acknowledged), 71 and 73 (open).
    assert stats.backlog_active == 3
    assert stats.backlog_unacknowledged == 2
    assert stats.oldest_active_opened_at == NOW - timedelta(days=20)
    assert stats.oldest_active_age == timedelta(days=20)

    urgent, normal = stats.urgent, stats.normal
    assert urgent.cases_opened == 3
    assert urgent.to_first_action.count == 3
    assert urgent.to_first_action.median_seconds == 4 * 60
    assert urgent.to_first_action.p90_seconds == pytest.approx((4 + 0.8 * 6) * 60)
    assert urgent.to_resolution.count == 3  # 4, 30, 60 minutes
    assert urgent.to_resolution.median_seconds == 30 * 60
    assert urgent.to_resolution.p90_seconds == pytest.approx((30 + 0.8 * 30) * 60)

    assert normal.cases_opened == 4
    assert normal.to_first_action.count == 2  # 60 and 180 minutes; the note does not count
    assert normal.to_first_action.median_seconds == 120 * 60
    assert normal.to_first_action.p90_seconds == pytest.approx(168 * 60)
    assert normal.to_resolution.count == 1
    assert normal.to_resolution.median_seconds == 180 * 60

    daily = {d.day: d for d in stats.first_action_by_day}
    assert len(daily) == 30
    assert daily[date(2026, 11, 25)].urgent_seconds == 3 * 60  # 2 and 4 minutes
    assert daily[date(2026, 11, 26)].urgent_seconds == 10 * 60
    assert daily[date(2026, 11, 25)].normal_seconds == 120 * 60
    assert daily[date(2026, 11, 30)].urgent_seconds is None
    assert not stats.timings_truncated


async def test_a_report_taken_as_retaliation_is_not_among_those_that_did_not_count(
    store: Any,
):
    """Moderator 9 reports member 50 back; the report is kept as possible retaliation. The
    stats page (read by moderator 9) must not show one more "did not count" for it: that
    would tell them member 50 had reported them (review of stop 28, finding 3)."""
    today = NOW - timedelta(hours=1)

    async def fill(tx: Any) -> None:
        await tx.reports.add(
            replace(
                _report(GUILD, 9, 50, Reason.HARASSMENT, today, counts=False),
                not_counted_reason=NotCountedReason.RETALIATION.value,
            )
        )
        await tx.reports.add(
            replace(
                _report(GUILD, 8, 50, Reason.HARASSMENT, today, counts=False),
                not_counted_reason=NotCountedReason.ACCOUNT_AGE.value,
            )
        )

    await store.write(fill)
    stats = await guild_stats(store, GUILD, 30, NOW)
    assert stats.reports_total == 2
    assert stats.reports_not_counted == 1  # the new account's, not the retaliation


async def test_shorter_period_and_empty_guild(store: Any):
    await _load(store)
    week = await guild_stats(store, GUILD, 7, NOW)
    assert week.reports_total == 6  # the child-safety report was 10 days ago
    assert week.cases_opened == 6  # case 71 was opened 20 days ago
    assert week.backlog_active == 3  # the backlog is "now", whatever the period

    empty = await guild_stats(store, 999, 30, NOW)
    assert empty.reports_total == 0 and empty.not_counted_share == 0.0
    assert empty.urgent.to_first_action.median_seconds is None
    assert empty.oldest_active_opened_at is None and empty.oldest_active_age is None


async def test_timings_are_bounded(store: Any):
    await _load(store)
    period = period_for(30, NOW)
    stats = await store.read(lambda tx: tx.stats.for_guild(GUILD, period, timing_limit=2))
    assert stats.timings_truncated
    assert stats.urgent.cases_opened + stats.normal.cases_opened == 2
    assert stats.cases_opened == 7  # counts stay exact


async def test_oldest_unacknowledged_urgent_and_ping(store: Any):
    assert await store.read(lambda tx: tx.stats.oldest_unacknowledged_urgent()) is None
    assert await store.read(lambda tx: tx.stats.ping())
    opened = NOW - timedelta(minutes=30)

    async def fill(tx: Any) -> None:
        await _case(tx, GUILD, 90, True, opened, [])
        await _case(
            tx,
            GUILD,
            91,
            True,
            opened - timedelta(hours=1),
            [(CaseAction.ACKNOWLEDGE, timedelta(minutes=1))],
        )
        await _case(tx, GUILD, 92, False, opened - timedelta(hours=2), [])

    await store.write(fill)
    assert await store.read(lambda tx: tx.stats.oldest_unacknowledged_urgent()) == opened


def test_percentile_matches_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.9) == pytest.approx(3.7)


def test_period_is_whole_utc_days_and_clamped():
    late = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert period_for(1, late).since == datetime(2026, 11, 30, tzinfo=UTC)
    assert period_for(0, late).days == 1
    assert period_for(10_000, late).days == 365
    assert len(period_for(30, late).day_list) == 30


def test_build_stats_has_no_identities():
    """The result carries numbers, days and reasons only: nothing to name a person with."""
    period = StatsPeriod(NOW - timedelta(days=1), NOW, 2)
    stats = build_stats(
        period,
        by_day=[(NOW.date(), Reason.SPAM, 2, 0)],
        cases_opened=1,
        cases_closed=0,
        backlog_active=1,
        backlog_unacknowledged=1,
        oldest_active_opened_at=NOW,
        timings=[CaseTiming(True, NOW, None, None)],
    )
    assert "target" not in repr(stats) and "reporter" not in repr(stats)


async def test_outbox_backlog(store: Any):
    from core.models import GuildSettings

    assert (await store.read(lambda tx: tx.stats.outbox_backlog())).pending == 0
    opened = NOW - timedelta(minutes=10)

    async def fill(tx: Any) -> None:
        await tx.settings.save(GuildSettings(guild_id=GUILD, alert_channel_id=777), NOW)
        first = await _case(tx, GUILD, 90, True, opened, [])
        await _case(tx, GUILD, 91, False, opened + timedelta(minutes=1), [])
        await _case(tx, OTHER_GUILD, 92, False, opened - timedelta(hours=1), [])  # no channel
        await tx.cases.mark_alert_posted(first, 1, 777, 5555)

    await store.write(fill)
    backlog = await store.read(lambda tx: tx.stats.outbox_backlog())
    assert backlog.pending == 1
    assert backlog.oldest_unposted_since == opened + timedelta(minutes=1)


async def test_percentile_agrees_with_postgresql(store: Any, backend: str):
    """The Python percentile is PostgreSQL's percentile_cont, checked against the server."""
    if backend != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    import random

    rng = random.Random(5)
    for size in (1, 2, 7, 100):
        values = [rng.uniform(0, 10_000) for _ in range(size)]
        for q in (0.5, 0.9):
            row = await store.read(
                lambda tx, v=values, q=q: tx.stats._db.fetch_one(
                    "SELECT percentile_cont(?) WITHIN GROUP (ORDER BY x) "
                    "FROM unnest(?::float8[]) AS x",
                    (q, v),
                )
            )
            assert percentile(values, q) == pytest.approx(row[0], rel=1e-12)
