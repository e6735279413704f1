"""Use cases: record a report, act on a case. Each runs as one transaction on the store."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.clock import Clock
from core.evidence import DM_EVIDENCE_GUILD, MAX_DM_HOLDS, MessageEvidence, pending_ttl
from core.followthrough import MINUTE, count_decision, first_reminder_at
from core.models import (
    AlertData,
    Case,
    CaseAction,
    CaseEvent,
    CaseRef,
    CaseStatus,
    GuildSettings,
    ReminderKind,
    Report,
    ReportSource,
    ReportSubmission,
    UserSnapshot,
)
from core.policy import (
    RateLimit,
    Refusal,
    RefusalCode,
    ValidSubmission,
    decide,
    is_rate_limited,
    refuse,
    validate_submission,
    window_start,
)
from core.ports import (
    CaseJoin,
    NewReport,
    ReportWrite,
    Store,
    UnitOfWork,
    make_case_join,
    make_new_report,
)
from core.reasons import Reason
from core.records import hot_record, keyword_maker
from core.setup_rules import SETUP_RANGES
from core.signals import reporter_signals
from core.snowflakes import is_storable_id, snowflake_time
from core.welfare import (
    CHECK_IN_COOLDOWN,
    CHECK_IN_LEASE,
    CheckInResult,
    SupportResult,
    storable_locale,
)

MAX_WINDOW_HOURS = SETUP_RANGES["window_hours"][1]
"""The longest window `/reports setup` and the dashboard accept: a report's one read looks
this far back for what a window decides (retaliation, an unassigned duplicate)."""


def _within(at: datetime | None, since: datetime) -> bool:
    """Whether a newest instant read (None: nothing found) falls inside the window."""
    return at is not None and at >= since


@hot_record
class ReportAccepted:
    """A stored, committed report: only now may the reporter be told it was received."""

    report_id: int
    case_id: int | None
    case_number: int | None
    case_opened: bool
    distinct_reporters: int
    threshold: int
    duplicate: bool
    alert_channel_configured: bool
    region: str | None
    # The form named pending evidence: True if its text was kept, False if it was gone.
    evidence_kept: bool | None = None


make_report_accepted = keyword_maker(ReportAccepted)
"""`ReportAccepted(**kwargs)`, cheaper (`keyword_maker`)."""

ReportOutcome = ReportAccepted | Refusal


class ReportService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rate_limit: RateLimit | None = None,
        on_alert_change: Callable[[], None] | None = None,
        reminder_minute: timedelta = MINUTE,
    ) -> None:
        self._store = store
        self._clock = clock
        self._reminder_minute = reminder_minute
        self._rate_limit = rate_limit or RateLimit()
        self._on_alert_change = on_alert_change or (lambda: None)

    async def submit(self, submission: ReportSubmission) -> ReportOutcome:
        checked = validate_submission(submission)
        if isinstance(checked, Refusal):
            return checked
        # A partial, not a closure awaiting `_record`: one coroutine less per report in the
        # database thread (issue 19). Replayable: `_record` acts only through `tx`.
        submission = checked.submission
        outcome: ReportOutcome = await self._store.write(
            ReportWrite(
                functools.partial(self._record, checked, self._clock.now()),
                submission.guild_id,
                submission.reporter.id,
                submission.target.id,
            )
        )
        if isinstance(outcome, ReportAccepted) and outcome.case_id is not None:
            self._on_alert_change()
        return outcome

    async def _record(
        self, checked: ValidSubmission, now: datetime, tx: UnitOfWork
    ) -> ReportOutcome:
        """The whole decision in one transaction: "alert once" is decided where it is stored."""
        submission, link = checked.submission, checked.link
        guild_id, target, reporter = submission.guild_id, submission.target, submission.reporter
        # One reporter's reports, then one target's, wait here for each other (always in that
        # order, so no two transactions can wait on each other): the rate limit is counted and
        # enforced in one step, whatever the targets and however many processes.
        await tx.reports.lock_for_report(guild_id, reporter.id, target.id)
        # Everything decided below is read at once; what depends on the server's window (not
        # known before this read) comes as the newest instant since the longest window setup
        # allows, compared with this server's window here.
        floor = window_start(now, MAX_WINDOW_HOURS)
        context = await tx.reports.report_context(
            guild_id,
            reporter.id,
            target.id,
            rate_since=now - self._rate_limit.per,
            window_floor=floor,
        )
        if is_rate_limited(context.recent_reports, self._rate_limit):
            return refuse(RefusalCode.RATE_LIMITED)
        settings = context.settings
        since = window_start(now, settings.window_hours)
        case = context.case
        # The schema keeps every window within setup's range (CHECK window_hours BETWEEN 1
        # AND 720, both backends): the read looked back far enough.
        assert since >= floor
        retaliation = _within(context.retaliated_at, since)
        unassigned_duplicate = _within(context.unassigned_at, since)
        # Retaliation and muted reporters are decided here, in the report's transaction, so
        # no race lets such a report count: kept and shown, never counted, never alerting alone.
        counting = count_decision(
            old_enough=counts_toward_threshold(reporter.id, now, settings.min_account_age_days),
            retaliation=retaliation,
            muted=context.muted,
        )
        counts = counting.counts
        critical = submission.reason.is_critical and counting.may_alert
        duplicate = context.in_case if case is not None else unassigned_duplicate
        evidence = None
        # A DM's message is in no server: where it is (channel, message) stays in its link
        # only, so nothing that acts on a server's channels (deletion) ever reaches a DM.
        in_server = link if link is not None and link.guild_id is not None else None
        if submission.evidence_id is not None and link is not None:
            held_in = guild_id if in_server is not None else DM_EVIDENCE_GUILD
            evidence = await tx.reports.claim_evidence(
                submission.evidence_id,
                held_in,
                reporter.id,
                target.id,
                link.channel_id,
                link.message_id,
                held_since=now - pending_ttl(held_in),
            )
        # A server's link is checked against its channels (policy); a DM's cannot be: Vigil is
        # in no DM. Its link is kept only with the text it claimed, which proves Discord showed
        # the reporter that message by that author. Without it (a forged form, text expired or
        # never held) the report is kept without a link: nothing unverifiable is shown.
        kept_link = link if in_server is not None or evidence is not None else None
        report = make_new_report(
            guild_id=guild_id,
            reporter=reporter,
            target=target,
            reason=submission.reason,
            source=submission.source,
            created_at=now,
            details=checked.details,
            message_link=kept_link.url if kept_link else None,
            channel_id=in_server.channel_id if in_server else None,
            message_id=in_server.message_id if in_server else None,
            case_id=case.id if case is not None else None,
            counts_toward_threshold=counts,
            evidence=evidence,
            not_counted_reason=counting.reason.value if counting.reason else None,
        )
        opened = False
        # Only reports that may alert turn a case urgent, so only they start the reminders.
        reminder_at = (
            first_reminder_at(now, settings.urgent_reminder_minutes, self._reminder_minute)
            if critical
            else None
        )
        if case is not None:
            # The case keeps its count of distinct counting reporters: one more when this
            # report counts and its reporter had no counting report in the case yet.
            join = make_case_join(
                case_id=case.id,
                target=target,
                urgent=critical,
                reminder_at=reminder_at,
                new_reporter=counts and not context.counted_in_case,
                reporters_before=context.case_reporters,
            )
            report_id, count = await tx.reports.add_to_case(report, join)
        else:
            report_id, count = await tx.reports.add_unassigned(report, since)
            decision = decide(
                distinct_reporters=count, threshold=settings.threshold, critical=critical
            )
            if decision.open_case:
                new = await tx.cases.open(guild_id, target, decision.urgent, now, reminder_at)
                await tx.reports.assign_unassigned(guild_id, target.id, since, new.id)
                await tx.cases.recount_reporters([new.id])
                case = CaseRef(id=new.id, number=new.number)
                # Details reporters added before there was a case join it (t15-relay).
                await tx.relay.attach_to_case(new.id, now)
                opened = True
        return make_report_accepted(
            report_id=report_id,
            case_id=case.id if case else None,
            case_number=case.number if case else None,
            case_opened=opened,
            distinct_reporters=count,
            threshold=settings.threshold,
            duplicate=duplicate,
            alert_channel_configured=settings.is_configured,
            region=settings.region,
            evidence_kept=None if submission.evidence_id is None else evidence is not None,
        )

    async def request_support(
        self, guild_id: int, member: UserSnapshot, source: ReportSource, locale: str | None
    ) -> SupportResult:
        """A member who reported themselves for self-harm agreed to let the moderators know
        they could use support: a welfare case, alerting at once like every critical reason.

        Stored is that they asked (a self-harm report by the member about themselves: never
        what they wrote) and their Discord locale on the case, so a check-in reaches them in
        their language. Pressed again, or while a case about them is open, it joins that case
        once. Nothing is stored when the server has no alert channel (the member is asked to
        message a moderator instead) or the member's reporting limit is reached."""
        now = self._clock.now()
        kept_locale = storable_locale(locale)

        async def record(tx: UnitOfWork) -> tuple[SupportResult, bool]:
            """(the result, whether anything was stored)."""
            await tx.reports.lock_for_report(guild_id, member.id, member.id)
            settings = await tx.settings.get(guild_id)
            if not settings.is_configured:
                return SupportResult.NOT_CONFIGURED, False
            case = await tx.cases.active_for_target(guild_id, member.id)
            if case is not None and await tx.reports.reporter_in_case(case.id, member.id):
                return SupportResult.ASKED, False  # already known: nothing new to store
            recent = await tx.reports.count_by_reporter_since(
                guild_id, member.id, now - self._rate_limit.per
            )
            if is_rate_limited(recent, self._rate_limit):
                return SupportResult.RATE_LIMITED, False
            reminder_at = first_reminder_at(
                now, settings.urgent_reminder_minutes, self._reminder_minute
            )
            report = NewReport(
                guild_id=guild_id,
                reporter=member,
                target=member,
                reason=Reason.SELF_HARM,
                source=source,
                created_at=now,
                details=None,
                message_link=None,
                channel_id=None,
                message_id=None,
                case_id=case.id if case is not None else None,
            )
            if case is not None:
                # Not in the case yet (asked above), and this report counts: one more.
                join = CaseJoin(
                    case_id=case.id,
                    target=member,
                    urgent=True,
                    reminder_at=reminder_at,
                    new_reporter=True,
                )
                await tx.reports.add_to_case(report, join)
            else:
                await tx.reports.add(report)
                since = window_start(now, settings.window_hours)
                case = await tx.cases.open(guild_id, member, True, now, reminder_at)
                await tx.reports.assign_unassigned(guild_id, member.id, since, case.id)
                await tx.cases.recount_reporters([case.id])
            await tx.cases.set_target_locale(case.id, kept_locale)
            return SupportResult.ASKED, True

        result, stored = await self._store.write(record)
        if stored:
            self._on_alert_change()
        return result

    async def hold_evidence(
        self,
        guild_id: int,
        reporter_id: int,
        channel_id: int,
        message_id: int,
        evidence: MessageEvidence,
    ) -> int:
        """Keep a reported message's evidence while its (stateless) form is open. A DM's text
        (held under no server) is capped per reporter: holding one more drops their oldest,
        whose form then files without it (its answer says so)."""
        now = self._clock.now()

        async def hold(tx: UnitOfWork) -> int:
            if guild_id == DM_EVIDENCE_GUILD:
                # Serialised per reporter (as their reports are), so the cap holds across
                # processes too.
                await tx.reports.lock_reporter(DM_EVIDENCE_GUILD, reporter_id)
                await tx.reports.keep_newest_held(DM_EVIDENCE_GUILD, reporter_id, MAX_DM_HOLDS - 1)
            return await tx.reports.hold_evidence(
                guild_id, reporter_id, channel_id, message_id, evidence, now
            )

        return await self._store.write(hold)

    async def discard_evidence(
        self, evidence_id: int, reporter_id: int, held_in: int = DM_EVIDENCE_GUILD
    ) -> None:
        """Drop a message's pending text that will not be filed (a DM's "none, just tell me
        where to report", a server that was refused, a refused report): the reporter's own
        row only, held in `held_in` (a server, or DM_EVIDENCE_GUILD)."""

        async def discard(tx: UnitOfWork) -> None:
            await tx.reports.discard_evidence(evidence_id, held_in, reporter_id)

        await self._store.write(discard)


@dataclass(frozen=True, slots=True)
class MemberHistory:
    cases: tuple[Case, ...]
    reports: tuple[Report, ...]
    report_total: int
    events: tuple[CaseEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedAction:
    """An action in a case's history; `status_moved` False when it was recorded without the
    status change it normally makes (the case had moved on meanwhile)."""

    case: Case
    status_moved: bool


@dataclass(frozen=True, slots=True)
class CheckInClaim:
    """This moderator may send the check-in now (`at`: the claim, given back if undelivered)."""

    case: Case
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckInHeld:
    """A check-in reached the member `since` (`delivered`), or is being sent by another
    moderator: no second one yet."""

    case: Case
    since: datetime
    delivered: bool


#: What a moderator writes in a form (a note, an escalation's reference) is recorded once when
#: the same form is sent twice (two tabs, a double click on the dashboard): the same moderator,
#: action, text and detail within TWIN_WINDOW is one action. Status changes need no such rule
#: (their compare-and-set admits one), and what Discord did (a ban) is always recorded.
TWIN_GUARDED = frozenset({CaseAction.NOTE, CaseAction.ESCALATE})
TWIN_WINDOW = timedelta(seconds=10)


class CaseRefusal(StrEnum):
    """Why a case action cannot apply: a code, worded by ui/alert_view.describe_refusal."""

    NO_CASE = "no_case"
    OWN_CASE = "own_case"
    NOT_APPLICABLE = "not_applicable"


class CaseActionRefused(Exception):
    """A moderator action that cannot apply, as a value: ``code`` says why, ``case`` (None:
    no such case in this server) and ``action`` fill the message, which ui/ words in the
    server's language (``ui.alert_view.describe_refusal``)."""

    def __init__(
        self, code: str, *, case: Case | None = None, action: CaseAction | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.case = case
        self.action = action


class OwnCaseRefused(CaseActionRefused):
    """Nobody acts on a case about themselves: a reported moderator cannot close, note,
    export or enforce their own case (another moderator or the owner must)."""


_ACTIVE = frozenset({CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED})
_ANY = frozenset(CaseStatus)
ALLOWED_FROM: dict[CaseAction, frozenset[CaseStatus]] = {
    CaseAction.ACKNOWLEDGE: frozenset({CaseStatus.OPEN}),
    CaseAction.RESOLVE: _ACTIVE,
    CaseAction.DISMISS: _ACTIVE,
    CaseAction.NOTE: _ANY,
    CaseAction.ESCALATE: _ANY,
    # Enforcement stays possible after a first action (a ban after a timeout), not after a
    # dismissal: moderators decided the reports were not a violation.
    CaseAction.TIMEOUT: _ACTIVE | {CaseStatus.RESOLVED},
    CaseAction.KICK: _ACTIVE | {CaseStatus.RESOLVED},
    CaseAction.BAN: _ACTIVE | {CaseStatus.RESOLVED},
    CaseAction.DELETE_MESSAGES: _ACTIVE | {CaseStatus.RESOLVED},
    CaseAction.EVIDENCE_VIEWED: _ANY,
    # A check-in may follow a resolution (a member closed as "handled" may still need one),
    # never a dismissal (moderators decided the reports were not real).
    CaseAction.CHECK_IN: _ACTIVE | {CaseStatus.RESOLVED},
    CaseAction.EXPORTED: _ANY,
    CaseAction.ERASURE_HELD: _ANY,
}
MAX_CASE_NUMBER = 2**31 - 1
"""The highest case number a database can hold (PostgreSQL INTEGER): a larger number from a
command or a URL names no case, and must not reach the query (it would overflow)."""


def counts_toward_threshold(reporter_id: int, now: datetime, min_account_age_days: int) -> bool:
    """Reports from accounts younger than the server's minimum are kept but not counted."""
    if min_account_age_days <= 0:
        return True
    return now - snowflake_time(reporter_id) >= timedelta(days=min_account_age_days)


@dataclass(frozen=True, slots=True)
class QueuePage:
    cases: tuple[Case, ...]
    page: int
    pages: int
    total: int


QUEUE_PAGE_SIZE = 8


class CaseService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_alert_change: Callable[[], None] | None = None,
        on_feedback_queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_alert_change = on_alert_change or (lambda: None)
        self._on_feedback_queued = on_feedback_queued or (lambda: None)

    async def require(
        self, guild_id: int, case_id: int, action: CaseAction | None, actor_id: int | None = None
    ) -> Case:
        """The case, if it belongs to this guild, the action applies to it now and (given the
        actor) the actor is not the case's target. `action` None: reading it (an export),
        which any case state allows."""
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        case = await self._store.read(lambda tx: tx.cases.get(case_id))
        _check(case, guild_id, action, actor_id)
        assert case is not None
        return case

    async def act(
        self,
        guild_id: int,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        *,
        note: str | None = None,
        detail: str | None = None,
    ) -> Case:
        """Record a moderator action. The case is re-read: a custom ID carries no trust."""
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        recorded = await self._record(guild_id, case_id, action, actor_id, note, detail)
        assert recorded is not None
        return recorded.case

    async def record_enforcement(
        self, guild_id: int, case_id: int, action: CaseAction, actor_id: int, detail: str
    ) -> RecordedAction | None:
        """Record what Discord already did (a timeout, kick, ban or deletion), truthfully.

        The action is always added to the case's history; the status moves only if the
        transition still applies (another moderator may have dismissed the case while this
        one confirmed a ban). None only when the case no longer exists (erased meanwhile).
        """
        if not is_storable_id(case_id):
            return None
        return await self._record(guild_id, case_id, action, actor_id, None, detail, always=True)

    async def _record(
        self,
        guild_id: int,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        note: str | None,
        detail: str | None,
        *,
        always: bool = False,
    ) -> RecordedAction | None:
        now = self._clock.now()
        feedback_queued = False

        async def apply(tx: UnitOfWork) -> RecordedAction | None:
            nonlocal feedback_queued
            case = await tx.cases.get(case_id)
            while True:
                if always and (case is None or case.guild_id != guild_id):
                    return None
                if (
                    always
                    and case is not None
                    and (case.status not in ALLOWED_FROM[action] or case.target_id == actor_id)
                ):
                    kept = await tx.cases.append_event(
                        case_id, action, actor_id, now, note=note, detail=detail
                    )
                    return None if kept is None else RecordedAction(kept, status_moved=False)
                _check(case, guild_id, action, actor_id)
                assert case is not None
                # Compare-and-set on the status just read: if another moderator's action
                # commits in between, this one re-reads and decides again.
                updated = await tx.cases.apply_action(
                    case_id,
                    action,
                    actor_id,
                    now,
                    allowed_from={case.status},
                    note=note,
                    detail=detail,
                    twin_since=now - TWIN_WINDOW if action in TWIN_GUARDED else None,
                )
                if updated is not None:
                    break
                case = await tx.cases.get(case_id)
            newly_resolved = case.status.is_active and updated.status is CaseStatus.RESOLVED
            if newly_resolved:
                settings = await tx.settings.get(guild_id)
                if settings.reporter_feedback:
                    reports = await tx.reports.for_case(case_id)
                    # A member who asked for support themselves is no reporter to thank.
                    reporters = list(
                        dict.fromkeys(r.reporter_id for r in reports if not r.asks_for_support)
                    )
                    if reporters:
                        await tx.cases.queue_feedback(case_id, reporters, now)
                        feedback_queued = True
            return RecordedAction(updated, status_moved=action.resulting_status is not None)

        recorded = await self._store.write(apply)
        if recorded is not None:
            self._on_alert_change()
        if feedback_queued:
            self._on_feedback_queued()
        return recorded

    # --- t15-welfare: check-ins ---

    async def claim_check_in(
        self, guild_id: int, case_id: int, actor_id: int
    ) -> CheckInClaim | CheckInHeld:
        """Hold the case's check-in for this moderator, before any DM is sent.

        The case rules apply (this guild's, not about the presser, not dismissed); then a
        compare-and-set on `check_in_at` in the same transaction: of two moderators pressing
        at once, exactly one gets the claim, whatever the backend or the number of processes.
        A claim is released when the DM is not delivered (`record_check_in`); a delivered one
        holds the next check-in back for CHECK_IN_COOLDOWN."""
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        now = self._clock.now()

        async def claim(tx: UnitOfWork) -> CheckInClaim | CheckInHeld:
            case = await tx.cases.get(case_id)
            _check(case, guild_id, CaseAction.CHECK_IN, actor_id)
            assert case is not None
            free_before, lease_before = now - CHECK_IN_COOLDOWN, now - CHECK_IN_LEASE
            if await tx.cases.claim_check_in(case_id, now, free_before, lease_before):
                return CheckInClaim(case, now)
            held = await tx.cases.get(case_id)
            assert held is not None
            delivered = await tx.cases.check_in_delivered(case_id)
            return CheckInHeld(held, held.check_in_at or now, delivered)

        return await self._store.write(claim)

    async def record_check_in(
        self, claim: CheckInClaim, actor_id: int, result: CheckInResult
    ) -> Case | None:
        """The check-in's outcome in the case's history (a code); an undelivered one gives its
        claim back, so another try is possible at once. None: the case was erased meanwhile."""
        now = self._clock.now()
        case_id = claim.case.id

        async def record(tx: UnitOfWork) -> Case | None:
            if result is not CheckInResult.SENT:
                await tx.cases.release_check_in(case_id, claim.at)
            return await tx.cases.append_event(
                case_id, CaseAction.CHECK_IN, actor_id, now, detail=result.value
            )

        recorded = await self._store.write(record)
        if recorded is not None:
            self._on_alert_change()
        return recorded

    # --- end t15-welfare ---

    async def mark_alert_rendered(
        self, case_id: int, revision: int, channel_id: int, message_id: int
    ) -> None:
        """An alert was updated in place (e.g. by a button's response): the outbox is even."""
        await self._store.write(
            lambda tx: tx.cases.mark_alert_posted(case_id, revision, channel_id, message_id)
        )

    async def alert_delivered(
        self,
        case: Case,
        revision: int,
        channel_id: int,
        message_id: int,
        ping_sent: int,
    ) -> bool:
        """The outbox delivered: the case is even, and the guild's delivery problems are over
        (whichever process recorded them). False: the case was erased or purged while its
        alert was being posted: nothing refers to the message, so it is queued for deletion
        (`alert_cleanup`) in this same write; the outbox's cleanup deletes it, retrying."""
        now = self._clock.now()

        async def record(tx: UnitOfWork) -> bool:
            if not await tx.cases.mark_alert_posted(
                case.id, revision, channel_id, message_id, ping_sent
            ):
                await tx.guild_data.queue_message_cleanup(
                    case.guild_id, channel_id, message_id, now
                )
                return False
            await tx.guild_data.clear_delivery_problems(case.guild_id)
            return True

        return await self._store.write(record)

    async def note_delivery_problem(self, guild_id: int, problem: str) -> None:
        """Kept per guild in the database, so `/reports config` in any process shows them."""
        now = self._clock.now()
        await self._store.write(
            lambda tx: tx.guild_data.note_delivery_problem(guild_id, problem, now)
        )

    async def delivery_problems(self, guild_id: int | None = None) -> list[tuple[int, str]]:
        return await self._store.read(lambda tx: tx.guild_data.delivery_problems(guild_id))

    async def set_reports_count(
        self, guild_id: int, user_id: int, counts: bool, actor_id: int
    ) -> bool:
        """Set a member's reports to "don't count" (or back), silently and reversibly: their
        reports are still stored and shown, never counted, never alerting on their own. The
        switch is recorded (who, when) in reporter_count_events. False: nothing changed."""
        if not is_storable_id(user_id):
            return False
        now = self._clock.now()

        async def switch(tx: UnitOfWork) -> bool:
            return await tx.reports.set_muted(guild_id, user_id, not counts, actor_id, now)

        return await self._store.write(switch)

    async def reports_count(self, guild_id: int, user_id: int) -> bool:
        return not await self._store.read(lambda tx: tx.reports.is_muted(guild_id, user_id))

    def now(self) -> datetime:
        """The service's clock (the outbox schedules reminders on it; tests fake it)."""
        return self._clock.now()

    async def record_reminder(
        self,
        case_id: int,
        number: int,
        next_at: datetime | None,
        sent: ReminderKind | None = None,
    ) -> bool:
        """Count reminder `number` (a compare-and-set: True in one process only) and, when one
        was `sent`, keep what went and when for the case's timeline, in the same transaction.
        None: the step was skipped (reminders were turned off)."""
        at = self._clock.now()

        async def record(tx: UnitOfWork) -> bool:
            return await tx.cases.reminder_sent(
                case_id, number, next_at, None if sent is None else (sent, at)
            )

        return await self._store.write(record)

    async def note_post_started(self, case_id: int) -> None:
        await self._store.write(lambda tx: tx.cases.note_post_started(case_id))

    # --- t15-relay: the case's thread ---

    async def set_thread(self, case_id: int, thread_id: int) -> bool:
        """Record the thread started under the case's alert: True in one process only."""
        return await self._store.write(lambda tx: tx.cases.set_thread(case_id, thread_id, None))

    async def thread_gone(self, case_id: int, thread_id: int) -> None:
        """The thread was deleted (by a moderator): none again for this case; what would go
        there goes under the alert, or stays with the case."""
        await self._store.write(lambda tx: tx.cases.set_thread(case_id, 0, thread_id))

    async def thread_moved(self, case: Case) -> None:
        """The alert moved (the reported member can read where it was): its thread stays
        behind, where they can read it too. It is forgotten (a new one is started under the
        new alert) and Vigil's messages in it are deleted, like a purged case's."""
        old = case.thread_id
        if old is None:
            return
        now = self._clock.now()

        async def move(tx: UnitOfWork) -> None:
            # A deleted thread (0) is forgotten too: the new alert may have a thread again.
            if await tx.cases.set_thread(case.id, None, old) and old:
                await tx.guild_data.queue_thread_cleanup(case.guild_id, old, now)

        await self._store.write(move)

    async def request_redraw(self, case_id: int) -> None:
        """Have the outbox deliver the alert again (it routes it again on the way)."""
        await self._store.write(lambda tx: tx.cases.request_redraw(case_id))
        self._on_alert_change()

    async def queue_page(self, guild_id: int, page: int, viewer_id: int) -> QueuePage:
        """One page of `/reports queue` as `viewer_id` may see it: never a case about the
        viewer (listed or counted), as their own case is refused to them, so a reported
        moderator does not learn from the queue that they were reported."""

        async def load(tx: UnitOfWork) -> QueuePage:
            total = await tx.cases.count_active(guild_id, not_about=viewer_id)
            pages = max(1, -(-total // QUEUE_PAGE_SIZE))
            current = min(max(page, 1), pages)
            cases = await tx.cases.list_active(
                guild_id,
                QUEUE_PAGE_SIZE,
                (current - 1) * QUEUE_PAGE_SIZE,
                not_about=viewer_id,
            )
            return QueuePage(tuple(cases), current, pages, total)

        return await self._store.read(load)

    async def list_active(self, guild_id: int, limit: int) -> list[Case]:
        return await self._store.read(lambda tx: tx.cases.list_active(guild_id, limit))

    async def history(self, guild_id: int, target_id: int, limit: int) -> MemberHistory:
        async def load(tx: UnitOfWork) -> MemberHistory:
            cases = await tx.cases.for_target(guild_id, target_id, limit)
            reports = await tx.reports.about_target(guild_id, target_id, limit)
            total = await tx.reports.count_about_target(guild_id, target_id)
            events: list[CaseEvent] = []
            for case in cases:
                events += await tx.cases.events(case.id)
            return MemberHistory(
                cases=tuple(cases),
                reports=tuple(reports),
                report_total=total,
                events=tuple(events),
            )

        return await self._store.read(load)

    async def by_number(
        self, guild_id: int, number: int, *, story: bool = False
    ) -> AlertData | None:
        """The case numbered `number` in this server; `story`: with its reporter Q&A and
        reminders (the record views)."""
        if not 0 < number <= MAX_CASE_NUMBER or not is_storable_id(guild_id):
            return None
        case = await self._store.read(lambda tx: tx.cases.get_by_number(guild_id, number))
        return None if case is None else await self.alert_data(case.id, story=story)

    async def alert_data(self, case_id: int, *, story: bool = False) -> AlertData | None:
        return await self._store.read(lambda tx: _load_alert_data(tx, case_id, story=story))

    async def export_case(
        self, guild_id: int, case_id: int, actor_id: int, *, reporters_note: str | None = None
    ) -> AlertData:
        """The case as the escalation packet shows it, after recording what the packet
        reveals, in the same transaction and so before any file can leave: the kept message
        text (an ``exported`` event, as Show evidence records ``evidence_viewed``) and, when
        reporters' IDs are included, `reporters_note` as a note. The case's own target is
        refused (``OwnCaseRefused``); any case state may be exported."""
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        now = self._clock.now()

        async def export(tx: UnitOfWork) -> AlertData:
            case = await tx.cases.get(case_id)
            _check(case, guild_id, None, actor_id)
            if reporters_note is not None:
                await tx.cases.append_event(
                    case_id, CaseAction.NOTE, actor_id, now, note=reporters_note
                )
            if any(r.evidence is not None for r in await tx.reports.for_case(case_id)):
                await tx.cases.log_event(case_id, CaseAction.EXPORTED, actor_id, now)
            data = await _load_alert_data(tx, case_id, story=True)
            assert data is not None  # read in this transaction, just above
            return data

        data = await self._store.write(export)
        if reporters_note is not None:
            self._on_alert_change()  # the alert shows the note
        return data

    async def view_evidence(
        self, guild_id: int, case_id: int, actor_id: int
    ) -> tuple[Case, list[Report]]:
        """The case's reports that kept a message's text, for a moderator who asked to see
        them; who looked and when goes into the case's audit trail in the same transaction.
        The case's own target is refused (``OwnCaseRefused``), like every case action."""
        if not is_storable_id(case_id):
            raise CaseActionRefused(CaseRefusal.NO_CASE)
        now = self._clock.now()

        async def view(tx: UnitOfWork) -> tuple[Case, list[Report]]:
            case = await tx.cases.get(case_id)
            _check(case, guild_id, CaseAction.EVIDENCE_VIEWED, actor_id)
            assert case is not None
            reports = [r for r in await tx.reports.for_case(case_id) if r.evidence is not None]
            if reports:
                await tx.cases.log_event(case_id, CaseAction.EVIDENCE_VIEWED, actor_id, now)
            return case, reports

        return await self._store.write(view)

    async def pending_feedback(self, limit: int) -> list[tuple[int, int]]:
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.cases.pending_feedback(limit, now))

    async def claim_feedback(
        self, case_id: int, reporter_id: int, lease: timedelta = timedelta(minutes=5)
    ) -> bool:
        """One process sends each feedback DM; a crash releases it when the lease ends."""
        now = self._clock.now()
        return await self._store.write(
            lambda tx: tx.cases.claim_feedback(case_id, reporter_id, now, now + lease)
        )

    async def mark_feedback(self, case_id: int, reporter_id: int, state: str) -> None:
        now = self._clock.now()
        await self._store.write(lambda tx: tx.cases.mark_feedback(case_id, reporter_id, state, now))


async def _load_alert_data(
    tx: UnitOfWork, case_id: int, *, story: bool = False
) -> AlertData | None:
    """The case as its alert shows it; with `story`, also its reporter Q&A and the reminders
    sent (what the record views show: the dashboard, `/reports case`, the packet)."""
    case = await tx.cases.get(case_id)
    if case is None:
        return None
    settings = await tx.settings.get(case.guild_id)
    reports = await tx.reports.for_case(case_id)
    events = await tx.cases.events(case_id)
    reporter_ids = list(dict.fromkeys(r.reporter_id for r in reports))
    flagged = await tx.reports.malicious_history(case.guild_id, reporter_ids)
    counted = {r.reporter_id for r in reports if r.counts_toward_threshold}
    return AlertData(
        case=case,
        settings=settings,
        reports=tuple(reports),
        distinct_reporters=len(counted),
        events=tuple(events),
        # A member's own request for support is no brigade: not among the signals.
        signals=reporter_signals(
            [r for r in reports if not r.asks_for_support], flagged - {case.target_id}
        ),
        relay=tuple(await tx.relay.for_case(case_id)) if story else (),
        reminders=tuple(await tx.cases.reminders(case_id)) if story else (),
    )


def _check(
    case: Case | None, guild_id: int, action: CaseAction | None, actor_id: int | None = None
) -> None:
    if case is None or case.guild_id != guild_id:
        raise CaseActionRefused(CaseRefusal.NO_CASE)
    if actor_id is not None and actor_id == case.target_id:
        raise OwnCaseRefused(
            CaseRefusal.OWN_CASE,
            case=case,
            action=action,
        )
    if action is not None and case.status not in ALLOWED_FROM[action]:
        raise CaseActionRefused(
            CaseRefusal.NOT_APPLICABLE,
            case=case,
            action=action,
        )


class SettingsService:
    def __init__(
        self, store: Store, clock: Clock, on_alert_change: Callable[[], None] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_alert_change = on_alert_change or (lambda: None)

    async def get(self, guild_id: int) -> GuildSettings:
        return await self._store.read(lambda tx: tx.settings.get(guild_id))

    async def save(self, settings: GuildSettings) -> None:
        now = self._clock.now()

        async def save(tx: UnitOfWork) -> None:
            await tx.settings.save(settings, now)
            # Problems with the old channel no longer apply; new ones are found again.
            await tx.guild_data.clear_delivery_problems(settings.guild_id)

        await self._store.write(save)
        # A newly named channel may unblock alerts that waited for setup.
        self._on_alert_change()

    async def note_locales(self, locales: dict[int, str]) -> None:
        """Remember servers' languages (at ready, join, setup): a process that does not see a
        server still renders its alerts in the server's language.

        Read first, write only what changed: at every ready this is called for every server
        of the process, and a write transaction of thousands of upserts (one round trip each
        on PostgreSQL) would hold up the reports queued behind it for nothing."""
        if not locales:
            return
        stored = await self._store.read(lambda tx: tx.settings.locales(list(locales)))
        changed = {g: loc for g, loc in locales.items() if g not in stored or stored[g] != loc}
        if not changed:
            return
        now = self._clock.now()

        async def note(tx: UnitOfWork) -> None:
            for guild_id, locale in changed.items():
                await tx.settings.note_locale(guild_id, locale, now)

        await self._store.write(note)
