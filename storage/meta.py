"""SQL for the bot's own bookkeeping (e.g. the hash of the last synced command tree)."""

from __future__ import annotations

from storage.sql import Executor


class MetaRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
