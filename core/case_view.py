"""Which buttons an alert offers now: the decision, as plain data (no Discord, no wording).

`alert_actions(data)` says, for a case as it stands, every action the alert shows, in order,
on which row, whether it is enabled, and its tone. ui/ maps an `AlertAction` to its label and
handler and a `Tone` to a button style; nothing here knows either. Adding a button is adding a
member to `AlertAction`, a line to `alert_actions` (and a test in tests/core/test_case_view.py),
then a label and a handler in ui/.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.models import AlertData, CaseAction, CaseEvent, CaseStatus, ReportSource
from core.service import ALLOWED_FROM
from core.welfare import is_welfare_case, offers_check_in


class AlertAction(enum.StrEnum):
    """A button on the alert. The value is the action part of its custom ID (stable: alerts
    already posted carry it). Most record a `CaseAction`; EXPORT only reads the case."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    NOTE = "note"
    EXPORT = "export"
    TIMEOUT = "timeout"
    KICK = "kick"
    BAN = "ban"
    DELETE_MESSAGES = "delete_messages"
    ESCALATE = "escalate"
    SHOW_EVIDENCE = "evidence"
    # t15-welfare: a self-harm case leads with a check-in; what acts on the member is one
    # step away, behind MORE (which only shows those buttons, privately).
    CHECK_IN = "check_in"
    MORE = "more"
    # t15-relay: ask one of the case's reporters a question, anonymously.
    ASK_REPORTER = "ask_reporter"

    @property
    def records(self) -> CaseAction | None:
        """The case action a press records (its transition rule applies); None for EXPORT,
        SHOW_EVIDENCE and MORE, which only read the case (showing evidence logs who looked,
        without a transition) and are allowed in every case state, to moderators, and for
        ASK_REPORTER, whose question is kept by the relay (core/relay.py), not in the audit
        trail."""
        if self in READ_ONLY:
            return None
        return CaseAction(self.value)


READ_ONLY = frozenset(
    {AlertAction.EXPORT, AlertAction.SHOW_EVIDENCE, AlertAction.MORE, AlertAction.ASK_REPORTER}
)


class Tone(enum.StrEnum):
    """How a button looks, by what it does: ui/ maps it to a Discord button style."""

    PRIMARY = "primary"  # the next step
    NEUTRAL = "neutral"
    POSITIVE = "positive"  # closes the case as handled
    DANGER = "danger"  # acts on a member


@dataclass(frozen=True, slots=True)
class ActionState:
    action: AlertAction
    enabled: bool
    row: int
    tone: Tone

    @property
    def disabled(self) -> bool:
        return not self.enabled


def _done(events: tuple[CaseEvent, ...], action: CaseAction) -> bool:
    return any(e.action is action for e in events)


def _member_present(data: AlertData) -> bool:
    """The member is still there to act on (not kicked, banned, or gone)."""
    events = data.events
    gone = _done(events, CaseAction.KICK) or _done(events, CaseAction.BAN)
    return data.case.target_is_member and not gone


def member_actions(data: AlertData, row: int = 1) -> tuple[ActionState, ...]:
    """What acts on the member (timeout, kick, ban, delete their messages), on `row`.

    Also what a welfare case's MORE shows: the same rules, the same buttons."""
    case, events = data.case, data.events
    dismissed = case.status is CaseStatus.DISMISSED
    member = _member_present(data)
    # A link to a message in this server: a DM's message (its link says @me) is no server's
    # to delete.
    has_links = any(
        r.message_link and r.source is not ReportSource.DM_MESSAGE for r in data.reports
    )
    deleted = _done(events, CaseAction.DELETE_MESSAGES)
    return (
        ActionState(AlertAction.TIMEOUT, not dismissed and member, row, Tone.DANGER),
        ActionState(AlertAction.KICK, not dismissed and member, row, Tone.DANGER),
        ActionState(
            AlertAction.BAN, not dismissed and not _done(events, CaseAction.BAN), row, Tone.DANGER
        ),
        ActionState(
            AlertAction.DELETE_MESSAGES,
            not dismissed and has_links and not deleted,
            row,
            Tone.DANGER,
        ),
    )


def _ask_reporter(data: AlertData, row: int) -> ActionState:
    active = data.case.status.is_active
    return ActionState(AlertAction.ASK_REPORTER, active and bool(data.reports), row, Tone.NEUTRAL)


def _check_in(data: AlertData, row: int) -> ActionState:
    allowed = data.case.status in ALLOWED_FROM[CaseAction.CHECK_IN]
    return ActionState(AlertAction.CHECK_IN, allowed and _member_present(data), row, Tone.PRIMARY)


def alert_actions(data: AlertData) -> tuple[ActionState, ...]:
    """The alert's buttons for the case as it stands: two rows of five (Discord's maximum per
    row), handling first, then what acts on the member.

    A disabled button stays visible (the layout does not jump between redraws): it is disabled
    when the action cannot apply any more (status), the member is gone (kicked, banned, left),
    it was done already (a ban, a deletion), or there is nothing to act on (no message link).

    A welfare case (core/welfare.py: someone at risk of self-harm) leads with Check in,
    Acknowledge and Resolve; what acts on the member sits behind More actions."""
    if is_welfare_case(data):
        return welfare_actions(data)
    status = data.case.status
    active = status.is_active
    kept_text = any(r.evidence is not None for r in data.reports)
    evidence = (ActionState(AlertAction.SHOW_EVIDENCE, True, 2, Tone.NEUTRAL),) if kept_text else ()
    # Self-harm beside a child-safety or threat report: today's layout, and a check-in.
    check_in = (_check_in(data, 2),) if offers_check_in(data) else ()
    # t15-relay: ask one of the case's reporters a question, anonymously, while it is open.
    ask = _ask_reporter(data, 2)
    return (
        ActionState(AlertAction.ACKNOWLEDGE, status is CaseStatus.OPEN, 0, Tone.PRIMARY),
        ActionState(AlertAction.RESOLVE, active, 0, Tone.POSITIVE),
        ActionState(AlertAction.DISMISS, active, 0, Tone.NEUTRAL),
        ActionState(AlertAction.NOTE, True, 0, Tone.NEUTRAL),
        ActionState(AlertAction.EXPORT, True, 0, Tone.NEUTRAL),
        *member_actions(data, row=1),
        ActionState(AlertAction.ESCALATE, True, 1, Tone.NEUTRAL),
        *evidence,  # a third row: Show evidence when a reported message's text was kept,
        ask,  # Ask reporter,
        *check_in,  # and Check in when self-harm was reported beside child safety or a threat
    )


def welfare_actions(data: AlertData) -> tuple[ActionState, ...]:
    """A welfare case's alert: care first (Check in, Acknowledge, Resolve, Dismiss, Note),
    then Escalate, Export, Show evidence and More actions, which shows the member actions
    (enabled when one of them is)."""
    status = data.case.status
    active = status.is_active
    kept_text = any(r.evidence is not None for r in data.reports)
    evidence = (ActionState(AlertAction.SHOW_EVIDENCE, True, 1, Tone.NEUTRAL),) if kept_text else ()
    more = any(state.enabled for state in member_actions(data))
    return (
        _check_in(data, 0),
        ActionState(AlertAction.ACKNOWLEDGE, status is CaseStatus.OPEN, 0, Tone.PRIMARY),
        ActionState(AlertAction.RESOLVE, active, 0, Tone.POSITIVE),
        ActionState(AlertAction.DISMISS, active, 0, Tone.NEUTRAL),
        ActionState(AlertAction.NOTE, True, 0, Tone.NEUTRAL),
        ActionState(AlertAction.ESCALATE, True, 1, Tone.NEUTRAL),
        ActionState(AlertAction.EXPORT, True, 1, Tone.NEUTRAL),
        *evidence,
        _ask_reporter(data, 1),  # is someone in danger now, where, how old: ask anonymously
        ActionState(AlertAction.MORE, more, 1, Tone.NEUTRAL),
    )
