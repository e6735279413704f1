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

from core.models import AlertData, CaseAction, CaseEvent, CaseStatus


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
    ASK_REPORTER = "ask_reporter"

    @property
    def records(self) -> CaseAction | None:
        """The case action a press records (its transition rule applies); None for EXPORT and
        SHOW_EVIDENCE, which only read the case (showing evidence logs who looked, without a
        transition) and are allowed in every case state, to moderators, and ASK_REPORTER,
        whose question is kept by the relay (core/relay.py), not in the audit trail."""
        if self in (AlertAction.EXPORT, AlertAction.SHOW_EVIDENCE, AlertAction.ASK_REPORTER):
            return None
        return CaseAction(self.value)


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


def alert_actions(data: AlertData) -> tuple[ActionState, ...]:
    """The alert's buttons for the case as it stands: two rows of five (Discord's maximum per
    row), handling first, then what acts on the member.

    A disabled button stays visible (the layout does not jump between redraws): it is disabled
    when the action cannot apply any more (status), the member is gone (kicked, banned, left),
    it was done already (a ban, a deletion), or there is nothing to act on (no message link)."""
    case, events = data.case, data.events
    status = case.status
    active = status.is_active
    dismissed = status is CaseStatus.DISMISSED
    gone = _done(events, CaseAction.KICK) or _done(events, CaseAction.BAN)
    member = case.target_is_member and not gone
    has_links = any(r.message_link for r in data.reports)
    deleted = _done(events, CaseAction.DELETE_MESSAGES)
    kept_text = any(r.evidence is not None for r in data.reports)
    evidence = (ActionState(AlertAction.SHOW_EVIDENCE, True, 2, Tone.NEUTRAL),) if kept_text else ()
    # t15-relay: ask one of the case's reporters a question, anonymously, while it is open.
    ask = ActionState(AlertAction.ASK_REPORTER, active and bool(data.reports), 2, Tone.NEUTRAL)
    return (
        ActionState(AlertAction.ACKNOWLEDGE, status is CaseStatus.OPEN, 0, Tone.PRIMARY),
        ActionState(AlertAction.RESOLVE, active, 0, Tone.POSITIVE),
        ActionState(AlertAction.DISMISS, active, 0, Tone.NEUTRAL),
        ActionState(AlertAction.NOTE, True, 0, Tone.NEUTRAL),
        ActionState(AlertAction.EXPORT, True, 0, Tone.NEUTRAL),
        ActionState(AlertAction.TIMEOUT, not dismissed and member, 1, Tone.DANGER),
        ActionState(AlertAction.KICK, not dismissed and member, 1, Tone.DANGER),
        ActionState(
            AlertAction.BAN, not dismissed and not _done(events, CaseAction.BAN), 1, Tone.DANGER
        ),
        ActionState(
            AlertAction.DELETE_MESSAGES, not dismissed and has_links and not deleted, 1, Tone.DANGER
        ),
        ActionState(AlertAction.ESCALATE, True, 1, Tone.NEUTRAL),
        *evidence,  # a third row: Show evidence when a reported message's text was kept,
        ask,  # and Ask reporter
    )
