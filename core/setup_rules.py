"""What `/reports setup` accepts, as data: the ranges of its numbers and the checks on its
choices. The slash command declares the same ranges (tests/core/test_setup_rules.py compares
them) and the dashboard's settings form validates with `check_setup`, so a value refused in
Discord is refused on the web too, with the same words.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from core.hotlines import HotlineDirectory
from core.models import GuildSettings
from core.outcomes import Outcome, Term
from core.snowflakes import parse_id

SETUP_RANGES: dict[str, tuple[int, int]] = {
    "threshold": (1, 50),
    "window_hours": (1, 720),
    "min_account_age_days": (0, 365),
    "retention_days": (0, 3650),
    "urgent_reminder_minutes": (0, 120),
}
"""Setting -> (lowest, highest) allowed, as `/reports setup` declares them."""


@dataclass(frozen=True, slots=True)
class SetupForm:
    """A settings form as submitted (untrusted text), field by field; None: left unchanged
    (an empty optional choice clears it where /reports setup could not: see `clear`)."""

    alert_channel_id: str
    threshold: str
    window_hours: str
    min_account_age_days: str
    retention_days: str
    urgent_reminder_minutes: str
    reporter_feedback: bool
    region: str = ""
    mod_role_id: str = ""
    audit_channel_id: str = ""
    admin_channel_id: str = ""


def _choice(raw: str, allowed: Collection[int]) -> int | Outcome | None:
    """An optional ID that must be one of `allowed` ("" is none)."""
    raw = raw.strip()
    if not raw:
        return None
    chosen = parse_id(raw)
    if chosen is None or chosen not in allowed:
        return Outcome("dash.settings_bad_choice")
    return chosen


def check_setup(
    current: GuildSettings,
    form: SetupForm,
    *,
    text_channels: Collection[int],
    roles: Collection[int],
    everyone_role: int,
    directory: HotlineDirectory,
    locale: str | None,
) -> GuildSettings | Outcome:
    """The settings the form asks for, or why not (the first problem, as an Outcome).

    `text_channels` and `roles` are the server's own, as the bot sees them now: an ID from
    the form that is not one of them is refused (a forged form cannot name another server's
    channel). The @everyone role is refused as the moderator role, like /reports setup."""
    numbers: dict[str, int] = {}
    for name, (low, high) in SETUP_RANGES.items():
        raw = str(getattr(form, name)).strip()
        # Length first: int() of thousands of digits is an error (and slow), not a number.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
            field = Term(f"cmd.reports.setup.{name}")  # the form's own label for it
            return Outcome("dash.settings_bad_field", {"field": field, "low": low, "high": high})
        numbers[name] = int(raw)
    alert = _choice(form.alert_channel_id, text_channels)
    if alert is None:
        return Outcome("admin.no_alert_channel")
    audit = _choice(form.audit_channel_id, text_channels)
    admin = _choice(form.admin_channel_id, text_channels)
    if form.mod_role_id.strip() == str(everyone_role):
        return Outcome("admin.no_everyone")
    role = _choice(form.mod_role_id, roles)
    for value in (alert, audit, admin, role):
        if isinstance(value, Outcome):
            return value
    region: str | None = None
    if form.region.strip():
        country = directory.country(form.region.strip())
        if country is None:
            return Outcome("admin.unknown_region")
        region = country.code
    assert not isinstance(alert, Outcome)
    assert not isinstance(audit, Outcome) and not isinstance(admin, Outcome)
    assert not isinstance(role, Outcome)
    return replace(
        current,
        alert_channel_id=alert,
        audit_channel_id=audit,
        admin_channel_id=admin,
        mod_role_id=role,
        region=region,
        reporter_feedback=form.reporter_feedback,
        locale=locale or current.locale,
        **numbers,
    )
