"""Domain records. Plain dataclasses: storage fills them, cogs read them, nothing here talks I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.reasons import Reason

DEFAULT_THRESHOLD = 3
DEFAULT_WINDOW_HOURS = 24
MAX_DETAILS_LENGTH = 1000


class ReportSource(StrEnum):
    """Which entry point a report came through (kept for moderators and for the export)."""

    SLASH = "slash"
    USER_MENU = "user_menu"
    MESSAGE_MENU = "message_menu"


class CaseStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"

    @property
    def is_active(self) -> bool:
        """Active cases absorb new reports; a closed case resets the tally."""
        return self in (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)


class CaseAction(StrEnum):
    """What a moderator did from an alert; also the audit trail's vocabulary."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    DISMISS = "dismiss"

    @property
    def resulting_status(self) -> CaseStatus:
        return {
            CaseAction.ACKNOWLEDGE: CaseStatus.ACKNOWLEDGED,
            CaseAction.RESOLVE: CaseStatus.RESOLVED,
            CaseAction.DISMISS: CaseStatus.DISMISSED,
        }[self]


@dataclass(frozen=True, slots=True)
class UserSnapshot:
    """A user as Discord described them at the moment of the report."""

    id: int
    name: str
    is_bot: bool = False
    joined_at: datetime | None = None  # None: not (or no longer) a member of the guild


@dataclass(frozen=True, slots=True)
class ReportSubmission:
    """What a member asked Vigil to record. Validated by policy before anything is stored."""

    guild_id: int
    reporter: UserSnapshot
    target: UserSnapshot
    reason: Reason
    source: ReportSource
    details: str | None = None
    message_link: str | None = None
    target_is_member: bool = True


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    alert_channel_id: int | None = None
    threshold: int = DEFAULT_THRESHOLD
    window_hours: int = DEFAULT_WINDOW_HOURS
    region: str | None = None
    mod_role_id: int | None = None

    @property
    def is_configured(self) -> bool:
        return self.alert_channel_id is not None


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    guild_id: int
    reporter_id: int
    target_id: int
    reason: Reason
    source: ReportSource
    created_at: datetime
    details: str | None = None
    message_link: str | None = None
    channel_id: int | None = None
    message_id: int | None = None
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    guild_id: int
    number: int
    target_id: int
    target_name: str
    target_is_member: bool
    target_joined_at: datetime | None
    status: CaseStatus
    urgent: bool
    opened_at: datetime
    closed_at: datetime | None = None
    handled_by: int | None = None
    handled_at: datetime | None = None
    alert_channel_id: int | None = None
    alert_message_id: int | None = None
    alert_revision: int = 1
    alert_posted_revision: int = 0


@dataclass(frozen=True, slots=True)
class CaseEvent:
    case_id: int
    actor_id: int
    action: CaseAction
    created_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlertData:
    """Everything an alert shows, read in one go so the rendering is a pure function."""

    case: Case
    settings: GuildSettings
    reports: tuple[Report, ...]
    distinct_reporters: int
    events: tuple[CaseEvent, ...] = field(default_factory=tuple)
