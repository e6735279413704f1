"""What moderators see: alerts, case details, the queue, audit lines. Plain data; cogs draw it.

Moderator-facing text follows the server's language: every renderer takes ``locale`` (a
Discord locale code such as ``str(guild.preferred_locale)``) and falls back to English. User
text, names, IDs and Discord timestamps are never translated. ``describe_event`` without a
locale stays English: the export file (for authorities) uses it that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from core.case_view import AlertAction, Tone, alert_actions

# The words of a case's values and events are core's (shared with dashboard/words.py);
# re-exported here for the Discord face's callers.
from core.case_words import (
    BAN_DELETE_CHOICES as BAN_DELETE_CHOICES,
    CHECK_IN_RESULT_KEYS as CHECK_IN_RESULT_KEYS,
    DISMISS_INLINE_KEYS as DISMISS_INLINE_KEYS,
    DISMISS_LABEL_KEYS as DISMISS_LABEL_KEYS,
    ESCALATION_EVENT_KEYS as ESCALATION_EVENT_KEYS,
    ESCALATION_LABEL_KEYS as ESCALATION_LABEL_KEYS,
    ESCALATION_NAMES as ESCALATION_NAMES,
    EVENT_KEYS as EVENT_KEYS,
    STATUS_KEYS as STATUS_KEYS,
    TIMEOUT_CHOICES as TIMEOUT_CHOICES,
    escalation_label as escalation_label,
    event_line,
)
from core.evidence import UNKNOWN_TYPE, MessageEvidence
from core.followthrough import SafetyStep, StepState, child_safety_steps
from core.i18n import tr
from core.models import (
    BURST_MINUTES,
    BURST_REPORTERS,
    NEW_ACCOUNT_DAYS,
    RECENT_JOIN_HOURS,
    AlertData,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    DeliveryState,
    DismissReason,
    GuildSettings,
    Report,
    ReportSource,
)
from core.outbox import TO_OWNER_DM, WITHHELD, AlertMessage, UrgentPing
from core.outcomes import Outcome, Term
from core.relay import relay_story, reporter_order
from core.service import CaseActionRefused, CaseRefusal, OwnCaseRefused
from core.signals import seen_by
from core.snowflakes import snowflake_time
from core.text import neutralise, safe_name, trim
from core.welfare import asked_for_support
from ui.limits import shorten
from ui.markup import absolute, mention_channel, mention_role, mention_user, message_url, relative
from ui.relay_lines import relay_line

COLOUR_URGENT = 0xD83C3E
COLOUR_OPEN = 0xE8A33D
COLOUR_ACKNOWLEDGED = 0x3D7EE8
COLOUR_CLOSED = 0x6B7280
MAX_REPORT_LINES = 5
MAX_LINKS = 5
MAX_EVENT_LINES = 6
FIELD_LIMIT = 1024
RELAY_TEXT_LIMIT = 200  # a question or answer in `/reports case` (the packet keeps it whole)

ACTION_LABEL_KEYS: dict[str, str] = {
    CaseAction.ACKNOWLEDGE.value: "action.acknowledge",
    CaseAction.RESOLVE.value: "action.resolve",
    CaseAction.DISMISS.value: "action.dismiss",
    CaseAction.NOTE.value: "action.note",
    AlertAction.EXPORT.value: "action.export",
    CaseAction.TIMEOUT.value: "action.timeout",
    CaseAction.KICK.value: "action.kick",
    CaseAction.BAN.value: "action.ban",
    CaseAction.DELETE_MESSAGES.value: "action.delete_messages",
    CaseAction.ESCALATE.value: "action.escalate",
    AlertAction.SHOW_EVIDENCE.value: "action.evidence",
    AlertAction.CHECK_IN.value: "action.check_in",  # t15-welfare
    AlertAction.MORE.value: "action.more",  # t15-welfare
    AlertAction.ASK_REPORTER.value: "action.ask_reporter",
}
"""Button key -> catalogue key of the button's label (also an action's name in refusals)."""
ACTION_VERB_KEYS: dict[CaseAction, str] = {
    CaseAction.TIMEOUT: "verb.timeout",
    CaseAction.KICK: "verb.kick",
    CaseAction.BAN: "verb.ban",
    CaseAction.DELETE_MESSAGES: "verb.delete_messages",
}
AUDIT_ONLY = frozenset({CaseAction.NOTE, CaseAction.EVIDENCE_VIEWED, CaseAction.EXPORTED})
"""Events the alert's Actions field leaves out (notes have their own field; who looked at the
kept text is in the audit trail)."""
PROBLEM_KEYS: dict[str, str] = {
    "message_gone": "problem.message_gone",
    "missing_permission": "problem.missing_permission",
    "channel_gone": "problem.channel_gone",
    "rate_limited": "problem.rate_limited",
}
"""Delivery problem codes (cogs/alerts.py; stored per guild) -> catalogue key, for display.
Earlier versions' English sentences are gone from the database (migration 0006)."""
_HTTP_PROBLEM = re.compile(r"http:(?P<status>[0-9]{3})")
_NETWORK_PROBLEM = re.compile(r"network:(?P<error>[A-Za-z0-9_.]+)")
_INTERNAL_PROBLEM = re.compile(r"internal:[A-Za-z0-9_.]+")


def timeout_label(seconds: str, locale: str | None = None) -> str:
    """`1 hour`, `1 Stunde`: a timeout length offered to moderators."""
    return tr(TIMEOUT_CHOICES[seconds], locale)


def ban_delete_label(seconds: str, locale: str | None = None) -> str:
    return tr(BAN_DELETE_CHOICES[seconds], locale)


def status_label(status: CaseStatus, locale: str | None = None) -> str:
    """`acknowledged`, `übernommen`: a case's status, as it reads inside a sentence."""
    return tr(STATUS_KEYS[status], locale)


def action_label(key: str, locale: str | None = None) -> str:
    """A button's label: `Acknowledge`, `Delete messages`, `Export`."""
    return tr(ACTION_LABEL_KEYS[key], locale) if key in ACTION_LABEL_KEYS else key.title()


def action_verb(action: CaseAction, locale: str | None = None) -> str:
    """An enforcement action inside a sentence: `Can't {kick}`."""
    key = ACTION_VERB_KEYS.get(action)
    return tr(key, locale) if key else action_label(action.value, locale).lower()


def dismiss_label(reason: DismissReason, locale: str | None = None) -> str:
    """`Not a violation`: a dismissal reason as a choice."""
    return tr(DISMISS_LABEL_KEYS[reason], locale)


def dismiss_inline(reason: DismissReason, locale: str | None = None) -> str:
    """`not a violation`: a dismissal reason inside a sentence."""
    return tr(DISMISS_INLINE_KEYS[reason], locale)


def describe_problem(problem: str, locale: str | None = None) -> str:
    """A delivery problem in the server's language (unknown wording is shown as it is)."""
    if problem in PROBLEM_KEYS:
        return tr(PROBLEM_KEYS[problem], locale)
    if match := _HTTP_PROBLEM.fullmatch(problem):
        return tr("problem.http", locale, status=match["status"])
    if match := _NETWORK_PROBLEM.fullmatch(problem):
        return tr("problem.network", locale, error=match["error"])
    if _INTERNAL_PROBLEM.fullmatch(problem):
        return tr("problem.internal", locale)
    return problem


def reroute_line(why: str, locale: str | None = None) -> str:
    """Why an alert is not (whole) in the alert channel: the reported member can read it."""
    if why == WITHHELD:
        return tr("alert.withheld", locale)
    key = "alert.rerouted_owner" if why == TO_OWNER_DM else "alert.rerouted_admin"
    return tr(key, locale)


def render_urgent_ping(number: int, role_id: int | None, locale: str | None = None) -> str:
    """The reply that notifies moderators when a case becomes urgent. The role is the only
    mention (and the message's allowed mentions name that role only)."""
    text = tr("alert.urgent_ping", locale, number=number)
    return f"{mention_role(role_id)} {text}" if role_id else text


def render_ping(ping: UrgentPing) -> str:
    """The outbox's urgent reminder (core/outbox.py decides when), worded."""
    if ping.reminder:
        text = tr(
            "alert.urgent_reminder",
            ping.locale,
            number=ping.number,
            reminder=ping.reminder,
            button=tr("action.acknowledge", ping.locale),
        )
        return f"{mention_role(ping.role_id)} {text}" if ping.role_id else text
    return render_urgent_ping(ping.number, ping.role_id, ping.locale)


def render_unanswered(server: str, case_number: int, minutes: int, locale: str | None) -> str:
    """The owner's (or admin channel's) notice after the last reminder: the case's number and
    how long it waited, never what was reported."""
    return tr(
        "alert.unanswered_notice",
        locale,
        number=case_number,
        server=safe_name(server),
        minutes=minutes,
    )


def render_message(alert: AlertMessage) -> AlertContent:
    """The outbox's alert (core/outbox.py decides what and where), drawn: the case's alert
    and, when it left the alert channel, the line saying why."""
    # Never naming someone who reads it as possible retaliation (core.signals.seen_by).
    data = seen_by(alert.data, alert.readers)
    if alert.rerouted == WITHHELD:
        content = render_alert(data, alert.locale, withheld=True)
    else:
        content = render_alert(data, alert.locale)
    if alert.rerouted is None:
        return content
    line = reroute_line(alert.rerouted, alert.locale)
    return replace(content, description=f"{content.description}\n{line}")


def describe_outcome(outcome: Outcome, locale: str | None = None) -> str:
    """An outcome (core/outcomes.py) in the reader's language: the one place it is worded."""
    params = {
        name: tr(value, locale) if isinstance(value, Term) else value
        for name, value in outcome.params.items()
    }
    return tr(outcome.code, locale, **params)


def describe_refusal(refused: CaseActionRefused, locale: str | None = None) -> str:
    """Why a case action was refused, in the server's language."""
    if refused.case is None:
        return tr("refused.no_case", locale)
    if isinstance(refused, OwnCaseRefused) or refused.code == CaseRefusal.OWN_CASE:
        return tr("refused.own_case", locale, number=refused.case.number)
    if refused.action is None:
        return tr("refused.no_case", locale)
    return tr(
        "refused.not_applicable",
        locale,
        number=refused.case.number,
        status=status_label(refused.case.status, locale),
        action=action_label(refused.action.value, locale),
    )


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """A decided button (core/case_view.py) with its words: ui/ adds only the label."""

    key: AlertAction  # the action part of the custom ID
    label: str
    tone: Tone
    disabled: bool
    row: int


@dataclass(frozen=True, slots=True)
class EmbedField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class AlertContent:
    case_id: int
    title: str
    description: str
    colour: int
    fields: tuple[EmbedField, ...]
    footer: str
    timestamp: datetime
    buttons: tuple[ButtonSpec, ...]
    mention_role_id: int | None  # the only mention an alert may carry

    @property
    def content(self) -> str | None:
        return mention_role(self.mention_role_id) if self.mention_role_id else None


def describe_event(event: CaseEvent, locale: str | None = None) -> str:
    """`<@mod> timed out the member (1 hour)`: one line of the audit trail, no pings."""
    note = trim(neutralise(event.note), 120) if event.note else None
    member = ""
    if event.action is CaseAction.ERASURE_HELD and event.detail:
        # A member's ID; an export without reporters' IDs puts their alias there instead.
        detail = event.detail
        member = mention_user(int(detail)) if detail.isdigit() else detail
    return event_line(event, mention_user(event.actor_id), note, locale, member)


def _status_line(case: Case, locale: str | None) -> str:
    if case.status is CaseStatus.OPEN:
        return tr("alert.status_open", locale)
    who = mention_user(case.handled_by) if case.handled_by else tr("alert.a_moderator", locale)
    status = status_label(case.status, locale)
    if case.dismiss_reason is not None:
        status += f" ({dismiss_inline(case.dismiss_reason, locale)})"
    if case.handled_at:
        return tr(
            "alert.status_by_when", locale, status=status, who=who, when=relative(case.handled_at)
        )
    return tr("alert.status_by", locale, status=status, who=who)


def _done(events: tuple[CaseEvent, ...], action: CaseAction) -> bool:
    return any(e.action is action for e in events)


def _buttons(data: AlertData, locale: str | None) -> tuple[ButtonSpec, ...]:
    return tuple(
        ButtonSpec(
            state.action, action_label(state.action, locale), state.tone, state.disabled, state.row
        )
        for state in alert_actions(data)
    )


STEP_KEYS: dict[SafetyStep, tuple[str, str]] = {
    SafetyStep.CONTAIN: ("step.contain", "step.contain_todo"),
    SafetyStep.EVIDENCE: ("step.evidence", "step.evidence_todo"),
    SafetyStep.REPORT: ("step.report", "step.report_todo"),
    SafetyStep.REMOVE: ("step.remove", "step.remove_todo"),
}


def _step_lines(steps: tuple[StepState, ...], locale: str | None) -> str:
    """The child-safety steps in order, each ticked with who and when, or what to do."""
    lines = []
    for n, state in enumerate(steps, start=1):
        name_key, todo_key = STEP_KEYS[state.step]
        name = tr(name_key, locale)
        if state.at is None:
            lines.append(f"⬜ {n}. **{name}**: {tr(todo_key, locale)}")
            continue
        who = mention_user(state.by) if state.by else tr("step.by_vigil", locale)
        done = tr("step.done", locale, who=who, when=relative(state.at))
        lines.append(f"✅ {n}. **{name}**: {done}")
    return trim("\n".join(lines), FIELD_LIMIT)


def _signal_lines(data: AlertData, locale: str | None) -> list[str]:
    signals, settings = data.signals, data.settings
    reporters = len({r.reporter_id for r in data.reports})
    lines = []
    if signals.new_accounts:
        new = tr(
            "signal.new_accounts",
            locale,
            count=signals.new_accounts,
            total=reporters,
            days=NEW_ACCOUNT_DAYS,
        )
        lines.append(f"🆕 {new}")
    if signals.recent_joiners:
        joined = tr(
            "signal.recent_joiners", locale, count=signals.recent_joiners, hours=RECENT_JOIN_HOURS
        )
        lines.append(f"🚪 {joined}")
    if signals.burst:
        burst = tr("signal.burst", locale, count=BURST_REPORTERS, minutes=BURST_MINUTES)
        lines.append(f"⚡ {burst}")
    if signals.not_counted:
        not_counted = tr(
            "signal.not_counted",
            locale,
            count=signals.not_counted,
            days=settings.min_account_age_days,
        )
        lines.append(f"➖ {not_counted}")
    if signals.flagged_reporters:
        mentions = ", ".join(mention_user(rid) for rid in sorted(signals.flagged_reporters))
        lines.append(f"⚠️ {tr('signal.flagged', locale, mentions=mentions)}")
    if signals.retaliation:
        mentions = ", ".join(mention_user(rid) for rid in sorted(signals.retaliation))
        lines.append(f"↩️ {tr('signal.retaliation', locale, mentions=mentions)}")
    if signals.muted:
        mentions = ", ".join(mention_user(rid) for rid in sorted(signals.muted))
        lines.append(f"🔇 {tr('signal.muted', locale, mentions=mentions)}")
    return lines


def spoiler(escaped: str) -> str:
    """Already-neutralised text behind a spoiler: shown only to whoever clicks it. The text's
    own ``|`` are escaped by neutralise, so it cannot close the spoiler early."""
    return f"||{escaped}||" if escaped else escaped


def evidence_summary(evidence: MessageEvidence, locale: str | None) -> str:
    """What was kept of a reported message, never the text itself: "message text, 212
    characters; 1 attachment not kept (image/png)". Content types, never file names."""
    parts = [tr("evidence.kept_text", locale, count=len(evidence.text))]
    if evidence.attachments:
        kinds = ", ".join(sorted(set(evidence.types))) or UNKNOWN_TYPE
        parts.append(
            tr("evidence.attachments_not_kept", locale, count=evidence.attachments, kinds=kinds)
        )
    return "; ".join(parts)


def _details(report: Report, limit: int) -> str:
    """A report's details, neutralised, behind a spoiler when its reason is critical: a
    moderator is never hit by a child-safety or self-harm account unasked."""
    text = trim(neutralise(report.details or ""), limit)
    return spoiler(text) if report.reason.is_critical else text


def source_mark(report: Report, locale: str | None) -> str:
    """ " · 💬 DM" for a report made from a DM ("Report message" there), else nothing: a
    moderator knows the message is not in this server (and cannot be deleted from it)."""
    if report.source is not ReportSource.DM_MESSAGE:
        return ""
    return f" · 💬 {tr('alert.source_dm', locale)}"


def _report_line(report: Report, flagged: frozenset[int], locale: str | None) -> str:
    no_details = tr("alert.no_details", locale)
    text = _details(report, 180) if report.details else no_details
    if report.asks_for_support:  # t15-welfare: the member themselves, never their words
        text = tr("alert.asked_support_line", locale)
    if report.evidence is not None:
        text += f" · 📝 {evidence_summary(report.evidence, locale)}"
    mark = " ⚠️" if report.reporter_id in flagged else ""
    who = mention_user(report.reporter_id) + source_mark(report, locale)
    return f"{relative(report.created_at)} {who}{mark}: {text}"


EVIDENCE_CHUNK = 800  # raw characters per message: escaped, they stay under 2000


def render_evidence(reports: list[Report], locale: str | None = None) -> list[str]:
    """The kept texts, for the moderator who pressed Show evidence: each report's header
    (author, when, edited, attachments not kept) and its text, escaped (no markdown, links or
    pings) and behind spoilers, in messages of at most 2000 characters."""
    messages: list[str] = []
    for report in reports:
        ev = report.evidence
        if ev is None:
            continue
        header = tr(
            "evidence.header",
            locale,
            author=mention_user(ev.author_id),
            when=absolute(ev.sent_at),
            reporter=mention_user(report.reporter_id),
        )
        if ev.edited:
            header += " " + tr("evidence.edited", locale)
        header += "\n" + evidence_summary(ev, locale)
        if not ev.text:
            messages.append(header + "\n" + tr("evidence.no_text", locale))
            continue
        chunks = [ev.text[i : i + EVIDENCE_CHUNK] for i in range(0, len(ev.text), EVIDENCE_CHUNK)]
        for n, chunk in enumerate(chunks):
            body = spoiler(neutralise(chunk, multiline=True).strip())
            messages.append((header + "\n" + body) if n == 0 else body)
    return messages


def render_alert(
    data: AlertData, locale: str | None = None, *, withheld: bool = False
) -> AlertContent:
    """The alert, in the server's language (``locale``; English when unknown).

    `withheld` (core/outbox.WITHHELD: a party of the case reads every place the alert could
    go): the case, its reasons, how many reported and its child-safety steps, never who
    reported, their words, the reported messages, the signals, the actions or the notes."""
    case, reports = data.case, data.reports
    urgent = case.urgent
    flagged = data.signals.flagged_reporters
    reasons = sorted({r.reason for r in reports}, key=lambda r: (not r.is_critical, r.value))
    reporters = reporter_order(reports)
    if case.target_is_member and case.target_joined_at is not None:
        membership = tr("alert.joined", locale, when=relative(case.target_joined_at))
    else:
        membership = tr("alert.not_member", locale)
    member = tr(
        "alert.member",
        locale,
        mention=mention_user(case.target_id),
        name=safe_name(case.target_name),
        id=case.target_id,
    )
    created = tr(
        "alert.account",
        locale,
        when=relative(snowflake_time(case.target_id)),
        membership=membership,
    )
    distinct_key = "alert.distinct_urgent" if urgent else "alert.distinct"
    description = "\n".join(
        [
            _status_line(case, locale),
            member,
            created,
            tr(distinct_key, locale, count=data.distinct_reporters),
        ]
    )
    if asked_for_support(reports):  # t15-welfare
        description += "\n" + tr(
            "alert.asked_support", locale, mention=mention_user(case.target_id)
        )
    lines = [_report_line(r, flagged, locale) for r in list(reports)[-MAX_REPORT_LINES:]]
    links = list(dict.fromkeys(r.message_link for r in reports if r.message_link))
    latest = tr(
        "alert.latest", locale, shown=min(len(reports), MAX_REPORT_LINES), total=len(reports)
    )
    fields = [
        EmbedField(
            tr("alert.reasons", locale),
            "\n".join(f"- {r.label_in(locale)}" for r in reasons) or "-",
        ),
    ]
    if withheld:
        steps = child_safety_steps(data)
        if steps:
            fields.append(EmbedField(tr("alert.steps", locale), _step_lines(steps, locale)))
        return _alert_content(data, locale, description, tuple(fields))
    fields.append(EmbedField(latest, shorten("\n".join(lines), FIELD_LIMIT, keep_end=True) or "-"))
    if links:
        shown = [
            f"[{tr('alert.message_n', locale, n=i + 1)}]({link})"
            for i, link in enumerate(links[:MAX_LINKS])
        ]
        more = (
            " " + tr("alert.more", locale, count=len(links) - MAX_LINKS)
            if len(links) > MAX_LINKS
            else ""
        )
        fields.append(EmbedField(tr("alert.messages", locale), " · ".join(shown) + more))
    fields.append(
        EmbedField(
            tr("alert.reporters", locale),
            trim(
                # Numbered: "Ask reporter" names them by these numbers (t15-relay).
                ", ".join(
                    f"**{n}** {mention_user(rid)}" + (" ⚠️" if rid in flagged else "")
                    for n, rid in enumerate(reporters, start=1)
                ),
                FIELD_LIMIT,
            ),
        )
    )
    steps = child_safety_steps(data)  # t14-followthrough
    if steps:
        fields.append(EmbedField(tr("alert.steps", locale), _step_lines(steps, locale)))
    signal_lines = _signal_lines(data, locale)
    if signal_lines:
        fields.append(
            EmbedField(tr("alert.signals", locale), trim("\n".join(signal_lines), FIELD_LIMIT))
        )
    # Looking at evidence (shown, or exported with the packet) is in the audit trail
    # (/reports case, the dashboard's timeline), not among the alert's actions.
    actions = [e for e in data.events if e.action not in AUDIT_ONLY]
    if actions:
        shown_events = [
            f"{relative(e.created_at)} {describe_event(e, locale)}"
            for e in actions[-MAX_EVENT_LINES:]
        ]
        fields.append(
            EmbedField(
                tr("alert.actions", locale),
                shorten("\n".join(shown_events), FIELD_LIMIT, keep_end=True),
            )
        )
    notes = [e for e in data.events if e.action is CaseAction.NOTE]
    if notes:
        last_note = notes[-1]
        fields.append(
            EmbedField(
                tr("alert.notes", locale, count=len(notes)),
                trim(
                    f"{mention_user(last_note.actor_id)}: {neutralise(last_note.note or '')}",
                    FIELD_LIMIT,
                ),
            )
        )
    return _alert_content(data, locale, description, tuple(fields))


def _alert_content(
    data: AlertData, locale: str | None, description: str, fields: tuple[EmbedField, ...]
) -> AlertContent:
    """The alert's frame around its description and fields: title, colour, footer, buttons
    and the role mention of an urgent case."""
    case = data.case
    urgent = case.urgent
    if case.status.is_active:
        colour = COLOUR_URGENT if urgent else COLOUR_OPEN
        if case.status is CaseStatus.ACKNOWLEDGED:
            colour = COLOUR_ACKNOWLEDGED
    else:
        colour = COLOUR_CLOSED
    title_key = "alert.title_urgent" if urgent else "alert.title"
    title = tr(title_key, locale, number=case.number, name=safe_name(case.target_name, 40))
    mention = data.settings.mod_role_id if urgent and case.status.is_active else None
    return AlertContent(
        case_id=case.id,
        title=trim(title, 256),
        description=description,
        colour=colour,
        fields=fields,
        footer=tr("alert.footer", locale, number=case.number),
        timestamp=case.opened_at,
        buttons=_buttons(data, locale),
        mention_role_id=mention,
    )


def render_case_record(data: AlertData, locale: str | None = None) -> list[EmbedField]:
    """The full record for `/reports case`: every report, the whole audit trail, the notes."""
    flagged = data.signals.flagged_reporters
    message = tr("record.message", locale)
    report_lines = [
        f"{absolute(r.created_at)} {mention_user(r.reporter_id)}{source_mark(r, locale)}"
        f" · {r.reason.label_in(locale)}"
        + (f" · [{message}]({r.message_link})" if r.message_link else "")
        + (f"\n  {_details(r, 200)}" if r.details else "")
        + (f"\n  📝 {evidence_summary(r.evidence, locale)}" if r.evidence else "")
        + (" ⚠️" if r.reporter_id in flagged else "")
        for r in data.reports
    ]
    trail = [
        f"{absolute(e.created_at)} {describe_event(e, locale)}"
        for e in data.events
        if e.action is not CaseAction.NOTE
    ]
    notes = [
        f"{absolute(e.created_at)} {mention_user(e.actor_id)}: "
        f"{trim(neutralise(e.note or ''), 300)}"
        for e in data.events
        if e.action is CaseAction.NOTE
    ]
    fields = [
        EmbedField(
            tr("record.all_reports", locale, count=len(report_lines)), _fit(report_lines, locale)
        ),
        EmbedField(
            tr("record.audit_trail", locale),
            _fit(trail, locale) if trail else tr("record.no_actions", locale),
        ),
        EmbedField(
            tr("record.notes", locale),
            _fit(notes, locale) if notes else tr("record.no_notes", locale),
        ),
    ]
    exchange = relay_record_lines(data, locale)
    if exchange:  # t15-followup: the reporter Q&A, newest lines kept
        fields.append(EmbedField(tr("record.relay", locale), _fit(exchange, locale)))
    return fields


def relay_record_lines(data: AlertData, locale: str | None = None) -> list[str]:
    """The reporter Q&A of a case (read with its story), one entry per line pair: Vigil's
    line as in the thread ("Reporter 2 answered:"), then the user text, neutralised and
    bounded. Reporters by number only; the moderator who asked as a mention (never a ping)."""
    lines: list[str] = []
    for entry in relay_story(data):
        who = (
            mention_user(entry.moderator_id)
            if entry.moderator_id
            else tr("alert.a_moderator", locale)
        )
        line = f"{absolute(entry.at)} " + relay_line(
            entry.kind, entry.reporter, who, entry.delivery, locale
        )
        if entry.delivery is DeliveryState.SENDING:
            line += " ⏳ " + tr("relay.unconfirmed", locale)
        if entry.text:
            line += "\n  " + trim(neutralise(entry.text), RELAY_TEXT_LIMIT)
        lines.append(line)
    return lines


def _fit(lines: list[str], locale: str | None = None) -> str:
    """As many of the newest lines as fit in one embed field, saying how many were left out."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > FIELD_LIMIT - 40:
            break
        kept.append(line)
        size += len(line) + 1
    kept.reverse()
    hidden = len(lines) - len(kept)
    prefix = [tr("record.older", locale, count=hidden)] if hidden else []
    return "\n".join(prefix + kept) or "-"


def render_queue_line(guild_id: int, case: Case, locale: str | None = None) -> str:
    link = (
        f" · [{tr('queue.alert', locale)}]"
        f"({message_url(guild_id, case.alert_channel_id, case.alert_message_id)})"
        if case.alert_message_id and case.alert_channel_id
        else f" · {tr('queue.alert_pending', locale)}"
    )
    state = tr(
        "queue.status",
        locale,
        status=status_label(case.status, locale),
        when=relative(case.opened_at),
    )
    urgent = "🔴 " if case.urgent else ""
    return f"{urgent}**#{case.number}** {mention_user(case.target_id)} ({state}){link}"


def render_audit_line(case: Case, event: CaseEvent, locale: str | None = None) -> str:
    """One line per action for the audit channel: who, what, which case, when. No pings."""
    return tr(
        "audit.line",
        locale,
        number=case.number,
        event=describe_event(event, locale),
        target=f"{mention_user(case.target_id)} ({safe_name(case.target_name)})",
        when=absolute(event.created_at),
    )


def render_settings(
    settings: GuildSettings, region_name: str | None, locale: str | None = None
) -> list[str]:
    not_set, none = tr("settings.not_set", locale), tr("settings.none", locale)
    channel = mention_channel(settings.alert_channel_id) if settings.alert_channel_id else not_set
    audit = mention_channel(settings.audit_channel_id) if settings.audit_channel_id else none
    role = mention_role(settings.mod_role_id) if settings.mod_role_id else none
    region = f"{region_name} ({settings.region})" if settings.region and region_name else not_set
    min_age = (
        tr("settings.days", locale, count=settings.min_account_age_days)
        if settings.min_account_age_days
        else tr("settings.every_account", locale)
    )
    feedback = tr("settings.yes" if settings.reporter_feedback else "settings.no", locale)
    retention = (
        tr("settings.days", locale, count=settings.retention_days)
        if settings.retention_days
        else tr("settings.forever", locale)
    )
    admin = (
        mention_channel(settings.admin_channel_id)
        if settings.admin_channel_id
        else tr("settings.owner_dm", locale)
    )
    return [
        tr("settings.alert_channel", locale, value=channel),
        tr("settings.audit_channel", locale, value=audit),
        tr(
            "settings.threshold",
            locale,
            threshold=settings.threshold,
            hours=settings.window_hours,
        ),
        tr("settings.min_age", locale, value=min_age),
        tr("settings.region", locale, value=region),
        tr("settings.role", locale, value=role),
        tr("settings.feedback", locale, value=feedback),
        tr("settings.retention", locale, value=retention),
        tr("settings.admin_channel", locale, value=admin),
        tr(
            "settings.urgent_reminder",
            locale,
            value=(
                tr("settings.minutes", locale, count=settings.urgent_reminder_minutes)
                if settings.urgent_reminder_minutes
                else tr("settings.off", locale)
            ),
        ),
    ]


def render_feedback_dm(
    guild_name: str | None, target_name: str, locale: str | None = None, *, critical: bool = False
) -> str:
    """The one DM a reporter gets: that moderators acted, never what they did.

    ``locale`` is the server's: a DM has no interaction to take the reader's language from.
    ``guild_name`` None: the server is not known to this process any more. ``critical``: the
    reporter filed a child-safety, self-harm or threat report and was asked to call or report
    outside Discord, so they are never told there is nothing else to do.
    """
    guild = safe_name(guild_name) if guild_name else tr("feedback.your_server", locale)
    key = "feedback.dm_critical" if critical else "feedback.dm"
    return tr(key, locale, guild=guild, target=safe_name(target_name))


def render_channel_notice(guild_name: str, problem: str, locale: str | None = None) -> str:
    """For the server's admins when alerts can't be posted. Never any report's content."""
    return "\n".join(
        [
            tr(
                "notice.alerts_blocked",
                locale,
                guild=safe_name(guild_name),
                problem=describe_problem(problem, locale),
            ),
            tr("admin.routing", locale),
        ]
    )
