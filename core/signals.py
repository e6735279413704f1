"""Brigading signals: facts about who reported, so moderators can tell a raid from a crowd."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from core.followthrough import NotCountedReason
from core.models import (
    BURST_MINUTES,
    BURST_REPORTERS,
    NEW_ACCOUNT_DAYS,
    RECENT_JOIN_HOURS,
    Report,
    ReporterSignals,
)
from core.snowflakes import snowflake_time


def is_new_account(reporter_id: int, at: Report) -> bool:
    return at.created_at - snowflake_time(reporter_id) < timedelta(days=NEW_ACCOUNT_DAYS)


def joined_recently(report: Report) -> bool:
    joined = report.reporter_joined_at
    return joined is not None and report.created_at - joined < timedelta(hours=RECENT_JOIN_HOURS)


def has_burst(reports: Iterable[Report]) -> bool:
    """BURST_REPORTERS distinct reporters whose first reports fall within BURST_MINUTES."""
    first: dict[int, Report] = {}
    for report in sorted(reports, key=lambda r: r.created_at):
        first.setdefault(report.reporter_id, report)
    times = sorted(r.created_at for r in first.values())
    span = timedelta(minutes=BURST_MINUTES)
    return any(
        times[i + BURST_REPORTERS - 1] - times[i] <= span
        for i in range(len(times) - BURST_REPORTERS + 1)
    )


def retaliating(reports: Iterable[Report]) -> frozenset[int]:
    """Reporters whose report in the case was kept but not counted as retaliation (the
    case's target had reported them first): the members its retaliation line names, so
    parties of the case (``AlertData.parties``). A request for support is no report here."""
    return frozenset(
        r.reporter_id
        for r in reports
        if not r.asks_for_support
        and not r.counts_toward_threshold
        and r.not_counted_reason == NotCountedReason.RETALIATION.value
    )


def reporter_signals(reports: Iterable[Report], flagged: Iterable[int]) -> ReporterSignals:
    """Counted per distinct reporter, from each reporter's first report in the case."""
    ordered = sorted(reports, key=lambda r: r.created_at)
    first: dict[int, Report] = {}
    for report in ordered:
        first.setdefault(report.reporter_id, report)
    reporters = set(first)
    why = {NotCountedReason.RETALIATION.value: set[int](), NotCountedReason.MUTED.value: set[int]()}
    for report in ordered:
        if not report.counts_toward_threshold and report.not_counted_reason in why:
            why[report.not_counted_reason].add(report.reporter_id)
    special = why[NotCountedReason.RETALIATION.value] | why[NotCountedReason.MUTED.value]
    return ReporterSignals(
        new_accounts=sum(is_new_account(rid, rep) for rid, rep in first.items()),
        recent_joiners=sum(joined_recently(rep) for rep in first.values()),
        burst=has_burst(ordered),
        not_counted=len(
            {r.reporter_id for r in ordered if not r.counts_toward_threshold}
            - {r.reporter_id for r in ordered if r.counts_toward_threshold}
            - special
        ),
        flagged_reporters=frozenset(set(flagged) & reporters),
        retaliation=frozenset(why[NotCountedReason.RETALIATION.value]),
        muted=frozenset(why[NotCountedReason.MUTED.value]),
    )
