"""Sign-ins and sessions: signed cookies backed by the shared database.

A cookie holds a random token and its HMAC (a forged or altered cookie is refused before the
database is asked); the database keeps only the token's SHA-256, with the user, the CSRF token
and the expiry, so a session ends everywhere at logout or expiry, whichever process serves it.
An OAuth2 `state` is random, kept hashed for ten minutes, usable once, and must also match the
browser's own sign-in cookie (a state from someone else's browser is refused).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from core.clock import Clock
from core.ports import DashboardSession, Store

SIGN_IN_MINUTES = 10


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(key: bytes, value: str) -> str:
    mac = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(key: bytes, signed: str | None) -> str | None:
    """The value of a signed cookie, or None if it was not signed with `key`."""
    if not signed or "." not in signed or len(signed) > 200:
        return None
    value, _, mac = signed.rpartition(".")
    expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


class Sessions:
    def __init__(self, store: Store, clock: Clock, key: bytes, lifetime: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._key = key
        self.lifetime = lifetime

    async def begin_sign_in(self) -> tuple[str, str]:
        """(state for Discord, signed value of the browser's sign-in cookie)."""
        state = secrets.token_urlsafe(24)
        now = self._clock.now()
        until = now + timedelta(minutes=SIGN_IN_MINUTES)
        await self._store.write(lambda tx: tx.dashboard.add_login(digest(state), now, until))
        return state, sign(self._key, state)

    async def finish_sign_in(self, state: str | None, cookie: str | None) -> bool:
        """Whether `state` (from Discord's redirect) is this browser's and still unused.
        It is used up either way, so a replayed redirect is refused."""
        if not state or len(state) > 100:
            return False
        mine = unsign(self._key, cookie)
        now = self._clock.now()
        taken = await self._store.write(lambda tx: tx.dashboard.take_login(digest(state), now))
        return taken and mine is not None and hmac.compare_digest(mine, state)

    async def open(
        self, user_id: int, user_name: str, locale: str | None, guild_ids: tuple[int, ...]
    ) -> str:
        """A new session; returns the signed cookie value."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        session = DashboardSession(
            user_id=user_id,
            user_name=user_name[:100],
            locale=locale[:20] if locale else None,
            guild_ids=guild_ids[:200],
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + self.lifetime,
        )

        await self._store.write(lambda tx: tx.dashboard.add_session(digest(token), session, now))
        return sign(self._key, token)

    async def load(self, cookie: str | None) -> DashboardSession | None:
        token = unsign(self._key, cookie)
        if token is None:
            return None
        now = self._clock.now()
        return await self._store.read(lambda tx: tx.dashboard.get_session(digest(token), now))

    async def close(self, cookie: str | None) -> None:
        token = unsign(self._key, cookie)
        if token is not None:
            await self._store.write(lambda tx: tx.dashboard.end_session(digest(token)))

    async def purge(self) -> int:
        now = self._clock.now()
        return await self._store.write(lambda tx: tx.dashboard.purge_expired(now))

    async def purge_sign_ins(self) -> int:
        """Forget sign-ins started and never finished, once expired (every /login does it,
        so a flood of abandoned sign-ins does not pile up until the retention sweep)."""
        now = self._clock.now()
        return await self._store.write(lambda tx: tx.dashboard.purge_expired_logins(now))
