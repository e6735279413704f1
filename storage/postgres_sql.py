"""The SQL side of the PostgreSQL store: `?` placeholders numbered, and the executor.

Apart from storage/postgres.py so that storage/pg_batch.py (which that module uses) can build
on the executor too."""

from __future__ import annotations

import functools

import asyncpg

from storage.sql import Params, Row, refuse_upsert
from storage.unit_of_work import StoreUnitOfWork, build_unit_of_work


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
