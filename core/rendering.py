"""What Vigil tells members (reporters), as plain text. Moderator views: ui/alert_view.py."""

from __future__ import annotations

from core.i18n import tr
from core.policy import Refusal, RefusalCode
from core.reasons import Reason
from core.service import ReportAccepted
from core.text import safe_name, trim

_ACT_REASONS = frozenset({Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT})
"""Reasons whose guidance asks the reporter to act (emergency number, hotline): never tell
them there is nothing else to do."""


def render_report_ack(
    outcome: ReportAccepted,
    target_name: str,
    headline: str,
    locale: str | None = None,
    reason: Reason | None = None,
    server: str | None = None,
) -> str:
    """The reporter's confirmation: thanks, confidentiality, what happens next.

    It confirms this report, never the state of the case: whether a case is open or the
    threshold reached would tell a reporter about other people's reports. Only the reporter's
    own earlier report (a duplicate) is mentioned. `headline` is the guidance's opening line,
    which fits the reason (warmer for child safety). `locale` is the reporter's Discord locale
    (English if there is no catalogue for it). ``server``: the server a report made from a DM
    was filed in, named so the reporter knows whose moderators see it.
    """
    received = (
        tr("ack.received", locale, name=safe_name(target_name))
        if server is None
        else tr("dm.ack_received", locale, name=safe_name(target_name), server=safe_name(server))
    )
    lines = [headline or tr("headline.default", locale), received]
    if outcome.duplicate:
        lines.append(tr("ack.duplicate", locale))
    if not outcome.alert_channel_configured:
        lines.append(tr("ack.pending_setup", locale))
    elif reason in _ACT_REASONS:
        lines.append(tr("ack.saved_act", locale))
    else:
        lines.append(tr("ack.saved", locale))
    return trim("\n".join(lines), 2000)


def is_cry_for_help(refusal: Refusal, reason: Reason) -> bool:
    """Reporting oneself for self-harm asks for help: answered with crisis support, never
    with "you can't report yourself"."""
    return refusal.code is RefusalCode.SELF_REPORT and reason is Reason.SELF_HARM


def render_refusal(refusal: Refusal, reason: Reason, locale: str | None = None) -> str:
    """A refusal's text for the reporter; the guidance for ``reason`` always goes with it.

    For the critical reasons it says not to wait: a refused or rate-limited report about a
    child, a threat or self-harm must never read as "come back later"."""
    text = refusal.localised(locale)
    if reason.is_critical:
        text += "\n" + tr("refusal.critical_help", locale)
    return trim(text, 2000)


def render_self_support(headline: str, locale: str | None = None) -> str:
    """The text above the crisis support for a member who reported themselves for self-harm."""
    return trim(headline + "\n" + tr("selfreport.text", locale), 2000)


def render_check_in(server: str, name: str, locale: str | None, *, asked: bool) -> str:
    """The text of a check-in DM (issue 15), above who to talk to now (guidance.build_check_in).

    Warm, short, no pressure: someone in the server is worried about them (or, when they asked
    for support themselves, that they did), that they need not face it alone, and that no
    reply is needed. It never names or hints at who reported them, never mentions a report, a
    case or moderators' tools, and says nothing about methods or what happened."""
    key = "checkin.dm_asked" if asked else "checkin.dm"
    return trim(tr(key, locale, name=safe_name(name, 40), server=safe_name(server)), 2000)
