"""Persistence behind the repository interface in core.ports. SQL lives only here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from storage.postgres import PostgresStore


class UnsupportedDatabaseURL(ValueError):
    pass


def sqlite_path(url: str) -> Path | None:
    """`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `sqlite://:memory:`."""
    if not url.startswith("sqlite://"):
        raise UnsupportedDatabaseURL(url.split(":", 1)[0])
    rest = url[len("sqlite://") :]
    if rest in (":memory:", "/:memory:"):
        return None
    if not rest.startswith("/") or rest == "/":
        raise UnsupportedDatabaseURL("sqlite")
    return Path(rest[1:])


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


async def open_store(url: str, *, synchronous: str = "NORMAL") -> SqliteStore | PostgresStore:
    """`sqlite:///...` or `postgresql://...`; opens (creating if needed) and migrates."""
    if is_postgres_url(url):
        from storage.postgres import PostgresStore  # asyncpg is imported only when used

        return await PostgresStore.open(url)
    return await SqliteStore.open(sqlite_path(url), synchronous=synchronous)
