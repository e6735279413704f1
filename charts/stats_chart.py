"""The `/reports stats` chart: reports per day stacked by reason, and time to first action.

Rendered server-side with matplotlib's Agg canvas (no display, no pyplot global state, so it is
safe in a worker thread: call `render_stats_chart` through `asyncio.to_thread`, it takes tens
to a few hundred milliseconds of CPU). It receives only numbers, days and reason labels (a
`GuildStats` and the caller's translated texts): no reporter, target or moderator can appear.

Readable in Discord's dark and light themes: the image carries its own opaque, light neutral
card with dark text (Discord shows it on #313338 or #ffffff; both frame it cleanly), and the
colours are Paul Tol's "muted" scheme (distinguishable with the common colour-vision
deficiencies), fixed per reason so a reason keeps its colour from one chart to the next. The two
series of the lower panel also differ by line style and marker, not only by colour.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from core.reasons import Reason
from core.stats import GuildStats

CARD = "#F4F5F7"
INK = "#1E1F22"
MUTED_INK = "#4E5058"
GRID = "#C9CCD1"
URGENT_COLOUR = "#882255"
NORMAL_COLOUR = "#332288"

# Paul Tol's muted palette, one colour per reason (the tenth, "other", is the neutral grey).
REASON_COLOURS: Mapping[Reason, str] = {
    Reason.CHILD_SAFETY: "#882255",
    Reason.SELF_HARM: "#CC6677",
    Reason.VIOLENT_THREAT: "#AA4499",
    Reason.HARASSMENT: "#332288",
    Reason.HATE: "#117733",
    Reason.SEXUAL_CONTENT: "#DDCC77",
    Reason.SCAM: "#999933",
    Reason.SPAM: "#88CCEE",
    Reason.IMPERSONATION: "#44AA99",
    Reason.OTHER: "#BBBBBB",
}


@dataclass(frozen=True, slots=True)
class ChartText:
    """Every word on the chart, in the reader's language (the caller takes them from the
    catalogue; this module has no wording of its own)."""

    title: str
    reports_axis: str  # e.g. "Reports per day"
    first_action_axis: str  # e.g. "Median time to first action"
    urgent: str
    normal: str
    minutes: str  # unit suffix, e.g. "min"
    hours: str  # unit suffix, e.g. "h"
    no_reports: str  # shown in an empty upper panel
    reasons: Mapping[Reason, str]


def render_stats_chart(stats: GuildStats, text: ChartText, *, dpi: int = 100) -> bytes:
    """A PNG (about 900 x 640 pixels at the default dpi) of the period's reports and pace."""
    # matplotlib is imported on the first chart, not at start: importing it is most of the
    # CPU a bot spends starting (about 0.6 s on a 2-core machine), and most processes never
    # draw a chart. The import runs in the caller's worker thread, off the event loop.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days = stats.period.day_list
    index = {day: i for i, day in enumerate(days)}
    reasons = [r for r in Reason if any(c.reason is r for c in stats.reports_by_day)]
    counts = {r: [0] * len(days) for r in reasons}
    for entry in stats.reports_by_day:
        if entry.day in index:
            counts[entry.reason][index[entry.day]] += entry.count

    figure = Figure(figsize=(9, 6.4), dpi=dpi, facecolor=CARD, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(text.title, color=INK, fontsize=14, fontweight="bold")
    positions = list(range(len(days)))

    base = [0] * len(days)
    for reason in reasons:
        top.bar(
            positions,
            counts[reason],
            bottom=base,
            width=0.8,
            color=REASON_COLOURS[reason],
            edgecolor=CARD,
            linewidth=0.6,
            label=textwrap.fill(text.reasons.get(reason, reason.value), 26),
        )
        base = [b + c for b, c in zip(base, counts[reason], strict=True)]
    top.set_ylabel(text.reports_axis, color=INK)
    if reasons:
        handles, labels = top.get_legend_handles_labels()
        top.legend(
            handles[::-1],  # the same order as the stack: the top bar segment first
            labels[::-1],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            labelcolor=INK,
            fontsize=9,
        )
    else:
        top.text(
            0.5,
            0.5,
            text.no_reports,
            transform=top.transAxes,
            ha="center",
            va="center",
            color=MUTED_INK,
        )
    top.set_ylim(0, max(1, max(base, default=0)) * 1.12)
    top.yaxis.get_major_locator().set_params(integer=True)

    medians = [(d.urgent_seconds, d.normal_seconds) for d in stats.first_action_by_day]
    known = [s for pair in medians for s in pair if s is not None]
    in_hours = bool(known) and max(known) > 3 * 3600
    scale, unit = (3600.0, text.hours) if in_hours else (60.0, text.minutes)

    def series(values: list[float | None]) -> list[float]:
        return [math.nan if v is None else v / scale for v in values]

    bottom.plot(
        positions,
        series([u for u, _ in medians]),
        color=URGENT_COLOUR,
        marker="o",
        linestyle="-",
        linewidth=2,
        label=text.urgent,
    )
    bottom.plot(
        positions,
        series([n for _, n in medians]),
        color=NORMAL_COLOUR,
        marker="s",
        linestyle="--",
        linewidth=2,
        label=text.normal,
    )
    bottom.set_ylabel(f"{text.first_action_axis} ({unit})", color=INK)
    bottom.set_ylim(bottom=0)
    bottom.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, labelcolor=INK, fontsize=9
    )

    step = max(1, math.ceil(len(days) / 8))
    bottom.set_xticks(positions[::step], [d.strftime("%m-%d") for d in days[::step]])
    for axes in (top, bottom):
        axes.set_facecolor(CARD)
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.set_axisbelow(True)
        axes.tick_params(colors=MUTED_INK, labelcolor=INK)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            axes.spines[side].set_color(MUTED_INK)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=CARD)
    return buffer.getvalue()
