"""The PostgreSQL store on asyncpg: the same repositories and migrations as SQLite.

Repositories are written once with `?` placeholders; `PostgresExecutor` rewrites them to
`$1..$n` (cached per statement) and returns plain tuples. Each `write` runs its function in
one READ COMMITTED transaction on a pooled connection; statements really await here (unlike
SQLite, whose whole transaction runs in one hop in its database thread). Report transactions
(`ReportWrite`) that arrive together are stored together: group commit, storage/pg_batch.py.

Several processes may share one database. What keeps them correct:
- migrations run under an advisory lock, so processes starting together migrate once;
- a report's transaction first takes a transaction-scoped advisory lock on its reporter
  (`ReportRepository.lock_reporter`, so the rate limit is counted and enforced in one step),
  then one on its target (`CaseRepository.lock_target`), so two reports completing a threshold
  at the same moment are decided one after the other (and the unique partial index on active
  cases backs that up); always in that order, so they never wait on each other (a batch of
  reports takes all its reporters' locks, sorted, then all its targets', sorted: the same
  order for one report);
- case numbers come from a per-guild counter row (`case_numbers`), whose row lock orders
  concurrent openings, and which never goes down, so no number is given out twice;
- moderator actions are compare-and-set updates (`UPDATE ... WHERE status = ?`): of two
  concurrent actions on one case, the one that lost re-reads the case and decides again;
- `claim` and `try_lead` (session advisory locks, see storage/leases.py) give each alert
  delivery and each periodic task to exactly one process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from core.ports import ReportWrite
from storage.leases import advisory_key
from storage.migrate import available_migrations, refuse_newer
from storage.pg_batch import MAX_BATCH, BatchFailed, run_batch
from storage.postgres_sql import unit_of_work
from storage.sql import answer_failed, answer_stopped
from storage.unit_of_work import StoreUnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)
MIGRATION_LOCK = advisory_key("vigil", "migrations")
STATISTICS_AFTER = 200
"""Reports this process stores before it has PostgreSQL gather the `reports` table's planner
statistics, if the table had none when it opened (`PostgresStore._statistics`)."""

_HAS_NO_STATISTICS = (
    "SELECT NOT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() "
    "AND tablename = 'reports' AND attname = 'reporter_id')"
)


async def migrate(conn: asyncpg.Connection) -> int:
    """Bring the schema up to date, one transaction per migration, under an advisory lock."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
        migrations = available_migrations("postgresql")
        refuse_newer(version, migrations)
        for migration in migrations:
            if migration.number <= version:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)  # no arguments: a multi-statement script
                await conn.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)", migration.number
                )
            version = migration.number
        return version
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


def _session_reset(marked: set[int]) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    """The pool's reset on release: a round trip only for a connection that held a session
    advisory lock (`marked`, by server PID); asyncpg has already rolled back any transaction
    left open (its own step before this one).

    asyncpg's default reset (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is
    one more round trip per release, i.e. per report transaction. Those transactions leave
    nothing of theirs in the session: their locks are transaction-scoped, and they use no
    cursor, LISTEN or SET. Only `claim` and the migration take session locks, and their
    connections are marked here before they do, so a lock whose unlock never ran (a
    cancellation) is still released before the connection serves anyone else."""

    async def reset(conn: asyncpg.Connection) -> None:
        pid = conn.get_server_pid()
        if pid in marked:
            marked.discard(pid)
            query = conn.get_reset_query()
            if query:
                await conn.execute(query)

    return reset


class PostgresStore:
    dialect = "postgresql"

    def __init__(
        self,
        pool: asyncpg.Pool,
        url: str,
        marked: set[int] | None = None,
        *,
        needs_statistics: bool = False,
    ) -> None:
        self._pool = pool
        self.url = url
        self._leaders: dict[str, asyncpg.Connection] = {}
        # Server PIDs of pooled connections to reset in full on release (`_session_reset`).
        self._marked = marked if marked is not None else set()
        # Report transactions waiting for the next batch (`_drain`, storage/pg_batch.py).
        self._queue: list[tuple[ReportWrite[Any], asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # batches committed; a benchmark or test divides reports by this
        self.fallbacks = 0  # batches rolled back and run again one report at a time
        self._needs_statistics = needs_statistics
        self._stored = 0  # reports committed by batches (`STATISTICS_AFTER`)
        self._analyzing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresStore:
        """Connect (a pool), and migrate. `url` is postgresql://user@host:port/database."""
        marked: set[int] = set()
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, reset=_session_reset(marked)
        )
        try:
            async with pool.acquire() as conn:
                marked.add(conn.get_server_pid())  # the migration lock is a session lock
                await migrate(conn)
                needs_statistics = bool(await conn.fetchval(_HAS_NO_STATISTICS))
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url, marked, needs_statistics=needs_statistics)

    async def write(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` in one transaction; returns once it is committed (durable).

        A report's transaction (`ReportWrite`) that arrives while a batch of them runs waits
        for the next batch: group commit, see storage/pg_batch.py."""
        if not isinstance(fn, ReportWrite):
            return await self._write_one(fn)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="vigil-postgres-reports")
        return await future

    async def _write_one(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        async with self._pool.acquire() as conn, conn.transaction():
            return await fn(unit_of_work(conn))

    async def _drain(self) -> None:
        """Run the queued report transactions, a batch at a time; a lone one as before.

        If the writer itself is cancelled (a shutdown), every report it has not answered, in
        its batch or still queued, is answered with an error rather than left waiting for
        ever: none of them is told it was stored (one cancelled at its batch's COMMIT may
        be stored all the same, as when a COMMIT fails)."""
        batch: list[tuple[ReportWrite[Any], asyncio.Future[Any]]] = []
        try:
            await self._drain_queue(batch)
        except BaseException:
            answer_stopped([*batch, *self._queue])
            self._queue.clear()
            raise

    async def _drain_queue(self, batch: list[tuple[ReportWrite[Any], asyncio.Future[Any]]]) -> None:
        while self._queue:
            batch[:] = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
            if len(batch) == 1:
                await self._one_by_one(batch)
                continue
            try:
                async with self._pool.acquire() as conn:
                    results = await run_batch(conn, [fn for fn, _ in batch])
            except BatchFailed:
                # Rolled back, nothing stored: each in its own transaction, so a bad one
                # fails alone and the others are stored.
                self.fallbacks += 1
                await self._one_by_one(batch)
                continue
            except BaseException as error:  # the COMMIT itself: maybe committed, never "stored"
                if isinstance(error, asyncio.CancelledError):
                    raise  # the writer stopped: `_drain` answers the batch and the queue
                answer_failed(batch, error)
                continue
            self.batches += 1
            self._stored += len(batch)
            if self._needs_statistics and self._stored >= STATISTICS_AFTER:
                self._needs_statistics = False
                self._analyzing = asyncio.create_task(self._statistics())
            for (_, future), value in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(value)

    async def _statistics(self) -> None:
        """Gather the planner's statistics of `reports`, once, on a new database.

        Without any (a table that grew from nothing in seconds, before autovacuum's first
        look, up to a minute later), PostgreSQL plans a report's read to walk the server's
        recent reports (ix_reports_stats) instead of the reporter's own (ix_reports_reporter):
        20 times the work at 1,000 reports (12 ms instead of 0.6 ms for 85 reports' reads),
        growing with every report of the storm. An ANALYZE of a young table takes
        milliseconds; another process doing the same is harmless."""
        try:
            async with self._pool.acquire() as conn:
                await conn.execute("ANALYZE reports")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            log.warning("could not gather the statistics of reports", exc_info=True)

    async def _one_by_one(self, batch: list[tuple[ReportWrite[Any], asyncio.Future[Any]]]) -> None:
        async def one(fn: ReportWrite[Any], future: asyncio.Future[Any]) -> None:
            try:
                value = await self._write_one(fn)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(value)

        await asyncio.gather(*(one(fn, future) for fn, future in batch))

    async def read(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` (reads only) on one consistent snapshot."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await fn(unit_of_work(conn))

    @asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        """Try to hold `name` across all processes for the block; yields whether we hold it."""
        key = advisory_key("claim", name)
        async with self._pool.acquire() as conn:
            self._marked.add(conn.get_server_pid())  # a session lock: reset in full on release
            held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield held
            finally:
                if held and not conn.is_closed():
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def try_lead(self, name: str) -> bool:
        """True in exactly one live process (the leader for `name`), until it stops."""
        conn = self._leaders.get(name)
        if conn is not None:
            try:
                await conn.fetchval("SELECT 1")
                return True
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                self._leaders.pop(name, None)  # the session (and its lock) is gone
                await conn.close(timeout=1)
        conn = await asyncpg.connect(self.url)
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", advisory_key("lead", name)):
            self._leaders[name] = conn
            return True
        await conn.close()
        return False

    async def close(self) -> None:
        """Let queued report transactions commit, then close the connections."""
        if self._writer is not None and not self._writer.done():
            await self._writer
        if self._analyzing is not None:
            await self._analyzing
        for conn in self._leaders.values():
            await conn.close()
        self._leaders.clear()
        await self._pool.close()
