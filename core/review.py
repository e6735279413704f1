"""What the web dashboard reads: a queue page with each case's summary, a member's whole
record (about them and by them), and a search of reported members. Read-only: every action
goes through `CaseService`, exactly as the alert's buttons do.

Plain data, no wording: dashboard/ renders it in the server's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Case, CaseEvent, Report, ReporterSignals
from core.ports import Store, UnitOfWork
from core.reasons import Reason
from core.signals import report_seen_by, reporter_signals
from core.snowflakes import parse_id
from core.welfare import asked_for_support

QUEUE_PAGE_SIZE = 25
MEMBER_LIMIT = 50
SEARCH_LIMIT = 20


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One line of the queue: the case, its reasons (most urgent first, with counts), how
    many distinct people reported, and the brigading signals. No reporter is named."""

    case: Case
    reasons: tuple[tuple[Reason, int], ...]
    reporters: int
    signals: ReporterSignals
    asked_for_support: bool  # the member asked for support themselves (a welfare case)


@dataclass(frozen=True, slots=True)
class QueueOverview:
    cases: tuple[CaseSummary, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """Everything about one member in one server: the cases and reports about them (with the
    cases' histories) and the reports they filed themselves."""

    user_id: int
    cases: tuple[Case, ...]
    events: tuple[CaseEvent, ...]
    reports_about: tuple[Report, ...]
    reports_about_total: int
    reports_by: tuple[Report, ...]
    reports_by_total: int
    reports_count: bool  # False: moderators set this member's reports to "don't count"
    case_numbers: dict[int, int]  # case ID -> number, for the reports by them


def summarise(
    case: Case, reports: list[Report], flagged: set[int], viewer_id: int = 0
) -> CaseSummary:
    """The queue's line for `case`, as `viewer_id` may see it: a viewer the retaliation
    signal names is left out of it, their report counted (core.signals.seen_by)."""
    counts: dict[Reason, int] = {}
    for report in reports:
        counts[report.reason] = counts.get(report.reason, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (not item[0].is_critical, -item[1]))
    signals = reporter_signals(
        [report_seen_by(r, viewer_id) for r in reports if not r.asks_for_support],
        flagged - {case.target_id},
    )
    return CaseSummary(
        case=case,
        reasons=tuple(ordered),
        reporters=len({r.reporter_id for r in reports}),
        signals=signals,
        asked_for_support=asked_for_support(tuple(reports)),
    )


class ReviewService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def queue(
        self, guild_id: int, page: int, viewer_id: int, size: int = QUEUE_PAGE_SIZE
    ) -> QueueOverview:
        """Open and acknowledged cases, urgent first, then oldest first, one page of them,
        read in one transaction (a consistent view), as `viewer_id` may see them: never a
        case about the viewer, listed or counted (their own case is refused to them, and a
        reported moderator must not learn from the queue that they were reported)."""

        async def load(tx: UnitOfWork) -> QueueOverview:
            total = await tx.cases.count_active(guild_id, not_about=viewer_id)
            pages = max(1, -(-total // size))
            current = min(max(page, 1), pages)
            cases = await tx.cases.list_active(
                guild_id, size, (current - 1) * size, not_about=viewer_id
            )
            reports = await tx.review.reports_for_cases([c.id for c in cases])
            by_case: dict[int, list[Report]] = {}
            for report in reports:
                if report.case_id is not None:
                    by_case.setdefault(report.case_id, []).append(report)
            reporters = list(dict.fromkeys(r.reporter_id for r in reports))
            flagged = await tx.reports.malicious_history(guild_id, reporters)
            summaries = tuple(
                summarise(c, by_case.get(c.id, []), flagged, viewer_id) for c in cases
            )
            return QueueOverview(summaries, current, pages, total)

        return await self._store.read(load)

    async def member(self, guild_id: int, user_id: int, viewer_id: int) -> MemberRecord:
        """`user_id`'s record as `viewer_id` may see it: never a report about the viewer
        (who reported a moderator stays hidden from them, as their own case is), and nothing
        at all about themselves (refused before this)."""
        if user_id == viewer_id:
            raise ValueError("a moderator's own record is not theirs to read")

        async def load(tx: UnitOfWork) -> MemberRecord:
            # A fixed number of statements, however many cases and reports (no query per case).
            cases = await tx.cases.for_target(guild_id, user_id, MEMBER_LIMIT)
            events = await tx.review.events_for_cases([c.id for c in cases])
            by = await tx.review.by_reporter(guild_id, user_id, MEMBER_LIMIT, not_about=viewer_id)
            numbers = await tx.review.case_numbers(
                guild_id, sorted({r.case_id for r in by if r.case_id is not None})
            )
            return MemberRecord(
                user_id=user_id,
                cases=tuple(cases),
                events=tuple(sorted(events, key=lambda e: e.created_at)),
                # The viewer's own reports never show as retaliation (core.signals.seen_by).
                reports_about=tuple(
                    report_seen_by(r, viewer_id)
                    for r in await tx.reports.about_target(guild_id, user_id, MEMBER_LIMIT)
                ),
                reports_about_total=await tx.reports.count_about_target(guild_id, user_id),
                reports_by=tuple(by),
                reports_by_total=await tx.review.count_by_reporter(
                    guild_id, user_id, not_about=viewer_id
                ),
                reports_count=not await tx.reports.is_muted(guild_id, user_id),
                case_numbers=numbers,
            )

        return await self._store.read(load)

    async def search(
        self, guild_id: int, text: str, viewer_id: int
    ) -> list[tuple[int, str | None]]:
        """Members matching `text`: an ID as it is (whether or not anyone reported them), or
        reported members whose stored name contains it, never the viewer themselves."""
        query = text.strip()[:100]
        number = parse_id(query)
        if number is not None:
            return [] if number == viewer_id else [(number, None)]
        if len(query) < 2:
            return []
        found = await self._store.read(
            lambda tx: tx.review.search_targets(guild_id, query, SEARCH_LIMIT, not_about=viewer_id)
        )
        return [(user_id, name) for user_id, name in found]
