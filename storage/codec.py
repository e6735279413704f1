"""How values cross the storage boundary: UTC timestamps as sortable ISO-8601 text."""

from __future__ import annotations

from datetime import UTC, datetime

_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_HOURS: dict[tuple[int, int, int, int], str] = {}


def to_db(when: datetime) -> str:
    """Equal instants in any time zone give the same UTC text. Not cached: nearly every
    instant a report writes is new (its time and the windows' starts derived from it), and a
    cache miss cost more than the text itself, the key's hash computing the UTC offset
    (issue 19: -6,600 instructions a report without the cache).

    The text is `datetime.isoformat(timespec="microseconds")`'s for the UTC instant
    ("2026-03-01T12:00:00.000000+00:00"), built from an hour's prefix kept once and two-digit
    strings: isoformat formats through C's printf and the tzinfo's offset, ~13,000
    instructions an instant in Python 3.11, and a report formats three (issue 19).
    tests/storage/test_codec.py checks the two agree."""
    if when.tzinfo is None:
        raise ValueError("naive datetimes are not stored: pass a UTC-aware datetime")
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    hour = (when.year, when.month, when.day, when.hour)
    prefix = _HOURS.get(hour)
    if prefix is None:
        if len(_HOURS) > 1024:  # bounded: the prefixes of the hours in use
            _HOURS.clear()
        prefix = _HOURS[hour] = f"{hour[0]:04d}-{hour[1]:02d}-{hour[2]:02d}T{hour[3]:02d}:"
    # The microseconds' six digits as the tail of 1,000,000 + them: a format spec (":06d")
    # goes through int.__format__'s parser, ~4,000 instructions an instant (issue 19).
    return (
        f"{prefix}{_TWO_DIGITS[when.minute]}:{_TWO_DIGITS[when.second]}."
        f"{str(1_000_000 + when.microsecond)[1:]}+00:00"
    )


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def optional_from_db(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


def optional_to_db(when: datetime | None) -> str | None:
    return None if when is None else to_db(when)
