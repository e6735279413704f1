"""Follow-through decisions (issue 14): which reports count, and when an urgent case that
nobody has taken is brought up again. Pure functions: storage gathers the facts, the outbox
delivers; nothing here reads a clock or talks to Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import AlertData, CaseAction
from core.outcomes import Vocabulary
from core.reasons import Reason


class NotCountedReason(Vocabulary):
    """Why a stored report does not count toward the threshold (a code; ui/ words it)."""

    ACCOUNT_AGE = "account_age"  # the reporter's account is younger than the server's minimum
    # The reporter is the target of a case, inside the window, that the person they now report
    # had reported: possible retaliation, shown to moderators, never counted.
    RETALIATION = "retaliation"
    # Moderators set this member's reports to "don't count": kept and shown, never counted.
    MUTED = "muted_reporter"


@dataclass(frozen=True, slots=True)
class CountDecision:
    """Whether a new report counts toward the threshold, and may open or upgrade a case alone.

    `may_alert` is False for retaliation and muted reporters: even a critical reason does not
    open (or turn urgent) a case on their report alone; the reporter still gets full guidance."""

    counts: bool
    reason: NotCountedReason | None = None

    @property
    def may_alert(self) -> bool:
        return self.reason not in (NotCountedReason.RETALIATION, NotCountedReason.MUTED)


_COUNTS = CountDecision(True)
_MUTED = CountDecision(False, NotCountedReason.MUTED)
_RETALIATION = CountDecision(False, NotCountedReason.RETALIATION)
_TOO_YOUNG = CountDecision(False, NotCountedReason.ACCOUNT_AGE)


def count_decision(*, old_enough: bool, retaliation: bool, muted: bool) -> CountDecision:
    """The strongest reason wins: a moderator's decision first, then retaliation, then age.
    One of four frozen answers, built once (every report asks, issue 19)."""
    if muted:
        return _MUTED
    if retaliation:
        return _RETALIATION
    if not old_enough:
        return _TOO_YOUNG
    return _COUNTS


#: Reminders per urgent case before the server owner (or admin channel) is told instead.
MAX_REMINDERS = 3


#: A minute, as the schedule counts it. Tests shorten it (REMINDER_MINUTE_SECONDS); never
#: change it in production.
MINUTE = timedelta(minutes=1)


def reminder_delay(minutes: int, reminders_sent: int, minute: timedelta = MINUTE) -> timedelta:
    """Growing intervals: the first reminder N minutes after the case turned urgent, the
    second 2N after it, the third 4N after that; the owner's notice follows the third after
    4N again (doubling once more would leave a child in danger waiting too long)."""
    step = min(reminders_sent, MAX_REMINDERS - 1)
    factor: int = minutes * 2**step
    return minute * factor


def first_reminder_at(
    opened_or_urgent_at: datetime, minutes: int, minute: timedelta = MINUTE
) -> datetime | None:
    """When an urgent case first needs a reminder; None when reminders are off (0)."""
    if minutes <= 0:
        return None
    return opened_or_urgent_at + reminder_delay(minutes, 0, minute)


@dataclass(frozen=True, slots=True)
class ReminderStep:
    """What is due now for an urgent case nobody has acted on.

    `number` 1..MAX_REMINDERS is a reminder replying to the alert; MAX_REMINDERS + 1 is the
    notice to the owner. `next_at` is when the following step is due (None: nothing more)."""

    number: int
    notify_owner: bool
    next_at: datetime | None


def next_step(
    *, reminders_sent: int, minutes: int, now: datetime, minute: timedelta = MINUTE
) -> ReminderStep | None:
    """The step due now, given how many were already sent; None when all are done or off."""
    if minutes <= 0 or reminders_sent > MAX_REMINDERS:
        return None
    number = reminders_sent + 1
    if number > MAX_REMINDERS:
        return ReminderStep(number, notify_owner=True, next_at=None)
    delay = reminder_delay(minutes, number, minute)
    return ReminderStep(number, notify_owner=False, next_at=now + delay)


def waited_minutes(since: datetime, now: datetime, minute: timedelta = MINUTE) -> int:
    """Whole minutes an urgent case has waited (what the owner is told; never its content)."""
    return max(0, int((now - since) // minute))


def owner_notice_waited(
    minutes: int, due_at: datetime, now: datetime, minute: timedelta = MINUTE
) -> int:
    """Minutes the case has waited when the owner is told: the whole schedule (N + 2N + 4N +
    4N after it turned urgent) plus however late the notice is."""
    schedule = sum(
        (reminder_delay(minutes, sent, minute) for sent in range(MAX_REMINDERS + 1)), timedelta()
    )
    return waited_minutes(due_at - schedule, now, minute)


#: "Delete anyway": the confirmation's argument, and the event detail that records it.
DELETE_ANYWAY_ARG = "1"
DELETE_ANYWAY = "delete_anyway"


def deletion_waits_for_escalation(data: AlertData) -> bool:
    """On an urgent child-safety case, messages are deleted only after step 3 (the case was
    escalated: reported to Discord, a hotline or the police) is recorded, because deleting
    first destroys what Discord's Trust & Safety and the police need. A moderator can still
    choose "delete anyway", recorded with their name."""
    case = data.case
    if not case.urgent or not any(r.reason is Reason.CHILD_SAFETY for r in data.reports):
        return False
    return not any(e.action is CaseAction.ESCALATE for e in data.events)


class SafetyStep(Vocabulary):
    """The order that protects a child: contain, keep evidence, report, then remove."""

    CONTAIN = "contain"  # time out (or remove) the member; pause DMs where possible
    EVIDENCE = "evidence"  # what was said is kept, or reported to Discord before deletion
    REPORT = "report"  # Discord's report flow and the hotline or police (Escalated)
    REMOVE = "remove"  # delete the messages, only after the report


@dataclass(frozen=True, slots=True)
class StepState:
    """One step as the alert shows it: done by whom and when (None: not yet). `by` is None
    with `at` set when Vigil did it itself (the message text kept with the report)."""

    step: SafetyStep
    by: int | None = None
    at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.at is not None


_STEP_ACTIONS = {
    SafetyStep.CONTAIN: (CaseAction.TIMEOUT, CaseAction.KICK, CaseAction.BAN),
    SafetyStep.REPORT: (CaseAction.ESCALATE,),
    SafetyStep.REMOVE: (CaseAction.DELETE_MESSAGES,),
}


def evidence_kept(data: AlertData) -> datetime | None:
    """When the evidence step was done by itself: the first report that kept the reported
    message's text ("Report message"); None when no text was kept."""
    kept = [r.created_at for r in data.reports if r.evidence is not None]
    return min(kept) if kept else None


def child_safety_steps(data: AlertData) -> tuple[StepState, ...]:
    """The four steps of an urgent child-safety case, ticked off from its history; empty for
    any other case."""
    if not data.case.urgent or not any(r.reason is Reason.CHILD_SAFETY for r in data.reports):
        return ()
    states = []
    for step in SafetyStep:
        if step is SafetyStep.EVIDENCE:
            states.append(StepState(step, None, evidence_kept(data)))
            continue
        first = next((e for e in data.events if e.action in _STEP_ACTIONS[step]), None)
        states.append(
            StepState(step, first.actor_id, first.created_at) if first else StepState(step)
        )
    return tuple(states)
