"""The `/reports stats` chart: a real PNG, plausible size, nothing but numbers and labels."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import UTC, datetime, timedelta

from charts.stats_chart import REASON_COLOURS, ChartText, render_stats_chart
from core.reasons import Reason
from core.stats import CaseTiming, build_stats, period_for

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TEXT = ChartText(
    title="Reports, last 30 days",
    reports_axis="Reports per day",
    first_action_axis="Median time to first action",
    urgent="Urgent",
    normal="Normal",
    minutes="min",
    hours="h",
    no_reports="No reports in this period",
    reasons={r: r.label for r in Reason},
)


def sample_stats(days: int = 30, seed: int = 3, reports: bool = True):
    rng = random.Random(seed)
    period = period_for(days, NOW)
    by_day = []
    timings = []
    for day in period.day_list:
        if reports:
            for reason in rng.sample(list(Reason), 5):
                by_day.append((day, reason, rng.randint(1, 6), rng.randint(0, 1)))
        opened = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        for urgent in (True, False):
            if rng.random() < 0.8:
                minutes = rng.uniform(2, 20) if urgent else rng.uniform(20, 160)
                timings.append(
                    CaseTiming(urgent, opened, opened + timedelta(minutes=minutes), None)
                )
    return build_stats(
        period,
        by_day=by_day,
        cases_opened=len(timings),
        cases_closed=3,
        backlog_active=2,
        backlog_unacknowledged=1,
        oldest_active_opened_at=NOW - timedelta(days=2),
        timings=timings,
    )


def _png_size_and_text(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and every text chunk of a PNG (where a name could hide)."""
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])
    texts = b""
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        if kind in (b"tEXt", b"iTXt"):
            texts += data
        elif kind == b"zTXt":
            key, _, rest = data.partition(b"\0")
            texts += key + zlib.decompress(rest[1:])
        offset += 12 + length
    return width, height, texts


def test_renders_a_png_of_plausible_size():
    png = render_stats_chart(sample_stats(), TEXT)
    width, height, _ = _png_size_and_text(png)
    assert (width, height) == (900, 640)
    assert 20_000 < len(png) < 1_000_000


def test_renders_an_empty_period_and_a_long_one():
    for stats in (sample_stats(reports=False), sample_stats(days=365)):
        width, _, _ = _png_size_and_text(render_stats_chart(stats, TEXT))
        assert width == 900


def test_no_identities_in_the_image_metadata():
    """The renderer only receives numbers, days and reason labels; its metadata says nothing
    else either (matplotlib writes its own name and version, nothing about the server)."""
    _, _, texts = _png_size_and_text(render_stats_chart(sample_stats(), TEXT))
    for forbidden in (b"reporter", b"target", b"member", b"guild", b"@"):
        assert forbidden not in texts.lower()


def test_every_reason_has_its_own_colour():
    assert set(REASON_COLOURS) == set(Reason)
    assert len(set(REASON_COLOURS.values())) == len(Reason)
