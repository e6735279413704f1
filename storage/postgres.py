"""The PostgreSQL store on asyncpg: the same repositories and migrations as SQLite.

Repositories are written once with `?` placeholders; `PostgresExecutor` rewrites them to
`$1..$n` (cached per statement) and returns plain tuples. Each `write` runs its function in
one READ COMMITTED transaction on a pooled connection; statements really await here (unlike
SQLite, whose whole transaction runs in one hop in its database thread).

Several processes may share one database. What keeps them correct:
- migrations run under an advisory lock, so processes starting together migrate once;
- a report's transaction first takes a transaction-scoped advisory lock on its reporter
  (`ReportRepository.lock_reporter`, so the rate limit is counted and enforced in one step),
  then one on its target (`CaseRepository.lock_target`), so two reports completing a threshold
  at the same moment are decided one after the other (and the unique partial index on active
  cases backs that up); always in that order, so they never wait on each other;
- case numbers come from a per-guild counter row (`case_numbers`), whose row lock orders
  concurrent openings, and which never goes down, so no number is given out twice;
- moderator actions are compare-and-set updates (`UPDATE ... WHERE status = ?`): of two
  concurrent actions on one case, the one that lost re-reads the case and decides again;
- `claim` and `try_lead` (session advisory locks, see storage/leases.py) give each alert
  delivery and each periodic task to exactly one process.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from storage.leases import advisory_key
from storage.migrate import available_migrations, refuse_newer
from storage.sql import Params, Row, refuse_upsert
from storage.unit_of_work import StoreUnitOfWork, build_unit_of_work

T = TypeVar("T")
MIGRATION_LOCK = advisory_key("vigil", "migrations")


@functools.lru_cache(maxsize=1024)
def to_dollar_params(sql: str) -> str:
    """`?` -> `$1`, `$2`, ... outside single-quoted literals."""
    out: list[str] = []
    n = 0
    in_literal = False
    for char in sql:
        if char == "'":
            in_literal = not in_literal
        if char == "?" and not in_literal:
            n += 1
            out.append(f"${n}")
        else:
            out.append(char)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _returning_id(sql: str) -> str:
    """`Executor.insert`'s statement, numbered, reading back the new row's id."""
    refuse_upsert(sql)
    return to_dollar_params(sql + " RETURNING id")


def _rowcount(status: str) -> int:
    """asyncpg's command status ("UPDATE 3", "INSERT 0 1", "DELETE 0") -> rows changed."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresExecutor:
    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        row = await self._conn.fetchrow(to_dollar_params(sql), *params)
        return None if row is None else tuple(row)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in await self._conn.fetch(to_dollar_params(sql), *params)]

    async def execute(self, sql: str, params: Params = ()) -> int:
        status: str = await self._conn.execute(to_dollar_params(sql), *params)
        return _rowcount(status)

    async def insert(self, sql: str, params: Params = ()) -> int:
        return int(await self._conn.fetchval(_returning_id(sql), *params))


def unit_of_work(conn: asyncpg.Connection) -> StoreUnitOfWork:
    executor = PostgresExecutor(conn)
    return build_unit_of_work(executor)


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

    def __init__(self, pool: asyncpg.Pool, url: str, marked: set[int] | None = None) -> None:
        self._pool = pool
        self.url = url
        self._leaders: dict[str, asyncpg.Connection] = {}
        # Server PIDs of pooled connections to reset in full on release (`_session_reset`).
        self._marked = marked if marked is not None else set()

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
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url, marked)

    async def write(self, fn: Callable[[StoreUnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run `fn` in one transaction; returns once it is committed (durable)."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await fn(unit_of_work(conn))

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
        for conn in self._leaders.values():
            await conn.close()
        self._leaders.clear()
        await self._pool.close()
