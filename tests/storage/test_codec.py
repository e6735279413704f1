"""Timestamps as stored text: `to_db` builds isoformat's text itself (issue 19: isoformat cost
each report three formattings of ~13,000 instructions); these tests hold it to isoformat's."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from storage import codec
from storage.codec import from_db, to_db


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def test_text_is_isoformats_for_any_instant():
    rng = random.Random(19)
    for _ in range(20_000):
        when = datetime(
            rng.randint(1, 9999),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            rng.choice((0, 1, 999_999, rng.randint(0, 999_999))),
            tzinfo=UTC,
        )
        assert to_db(when) == iso(when)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),  # microsecond 0 still written out
        datetime(1, 1, 1, tzinfo=UTC),  # a year under 1000 keeps four digits
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 7, 1, 14, 30, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2026, 3, 1, 12, 0, tzinfo=ZoneInfo("UTC")),
    ],
)
def test_edges_and_other_zones_give_the_utc_instants_text(when: datetime):
    assert to_db(when) == iso(when)
    assert from_db(to_db(when)) == when


def test_text_sorts_as_the_instants_do_across_hours():
    start = datetime(2026, 3, 1, 22, 59, 59, 999_990, tzinfo=UTC)
    instants = [start + timedelta(microseconds=7 * n) for n in range(10)]
    instants += [start + timedelta(hours=n, minutes=n) for n in range(1, 30)]
    assert sorted(instants, key=to_db) == sorted(instants)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        to_db(datetime(2026, 3, 1, 12, 0))


def test_the_hour_prefixes_kept_stay_bounded():
    start = datetime(2000, 1, 1, tzinfo=UTC)
    for hours in range(3000):
        when = start + timedelta(hours=hours, microseconds=1)
        assert to_db(when) == iso(when)
    assert len(codec._HOURS) <= 1025
