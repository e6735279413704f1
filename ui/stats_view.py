"""`/reports stats`: the team figures of core/stats.py worded in the server's language, and the
chart's labels. Team figures only: no moderator, reporter or member is named or mentioned."""

from __future__ import annotations

from charts.stats_chart import ChartText
from core.i18n import tr
from core.reasons import Reason
from core.stats import Durations, GuildStats, UrgencyFigures


def duration_text(seconds: float | None, locale: str) -> str:
    """A short duration ("42 min", "5.5 h", "3.2 d"), or the catalogue's "none"."""
    if seconds is None:
        return tr("stats.none", locale)
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} {tr('stats.unit_minutes', locale)}"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} {tr('stats.unit_hours', locale)}"
    return f"{hours / 24:.1f} {tr('stats.unit_days', locale)}"


def _pace(key: str, figures: UrgencyFigures, locale: str) -> str:
    def pair(d: Durations) -> dict[str, str]:
        return {
            "median": duration_text(d.median_seconds, locale),
            "p90": duration_text(d.p90_seconds, locale),
        }

    first, resolved = pair(figures.to_first_action), pair(figures.to_resolution)
    return tr(
        key,
        locale,
        cases=figures.cases_opened,
        first_median=first["median"],
        first_p90=first["p90"],
        resolved_median=resolved["median"],
        resolved_p90=resolved["p90"],
    )


def render_stats(stats: GuildStats, locale: str) -> str:
    """The figures as a short message (the chart carries the per-day picture)."""
    days = stats.period.days
    reasons = ", ".join(
        f"{tr(f'reason.{reason.value}', locale)} {count}"
        for reason, count in stats.reports_by_reason
    )
    age = stats.oldest_active_age
    lines = [
        f"**{tr('stats.title', locale, days=days)}**",
        tr(
            "stats.reports",
            locale,
            total=stats.reports_total,
            not_counted=stats.reports_not_counted,
            share=f"{stats.not_counted_share * 100:.0f}",
        ),
        tr("stats.by_reason", locale, reasons=reasons or tr("stats.none", locale)),
        tr("stats.cases", locale, opened=stats.cases_opened, closed=stats.cases_closed),
        tr(
            "stats.backlog",
            locale,
            active=stats.backlog_active,
            unacknowledged=stats.backlog_unacknowledged,
            oldest=duration_text(None if age is None else age.total_seconds(), locale),
        ),
        _pace("stats.urgent", stats.urgent, locale),
        _pace("stats.normal", stats.normal, locale),
    ]
    if stats.timings_truncated:
        lines.append(tr("stats.truncated", locale))
    return "\n".join(lines)


def chart_text(days: int, locale: str) -> ChartText:
    return ChartText(
        title=tr("stats.title", locale, days=days),
        reports_axis=tr("stats.chart_reports_axis", locale),
        first_action_axis=tr("stats.chart_first_action_axis", locale),
        urgent=tr("stats.urgent_label", locale),
        normal=tr("stats.normal_label", locale),
        minutes=tr("stats.unit_minutes", locale),
        hours=tr("stats.unit_hours", locale),
        no_reports=tr("stats.chart_no_reports", locale),
        reasons={reason: tr(f"reason.{reason.value}", locale) for reason in Reason},
    )
