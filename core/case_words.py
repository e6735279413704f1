"""Catalogue keys for a case's values and events, and one line of its history: shared by the
Discord face (ui/alert_view.py) and the web face (dashboard/words.py), which differ only in how
they show the moderator (a mention that never pings, or a name) and the note (neutralised for
Discord's markdown, or plain for an escaped template)."""

from __future__ import annotations

from core.followthrough import DELETE_ANYWAY
from core.i18n import tr
from core.models import (
    CaseAction,
    CaseEvent,
    CaseStatus,
    DeliveryState,
    DismissReason,
    EscalationTarget,
    RelayKind,
)
from core.welfare import CheckInResult

TIMEOUT_CHOICES: dict[str, str] = {
    "600": "duration.ten_minutes",
    "3600": "duration.one_hour",
    "86400": "duration.one_day",
    "604800": "duration.one_week",
}
"""Timeout length in seconds -> catalogue key of its label."""
BAN_DELETE_CHOICES: dict[str, str] = {
    "0": "ban_delete.none",
    "3600": "ban_delete.hour",
    "86400": "ban_delete.day",
    "604800": "ban_delete.week",
}
"""Seconds of messages a ban deletes -> catalogue key of its label."""
STATUS_KEYS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "status.open",
    CaseStatus.ACKNOWLEDGED: "status.acknowledged",
    CaseStatus.RESOLVED: "status.resolved",
    CaseStatus.DISMISSED: "status.dismissed",
}
EVENT_KEYS: dict[CaseAction, str] = {
    CaseAction.ACKNOWLEDGE: "event.acknowledge",
    CaseAction.RESOLVE: "event.resolve",
    CaseAction.DISMISS: "event.dismiss",
    CaseAction.NOTE: "event.note",
    CaseAction.ESCALATE: "event.escalate",
    CaseAction.TIMEOUT: "event.timeout",
    CaseAction.KICK: "event.kick",
    CaseAction.BAN: "event.ban",
    CaseAction.DELETE_MESSAGES: "event.delete_messages",
    CaseAction.EVIDENCE_VIEWED: "event.evidence_viewed",
    CaseAction.CHECK_IN: "event.check_in",  # t15-welfare
    CaseAction.EXPORTED: "event.exported",  # t18-sec
    CaseAction.ERASURE_HELD: "event.erasure_held",
}
CHECK_IN_RESULT_KEYS: dict[str, str] = {
    CheckInResult.SENT.value: "checkin.event_sent",
    CheckInResult.DMS_CLOSED.value: "checkin.event_dms_closed",
    CheckInResult.FAILED.value: "checkin.event_failed",
}
"""A check-in's delivery (the event's detail, a code) -> catalogue key of its words."""
DISMISS_LABEL_KEYS: dict[DismissReason, str] = {
    DismissReason.NOT_A_VIOLATION: "dismiss.not_violation",
    DismissReason.DUPLICATE: "dismiss.duplicate",
    DismissReason.MALICIOUS: "dismiss.malicious",
}
DISMISS_INLINE_KEYS: dict[DismissReason, str] = {
    DismissReason.NOT_A_VIOLATION: "dismissed.not_violation",
    DismissReason.DUPLICATE: "dismissed.duplicate",
    DismissReason.MALICIOUS: "dismissed.malicious",
}
ESCALATION_LABEL_KEYS: dict[EscalationTarget, str] = {
    EscalationTarget.POLICE: "escalation.police",
    EscalationTarget.HOTLINE: "escalation.hotline",
}
ESCALATION_NAMES: dict[EscalationTarget, str] = {
    EscalationTarget.DISCORD: "Discord Trust & Safety",
    EscalationTarget.NCMEC: "NCMEC CyberTipline",
}
"""Names, not words: they stay as the organisations write them, in every language."""
ESCALATION_EVENT_KEYS: dict[EscalationTarget, str] = {
    EscalationTarget.POLICE: "event.escalate_police",
    EscalationTarget.HOTLINE: "event.escalate_hotline",
}
""""escalated to the police": a whole sentence per target, so each language puts its own article
and case on the noun (an die Polizei, à la police, a la policía, à polícia)."""


def escalation_label(target: EscalationTarget, locale: str | None = None) -> str:
    key = ESCALATION_LABEL_KEYS.get(target)
    return tr(key, locale) if key else ESCALATION_NAMES[target]


def event_line(
    event: CaseEvent, actor: str, note: str | None, locale: str | None, member: str = ""
) -> str:
    """One line of a case's history: `{actor} timed out the member (1 hour), reason: {note}`.
    ``actor``, ``note`` and ``member`` (the member an event names in its detail, for
    ERASURE_HELD) come as the caller shows them (``note`` None: no note shown)."""
    if event.action is CaseAction.ERASURE_HELD:
        member = member or tr("event.erased_member", locale)  # erased since (no detail)
        text = tr(EVENT_KEYS[event.action], locale, actor=actor, member=member)
    elif event.action is CaseAction.ESCALATE and event.detail:
        target = EscalationTarget.parse(event.detail)
        if target in ESCALATION_EVENT_KEYS:
            text = tr(ESCALATION_EVENT_KEYS[target], locale, actor=actor)
        else:
            where = (
                escalation_label(target, locale)
                if target is not None
                else tr("escalation.elsewhere", locale)
            )
            text = tr("event.escalate_to", locale, actor=actor, where=where)
    else:
        text = tr(EVENT_KEYS[event.action], locale, actor=actor)
    detail = _detail_key(event)
    if detail is not None:
        text += f" ({tr(detail, locale)})"
    if note and event.action is not CaseAction.NOTE:
        key = "event.ref" if event.action is CaseAction.ESCALATE else "event.reason"
        text += ", " + tr(key, locale, note=note)
    return text


def _detail_key(event: CaseEvent) -> str | None:
    """The catalogue key of what an event's detail adds in brackets (a duration, a choice)."""
    detail = event.detail
    if event.action is CaseAction.TIMEOUT and detail in TIMEOUT_CHOICES:
        return TIMEOUT_CHOICES[detail]
    if event.action is CaseAction.BAN and detail in BAN_DELETE_CHOICES:
        return BAN_DELETE_CHOICES[detail]
    if event.action is CaseAction.DELETE_MESSAGES and detail == DELETE_ANYWAY:
        return "event.delete_anyway"
    if event.action is CaseAction.CHECK_IN and detail in CHECK_IN_RESULT_KEYS:
        return CHECK_IN_RESULT_KEYS[detail]
    reason = DismissReason.parse(detail) if event.action is CaseAction.DISMISS else None
    return DISMISS_INLINE_KEYS[reason] if reason is not None else None


RELAY_KEYS: dict[RelayKind, str] = {
    RelayKind.QUESTION: "feed.question",
    RelayKind.ANSWER: "feed.answer",
    RelayKind.DETAILS: "feed.details",
    RelayKind.STOPPED: "feed.stopped",
}
"""A step of the reporter Q&A (a question, an answer, details, "stop messages") -> its line's
key; the case's thread, `/reports case` and the dashboard all word it from here."""
UNDELIVERED_KEYS: dict[DeliveryState, str] = {
    DeliveryState.DMS_CLOSED: "feed.question_dms_closed",
    DeliveryState.FAILED: "feed.question_failed",
}
"""A question that did not reach the reporter says so in its own line."""


def relay_key(kind: RelayKind, delivery: DeliveryState | None) -> str:
    if kind is RelayKind.QUESTION and delivery in UNDELIVERED_KEYS:
        return UNDELIVERED_KEYS[delivery]
    return RELAY_KEYS[kind]
