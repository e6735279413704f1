"""SQL for per-guild settings. A guild never set up reads as the defaults."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.models import GuildSettings
from storage.codec import to_db
from storage.sql import Executor

LOCALE_CHUNK = 500  # guild IDs per IN (...) list, well under both drivers' parameter limits

SETTINGS_COLUMNS = (
    "alert_channel_id, threshold, window_hours, region, mod_role_id, audit_channel_id, "
    "min_account_age_days, reporter_feedback, retention_days, admin_channel_id, locale, "
    "urgent_reminder_minutes"
)
"""What `settings_from_row` reads, in its order (storage/reports.py reads them too, as one
JSON array: so each must stay an integer or text column; a REAL would come back rounded to 15
digits, a BLOB not at all; tests/storage/test_report_path.py checks every field)."""


def settings_from_row(guild_id: int, row: Sequence[Any] | None) -> GuildSettings:
    """`SETTINGS_COLUMNS` -> settings; None (a guild never set up) -> the defaults.

    Every report reads its server's settings (`ReportRepository.report_context`), and a
    server's row rarely changes: the same values give the same (immutable) settings object
    instead of building one per report (issue 19). Keyed by every value read, so a changed
    row is a new entry, never a stale one."""
    return _settings_from_values(guild_id, None if row is None else tuple(row))


@functools.lru_cache(maxsize=1024)
def _settings_from_values(guild_id: int, row: tuple[Any, ...] | None) -> GuildSettings:
    if row is None:
        return GuildSettings(guild_id=guild_id)
    return GuildSettings(
        guild_id=guild_id,
        alert_channel_id=row[0],
        threshold=row[1],
        window_hours=row[2],
        region=row[3],
        mod_role_id=row[4],
        audit_channel_id=row[5],
        min_account_age_days=row[6],
        reporter_feedback=bool(row[7]),
        retention_days=row[8],
        admin_channel_id=row[9],
        locale=row[10],
        urgent_reminder_minutes=row[11],
    )


class GuildSettingsRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetch_one(
            f"SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return settings_from_row(guild_id, row)

    async def save(self, settings: GuildSettings, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, alert_channel_id, threshold, window_hours, "
            "region, mod_role_id, audit_channel_id, min_account_age_days, reporter_feedback, "
            "retention_days, admin_channel_id, locale, urgent_reminder_minutes, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET alert_channel_id = excluded.alert_channel_id, "
            "threshold = excluded.threshold, window_hours = excluded.window_hours, "
            "region = excluded.region, mod_role_id = excluded.mod_role_id, "
            "audit_channel_id = excluded.audit_channel_id, "
            "min_account_age_days = excluded.min_account_age_days, "
            "reporter_feedback = excluded.reporter_feedback, "
            "retention_days = excluded.retention_days, "
            "admin_channel_id = excluded.admin_channel_id, "
            "urgent_reminder_minutes = excluded.urgent_reminder_minutes, "
            "locale = COALESCE(excluded.locale, guild_settings.locale), "
            "updated_at = excluded.updated_at",
            (
                settings.guild_id,
                settings.alert_channel_id,
                settings.threshold,
                settings.window_hours,
                settings.region,
                settings.mod_role_id,
                settings.audit_channel_id,
                settings.min_account_age_days,
                int(settings.reporter_feedback),
                settings.retention_days,
                settings.admin_channel_id,
                settings.locale,
                settings.urgent_reminder_minutes,
                to_db(now),
            ),
        )

    async def locales(self, guild_ids: Sequence[int]) -> dict[int, str | None]:
        found: dict[int, str | None] = {}
        for start in range(0, len(guild_ids), LOCALE_CHUNK):
            chunk = list(guild_ids[start : start + LOCALE_CHUNK])
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetch_all(
                f"SELECT guild_id, locale FROM guild_settings WHERE guild_id IN ({marks})",
                chunk,
            )
            found.update((int(row[0]), row[1]) for row in rows)
        return found

    async def note_locale(self, guild_id: int, locale: str, now: datetime) -> None:
        """Remember the server's language (written only when it changed)."""
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, locale, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET locale = excluded.locale "
            "WHERE guild_settings.locale IS NULL OR guild_settings.locale <> excluded.locale",
            (guild_id, locale, to_db(now)),
        )
