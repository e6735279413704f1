"""Domain records. Plain dataclasses: storage fills them, cogs read them, nothing here talks I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.evidence import MessageEvidence
from core.outcomes import Vocabulary
from core.reasons import Reason
from core.records import hot_record

DEFAULT_THRESHOLD = 3
DEFAULT_WINDOW_HOURS = 24
MAX_DETAILS_LENGTH = 1000
DEFAULT_RETENTION_DAYS = 180
DEPARTED_GUILD_GRACE_DAYS = 30


class ReportSource(Vocabulary):
    """Which entry point a report came through (kept for moderators and for the export)."""

    SLASH = "slash"
    USER_MENU = "user_menu"
    MESSAGE_MENU = "message_menu"
    # "Report message" in a DM or group DM, filed in the server the reporter chose.
    DM_MESSAGE = "dm_message"


class CaseStatus(Vocabulary):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"

    @property
    def is_active(self) -> bool:
        """Active cases absorb new reports; a closed case resets the tally."""
        return self in (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)


class CaseAction(Vocabulary):
    """What a moderator did from an alert; also the audit trail's vocabulary."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    NOTE = "note"
    ESCALATE = "escalate"
    TIMEOUT = "timeout"
    KICK = "kick"
    BAN = "ban"
    DELETE_MESSAGES = "delete_messages"
    # A moderator looked at a report's kept message text: audit trail only, never a status.
    EVIDENCE_VIEWED = "evidence_viewed"
    # A moderator sent the member at risk a private check-in (core/welfare.py); the detail is
    # its delivery (core.welfare.CheckInResult). The status stays as it is.
    CHECK_IN = "check_in"
    # A moderator exported the escalation packet while it held kept message text (the same
    # text Show evidence reveals): audit trail only, never a status, never "acting".
    EXPORTED = "exported"
    # A manager who is this case's subject asked to erase one of its reporters (the detail:
    # that reporter's ID): their reports and answers in this case are kept, out of that
    # erasure, until another manager erases them. Audit trail only, never a status.
    ERASURE_HELD = "erasure_held"

    @property
    def resulting_status(self) -> CaseStatus | None:
        """The status the case moves to; None when the action leaves the status alone."""
        return _RESULTING_STATUS.get(self)


_RESULTING_STATUS: dict[CaseAction, CaseStatus] = {
    CaseAction.ACKNOWLEDGE: CaseStatus.ACKNOWLEDGED,
    CaseAction.RESOLVE: CaseStatus.RESOLVED,
    CaseAction.DISMISS: CaseStatus.DISMISSED,
    CaseAction.TIMEOUT: CaseStatus.RESOLVED,
    CaseAction.KICK: CaseStatus.RESOLVED,
    CaseAction.BAN: CaseStatus.RESOLVED,
    CaseAction.DELETE_MESSAGES: CaseStatus.RESOLVED,
}


class DismissReason(Vocabulary):
    NOT_A_VIOLATION = "not_violation"
    DUPLICATE = "duplicate"
    MALICIOUS = "malicious"


class EscalationTarget(Vocabulary):
    DISCORD = "discord"
    NCMEC = "ncmec"
    POLICE = "police"
    HOTLINE = "hotline"


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
    # The channels (and threads) of this guild that the link may point to, as the cog knows
    # them. A link's guild ID is the reporter's text: only a channel of this guild proves the
    # message is here. None (not supplied) refuses every link: fail closed.
    guild_channel_ids: frozenset[int] | None = None
    # "Report message": the pending evidence captured when the menu opened (its form names it).
    evidence_id: int | None = None


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    alert_channel_id: int | None = None
    threshold: int = DEFAULT_THRESHOLD
    window_hours: int = DEFAULT_WINDOW_HOURS
    region: str | None = None
    mod_role_id: int | None = None
    audit_channel_id: int | None = None
    min_account_age_days: int = 0  # reports from younger accounts are kept but not counted
    reporter_feedback: bool = True  # DM reporters when moderators act on their report
    retention_days: int = DEFAULT_RETENTION_DAYS  # 0 keeps everything
    # Where alerts go when the reported member can read the alert channel (None: owner's DMs).
    admin_channel_id: int | None = None
    # The server's Discord locale as last seen: any process renders alerts in it.
    locale: str | None = None
    # Minutes an urgent case may wait for a moderator before Vigil reminds them (0: off).
    urgent_reminder_minutes: int = 15

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
    counts_toward_threshold: bool = True
    reporter_joined_at: datetime | None = None
    target_name: str = ""
    evidence: MessageEvidence | None = None  # the reported message's text ("Report message")
    # Why it does not count (core.followthrough.NotCountedReason), None when it counts.
    not_counted_reason: str | None = None

    @property
    def asks_for_support(self) -> bool:
        """The member's own request for support (issue 15): reporting anyone else about
        themselves is refused before anything is stored, so reporter == target is only this."""
        return self.reporter_id == self.target_id


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
    dismiss_reason: DismissReason | None = None
    ping_wanted: int = 0  # upgrades to urgent that asked for a notifying reply
    ping_sent: int = 0  # ... and how many of those replies were posted
    alert_post_started: bool = False  # a first POST may have reached Discord
    reminders_sent: int = 0  # reminders (and the owner's notice) sent for this urgent case
    next_reminder_at: datetime | None = None  # None: no reminder due (not urgent, or acted on)
    check_in_at: datetime | None = None  # when a delivered check-in holds the next one back
    # The member's own Discord locale, known only when they asked for support themselves.
    target_locale: str | None = None
    # The case's thread under its alert (t15-relay): None, none yet; 0, it was deleted (none
    # again); else the thread's ID.
    thread_id: int | None = None

    @property
    def thread(self) -> int | None:
        """The thread to post in, if the case has one that still exists."""
        return self.thread_id or None


@hot_record
class CaseRef:
    """A case as a report's transaction needs it: which one, and its number for the answer.
    Read for every report that joins a case, so only these two columns are."""

    id: int
    number: int


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One entry of the audit trail: who did what to a case, when, and with which argument."""

    case_id: int
    actor_id: int
    action: CaseAction
    created_at: datetime
    note: str | None = None  # free text: a moderator note, an escalation reference
    detail: str | None = None  # structured: a timeout's seconds, a dismissal reason code


@dataclass(frozen=True, slots=True)
class ReporterSignals:
    """What moderators need to judge whether reports are genuine or a brigade."""

    new_accounts: int = 0  # reporters whose account is younger than NEW_ACCOUNT_DAYS
    recent_joiners: int = 0  # reporters who joined the server in the last RECENT_JOIN_HOURS
    burst: bool = False  # BURST_REPORTERS distinct reporters within BURST_MINUTES
    not_counted: int = 0  # reports kept but below the server's minimum account age
    flagged_reporters: frozenset[int] = frozenset()  # earlier reports dismissed as malicious
    retaliation: frozenset[int] = frozenset()  # reporters this case's target had reported
    muted: frozenset[int] = frozenset()  # reporters whose reports moderators set to not count


NEW_ACCOUNT_DAYS = 7
RECENT_JOIN_HOURS = 24
BURST_REPORTERS = 3
BURST_MINUTES = 10


@dataclass(frozen=True, slots=True)
class AlertData:
    """Everything an alert shows, read in one go so the rendering is a pure function."""

    case: Case
    settings: GuildSettings
    reports: tuple[Report, ...]
    distinct_reporters: int
    events: tuple[CaseEvent, ...] = field(default_factory=tuple)
    signals: ReporterSignals = field(default_factory=ReporterSignals)
    # The case's whole story (t15-followup), read only for the record views (the dashboard's
    # case page, `/reports case`, the escalation packet); empty for the alert itself.
    relay: tuple[RelayMessage, ...] = field(default_factory=tuple)
    reminders: tuple[SentReminder, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    reports: int = 0
    cases: int = 0

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(self.reports + other.reports, self.cases + other.cases)


@dataclass(frozen=True, slots=True)
class ErasedCase:
    """A case erased with its target: its alert message is deleted from Discord afterwards."""

    case_id: int
    alert_channel_id: int | None
    alert_message_id: int | None
    # Its first POST was started and no message ID stored (in flight, or lost to a crash): the
    # erasure queued a search of the alert channel for it.
    post_started: bool = False


@dataclass(frozen=True, slots=True)
class AlertCleanup:
    """A message of a purged case (its alert, a question DM, a posted answer) still to delete
    from Discord; `thread`: the row names a case's thread, whose messages by Vigil go."""

    id: int
    guild_id: int
    channel_id: int
    message_id: int
    thread: bool = False
    # The alert of case `message_id` may be in the channel under an unknown message ID (its
    # POST's answer was lost to a crash, then the case was erased): searched for, then deleted.
    search: bool = False
    # Vigil left the server: no process serves it, so the process of its shard deletes what it
    # still can (a DM; in the server's channels Discord refuses, and the row is done).
    departed: bool = False


@dataclass(frozen=True, slots=True)
class GuildScope:
    """The servers whose pending work (alerts, cleanup, thread posts) a process reads: the
    ones Discord can route to it, so that other processes' servers never fill its batches.

    Discord sends a server to shard `(guild_id >> 22) % shard_count`; `shard_count` None: this
    process runs every shard. A server Vigil has left (`departed_guilds`) is in no process's
    scope (`departed`: unless asked for: their queued deletions). `seen`: servers of other
    shards the process sees all the same (one changing hands): theirs too. `skip`: servers
    of its shards it cannot serve right now (not available yet), or whose work waits; bounded
    by the caller."""

    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()
    skip: tuple[int, ...] = ()
    departed: bool = False
    seen: tuple[int, ...] = ()


# --- t15-relay: the thread per case and the anonymous relay (core/relay.py, core/case_feed.py)


class RelayKind(Vocabulary):
    QUESTION = "question"  # a moderator's question to one reporter
    ANSWER = "answer"  # the reporter's answer to one question
    DETAILS = "details"  # a reporter added information to their report
    STOPPED = "stopped"  # the reporter asked for no more messages about the case


class DeliveryState(Vocabulary):
    KEPT = "kept"  # answers, details, stops: nothing to deliver to a reporter
    SENDING = "sending"  # a question stored, its DM not (yet) confirmed
    SENT = "sent"
    DMS_CLOSED = "dms_closed"  # the reporter does not accept DMs from Vigil
    FAILED = "failed"  # Discord refused otherwise

    @property
    def counts_toward_limit(self) -> bool:
        """Questions that reached (or may have reached) the reporter count toward the hour's
        limit; undelivered ones don't: the reporter was never pressed by them."""
        return self in (DeliveryState.SENDING, DeliveryState.SENT)


@dataclass(frozen=True, slots=True)
class RelayMessage:
    id: int
    guild_id: int
    case_id: int | None
    report_id: int | None
    reporter_id: int
    author_id: int
    kind: RelayKind
    question_id: int | None
    text: str | None
    state: DeliveryState
    created_at: datetime
    dm_channel_id: int | None = None
    dm_message_id: int | None = None


class ReminderKind(Vocabulary):
    REMINDER = "reminder"  # a reply mentioning the moderator role (1..MAX_REMINDERS)
    OWNER = "owner"  # the owner (or the admin channel) was told nobody acted


@dataclass(frozen=True, slots=True)
class SentReminder:
    """An urgent reminder as it was sent (t15-followup): its number and when."""

    case_id: int
    number: int
    kind: ReminderKind
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One thing still to post in a case's thread, in order: a case event or a relay message."""

    id: int
    case_id: int
    guild_id: int
    event_id: int | None
    relay_id: int | None
