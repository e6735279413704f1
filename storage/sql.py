"""The one seam between repositories and a database driver.

Repositories are written once against `Executor`, with `?` placeholders and portable SQL; each
backend supplies an executor. On SQLite the executor's coroutines never suspend (they call the
blocking driver inside the database thread), which lets a whole transaction run in one hop.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]
Params = Sequence[Any]


class Executor(Protocol):
    dialect: str  # "sqlite" or "postgresql", for the few statements that differ

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        ...

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run a plain INSERT of one row (no RETURNING, no ON CONFLICT / OR REPLACE / OR IGNORE)
        into a table whose key is `id`; returns the new row's id. Each backend reads the id its
        cheapest way: SQLite's last inserted rowid (`id` is each such table's INTEGER PRIMARY
        KEY), PostgreSQL's RETURNING id. An upsert is refused: when it updates, SQLite's
        last rowid is still the previous insert's."""
        ...


_UPSERT = re.compile(r"\bON\s+CONFLICT\b|\bOR\s+(REPLACE|IGNORE)\b|\bREPLACE\s+INTO\b", re.I)


@functools.lru_cache(maxsize=256)
def refuse_upsert(sql: str) -> None:
    """`Executor.insert` takes a plain INSERT (see there); raises ValueError for an upsert.
    Cached per statement text: it runs on every report's INSERT."""
    if _UPSERT.search(sql):
        raise ValueError(f"insert() takes a plain INSERT, not an upsert: {sql[:60]}")


class StoreStopped(RuntimeError):
    """A write the store's writer could not run because the writer was stopped (cancelled at
    a shutdown): the caller is answered with this, never left waiting; nothing was stored."""


def answer_failed(
    waiting: Iterable[tuple[object, asyncio.Future[Any]]], error: BaseException
) -> None:
    """Answer every unanswered write in `waiting` (transaction, future) with `error`: what a
    store's writer does for a batch whose COMMIT failed (maybe committed, never "stored")."""
    for _, future in waiting:
        if not future.done():
            future.set_exception(error)


def answer_stopped(waiting: Iterable[tuple[object, asyncio.Future[Any]]]) -> None:
    """Answer every unanswered write in `waiting` with StoreStopped: what a store's writer
    does for its batch and its queue when it is cancelled."""
    answer_failed(waiting, StoreStopped("the store stopped before it could confirm this write"))


class AwaitedOutsideStorage(RuntimeError):
    """A transaction function awaited something that is not storage (e.g. a Discord call)."""


def run_to_completion(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends, synchronously, in the calling thread."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    coroutine.close()
    raise AwaitedOutsideStorage(
        "transaction functions may only await repository calls; do network I/O after commit"
    )
