"""The storage interface the domain needs. storage/ implements it; tests may fake it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from core.evidence import MessageEvidence
from core.models import (
    AlertCleanup,
    Case,
    CaseAction,
    CaseEvent,
    CaseRef,
    CaseStatus,
    ErasedCase,
    GuildSettings,
    PurgeCounts,
    Report,
    ReportSource,
    UserSnapshot,
)
from core.reasons import Reason
from core.stats import GuildStats, OutboxBacklog, StatsPeriod


@dataclass(frozen=True, slots=True)
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


class ReportRepository(Protocol):
    async def add(self, report: NewReport) -> int: ...

    async def lock_reporter(self, guild_id: int, reporter_id: int) -> None:
        """Make other processes' report transactions by this reporter wait for this one (taken
        before `CaseRepository.lock_target`, always in that order)."""
        ...

    async def count_by_reporter_since(
        self, guild_id: int, reporter_id: int, since: datetime
    ) -> int: ...

    async def count_unassigned_reporters(
        self, guild_id: int, target_id: int, since: datetime
    ) -> int:
        """Distinct reporters of a target with no active case, inside the window."""
        ...

    async def reporter_has_unassigned(
        self, guild_id: int, target_id: int, reporter_id: int, since: datetime
    ) -> bool: ...

    async def assign_unassigned(
        self, guild_id: int, target_id: int, since: datetime, case_id: int
    ) -> int: ...

    async def reporter_in_case(self, case_id: int, reporter_id: int) -> bool: ...

    async def for_case(self, case_id: int) -> list[Report]: ...

    async def distinct_reporters_in_case(self, case_id: int) -> int: ...

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
    ) -> MessageEvidence | None:
        """Take (and delete) the pending evidence if it is this reporter's, about this
        message by this author; None if it is gone (purged, claimed, another process's DB)."""
        ...

    async def purge_pending_evidence(self, cutoff: datetime) -> int: ...
    async def reported_in_case_by(
        self, guild_id: int, case_target_id: int, reporter_id: int, since: datetime
    ) -> bool:
        """Whether `reporter_id` reported `case_target_id` in a case, inside the window (a
        report back from that case's target is possible retaliation)."""
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

    async def active_ref(self, guild_id: int, target_id: int) -> CaseRef | None:
        """The target's active case, as `active_for_target` finds it, id and number only."""
        ...

    async def open(
        self,
        guild_id: int,
        target: UserSnapshot,
        urgent: bool,
        now: datetime,
        reminder_at: datetime | None = None,
    ) -> Case: ...

    async def note_new_report(
        self,
        case_id: int,
        target: UserSnapshot,
        urgent: bool,
        reminder_at: datetime | None = None,
    ) -> None:
        """A report joined the case: refresh the target snapshot and ask for an alert edit;
        an upgrade to urgent schedules the first reminder at `reminder_at`."""
        ...

    async def due_reminders(self, now: datetime, limit: int) -> list[Case]:
        """Urgent cases nobody acted on, alert posted, whose next reminder is due at `now`."""
        ...

    async def reminder_sent(self, case_id: int, number: int, next_at: datetime | None) -> bool:
        """Compare-and-set: record reminder `number` (True in one process only)."""
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
    ) -> Case | None:
        """Compare-and-set: record `action` only if the case's status is still one of
        `allowed_from` (checked in the UPDATE itself); None when it is not."""
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

    async def claim_check_in(self, case_id: int, now: datetime, free_before: datetime) -> bool:
        """Compare-and-set: hold the case's check-in at `now` unless one was held at or after
        `free_before` (True in one transaction only)."""
        ...

    async def release_check_in(self, case_id: int, claimed_at: datetime) -> None:
        """Give back the claim made at `claimed_at` (a later claim is kept)."""
        ...

    async def set_target_locale(self, case_id: int, locale: str | None) -> None:
        """Remember the member's own locale on their case (None: keep what is there)."""
        ...

    async def get_by_number(self, guild_id: int, number: int) -> Case | None: ...

    async def count_active(self, guild_id: int) -> int: ...

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
        self, limit: int, exclude: tuple[int, ...] | list[int] = ()
    ) -> list[Case]:
        """Cases whose alert is not yet posted, or is older than the case, in configured guilds,
        round robin over guilds; `exclude` leaves out cases waiting for a retry."""
        ...

    async def mark_alert_posted(
        self,
        case_id: int,
        revision: int,
        channel_id: int,
        message_id: int,
        ping_sent: int | None = None,
    ) -> None: ...

    async def note_post_started(self, case_id: int) -> None: ...

    async def forget_alert_message(self, case_id: int) -> None: ...

    async def list_active(self, guild_id: int, limit: int, offset: int = 0) -> list[Case]: ...

    async def for_target(self, guild_id: int, target_id: int, limit: int) -> list[Case]: ...


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

    async def purge_expired(self, guild_id: int, cutoff: datetime) -> PurgeCounts: ...

    async def purge_guild(self, guild_id: int) -> PurgeCounts: ...

    async def forget_user(
        self, guild_id: int, user_id: int, actor_id: int, now: datetime
    ) -> tuple[PurgeCounts, list[ErasedCase], list[int]]: ...

    async def mark_departed(self, guild_id: int, now: datetime) -> None: ...

    async def mark_present(self, guild_id: int) -> None: ...

    async def departed_before(self, cutoff: datetime) -> list[int]: ...

    async def record_notice(self, guild_id: int, problem: str, now: datetime) -> bool: ...

    async def clear_notices(self, guild_id: int) -> None: ...

    async def pending_cleanup(self, limit: int) -> list[AlertCleanup]: ...

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


class ReviewRepository(Protocol):
    """Read-only queries of the dashboard's review pages."""

    async def reports_for_cases(self, case_ids: list[int]) -> list[Report]: ...

    async def by_reporter(self, guild_id: int, reporter_id: int, limit: int) -> list[Report]: ...

    async def count_by_reporter(self, guild_id: int, reporter_id: int) -> int: ...

    async def search_targets(
        self, guild_id: int, text: str, limit: int
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


T = TypeVar("T")


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
