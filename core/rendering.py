"""What Vigil shows people, as plain data. Cogs turn it into embeds and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models import AlertData, CaseAction, CaseStatus, GuildSettings
from core.policy import Refusal
from core.reasons import Reason
from core.service import ReportAccepted
from core.snowflakes import snowflake_time
from core.text import neutralise, safe_name, trim

COLOUR_URGENT = 0xD83C3E
COLOUR_OPEN = 0xE8A33D
COLOUR_ACKNOWLEDGED = 0x3D7EE8
COLOUR_CLOSED = 0x6B7280
MAX_REPORT_LINES = 5
MAX_LINKS = 5


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    action: CaseAction
    label: str
    style: str  # primary | secondary | success | danger
    disabled: bool


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


def _status_line(data: AlertData) -> str:
    case = data.case
    if case.status is CaseStatus.OPEN:
        return "**Status:** open: waiting for a moderator"
    who = f"<@{case.handled_by}>" if case.handled_by else "a moderator"
    when = f" {relative(case.handled_at)}" if case.handled_at else ""
    return f"**Status:** {case.status.value} by {who}{when}"


def _buttons(status: CaseStatus) -> tuple[ButtonSpec, ...]:
    closed = not status.is_active
    return (
        ButtonSpec(
            CaseAction.ACKNOWLEDGE,
            "Acknowledge",
            "primary",
            closed or status is not CaseStatus.OPEN,
        ),
        ButtonSpec(CaseAction.RESOLVE, "Resolve (action taken)", "success", closed),
        ButtonSpec(CaseAction.DISMISS, "Dismiss", "secondary", closed),
    )


def render_alert(data: AlertData) -> AlertContent:
    case, reports = data.case, data.reports
    urgent = case.urgent
    reasons = sorted({r.reason for r in reports}, key=lambda r: (not r.is_critical, r.value))
    reporters = list(dict.fromkeys(r.reporter_id for r in reports))
    target_created = snowflake_time(case.target_id)
    if case.target_is_member and case.target_joined_at is not None:
        membership = f"joined {relative(case.target_joined_at)}"
    else:
        membership = "**not a member** of this server"
    description = "\n".join(
        [
            _status_line(data),
            f"**Member:** <@{case.target_id}> ({safe_name(case.target_name)}, `{case.target_id}`)",
            f"**Account created** {relative(target_created)}; {membership}",
            f"**Distinct reporters:** {data.distinct_reporters}"
            + (" (urgent: opened on the first report)" if urgent else ""),
        ]
    )
    lines = []
    for report in list(reports)[-MAX_REPORT_LINES:]:
        text = trim(neutralise(report.details), 180) if report.details else "*(no details)*"
        lines.append(f"{relative(report.created_at)} <@{report.reporter_id}>: {text}")
    links = list(dict.fromkeys(r.message_link for r in reports if r.message_link))
    fields = [
        EmbedField("Reasons", "\n".join(f"- {r.label}" for r in reasons) or "-", inline=False),
        EmbedField(
            f"Latest reports ({min(len(reports), MAX_REPORT_LINES)} of {len(reports)})",
            trim("\n".join(lines), 1024) or "-",
        ),
    ]
    if links:
        shown = [f"[message {i + 1}]({link})" for i, link in enumerate(links[:MAX_LINKS])]
        more = f" (+{len(links) - MAX_LINKS} more)" if len(links) > MAX_LINKS else ""
        fields.append(EmbedField("Reported messages", " · ".join(shown) + more))
    fields.append(
        EmbedField(
            "Reporters (moderators only)",
            trim(", ".join(f"<@{rid}>" for rid in reporters), 1024),
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
        buttons=_buttons(case.status),
        mention_role_id=mention,
    )


def render_report_ack(outcome: ReportAccepted, target_name: str, headline: str) -> str:
    """The reporter's confirmation: thanks, confidentiality, what happens next.

    `headline` is the guidance's opening line, which fits the reason (warmer for child safety).
    """
    lines = [
        headline or "**Thank you for your report.**",
        f"Your report about **{safe_name(target_name)}** has been received. It is confidential: "
        "only this server's moderators can see who reported.",
    ]
    if outcome.duplicate:
        lines.append("You had reported this member already, so your new details were added.")
    if outcome.case_id is not None and outcome.alert_channel_configured:
        lines.append("The moderators have been alerted and will look at it.")
    elif outcome.case_id is not None:
        lines.append(
            "This server is still setting Vigil up; your report is saved and the moderators "
            "will be alerted as soon as that is done."
        )
    else:
        lines.append("Your report is saved for the moderators. You don't need to do anything else.")
    return trim("\n".join(lines), 2000)


def render_refusal(refusal: Refusal) -> str:
    return refusal.message


def reason_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for the reason option, critical reasons first."""
    return [(reason.label[:100], reason.value) for reason in Reason]


def render_settings(settings: GuildSettings, region_name: str | None) -> list[str]:
    channel = f"<#{settings.alert_channel_id}>" if settings.alert_channel_id else "not set"
    role = f"<@&{settings.mod_role_id}>" if settings.mod_role_id else "none"
    region = f"{region_name} ({settings.region})" if settings.region and region_name else "not set"
    return [
        f"**Alert channel:** {channel}",
        f"**Threshold:** {settings.threshold} distinct reporters "
        f"within {settings.window_hours} hours",
        f"**Region (hotline guidance):** {region}",
        f"**Role mentioned on urgent alerts:** {role}",
    ]
