"""The storage interface the domain needs. storage/ implements it; tests may fake it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from core.evidence import MessageEvidence
from core.models import (
    AlertCleanup,
    Case,
    CaseAction,
    CaseEvent,
    CaseRef,
    CaseStatus,
    ErasedCase,
    FeedItem,
    GuildScope,
    GuildSettings,
    PurgeCounts,
    RelayMessage,
    ReminderKind,
    Report,
    ReportSource,
    SentReminder,
    UserSnapshot,
)
from core.reasons import Reason
from core.records import hot_record, keyword_maker
from core.stats import GuildStats, OutboxBacklog, StatsPeriod


@hot_record
class NewReport:
    guild_id: int
    reporter: UserSnapshot
    target: UserSnapshot
    reason: Reason
    source: ReportSource
    created_at: datetime
    details: str | None
    message_link: str | None
    channel_id: int | None
    message_id: int | None
    case_id: int | None
    counts_toward_threshold: bool = True
    evidence: MessageEvidence | None = None
    not_counted_reason: str | None = None


make_new_report = keyword_maker(NewReport)
"""`NewReport(**kwargs)`, cheaper (`keyword_maker`): a report's transaction builds one."""


@hot_record
class ReportContext:
    """What a report's decision reads, fetched by one statement
    (`ReportRepository.report_context`); `ReportService._record` decides with it.

    Instants a window depends on are given as the newest matching report's time, at or after
    the floor the caller asked for, so the caller compares them with its window (which needs
    the settings read in the same statement)."""

    recent_reports: int  # by the reporter since the rate limit's start
    settings: GuildSettings
    muted: bool  # moderators set the reporter's reports to "don't count"
    case: CaseRef | None  # the target's active case
    in_case: bool  # the reporter has a report in that case
    counted_in_case: bool  # ... and one of them counts toward the threshold
    # Newest report in a case by the target about the reporter (possible retaliation).
    retaliated_at: datetime | None
    # Without an active case: the reporter's newest report about the target in no case.
    unassigned_at: datetime | None
    # The active case's kept count of distinct counting reporters, as read (None: no case).
    case_reporters: int | None = None


make_report_context = keyword_maker(ReportContext)
"""`ReportContext(**kwargs)`, cheaper (`keyword_maker`)."""


@hot_record
class CaseJoin:
    """A report joins an active case: the target's snapshot is refreshed and an alert edit
    asked for; `urgent` may upgrade the case (first reminder at `reminder_at`);
    `new_reporter`: the report makes one more distinct counting reporter. `reporters_before`:
    the case's kept count as this transaction read it (`ReportContext.case_reporters`), if it
    did; a backend with one writer at a time (SQLite) then knows the count after the report
    without reading it back."""

    case_id: int
    target: UserSnapshot
    urgent: bool
    reminder_at: datetime | None
    new_reporter: bool
    reporters_before: int | None = None


make_case_join = keyword_maker(CaseJoin)
"""`CaseJoin(**kwargs)`, cheaper (`keyword_maker`)."""


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """A moderator signed in to the web dashboard. `guild_ids` are the servers Discord listed
    at sign-in: candidates only, every request checks permissions again through the bot."""

    user_id: int
    user_name: str
    locale: str | None
    guild_ids: tuple[int, ...]
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewRelayMessage:
    """A question, answer, addition or stop to store (core/relay.py)."""

    guild_id: int
    case_id: int | None
    report_id: int | None
    reporter_id: int
    author_id: int
    kind: str  # core.models.RelayKind
    text: str | None
    state: str  # core.models.DeliveryState
    created_at: datetime
    question_id: int | None = None


class ReportRepository(Protocol):
    async def add(self, report: NewReport) -> int: ...

    async def get(self, report_id: int) -> Report | None: ...

    async def lock_reporter(self, guild_id: int, reporter_id: int) -> None:
        """Make other processes' report transactions by this reporter wait for this one (taken
        before `CaseRepository.lock_target`, always in that order)."""
        ...

    async def lock_for_report(self, guild_id: int, reporter_id: int, target_id: int) -> None:
        """`lock_reporter` then `CaseRepository.lock_target`, in that order, in one step."""
        ...

    async def report_context(
        self,
        guild_id: int,
        reporter_id: int,
        target_id: int,
        *,
        rate_since: datetime,
        window_floor: datetime,
    ) -> ReportContext:
        """Everything `ReportService._record` decides on, in one read: the reporter's reports
        since `rate_since`, the settings, the muted flag, the active case and the reporter's
        place in it, and (at or after `window_floor`) the newest retaliation and unassigned
        reports."""
        ...

    async def add_to_case(self, report: NewReport, join: CaseJoin) -> tuple[int, int]:
        """Store a report joining an active case and update the case as `join` says; returns
        (the report's ID, the case's distinct counting reporters now)."""
        ...

    async def add_unassigned(self, report: NewReport, since: datetime) -> tuple[int, int]:
        """Store a report about a target with no active case; returns (its ID, the target's
        distinct counting reporters in no case since `since`, this report included)."""
        ...

    async def count_by_reporter_since(
        self, guild_id: int, reporter_id: int, since: datetime
    ) -> int: ...

    async def count_unassigned_reporters(
        self, guild_id: int, target_id: int, since: datetime
    ) -> int:
        """Distinct reporters of a target with no active case, inside the window."""
        ...

    async def assign_unassigned(
        self, guild_id: int, target_id: int, since: datetime, case_id: int
    ) -> int: ...

    async def reporter_in_case(self, case_id: int, reporter_id: int) -> bool: ...

    async def for_case(self, case_id: int) -> list[Report]: ...

    async def about_target(self, guild_id: int, target_id: int, limit: int) -> list[Report]: ...

    async def count_about_target(self, guild_id: int, target_id: int) -> int: ...

    async def malicious_history(self, guild_id: int, reporter_ids: list[int]) -> set[int]: ...

    async def hold_evidence(
        self,
        guild_id: int,
        reporter_id: int,
        channel_id: int,
        message_id: int,
        evidence: MessageEvidence,
        now: datetime,
    ) -> int:
        """Keep a message's evidence until its report form is submitted; returns its ID."""
        ...

    async def claim_evidence(
        self,
        evidence_id: int,
        guild_id: int,
        reporter_id: int,
        author_id: int,
        channel_id: int,
        message_id: int,
        *,
        held_since: datetime,
    ) -> MessageEvidence | None:
        """Take (and delete) the pending evidence if it is this reporter's, about this
        message by this author; None if it is gone (purged, claimed, another process's DB) or
        was held before ``held_since`` (expired: it is deleted all the same)."""
        ...

    async def discard_evidence(self, evidence_id: int, guild_id: int, reporter_id: int) -> None:
        """Delete pending evidence held under ``guild_id`` for this reporter (nobody else's)."""
        ...

    async def keep_newest_held(self, guild_id: int, reporter_id: int, keep: int) -> int:
        """Delete this reporter's pending evidence under ``guild_id`` but the newest ``keep``."""
        ...

    async def purge_pending_evidence(self, cutoff: datetime, dm_cutoff: datetime) -> int:
        """Delete pending evidence held before ``cutoff``, and a DM's before ``dm_cutoff``."""
        ...

    async def is_muted(self, guild_id: int, user_id: int) -> bool:
        """Whether moderators set this member's reports to "don't count"."""
        ...

    async def set_muted(
        self, guild_id: int, user_id: int, muted: bool, by: int, at: datetime
    ) -> bool:
        """Set or lift "don't count" for a member's reports; False when nothing changed."""
        ...


class CaseRepository(Protocol):
    async def lock_target(self, guild_id: int, target_id: int) -> None:
        """Make other processes' report transactions about this target wait for this one."""
        ...

    async def active_for_target(self, guild_id: int, target_id: int) -> Case | None: ...

    async def open(
        self,
        guild_id: int,
        target: UserSnapshot,
        urgent: bool,
        now: datetime,
        reminder_at: datetime | None = None,
    ) -> Case: ...

    async def recount_reporters(self, case_ids: Collection[int]) -> None:
        """Count these cases' distinct counting reporters again (kept on each case, see
        `ReportRepository.add_to_case`), after reports were assigned or removed in bulk."""
        ...

    async def due_reminders(
        self,
        now: datetime,
        limit: int,
        exclude: Sequence[int] = (),
        scope: GuildScope | None = None,
    ) -> list[Case]:
        """Urgent cases nobody acted on, alert posted, whose next reminder is due at `now`:
        servers in turns (each one's first due, then each one's second...), without the
        cases in `exclude` (waiting to retry), within `scope` (the reading process's)."""
        ...

    async def reminder_sent(
        self,
        case_id: int,
        number: int,
        next_at: datetime | None,
        sent: tuple[ReminderKind, datetime] | None = None,
    ) -> bool:
        """Compare-and-set: record reminder `number` (True in one process only), and with
        `sent`, what went and when (the case's timeline)."""
        ...

    async def reminders(self, case_id: int) -> list[SentReminder]:
        """The case's reminders as they were sent, in order."""
        ...

    async def get(self, case_id: int) -> Case | None: ...

    async def apply_action(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        now: datetime,
        *,
        allowed_from: Collection[CaseStatus],
        note: str | None = None,
        detail: str | None = None,
        twin_since: datetime | None = None,
    ) -> Case | None:
        """Compare-and-set: record `action` only if the case's status is still one of
        `allowed_from` (checked in the UPDATE itself); None when it is not. `twin_since`: an
        identical event (same moderator, action, note and detail) recorded at or after it is
        this one submitted twice: the case is returned, nothing is added."""
        ...

    async def append_event(
        self,
        case_id: int,
        action: CaseAction,
        actor_id: int,
        now: datetime,
        *,
        note: str | None = None,
        detail: str | None = None,
    ) -> Case | None:
        """Add to the case's history without a status change (None: no such case)."""
        ...

    async def claim_check_in(
        self, case_id: int, now: datetime, free_before: datetime, lease_before: datetime
    ) -> bool:
        """Compare-and-set: hold the case's check-in at `now` unless one was held at or after
        `free_before`, or, with no delivery recorded since, at or after `lease_before` (True
        in one transaction only)."""
        ...

    async def check_in_delivered(self, case_id: int) -> bool:
        """Whether a check-in was recorded as delivered since the case's current claim."""
        ...

    async def release_check_in(self, case_id: int, claimed_at: datetime) -> None:
        """Give back the claim made at `claimed_at` (a later claim is kept)."""
        ...

    async def set_target_locale(self, case_id: int, locale: str | None) -> None:
        """Remember the member's own locale on their case (None: keep what is there)."""
        ...

    async def get_by_number(self, guild_id: int, number: int) -> Case | None: ...

    async def count_active(self, guild_id: int, *, not_about: int | None = None) -> int:
        """Open and acknowledged cases, except those about `not_about` (the viewer)."""
        ...

    async def queue_feedback(
        self, case_id: int, reporter_ids: list[int], now: datetime
    ) -> None: ...

    async def pending_feedback(self, limit: int, now: datetime) -> list[tuple[int, int]]:
        """(case_id, reporter_id) pairs still owed a feedback DM and not claimed at `now`."""
        ...

    async def claim_feedback(
        self, case_id: int, reporter_id: int, now: datetime, until: datetime
    ) -> bool:
        """Hold one feedback DM until `until`: True in one process only."""
        ...

    async def mark_feedback(
        self, case_id: int, reporter_id: int, state: str, now: datetime
    ) -> None: ...

    async def events(self, case_id: int) -> list[CaseEvent]: ...

    async def log_event(
        self, case_id: int, action: CaseAction, actor_id: int, now: datetime
    ) -> None:
        """Add an audit-only event (no status change, no alert redraw)."""
        ...

    async def with_pending_alerts(
        self,
        limit: int,
        exclude: tuple[int, ...] | list[int] = (),
        scope: GuildScope | None = None,
    ) -> list[Case]:
        """Cases whose alert is not yet posted, or is older than the case, in configured guilds,
        round robin over guilds; `exclude` leaves out cases waiting for a retry, `scope` keeps
        the servers the reading process serves (None: every server)."""
        ...

    async def mark_alert_posted(
        self,
        case_id: int,
        revision: int,
        channel_id: int,
        message_id: int,
        ping_sent: int | None = None,
    ) -> bool:
        """False: no such case (erased or purged meanwhile); nothing was recorded."""
        ...

    async def note_post_started(self, case_id: int) -> None: ...

    async def forget_alert_message(self, case_id: int, message_id: int) -> bool:
        """False: the case is gone, or its alert is another message by now."""
        ...

    async def list_active(
        self, guild_id: int, limit: int, offset: int = 0, *, not_about: int | None = None
    ) -> list[Case]:
        """Open and acknowledged cases, urgent first then oldest, except those about
        `not_about` (the viewer: no moderator learns from a queue that they were reported)."""
        ...

    async def for_target(self, guild_id: int, target_id: int, limit: int) -> list[Case]: ...

    async def event(self, event_id: int) -> CaseEvent | None: ...

    async def set_thread(self, case_id: int, thread_id: int | None, expected: int | None) -> bool:
        """Compare-and-set the case's thread (`expected`: the thread it has now, None for
        none yet): True in one process only, so a case gets one thread."""
        ...

    async def request_redraw(self, case_id: int) -> None:
        """Ask the alert outbox to deliver the alert again (it re-routes it)."""
        ...


class RelayRepository(Protocol):
    """Questions, answers, additions and stops (core/relay.py), and the case feed: what still
    has to go into a case's thread (core/case_feed.py)."""

    async def lock_case(self, case_id: int) -> None:
        """Make other processes' relay transactions on this case wait for this one."""
        ...

    async def add(self, message: NewRelayMessage, *, feed: bool = True) -> int:
        """Store a relay message; with `feed`, queue it for its case's thread (if in one)."""
        ...

    async def add_answer(self, message: NewRelayMessage) -> int | None:
        """Store an answer and queue it; None when its question already has one."""
        ...

    async def get(self, relay_id: int) -> RelayMessage | None: ...

    async def for_case(self, case_id: int) -> list[RelayMessage]:
        """The case's relay messages, oldest first."""
        ...

    async def answered(self, question_id: int) -> bool: ...

    async def set_delivery(
        self, question_id: int, state: str, dm_channel_id: int | None, dm_message_id: int | None
    ) -> None: ...

    async def settle_unconfirmed(
        self, question_id: int, state: str, dm_channel_id: int | None, dm_message_id: int | None
    ) -> bool:
        """Record a question's delivery only if it is still unconfirmed; False otherwise."""
        ...

    async def unconfirmed_questions(self, before: datetime, limit: int) -> list[RelayMessage]:
        """Questions stored before `before` whose DM is still unconfirmed, oldest first."""
        ...

    async def queue(self, relay_id: int, now: datetime) -> None:
        """Queue a stored relay message for its case's thread (nothing if it is gone)."""
        ...

    async def questions_since(self, case_id: int, since: datetime) -> list[datetime]:
        """When the case's questions that count toward the limit were asked, since `since`."""
        ...

    async def details_since(self, report_id: int, since: datetime) -> list[datetime]: ...

    async def opted_out(self, case_id: int, reporter_id: int) -> bool: ...

    async def opt_out(self, case_id: int, reporter_id: int, guild_id: int, now: datetime) -> bool:
        """Record "stop messages"; False when it was recorded already."""
        ...

    async def attach_to_case(self, case_id: int, now: datetime) -> int:
        """Details added to reports before they joined `case_id` join it, queued for its
        thread. Returns how many."""
        ...

    async def pending_feed(
        self, limit: int, exclude: Collection[int] = (), scope: GuildScope | None = None
    ) -> list[FeedItem]:
        """The oldest feed items, of cases not in `exclude` (waiting for a retry), of servers
        in `scope` (None: every server)."""
        ...

    async def feed_for_case(self, case_id: int, limit: int) -> list[FeedItem]: ...

    async def feed_done(self, feed_id: int) -> bool:
        """Remove a posted (or dropped) item; False if another process already did."""
        ...

    async def mark_posted(self, relay_id: int, channel_id: int, message_id: int) -> None:
        """Where a relay message was posted (an erasure deletes it there)."""
        ...


class GuildSettingsRepository(Protocol):
    async def get(self, guild_id: int) -> GuildSettings: ...

    async def save(self, settings: GuildSettings, now: datetime) -> None: ...

    async def note_locale(self, guild_id: int, locale: str, now: datetime) -> None: ...

    async def locales(self, guild_ids: Sequence[int]) -> dict[int, str | None]:
        """The stored language of each of these servers that has a settings row."""
        ...


class MetaRepository(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


class GuildDataRepository(Protocol):
    async def known_guild_ids(self) -> set[int]: ...

    async def knows_guild(self, guild_id: int) -> bool:
        """Whether `guild_id` is among `known_guild_ids()`, without reading them all."""
        ...

    async def purge_expired(self, guild_id: int, cutoff: datetime) -> PurgeCounts: ...

    async def purge_guild(self, guild_id: int) -> PurgeCounts: ...

    async def forget_user(
        self, guild_id: int, user_id: int, actor_id: int, now: datetime
    ) -> tuple[PurgeCounts, list[ErasedCase], list[int], list[int]]:
        """Erase a member as target and as reporter: the counts, the erased cases, the other
        cases that lost reports, and the cases about `actor_id` whose reports by the member
        were kept (not the actor's to erase)."""
        ...

    async def mark_departed(self, guild_id: int, now: datetime) -> None: ...

    async def mark_present(self, guild_id: int) -> None: ...

    async def departed_before(self, cutoff: datetime) -> list[int]: ...

    async def record_notice(self, guild_id: int, problem: str, now: datetime) -> bool: ...

    async def clear_notices(self, guild_id: int) -> None: ...

    async def pending_cleanup(
        self, limit: int, scope: GuildScope | None = None
    ) -> list[AlertCleanup]:
        """Messages still to delete, round robin over servers (each one's oldest first), of
        servers in `scope` (None: every server)."""
        ...

    async def queue_thread_cleanup(self, guild_id: int, thread_id: int, now: datetime) -> None:
        """A thread the reported member may now read: Vigil's messages in it are deleted."""
        ...

    async def queue_message_cleanup(
        self, guild_id: int, channel_id: int, message_id: int, now: datetime
    ) -> None:
        """A message of Vigil's whose record is gone (erased while it was being sent): it is
        deleted from Discord like a purged case's."""
        ...

    async def cleanup_pending(self, cleanup_id: int) -> bool:
        """Whether the row is still queued (read under its claim: not done meanwhile)."""
        ...

    async def cleanup_done(self, cleanup_id: int) -> None: ...

    async def note_delivery_problem(self, guild_id: int, problem: str, now: datetime) -> None: ...

    async def clear_delivery_problems(self, guild_id: int) -> None: ...

    async def delivery_problems(self, guild_id: int | None = None) -> list[tuple[int, str]]: ...


class StatsRepository(Protocol):
    async def for_guild(
        self, guild_id: int, period: StatsPeriod, *, timing_limit: int = ...
    ) -> GuildStats:
        """Team figures for one guild over `period` (see core/stats.py for definitions)."""
        ...

    async def oldest_unacknowledged_urgent(self) -> datetime | None: ...

    async def outbox_backlog(self) -> OutboxBacklog: ...

    async def ping(self) -> bool:
        """`SELECT 1` (the health probe's database check)."""
        ...


class DashboardSessionRepository(Protocol):
    async def add_login(self, state_hash: str, now: datetime, expires_at: datetime) -> None: ...

    async def take_login(self, state_hash: str, now: datetime) -> bool:
        """Use a sign-in's state once (True in one request only, before it expires)."""
        ...

    async def add_session(
        self, token_hash: str, session: DashboardSession, now: datetime
    ) -> None: ...

    async def get_session(self, token_hash: str, now: datetime) -> DashboardSession | None: ...

    async def end_session(self, token_hash: str) -> None: ...

    async def purge_expired(self, now: datetime) -> int: ...

    async def purge_expired_logins(self, now: datetime) -> int:
        """Forget sign-ins never finished, past their expiry (at every /login)."""
        ...


class ReviewRepository(Protocol):
    """Read-only queries of the dashboard's review pages."""

    async def reports_for_cases(self, case_ids: list[int]) -> list[Report]: ...

    async def events_for_cases(self, case_ids: list[int]) -> list[CaseEvent]: ...

    async def case_numbers(self, guild_id: int, case_ids: list[int]) -> dict[int, int]: ...

    async def by_reporter(
        self, guild_id: int, reporter_id: int, limit: int, *, not_about: int
    ) -> list[Report]:
        """Reports `reporter_id` filed, leaving out those about `not_about` (the viewer)."""
        ...

    async def count_by_reporter(
        self, guild_id: int, reporter_id: int, *, not_about: int
    ) -> int: ...

    async def search_targets(
        self, guild_id: int, text: str, limit: int, *, not_about: int
    ) -> list[tuple[int, str]]: ...


class UnitOfWork(Protocol):
    @property
    def reports(self) -> ReportRepository: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def settings(self) -> GuildSettingsRepository: ...

    @property
    def meta(self) -> MetaRepository: ...

    @property
    def guild_data(self) -> GuildDataRepository: ...

    @property
    def stats(self) -> StatsRepository: ...

    @property
    def dashboard(self) -> DashboardSessionRepository: ...

    @property
    def review(self) -> ReviewRepository: ...

    @property
    def relay(self) -> RelayRepository: ...


T = TypeVar("T")


class Replayable(Generic[T]):
    """A transaction function that may run more than once before its commit: it acts only
    through the unit of work it is given (no effect outside the database, nothing kept
    between runs), so a run whose transaction was rolled back leaves nothing behind.

    A store may then run a batch of them without a savepoint each, and only when one fails
    roll the batch back and run it again with one (SQLite: two statements less a report,
    issue 19). Every other transaction function runs exactly once."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> None:
        # ReportWrite sets this slot itself, without calling here: a new slot goes there too.
        self._fn = fn

    def __call__(self, tx: UnitOfWork) -> Coroutine[Any, Any, T]:
        return self._fn(tx)


class ReportWrite(Replayable[T]):
    """A report's transaction function (replayable, see there), with whom it locks first:
    `lock_for_report(guild_id, reporter_id, target_id)` is its first repository call.

    A store may run many of these in one transaction: PostgreSQL's group commit takes every
    lock of a batch up front, in one sorted order, and runs a failed batch's reports again one
    by one; SQLite runs a batch of them without a savepoint each. Any other store calls it."""

    __slots__ = ("guild_id", "reporter_id", "target_id")

    def __init__(
        self,
        fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]],
        guild_id: int,
        reporter_id: int,
        target_id: int,
    ) -> None:
        # Replayable's one field set here, not through super().__init__: a frame and a
        # super object less for every report (issue 19).
        self._fn = fn
        self.guild_id = guild_id
        self.reporter_id = reporter_id
        self.target_id = target_id


class Store(Protocol):
    async def write(self, fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` as one atomic transaction; returns only after it is committed (durable).

        `fn` may await repository calls only: network I/O belongs after the commit.
        """
        ...

    async def read(self, fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T: ...

    def claim(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Try to hold `name` across every process sharing the database, for one block of
        work (e.g. one alert delivery); the context value says whether this process holds it."""
        ...

    async def try_lead(self, name: str) -> bool:
        """True in exactly one live process for `name` (periodic tasks run only there)."""
        ...

    async def close(self) -> None: ...
