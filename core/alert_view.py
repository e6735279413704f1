"""What moderators see: alerts, case details, the queue, audit lines. Plain data; cogs draw it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

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
    DismissReason,
    EscalationTarget,
    GuildSettings,
    Report,
)
from core.snowflakes import snowflake_time
from core.text import neutralise, safe_name, trim

COLOUR_URGENT = 0xD83C3E
COLOUR_OPEN = 0xE8A33D
COLOUR_ACKNOWLEDGED = 0x3D7EE8
COLOUR_CLOSED = 0x6B7280
MAX_REPORT_LINES = 5
MAX_LINKS = 5
MAX_EVENT_LINES = 6
FIELD_LIMIT = 1024

TIMEOUT_CHOICES: dict[str, str] = {
    "600": "10 minutes",
    "3600": "1 hour",
    "86400": "1 day",
    "604800": "1 week",
}
BAN_DELETE_CHOICES: dict[str, str] = {
    "0": "keep their messages",
    "3600": "delete the last hour of messages",
    "86400": "delete the last 24 hours of messages",
    "604800": "delete the last 7 days of messages",
}


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    key: str  # the action part of the custom ID: a CaseAction value, or "export"
    label: str
    style: str  # primary | secondary | success | danger
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
        return f"<@&{self.mention_role_id}>" if self.mention_role_id else None


def relative(when: datetime) -> str:
    """A Discord timestamp: each moderator sees it in their own time zone."""
    return f"<t:{int(when.timestamp())}:R>"


def absolute(when: datetime) -> str:
    return f"<t:{int(when.timestamp())}:f>"


def describe_event(event: CaseEvent) -> str:
    """`<@mod> timed out the member (1 hour)`: one line of the audit trail, no pings."""
    text = f"<@{event.actor_id}> {event.action.past_tense}"
    if event.action is CaseAction.TIMEOUT and event.detail in TIMEOUT_CHOICES:
        text += f" ({TIMEOUT_CHOICES[event.detail]})"
    elif event.action is CaseAction.BAN and event.detail in BAN_DELETE_CHOICES:
        text += f" ({BAN_DELETE_CHOICES[event.detail]})"
    elif event.action is CaseAction.DISMISS and event.detail:
        with contextlib.suppress(ValueError):
            text += f" ({DismissReason(event.detail).label.lower()})"
    elif event.action is CaseAction.ESCALATE and event.detail:
        try:
            where = EscalationTarget(event.detail).label
        except ValueError:
            where = "elsewhere"
        text += f" to {where}"
    if event.note and event.action is not CaseAction.NOTE:
        label = "ref" if event.action is CaseAction.ESCALATE else "reason"
        text += f", {label}: {trim(neutralise(event.note), 120)}"
    return text


def _status_line(case: Case) -> str:
    if case.status is CaseStatus.OPEN:
        return "**Status:** open: waiting for a moderator"
    who = f"<@{case.handled_by}>" if case.handled_by else "a moderator"
    when = f" {relative(case.handled_at)}" if case.handled_at else ""
    status = case.status.value
    if case.dismiss_reason is not None:
        status += f" ({case.dismiss_reason.label.lower()})"
    return f"**Status:** {status} by {who}{when}"


def _done(events: tuple[CaseEvent, ...], action: CaseAction) -> bool:
    return any(e.action is action for e in events)


def _buttons(data: AlertData) -> tuple[ButtonSpec, ...]:
    case, events = data.case, data.events
    status = case.status
    active = status.is_active
    dismissed = status is CaseStatus.DISMISSED
    gone = _done(events, CaseAction.KICK) or _done(events, CaseAction.BAN)
    member = case.target_is_member and not gone
    has_links = any(r.message_link for r in data.reports)
    return (
        ButtonSpec("acknowledge", "Acknowledge", "primary", status is not CaseStatus.OPEN, 0),
        ButtonSpec("resolve", "Resolve", "success", not active, 0),
        ButtonSpec("dismiss", "Dismiss", "secondary", not active, 0),
        ButtonSpec("note", "Note", "secondary", False, 0),
        ButtonSpec("export", "Export", "secondary", False, 0),
        ButtonSpec("timeout", "Timeout", "danger", dismissed or not member, 1),
        ButtonSpec("kick", "Kick", "danger", dismissed or not member, 1),
        ButtonSpec("ban", "Ban", "danger", dismissed or _done(events, CaseAction.BAN), 1),
        ButtonSpec(
            "delete_messages",
            "Delete messages",
            "danger",
            dismissed or not has_links or _done(events, CaseAction.DELETE_MESSAGES),
            1,
        ),
        ButtonSpec("escalate", "Escalated", "secondary", False, 1),
    )


def _signal_lines(data: AlertData) -> list[str]:
    signals, settings = data.signals, data.settings
    reporters = len({r.reporter_id for r in data.reports})
    lines = []
    if signals.new_accounts:
        lines.append(
            f"🆕 {signals.new_accounts} of {reporters} reporter account(s) younger than "
            f"{NEW_ACCOUNT_DAYS} days"
        )
    if signals.recent_joiners:
        lines.append(
            f"🚪 {signals.recent_joiners} reporter(s) joined in the last {RECENT_JOIN_HOURS} hours"
        )
    if signals.burst:
        lines.append(f"⚡ Burst: {BURST_REPORTERS}+ reporters within {BURST_MINUTES} minutes")
    if signals.not_counted:
        lines.append(
            f"➖ {signals.not_counted} reporter(s) not counted: accounts younger than "
            f"{settings.min_account_age_days} days"
        )
    if signals.flagged_reporters:
        mentions = ", ".join(f"<@{rid}>" for rid in sorted(signals.flagged_reporters))
        lines.append(f"⚠️ Earlier reports dismissed as malicious: {mentions}")
    return lines


def _report_line(report: Report, flagged: frozenset[int]) -> str:
    text = trim(neutralise(report.details), 180) if report.details else "*(no details)*"
    mark = " ⚠️" if report.reporter_id in flagged else ""
    return f"{relative(report.created_at)} <@{report.reporter_id}>{mark}: {text}"


def render_alert(data: AlertData) -> AlertContent:
    case, reports = data.case, data.reports
    urgent = case.urgent
    flagged = data.signals.flagged_reporters
    reasons = sorted({r.reason for r in reports}, key=lambda r: (not r.is_critical, r.value))
    reporters = list(dict.fromkeys(r.reporter_id for r in reports))
    if case.target_is_member and case.target_joined_at is not None:
        membership = f"joined {relative(case.target_joined_at)}"
    else:
        membership = "**not a member** of this server"
    description = "\n".join(
        [
            _status_line(case),
            f"**Member:** <@{case.target_id}> ({safe_name(case.target_name)}, `{case.target_id}`)",
            f"**Account created** {relative(snowflake_time(case.target_id))}; {membership}",
            f"**Distinct reporters:** {data.distinct_reporters}"
            + (" (urgent: opened on the first report)" if urgent else ""),
        ]
    )
    lines = [_report_line(r, flagged) for r in list(reports)[-MAX_REPORT_LINES:]]
    links = list(dict.fromkeys(r.message_link for r in reports if r.message_link))
    fields = [
        EmbedField("Reasons", "\n".join(f"- {r.label}" for r in reasons) or "-"),
        EmbedField(
            f"Latest reports ({min(len(reports), MAX_REPORT_LINES)} of {len(reports)})",
            trim("\n".join(lines), FIELD_LIMIT) or "-",
        ),
    ]
    if links:
        shown = [f"[message {i + 1}]({link})" for i, link in enumerate(links[:MAX_LINKS])]
        more = f" (+{len(links) - MAX_LINKS} more)" if len(links) > MAX_LINKS else ""
        fields.append(EmbedField("Reported messages", " · ".join(shown) + more))
    fields.append(
        EmbedField(
            "Reporters (moderators only)",
            trim(
                ", ".join(f"<@{rid}>" + (" ⚠️" if rid in flagged else "") for rid in reporters),
                FIELD_LIMIT,
            ),
        )
    )
    signal_lines = _signal_lines(data)
    if signal_lines:
        fields.append(EmbedField("Reporter signals", trim("\n".join(signal_lines), FIELD_LIMIT)))
    actions = [e for e in data.events if e.action is not CaseAction.NOTE]
    if actions:
        shown_events = [
            f"{relative(e.created_at)} {describe_event(e)}" for e in actions[-MAX_EVENT_LINES:]
        ]
        fields.append(EmbedField("Actions", trim("\n".join(shown_events), FIELD_LIMIT)))
    notes = [e for e in data.events if e.action is CaseAction.NOTE]
    if notes:
        latest = notes[-1]
        fields.append(
            EmbedField(
                f"Notes ({len(notes)})",
                trim(f"<@{latest.actor_id}>: {neutralise(latest.note or '')}", FIELD_LIMIT),
            )
        )
    if case.status.is_active:
        colour = COLOUR_URGENT if urgent else COLOUR_OPEN
        if case.status is CaseStatus.ACKNOWLEDGED:
            colour = COLOUR_ACKNOWLEDGED
    else:
        colour = COLOUR_CLOSED
    prefix = "URGENT: " if urgent else ""
    title = f"{prefix}Case #{case.number}: reports about {safe_name(case.target_name, 40)}"
    mention = data.settings.mod_role_id if urgent and case.status.is_active else None
    return AlertContent(
        case_id=case.id,
        title=trim(title, 256),
        description=description,
        colour=colour,
        fields=tuple(fields),
        footer=f"Vigil case #{case.number} · never forward reported images; use the links",
        timestamp=case.opened_at,
        buttons=_buttons(data),
        mention_role_id=mention,
    )


def render_case_record(data: AlertData) -> list[EmbedField]:
    """The full record for `/reports case`: every report, the whole audit trail, the notes."""
    flagged = data.signals.flagged_reporters
    report_lines = [
        f"{absolute(r.created_at)} <@{r.reporter_id}> · {r.reason.label}"
        + (f" · [message]({r.message_link})" if r.message_link else "")
        + (f"\n  {trim(neutralise(r.details), 200)}" if r.details else "")
        + (" ⚠️" if r.reporter_id in flagged else "")
        for r in data.reports
    ]
    trail = [
        f"{absolute(e.created_at)} {describe_event(e)}"
        for e in data.events
        if e.action is not CaseAction.NOTE
    ]
    notes = [
        f"{absolute(e.created_at)} <@{e.actor_id}>: {trim(neutralise(e.note or ''), 300)}"
        for e in data.events
        if e.action is CaseAction.NOTE
    ]
    return [
        EmbedField(f"All reports ({len(report_lines)})", _fit(report_lines)),
        EmbedField("Audit trail", _fit(trail) if trail else "No actions yet."),
        EmbedField("Notes", _fit(notes) if notes else "No notes."),
    ]


def _fit(lines: list[str]) -> str:
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
    prefix = [f"(+{hidden} older; use Export for all)"] if hidden else []
    return "\n".join(prefix + kept) or "-"


def render_queue_line(guild_id: int, case: Case) -> str:
    link = (
        f" · [alert](https://discord.com/channels/{guild_id}/{case.alert_channel_id}/"
        f"{case.alert_message_id})"
        if case.alert_message_id
        else " · alert pending"
    )
    return (
        f"{'🔴 ' if case.urgent else ''}**#{case.number}** <@{case.target_id}> "
        f"({case.status.value}, opened {relative(case.opened_at)}){link}"
    )


def render_audit_line(case: Case, event: CaseEvent) -> str:
    """One line per action for the audit channel: who, what, which case, when. No pings."""
    return (
        f"Case #{case.number} · {describe_event(event)} · <@{case.target_id}> "
        f"({safe_name(case.target_name)}) · {absolute(event.created_at)}"
    )


def render_settings(settings: GuildSettings, region_name: str | None) -> list[str]:
    channel = f"<#{settings.alert_channel_id}>" if settings.alert_channel_id else "not set"
    audit = f"<#{settings.audit_channel_id}>" if settings.audit_channel_id else "none"
    role = f"<@&{settings.mod_role_id}>" if settings.mod_role_id else "none"
    region = f"{region_name} ({settings.region})" if settings.region and region_name else "not set"
    min_age = (
        f"{settings.min_account_age_days} days"
        if settings.min_account_age_days
        else "none (every account counts)"
    )
    return [
        f"**Alert channel:** {channel}",
        f"**Audit channel:** {audit}",
        f"**Threshold:** {settings.threshold} distinct reporters "
        f"within {settings.window_hours} hours",
        f"**Minimum account age to count toward the threshold:** {min_age}",
        f"**Region (hotline guidance):** {region}",
        f"**Role mentioned on urgent alerts:** {role}",
        f"**Tell reporters when moderators act:** {'yes' if settings.reporter_feedback else 'no'}",
        "**Keep reports and closed cases for:** "
        + (f"{settings.retention_days} days" if settings.retention_days else "ever (no purge)"),
    ]


def render_feedback_dm(guild_name: str, target_name: str) -> str:
    """The one DM a reporter gets: that moderators acted, never what they did."""
    return (
        f"Moderators of **{safe_name(guild_name)}** have acted on your report about "
        f"**{safe_name(target_name)}**. Thank you for helping keep the community safe. "
        "You don't need to do anything else."
    )


def render_channel_notice(guild_name: str, problem: str) -> str:
    """For the server's admins when alerts can't be posted. Never any report's content."""
    return (
        f"**Vigil can't post moderator alerts in {safe_name(guild_name)}:** {problem}. "
        "Reports are still being recorded, and waiting alerts will be posted as soon as this "
        "is fixed. Run `/reports config` to check."
    )
