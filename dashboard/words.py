"""Core's values worded for the web, in the server's language, from the same catalogue keys
as the alerts (tests/dashboard/test_words.py keeps these maps equal to ui/alert_view.py's).
Plain text: names and user text go in as they are and the templates escape everything."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from babel.dates import format_datetime, format_timedelta

from core.followthrough import DELETE_ANYWAY, MAX_REMINDERS
from core.i18n import catalogue_locale, tr
from core.models import (
    CaseAction,
    CaseEvent,
    CaseStatus,
    DeliveryState,
    DismissReason,
    EscalationTarget,
    RelayKind,
    ReminderKind,
    SentReminder,
)
from core.outcomes import Outcome, Term
from core.relay import RelayEntry
from core.service import CaseActionRefused, CaseRefusal, OwnCaseRefused
from core.welfare import CheckInResult

STATUS_KEYS: dict[CaseStatus, str] = {s: f"status.{s.value}" for s in CaseStatus}
EVENT_KEYS: dict[CaseAction, str] = {a: f"event.{a.value}" for a in CaseAction}
DISMISS_LABEL_KEYS: dict[DismissReason, str] = {r: f"dismiss.{r.value}" for r in DismissReason}
DISMISS_INLINE_KEYS: dict[DismissReason, str] = {r: f"dismissed.{r.value}" for r in DismissReason}
ESCALATION_LABEL_KEYS: dict[EscalationTarget, str] = {
    EscalationTarget.POLICE: "escalation.police",
    EscalationTarget.HOTLINE: "escalation.hotline",
}
ESCALATION_NAMES: dict[EscalationTarget, str] = {
    EscalationTarget.DISCORD: "Discord Trust & Safety",
    EscalationTarget.NCMEC: "NCMEC CyberTipline",
}
ESCALATION_EVENT_KEYS: dict[EscalationTarget, str] = {
    EscalationTarget.POLICE: "event.escalate_police",
    EscalationTarget.HOTLINE: "event.escalate_hotline",
}
ACTION_LABEL_KEYS: dict[CaseAction, str] = {
    CaseAction.ACKNOWLEDGE: "action.acknowledge",
    CaseAction.DISMISS: "action.dismiss",
    CaseAction.NOTE: "action.note",
    CaseAction.ESCALATE: "action.escalate",
}
TIMEOUT_KEYS: dict[str, str] = {
    "600": "duration.ten_minutes",
    "3600": "duration.one_hour",
    "86400": "duration.one_day",
    "604800": "duration.one_week",
}
CHECK_IN_RESULT_KEYS: dict[str, str] = {
    CheckInResult.SENT.value: "checkin.event_sent",
    CheckInResult.DMS_CLOSED.value: "checkin.event_dms_closed",
    CheckInResult.FAILED.value: "checkin.event_failed",
}
BAN_DELETE_KEYS: dict[str, str] = {
    "0": "ban_delete.none",
    "3600": "ban_delete.hour",
    "86400": "ban_delete.day",
    "604800": "ban_delete.week",
}


# t15-followup: the reporter Q&A and the reminders in a case's timeline (the relay's keys
# are ui/relay_lines.py's).
RELAY_KEYS: dict[RelayKind, str] = {
    RelayKind.QUESTION: "feed.question",
    RelayKind.ANSWER: "feed.answer",
    RelayKind.DETAILS: "feed.details",
    RelayKind.STOPPED: "feed.stopped",
}
UNDELIVERED_KEYS: dict[DeliveryState, str] = {
    DeliveryState.DMS_CLOSED: "feed.question_dms_closed",
    DeliveryState.FAILED: "feed.question_failed",
}
DELIVERY_TAG_KEYS: dict[DeliveryState, str] = {
    DeliveryState.SENT: "relay.delivered",
    DeliveryState.SENDING: "relay.unconfirmed",
}
REMINDER_KEYS: dict[ReminderKind, str] = {
    ReminderKind.REMINDER: "dash.reminder_sent",
    ReminderKind.OWNER: "dash.reminder_owner",
}


def plain(text: str) -> str:
    """A catalogue text without Discord's markdown (bold, code): the web would show the
    markers as they are."""
    return text.replace("**", "").replace("__", "").replace("`", "")


def language(locale: str | None) -> str:
    """The page's `lang` (BCP 47): en, de, fr, es, es-419, pt-BR."""
    return catalogue_locale(locale).replace("_", "-")


def status_label(status: CaseStatus, locale: str | None) -> str:
    return tr(STATUS_KEYS[status], locale)


def escalation_label(target: EscalationTarget, locale: str | None) -> str:
    key = ESCALATION_LABEL_KEYS.get(target)
    return tr(key, locale) if key else ESCALATION_NAMES[target]


def dismiss_label(reason: DismissReason, locale: str | None) -> str:
    return tr(DISMISS_LABEL_KEYS[reason], locale)


def describe_event(event: CaseEvent, actor: str, locale: str | None) -> str:
    """One line of a case's history, as ui.alert_view.describe_event words it, with the
    moderator's name where Discord shows a mention."""
    if event.action is CaseAction.ESCALATE and event.detail:
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
    if event.action is CaseAction.TIMEOUT and event.detail in TIMEOUT_KEYS:
        text += f" ({tr(TIMEOUT_KEYS[event.detail], locale)})"
    elif event.action is CaseAction.BAN and event.detail in BAN_DELETE_KEYS:
        text += f" ({tr(BAN_DELETE_KEYS[event.detail], locale)})"
    elif event.action is CaseAction.DELETE_MESSAGES and event.detail == DELETE_ANYWAY:
        text += f" ({tr('event.delete_anyway', locale)})"
    elif event.action is CaseAction.CHECK_IN and event.detail in CHECK_IN_RESULT_KEYS:
        text += f" ({tr(CHECK_IN_RESULT_KEYS[event.detail], locale)})"  # delivered or not
    elif event.action is CaseAction.DISMISS and DismissReason.parse(event.detail) is not None:
        text += f" ({tr(DISMISS_INLINE_KEYS[DismissReason(str(event.detail))], locale)})"
    if event.note and event.action not in (CaseAction.NOTE,):
        key = "event.ref" if event.action is CaseAction.ESCALATE else "event.reason"
        text += ", " + tr(key, locale, note=event.note)
    return text


def describe_refusal(refused: CaseActionRefused, locale: str | None) -> str:
    if refused.case is None:
        return tr("refused.no_case", locale)
    if isinstance(refused, OwnCaseRefused) or refused.code == CaseRefusal.OWN_CASE:
        return tr("refused.own_case", locale, number=refused.case.number)
    if refused.action is None:
        return tr("refused.no_case", locale)
    action_key = ACTION_LABEL_KEYS.get(refused.action, f"action.{refused.action.value}")
    return plain(
        tr(
            "refused.not_applicable",
            locale,
            number=refused.case.number,
            status=status_label(refused.case.status, locale),
            action=tr(action_key, locale),
        )
    )


def describe_outcome(outcome: Outcome, locale: str | None) -> str:
    params: Mapping[str, object] = {
        name: tr(value, locale) if isinstance(value, Term) else value
        for name, value in outcome.params.items()
    }
    return plain(tr(outcome.code, locale, **params))


def when(moment: datetime, locale: str | None) -> str:
    """A date and time in the reader's language, in UTC (no script to learn their zone)."""
    text = format_datetime(
        moment.astimezone(UTC), "medium", tzinfo=UTC, locale=catalogue_locale(locale)
    )
    return f"{text} UTC"


def age(moment: datetime, now: datetime, locale: str | None) -> str:
    """How long ago, in the reader's language ("3 hours")."""
    return format_timedelta(
        max(timedelta(0), now - moment), threshold=1.5, locale=catalogue_locale(locale)
    )


def duration(seconds: float | None, locale: str | None) -> str:
    """A short duration as /reports stats words it ("42 min", "5.5 h", "3.2 d")."""
    if seconds is None:
        return tr("stats.none", locale)
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} {tr('stats.unit_minutes', locale)}"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} {tr('stats.unit_hours', locale)}"
    return f"{hours / 24:.1f} {tr('stats.unit_days', locale)}"


def relay_line(entry: RelayEntry, who: str | None, locale: str | None) -> str:
    """A step of the reporter Q&A, as the case's thread words it: the reporter by number
    only, `who` the moderator who asked (a question). Its user text is shown apart."""
    key = RELAY_KEYS[entry.kind]
    if entry.kind is RelayKind.QUESTION and entry.delivery in UNDELIVERED_KEYS:
        key = UNDELIVERED_KEYS[entry.delivery]
    who = who or tr("alert.a_moderator", locale)
    return plain(tr(key, locale, who=who, reporter=entry.reporter))


def delivery_tag(entry: RelayEntry, locale: str | None) -> str | None:
    """Whether a question reached the reporter, when its line does not say so already."""
    key = DELIVERY_TAG_KEYS.get(entry.delivery) if entry.delivery else None
    return tr(key, locale) if key else None


def reminder_line(reminder: SentReminder, locale: str | None) -> str:
    return plain(
        tr(REMINDER_KEYS[reminder.kind], locale, number=reminder.number, total=MAX_REMINDERS)
    )
