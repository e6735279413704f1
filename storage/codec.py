"""How values cross the storage boundary: UTC timestamps as sortable ISO-8601 text."""

from __future__ import annotations

import functools
from datetime import UTC, datetime


@functools.lru_cache(maxsize=256)
def to_db(when: datetime) -> str:
    """Cached: a report's transaction writes the same few instants (now, the window's start)
    into several statements. Equal instants in any time zone give the same UTC text."""
    if when.tzinfo is None:
        raise ValueError("naive datetimes are not stored: pass a UTC-aware datetime")
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return when.isoformat(timespec="microseconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def optional_from_db(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


def optional_to_db(when: datetime | None) -> str | None:
    return None if when is None else to_db(when)
