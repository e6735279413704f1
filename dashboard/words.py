"""Core's values worded for the web, in the server's language, from the same catalogue keys
as the alerts (tests/dashboard/test_words.py keeps these maps equal to ui/alert_view.py's).
Plain text: names and user text go in as they are and the templates escape everything."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from babel.dates import format_datetime, format_timedelta

# The keys live in core/case_words.py; named here too, as the views that use them know them.
from core.case_words import (
    BAN_DELETE_CHOICES,
    CHECK_IN_RESULT_KEYS as CHECK_IN_RESULT_KEYS,
    DISMISS_INLINE_KEYS as DISMISS_INLINE_KEYS,
    DISMISS_LABEL_KEYS,
    ESCALATION_EVENT_KEYS as ESCALATION_EVENT_KEYS,
    ESCALATION_LABEL_KEYS as ESCALATION_LABEL_KEYS,
    ESCALATION_NAMES as ESCALATION_NAMES,
    EVENT_KEYS as EVENT_KEYS,
    RELAY_KEYS as RELAY_KEYS,
    STATUS_KEYS,
    TIMEOUT_CHOICES,
    UNDELIVERED_KEYS as UNDELIVERED_KEYS,
    escalation_label as escalation_label,
    event_line,
    relay_key,
)
from core.followthrough import MAX_REMINDERS
from core.i18n import catalogue_locale, tr
from core.models import (
    CaseAction,
    CaseEvent,
    CaseStatus,
    DeliveryState,
    DismissReason,
    ReminderKind,
    SentReminder,
)
from core.outcomes import Outcome, Term
from core.relay import RelayEntry
from core.service import CaseActionRefused, CaseRefusal, OwnCaseRefused

ACTION_LABEL_KEYS: dict[CaseAction, str] = {
    CaseAction.ACKNOWLEDGE: "action.acknowledge",
    CaseAction.DISMISS: "action.dismiss",
    CaseAction.NOTE: "action.note",
    CaseAction.ESCALATE: "action.escalate",
}
# Core's words of a case, as the alerts use them (the web only shows a name for a mention).
TIMEOUT_KEYS = TIMEOUT_CHOICES
BAN_DELETE_KEYS = BAN_DELETE_CHOICES


# t15-followup: the reporter Q&A and the reminders in a case's timeline (the relay's keys
# are ui/relay_lines.py's).
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


def dismiss_label(reason: DismissReason, locale: str | None) -> str:
    return tr(DISMISS_LABEL_KEYS[reason], locale)


def describe_event(event: CaseEvent, actor: str, locale: str | None) -> str:
    """One line of a case's history, as ui.alert_view.describe_event words it, with the
    moderator's name where Discord shows a mention."""
    return event_line(event, actor, event.note, locale, event.detail or "")


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
    who = who or tr("alert.a_moderator", locale)
    key = relay_key(entry.kind, entry.delivery)
    return plain(tr(key, locale, who=who, reporter=entry.reporter))


def delivery_tag(entry: RelayEntry, locale: str | None) -> str | None:
    """Whether a question reached the reporter, when its line does not say so already."""
    key = DELIVERY_TAG_KEYS.get(entry.delivery) if entry.delivery else None
    return tr(key, locale) if key else None


def reminder_line(reminder: SentReminder, locale: str | None) -> str:
    return plain(
        tr(REMINDER_KEYS[reminder.kind], locale, number=reminder.number, total=MAX_REMINDERS)
    )
