"""Brigading signals: facts about who reported, so moderators can tell a raid from a crowd."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from core.followthrough import NotCountedReason
from core.models import (
    BURST_MINUTES,
    BURST_REPORTERS,
    NEW_ACCOUNT_DAYS,
    RECENT_JOIN_HOURS,
    AlertData,
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


def seen_by(data: AlertData, readers: frozenset[int]) -> AlertData:
    """The case as `readers` may read it: never naming one of them as possible retaliation.

    The retaliation line says "X reported this member, who had reported them": read by X, it
    would tell X who reported them (rule 2). So, wherever one of the members it names reads
    (an alert's channel, their own `/reports case`, dashboard page or export), their name
    leaves the line and their reports show as they would without the rule: counted, in the
    distinct count too. Nothing else changes, and nothing is stored: the threshold was decided
    when each report came in, and every other reader sees the signal as it is."""
    hidden = data.signals.retaliation & readers
    if not hidden:
        return data
    reports = tuple(_as_counted(r) if r.reporter_id in hidden else r for r in data.reports)
    counted = {r.reporter_id for r in reports if r.counts_toward_threshold}
    return replace(
        data,
        reports=reports,
        distinct_reporters=len(counted),
        signals=replace(data.signals, retaliation=data.signals.retaliation - hidden),
    )


def report_seen_by(report: Report, viewer_id: int) -> Report:
    """One report as `viewer_id` may read it (see `seen_by`): their own report not counted as
    retaliation shows as counted."""
    return _as_counted(report) if report.reporter_id == viewer_id else report


def _as_counted(report: Report) -> Report:
    """A report not counted as retaliation, shown as counted; any other, as it is."""
    if report.not_counted_reason != NotCountedReason.RETALIATION.value:
        return report
    return replace(report, counts_toward_threshold=True, not_counted_reason=None)


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
