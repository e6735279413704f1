"""The rules of reporting, as pure functions: who may report what, and when a case opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.links import MessageLink, parse_message_link
from core.models import MAX_DETAILS_LENGTH, ReportSubmission


class RefusalCode(StrEnum):
    SELF_REPORT = "self_report"
    BOT_TARGET = "bot_target"
    BAD_LINK = "bad_link"
    FOREIGN_LINK = "foreign_link"
    DETAILS_TOO_LONG = "details_too_long"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A report Vigil declined. Nothing was stored; the message is what the reporter reads."""

    code: RefusalCode
    message: str


REFUSAL_MESSAGES: dict[RefusalCode, str] = {
    RefusalCode.SELF_REPORT: (
        "You can't report yourself. If you need help, a moderator is here for you."
    ),
    RefusalCode.BOT_TARGET: (
        "Bots and app messages can't be reported here. Please use Discord's own "
        "**Report** option on the message or app instead."
    ),
    RefusalCode.BAD_LINK: (
        "That doesn't look like a Discord message link. Right-click (or long-press) the "
        "message, choose **Copy Message Link**, and paste it here. Nothing was recorded."
    ),
    RefusalCode.FOREIGN_LINK: (
        "That message link points to a different server. Vigil can only record messages from "
        "this server. Nothing was recorded."
    ),
    RefusalCode.DETAILS_TOO_LONG: (
        f"Your details are longer than {MAX_DETAILS_LENGTH} characters. Please shorten them "
        "and try again. Nothing was recorded."
    ),
    RefusalCode.RATE_LIMITED: (
        "You've sent several reports in a short time, so this one wasn't recorded. Please wait "
        "a few minutes; moderators already have your earlier reports."
    ),
}


def refuse(code: RefusalCode) -> Refusal:
    return Refusal(code=code, message=REFUSAL_MESSAGES[code])


@dataclass(frozen=True, slots=True)
class RateLimit:
    """How many reports one member may file per guild in a sliding period."""

    max_reports: int = 5
    per: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ValidSubmission:
    submission: ReportSubmission
    details: str | None
    link: MessageLink | None


def clean_details(details: str | None) -> str | None:
    """Trim, and turn an empty answer into no answer, so stored text is always meaningful."""
    if details is None:
        return None
    stripped = details.strip()
    return stripped or None


def validate_submission(submission: ReportSubmission) -> ValidSubmission | Refusal:
    """Refusals that need no database: checked before anything is stored."""
    if submission.reporter.id == submission.target.id:
        return refuse(RefusalCode.SELF_REPORT)
    if submission.target.is_bot:
        return refuse(RefusalCode.BOT_TARGET)
    details = clean_details(submission.details)
    if details is not None and len(details) > MAX_DETAILS_LENGTH:
        return refuse(RefusalCode.DETAILS_TOO_LONG)
    link: MessageLink | None = None
    raw_link = (submission.message_link or "").strip()
    if raw_link:
        link = parse_message_link(raw_link)
        if link is None:
            return refuse(RefusalCode.BAD_LINK)
        if link.guild_id != submission.guild_id:
            return refuse(RefusalCode.FOREIGN_LINK)
    return ValidSubmission(submission=submission, details=details, link=link)


def is_rate_limited(recent_reports: int, limit: RateLimit) -> bool:
    """`recent_reports` counts the reporter's stored reports inside `limit.per`."""
    return recent_reports >= limit.max_reports


def window_start(now: datetime, window_hours: int) -> datetime:
    return now - timedelta(hours=window_hours)


@dataclass(frozen=True, slots=True)
class Decision:
    open_case: bool
    urgent: bool


def decide(*, distinct_reporters: int, threshold: int, critical: bool) -> Decision:
    """Whether a target without an active case gets one now.

    Critical reasons bypass the threshold: one report about a child in danger is enough.
    """
    if critical:
        return Decision(open_case=True, urgent=True)
    return Decision(open_case=distinct_reporters >= threshold, urgent=False)
