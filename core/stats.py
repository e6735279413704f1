"""Team figures for `/reports stats`: how many reports, how fast cases are picked up, what waits.

Plain data and pure arithmetic, no discord and no wording: storage/stats.py fetches the rows in
SQL (the same statements on both backends) and builds a `GuildStats` here; the presentation
(text in the reader's language, the chart) reads it. Only team figures: no moderator, reporter
or target appears in any of these records.

Definitions (they are what the figures mean, so they are fixed here, once):
- The period is the last `days` UTC calendar days, today included: from midnight UTC
  `days - 1` days ago up to `now`. Days are UTC days whatever the server's time zone.
- "First moderator action" is a case's earliest recorded event other than a note
  (acknowledge, resolve, dismiss, escalate, timeout, kick, ban, delete messages): a note is a
  comment, not a decision anyone outside the team can see.
- Times to first action and to resolution are measured over the cases opened in the period
  (a cohort); a case not acted on (or not closed) yet is left out of that figure and shows in
  the backlog instead. "Resolution" is `closed_at - opened_at`, whether resolved or dismissed.
- Percentiles interpolate linearly between the two nearest ranks, like PostgreSQL's
  `percentile_cont`; they are computed here in Python so both backends agree to the bit.
- "Did not count" are reports stored with `counts_toward_threshold = 0` (accounts younger than
  the server's minimum today; later kinds of discounted reports add to the same column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from core.reasons import Reason

if TYPE_CHECKING:
    from core.ports import Store

DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 365


@dataclass(frozen=True, slots=True)
class StatsPeriod:
    since: datetime  # midnight UTC of the first day
    until: datetime  # `now`: the end, exclusive
    days: int

    @property
    def day_list(self) -> tuple[date, ...]:
        first = self.since.date()
        return tuple(first + timedelta(days=i) for i in range(self.days))


def period_for(days: int, now: datetime) -> StatsPeriod:
    """The last `days` UTC days ending at `now` (today included). `days` is clamped to 1..365."""
    days = max(1, min(MAX_STATS_DAYS, days))
    today = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    return StatsPeriod(since=today - timedelta(days=days - 1), until=now, days=days)


@dataclass(frozen=True, slots=True)
class DayReasonCount:
    """Reports of one reason on one UTC day (only non-zero pairs are listed)."""

    day: date
    reason: Reason
    count: int


@dataclass(frozen=True, slots=True)
class CaseTiming:
    """One case opened in the period, as storage reads it (no IDs: only what the figures need)."""

    urgent: bool
    opened_at: datetime
    first_action_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Durations:
    """Median and 90th percentile of some durations, in seconds; None when there are none."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True, slots=True)
class UrgencyFigures:
    cases_opened: int
    to_first_action: Durations
    to_resolution: Durations


@dataclass(frozen=True, slots=True)
class DayMedians:
    """Median time to first action of the cases opened on one UTC day, urgent and normal."""

    day: date
    urgent_seconds: float | None
    normal_seconds: float | None


@dataclass(frozen=True, slots=True)
class GuildStats:
    period: StatsPeriod
    reports_total: int
    reports_by_reason: tuple[tuple[Reason, int], ...]  # most frequent first
    reports_by_day: tuple[DayReasonCount, ...]  # by day, then reason
    reports_not_counted: int
    cases_opened: int
    cases_closed: int  # closed in the period, whenever opened
    backlog_active: int  # open or acknowledged now
    backlog_unacknowledged: int  # still open: nobody has acknowledged or acted
    oldest_active_opened_at: datetime | None
    urgent: UrgencyFigures
    normal: UrgencyFigures
    first_action_by_day: tuple[DayMedians, ...]  # one per day of the period
    timings_truncated: bool  # more cases than `timing_limit`: the newest ones were used

    @property
    def not_counted_share(self) -> float:
        """Share of the period's reports that did not count (0.0 with no reports)."""
        return self.reports_not_counted / self.reports_total if self.reports_total else 0.0

    @property
    def oldest_active_age(self) -> timedelta | None:
        if self.oldest_active_opened_at is None:
            return None
        return max(timedelta(0), self.period.until - self.oldest_active_opened_at)


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """The alert outbox as the database sees it (for operators' metrics and health)."""

    pending: int  # alerts to post or edit
    oldest_unposted_since: datetime | None  # opened_at of the oldest alert never posted


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def durations(values: Sequence[float]) -> Durations:
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def _figures(timings: Sequence[CaseTiming]) -> UrgencyFigures:
    first = [
        (t.first_action_at - t.opened_at).total_seconds()
        for t in timings
        if t.first_action_at is not None
    ]
    closed = [(t.closed_at - t.opened_at).total_seconds() for t in timings if t.closed_at]
    return UrgencyFigures(
        len(timings),
        durations([max(0.0, s) for s in first]),
        durations([max(0.0, s) for s in closed]),
    )


def build_stats(
    period: StatsPeriod,
    *,
    by_day: Iterable[tuple[date, Reason, int, int]],
    cases_opened: int,
    cases_closed: int,
    backlog_active: int,
    backlog_unacknowledged: int,
    oldest_active_opened_at: datetime | None,
    timings: Sequence[CaseTiming],
    timings_truncated: bool = False,
) -> GuildStats:
    """Assemble the figures from storage's rows: (day, reason, reports, of which not counted)."""
    per_day: list[DayReasonCount] = []
    per_reason: dict[Reason, int] = {}
    total = not_counted = 0
    for day, reason, count, discounted in sorted(by_day, key=lambda r: (r[0], r[1].value)):
        per_day.append(DayReasonCount(day, reason, count))
        per_reason[reason] = per_reason.get(reason, 0) + count
        total += count
        not_counted += discounted
    urgent = [t for t in timings if t.urgent]
    normal = [t for t in timings if not t.urgent]
    buckets: dict[tuple[date, bool], list[float]] = {}
    for t in timings:
        if t.first_action_at is not None:
            seconds = max(0.0, (t.first_action_at - t.opened_at).total_seconds())
            buckets.setdefault((t.opened_at.date(), t.urgent), []).append(seconds)
    daily = [
        DayMedians(
            day,
            percentile(buckets.get((day, True), []), 0.5),
            percentile(buckets.get((day, False), []), 0.5),
        )
        for day in period.day_list
    ]
    return GuildStats(
        period=period,
        reports_total=total,
        reports_by_reason=tuple(
            sorted(per_reason.items(), key=lambda item: (-item[1], item[0].value))
        ),
        reports_by_day=tuple(per_day),
        reports_not_counted=not_counted,
        cases_opened=cases_opened,
        cases_closed=cases_closed,
        backlog_active=backlog_active,
        backlog_unacknowledged=backlog_unacknowledged,
        oldest_active_opened_at=oldest_active_opened_at,
        urgent=_figures(urgent),
        normal=_figures(normal),
        first_action_by_day=tuple(daily),
        timings_truncated=timings_truncated,
    )


async def guild_stats(store: Store, guild_id: int, days: int, now: datetime) -> GuildStats:
    """The figures for `/reports stats [days]`, read in one transaction (a consistent view)."""
    period = period_for(days, now)
    return await store.read(lambda tx: tx.stats.for_guild(guild_id, period))
