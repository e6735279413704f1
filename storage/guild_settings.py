"""SQL for per-guild settings. A guild never set up reads as the defaults."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from core.models import GuildSettings
from storage.codec import to_db


class SqliteGuildSettingsRepository:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, guild_id: int) -> GuildSettings:
        async with self._conn.execute(
            "SELECT alert_channel_id, threshold, window_hours, region, mod_role_id "
            "FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return GuildSettings(guild_id=guild_id)
        return GuildSettings(
            guild_id=guild_id,
            alert_channel_id=row[0],
            threshold=row[1],
            window_hours=row[2],
            region=row[3],
            mod_role_id=row[4],
        )

    async def save(self, settings: GuildSettings, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO guild_settings (guild_id, alert_channel_id, threshold, window_hours, "
            "region, mod_role_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET alert_channel_id = excluded.alert_channel_id, "
            "threshold = excluded.threshold, window_hours = excluded.window_hours, "
            "region = excluded.region, mod_role_id = excluded.mod_role_id, "
            "updated_at = excluded.updated_at",
            (
                settings.guild_id,
                settings.alert_channel_id,
                settings.threshold,
                settings.window_hours,
                settings.region,
                settings.mod_role_id,
                to_db(now),
            ),
        )
