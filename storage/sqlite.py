"""The SQLite store: one aiosqlite connection, WAL, and transactions serialised in-process.

A single connection is shared, so an asyncio lock keeps one coroutine's transaction from
interleaving with another's statements. Commit happens before a caller is told "stored".
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.cases import SqliteCaseRepository
from storage.guild_settings import SqliteGuildSettingsRepository
from storage.meta import SqliteMetaRepository
from storage.migrate import migrate
from storage.reports import SqliteReportRepository


@dataclass(frozen=True, slots=True)
class SqliteUnitOfWork:
    reports: SqliteReportRepository
    cases: SqliteCaseRepository
    settings: SqliteGuildSettingsRepository
    meta: SqliteMetaRepository


def _create_private_file(path: Path) -> None:
    """Create the database readable by its owner only: it holds evidence about people."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


class SqliteStore:
    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._uow = SqliteUnitOfWork(
            reports=SqliteReportRepository(conn),
            cases=SqliteCaseRepository(conn),
            settings=SqliteGuildSettingsRepository(conn),
            meta=SqliteMetaRepository(conn),
        )

    @classmethod
    async def open(cls, path: Path | None, *, synchronous: str = "NORMAL") -> SqliteStore:
        """Open (creating if needed) and migrate. `path=None` is an in-memory database."""
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        if path is not None:
            _create_private_file(path)
        # isolation_level=None: no implicit transactions; we BEGIN and COMMIT explicitly.
        conn = await aiosqlite.connect(
            ":memory:" if path is None else str(path), isolation_level=None
        )
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute(f"PRAGMA synchronous = {synchronous}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        await migrate(conn)
        return cls(conn, path)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteUnitOfWork]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._uow
            except BaseException:
                await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteUnitOfWork]:
        async with self._lock:
            yield self._uow

    async def schema_version(self) -> int:
        async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        await self._conn.close()
