"""The rules of reporting, as pure functions: who may report what, and when a case opens."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.i18n import tr
from core.links import MessageLink, parse_message_link
from core.models import MAX_DETAILS_LENGTH, ReportSource, ReportSubmission
from core.records import hot_record, keyword_maker
from core.text import clean_user_text


class RefusalCode(StrEnum):
    SELF_REPORT = "self_report"
    BOT_TARGET = "bot_target"
    BAD_LINK = "bad_link"
    FOREIGN_LINK = "foreign_link"
    UNKNOWN_CHANNEL = "unknown_channel"
    DETAILS_TOO_LONG = "details_too_long"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A report Vigil declined, as a code: nothing was stored. The reporter's message is
    worded where the reply is built (:meth:`localised`, in the reader's language)."""

    code: RefusalCode

    @property
    def message(self) -> str:
        """The refusal in English (the catalogue's), for logs and tests."""
        return refusal_text(self.code)

    def localised(self, locale: str | None) -> str:
        """The refusal in the reader's language (a Discord locale code; English if unknown)."""
        return refusal_text(self.code, locale)


REFUSAL_KEYS: dict[RefusalCode, str] = {
    RefusalCode.SELF_REPORT: "refusal.self_report",
    RefusalCode.BOT_TARGET: "refusal.bot_target",
    RefusalCode.BAD_LINK: "refusal.bad_link",
    RefusalCode.FOREIGN_LINK: "refusal.foreign_link",
    RefusalCode.UNKNOWN_CHANNEL: "refusal.unknown_channel",
    RefusalCode.DETAILS_TOO_LONG: "refusal.details_too_long",
    RefusalCode.RATE_LIMITED: "refusal.rate_limited",
}
"""Catalogue keys of the refusal messages (texts in ``core/locales/*/LC_MESSAGES/vigil.po``)."""


def refusal_text(code: RefusalCode, locale: str | None = None) -> str:
    return tr(REFUSAL_KEYS[code], locale, max_length=MAX_DETAILS_LENGTH)


def refuse(code: RefusalCode) -> Refusal:
    return Refusal(code=code)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """How many reports one member may file per guild in a sliding period."""

    max_reports: int = 5
    per: timedelta = timedelta(minutes=10)


@hot_record
class ValidSubmission:
    submission: ReportSubmission
    details: str | None
    link: MessageLink | None


make_valid_submission = keyword_maker(ValidSubmission)
"""`ValidSubmission(**kwargs)`, cheaper (`keyword_maker`): every report builds one."""


def clean_details(details: str | None) -> str | None:
    """Trim, drop control characters, and turn an empty answer into no answer, so stored text
    is always meaningful (and storable by every backend: PostgreSQL refuses NUL)."""
    return clean_user_text(details)


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
    from_dm = submission.source is ReportSource.DM_MESSAGE
    if raw_link:
        link = parse_message_link(raw_link, private=from_dm)
        if link is None:
            return refuse(RefusalCode.BAD_LINK)
        if from_dm:
            # A DM's message is in no server's channels: its link must say so (``@me``), and
            # nothing in a server ever acts on it (no deletion, no channel lookup).
            if link.guild_id is not None:
                return refuse(RefusalCode.FOREIGN_LINK)
            return make_valid_submission(submission=submission, details=details, link=link)
        if link.guild_id != submission.guild_id:
            return refuse(RefusalCode.FOREIGN_LINK)
        # The guild ID in a link is only text: a channel of another server behind this server's
        # ID would let "Delete messages" reach anywhere Vigil can. Only this guild's channels.
        channels = submission.guild_channel_ids
        if channels is None or link.channel_id not in channels:
            return refuse(RefusalCode.UNKNOWN_CHANNEL)
    return make_valid_submission(submission=submission, details=details, link=link)


def is_rate_limited(recent_reports: int, limit: RateLimit) -> bool:
    """`recent_reports` counts the reporter's stored reports inside `limit.per`."""
    return recent_reports >= limit.max_reports


def window_start(now: datetime, window_hours: int) -> datetime:
    return now - _hours(window_hours)


@functools.lru_cache(maxsize=64)
def _hours(hours: int) -> timedelta:
    """A report computes two windows (issue 19: built once per length, not per report)."""
    return timedelta(hours=hours)


@dataclass(frozen=True, slots=True)
class Decision:
    open_case: bool
    urgent: bool


def decide(*, distinct_reporters: int, threshold: int, critical: bool) -> Decision:
    """Whether a target without an active case gets one now.

    Critical reasons bypass the threshold: one report about a child in danger is enough.
    """
    if critical:
        return _OPEN_URGENT
    return _OPEN if distinct_reporters >= threshold else _WAIT


# The three answers, frozen and built once: a report without a case asks (issue 19).
_OPEN_URGENT = Decision(open_case=True, urgent=True)
_OPEN = Decision(open_case=True, urgent=False)
_WAIT = Decision(open_case=False, urgent=False)
