"""SQL for the web dashboard's sign-ins and sessions (only hashes of their secrets)."""

from __future__ import annotations

from datetime import datetime

from core.ports import DashboardSession
from storage.codec import from_db, to_db
from storage.sql import Executor


class DashboardSessionRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def add_login(self, state_hash: str, now: datetime, expires_at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO dashboard_logins (state_hash, created_at, expires_at) VALUES (?, ?, ?)",
            (state_hash, to_db(now), to_db(expires_at)),
        )

    async def take_login(self, state_hash: str, now: datetime) -> bool:
        """Use a sign-in's state once: True in one request only, and only before it expires."""
        row = await self._db.fetch_one(
            "DELETE FROM dashboard_logins WHERE state_hash = ? RETURNING expires_at",
            (state_hash,),
        )
        return row is not None and from_db(row[0]) > now

    async def add_session(
        self,
        token_hash: str,
        session: DashboardSession,
        now: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO dashboard_sessions (token_hash, user_id, user_name, locale, guild_ids, "
            "csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                token_hash,
                session.user_id,
                session.user_name,
                session.locale,
                ",".join(str(g) for g in session.guild_ids),
                session.csrf_token,
                to_db(now),
                to_db(session.expires_at),
            ),
        )

    async def get_session(self, token_hash: str, now: datetime) -> DashboardSession | None:
        row = await self._db.fetch_one(
            "SELECT user_id, user_name, locale, guild_ids, csrf_token, expires_at "
            "FROM dashboard_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash, to_db(now)),
        )
        if row is None:
            return None
        return DashboardSession(
            user_id=int(row[0]),
            user_name=str(row[1]),
            locale=row[2],
            guild_ids=tuple(int(g) for g in str(row[3]).split(",") if g.isdigit()),
            csrf_token=str(row[4]),
            expires_at=from_db(row[5]),
        )

    async def end_session(self, token_hash: str) -> None:
        await self._db.execute("DELETE FROM dashboard_sessions WHERE token_hash = ?", (token_hash,))

    async def purge_expired(self, now: datetime) -> int:
        """Forget sessions and sign-ins past their expiry (called now and then)."""
        ended = await self._db.execute(
            "DELETE FROM dashboard_sessions WHERE expires_at <= ?", (to_db(now),)
        )
        return ended + await self.purge_expired_logins(now)

    async def purge_expired_logins(self, now: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM dashboard_logins WHERE expires_at <= ?", (to_db(now),)
        )
