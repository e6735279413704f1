"""What Vigil tells members (reporters), as plain text. Moderator views: core/alert_view.py."""

from __future__ import annotations

from core.i18n import tr
from core.service import ReportAccepted
from core.text import safe_name, trim


def render_report_ack(
    outcome: ReportAccepted, target_name: str, headline: str, locale: str | None = None
) -> str:
    """The reporter's confirmation: thanks, confidentiality, what happens next.

    `headline` is the guidance's opening line, which fits the reason (warmer for child safety).
    `locale` is the reporter's Discord locale (English if there is no catalogue for it).
    """
    lines = [
        headline or tr("headline.default", locale),
        tr("ack.received", locale, name=safe_name(target_name)),
    ]
    if outcome.duplicate:
        lines.append(tr("ack.duplicate", locale))
    if outcome.case_id is not None and outcome.alert_channel_configured:
        lines.append(tr("ack.alerted", locale))
    elif outcome.case_id is not None:
        lines.append(tr("ack.pending_setup", locale))
    else:
        lines.append(tr("ack.saved", locale))
    return trim("\n".join(lines), 2000)
