"""The limit the service is measured against: group commit on a dedicated writer thread.

Not used by the bot. `benchmarks.storage` runs it beside the service to show how close
`SqliteStore` gets to what this design can do on the same machine. (Issue 13 quoted ~1.20x
sqlite3's one-transaction-per-row rate for the transaction of then; the transaction has grown
since: retaliation and muted-reporter checks, counting flags, reminders. RESULTS.md has the
figures for today's.)

* one writer thread owns a plain `sqlite3` connection (same file, same pragmas);
* `submit` validates on the event loop, then enqueues a job (a plain function running the
  whole transaction body synchronously) and awaits one future;
* the writer drains every job queued so far (up to `MAX_BATCH`, the service's own limit), runs
  them in ONE `BEGIN IMMEDIATE ... COMMIT`, each inside its own SAVEPOINT so a failing report
  is rolled back alone, and only after COMMIT returns resolves the batch's futures with a
  single `call_soon_threadsafe`. If COMMIT fails, every job of the batch gets the error.

The service does the same in aiosqlite's thread (storage/sqlite.py), through the async
repositories and the unit of work. The job body below is the submit transaction of
core/service.py (`ReportService._record`) written as bare sqlite3 calls: the same statements
in the same order (the row locks are no-ops on SQLite; no pending evidence in the workload),
so the gap between the two is that layering, not different work. When the service's submit
transaction changes, keep this body in step.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from benchmarks._common import connect_sqlite3
from core.clock import Clock
from core.followthrough import count_decision, first_reminder_at
from core.models import CaseRef, ReportSubmission
from core.policy import (
    RateLimit,
    Refusal,
    RefusalCode,
    ValidSubmission,
    decide,
    is_rate_limited,
    refuse,
    validate_submission,
    window_start,
)
from core.ports import CaseJoin
from core.service import (
    MAX_WINDOW_HOURS,
    ReportAccepted,
    ReportOutcome,
    counts_toward_threshold,
)
from storage.cases import note_new_report
from storage.codec import optional_to_db, to_db
from storage.reports import (
    CONTEXT_SQL,
    INSERT_REPORT_NO_EVIDENCE_SQL,
    context_from_row,
    context_params,
)
from storage.sqlite import MAX_BATCH

T = TypeVar("T")


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: Callable[[sqlite3.Connection], T]
    future: asyncio.Future[T]
    outcome: T | None = None
    error: BaseException | None = None


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0

    @property
    def mean_batch(self) -> float:
        return self.jobs / self.batches if self.batches else 0.0


_STOP = object()


class WriterThread:
    """A writer thread that commits every queued job of a batch in one transaction."""

    def __init__(self, path: Path, synchronous: str = "NORMAL") -> None:
        self._path = path
        self._synchronous = synchronous
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="vigil-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = WriterStats()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job` inside a write transaction; return once that transaction has committed."""
        assert self._loop is not None, "start() first"
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Pending(job, future))
        return await future

    async def close(self) -> None:
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    # --- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        conn = connect_sqlite3(self._path, self._synchronous)
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch: list[_Pending[Any]] = [first]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._commit_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit_batch(self, conn: sqlite3.Connection, batch: list[_Pending[Any]]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                conn.execute("SAVEPOINT job")
                try:
                    item.outcome = item.job(conn)
                except Exception as exc:  # this job only: undo its statements
                    conn.execute("ROLLBACK TO job")
                    item.error = exc
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except BaseException as exc:  # the transaction failed: nothing in it is acknowledged
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for item in batch:
                item.error = exc
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_settle, batch)


def _settle(batch: list[_Pending[Any]]) -> None:
    for item in batch:
        if item.future.done():  # cancelled by the caller; the report is stored regardless
            continue
        if item.error is not None:
            item.future.set_exception(item.error)
        else:
            item.future.set_result(item.outcome)


# --- the submit transaction, synchronous, same SQL as storage/ --------------------------------


def _scalar(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def submit_in_transaction(
    conn: sqlite3.Connection,
    submission: ReportSubmission,
    checked: ValidSubmission,
    clock: Clock,
    rate_limit: RateLimit,
) -> ReportOutcome:
    """The body of ReportService._record, as one synchronous function: the same statements
    in the same order (storage/reports.py, storage/cases.py; their SQL text is imported)."""
    now = clock.now()
    guild_id, target, reporter = submission.guild_id, submission.target, submission.reporter
    floor = window_start(now, MAX_WINDOW_HOURS)
    context = context_from_row(
        guild_id,
        conn.execute(
            CONTEXT_SQL,
            context_params(guild_id, reporter.id, target.id, now - rate_limit.per, floor),
        ).fetchone(),
    )
    if is_rate_limited(context.recent_reports, rate_limit):
        return refuse(RefusalCode.RATE_LIMITED)
    settings = context.settings
    since = window_start(now, settings.window_hours)
    assert since >= floor, "the workload's window is within setup's range"
    case = context.case
    retaliation = context.retaliated_at is not None and context.retaliated_at >= since
    counting = count_decision(
        old_enough=counts_toward_threshold(reporter.id, now, settings.min_account_age_days),
        retaliation=retaliation,
        muted=context.muted,
    )
    critical = submission.reason.is_critical and counting.may_alert
    if case is not None:
        duplicate = context.in_case
    else:
        duplicate = context.unassigned_at is not None and context.unassigned_at >= since
    link = checked.link
    inserted = conn.execute(
        INSERT_REPORT_NO_EVIDENCE_SQL,  # as `reports.add` (no evidence in the workload)
        (
            guild_id,
            reporter.id,
            reporter.name,
            optional_to_db(reporter.joined_at),
            target.id,
            target.name,
            submission.reason.value,
            submission.source.value,
            checked.details,
            link.url if link else None,
            link.channel_id if link else None,
            link.message_id if link else None,
            to_db(now),
            case.id if case is not None else None,
            int(counting.counts),
            counting.reason.value if counting.reason else None,
        ),
    )
    assert inserted.lastrowid is not None
    report_id = inserted.lastrowid
    opened = False
    reminder_at = first_reminder_at(now, settings.urgent_reminder_minutes) if critical else None
    if case is not None:
        join = CaseJoin(
            case_id=case.id,
            target=target,
            urgent=critical,
            reminder_at=reminder_at,
            new_reporter=counting.counts and not context.counted_in_case,
            reporters_before=context.case_reporters,
        )
        update, update_params = note_new_report(join)
        conn.execute(update, update_params)
        assert join.reporters_before is not None
        count = join.reporters_before + int(join.new_reporter)
    else:
        count = int(
            _scalar(
                conn,
                "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE guild_id = ? "
                "AND target_id = ? AND case_id IS NULL AND counts_toward_threshold = 1 "
                "AND created_at >= ?",
                (guild_id, target.id, to_db(since)),
            )
        )
        decision = decide(distinct_reporters=count, threshold=settings.threshold, critical=critical)
        if decision.open_case:
            joined_at = optional_to_db(target.joined_at)
            number = conn.execute(
                "INSERT INTO case_numbers (guild_id, last_number) "
                "VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM cases WHERE guild_id = ?)) "
                "ON CONFLICT (guild_id) DO UPDATE SET last_number = case_numbers.last_number + 1 "
                "RETURNING last_number",
                (guild_id, guild_id),
            ).fetchall()[0][0]
            case_id = conn.execute(
                "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
                "target_joined_at, status, urgent, opened_at, next_reminder_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (
                    guild_id,
                    int(number),
                    target.id,
                    target.name,
                    int(joined_at is not None),
                    joined_at,
                    int(decision.urgent),
                    to_db(now),
                    optional_to_db(reminder_at) if decision.urgent else None,
                ),
            ).lastrowid
            row = conn.execute("SELECT id, number FROM cases WHERE id = ?", (case_id,)).fetchone()
            case = CaseRef(id=int(row[0]), number=int(row[1]))
            conn.execute(
                "UPDATE reports SET case_id = ? "
                "WHERE guild_id = ? AND target_id = ? AND case_id IS NULL AND created_at >= ?",
                (case.id, guild_id, target.id, to_db(since)),
            )
            conn.execute(
                "UPDATE cases SET counted_reporters = (SELECT COUNT(DISTINCT r.reporter_id) "
                "FROM reports AS r WHERE r.case_id = cases.id AND r.counts_toward_threshold = 1) "
                "WHERE id IN (?)",
                (case.id,),
            )
            opened = True
    return ReportAccepted(
        report_id=report_id,
        case_id=case.id if case is not None else None,
        case_number=case.number if case is not None else None,
        case_opened=opened,
        distinct_reporters=count,
        threshold=settings.threshold,
        duplicate=duplicate,
        alert_channel_configured=settings.is_configured,
        region=settings.region,
    )


class WriterThreadReportService:
    """ReportService.submit with the transaction run on the writer thread, group-committed."""

    def __init__(
        self,
        writer: WriterThread,
        clock: Clock,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._rate_limit = rate_limit or RateLimit()

    async def submit(self, submission: ReportSubmission) -> ReportOutcome:
        checked = validate_submission(submission)
        if isinstance(checked, Refusal):
            return checked
        clock, limit = self._clock, self._rate_limit

        def job(conn: sqlite3.Connection) -> ReportOutcome:
            return submit_in_transaction(conn, submission, checked, clock, limit)

        return await self._writer.run(job)
