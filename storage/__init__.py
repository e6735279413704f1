"""Persistence behind the repository interface in core.ports. SQL lives only here."""

from __future__ import annotations

from pathlib import Path

from storage.sqlite import SqliteStore


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


async def open_store(url: str, *, synchronous: str = "NORMAL") -> SqliteStore:
    return await SqliteStore.open(sqlite_path(url), synchronous=synchronous)
