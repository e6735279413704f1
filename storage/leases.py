"""Cross-process coordination primitives: claims (one holder at a time) and leadership.

`claim(name)` is a non-blocking try-lock held for a block of work (an alert delivery):
`async with store.claim("alert:42") as mine: if mine: ...`. `try_lead(name)` elects one
process to run a periodic task (the retention purge): it returns True in exactly one live
process and keeps returning True there until that process stops, then another takes over.

On PostgreSQL both are advisory locks held by a database session, so a crashed process's
claims and leadership vanish with its connection; no lease expiry to tune. SQLite serves one
process, so these are process-local.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


def advisory_key(*parts: object) -> int:
    """A stable signed 64-bit key for pg_advisory_* functions (collisions only serialise)."""
    digest = hashlib.blake2b(
        ":".join(str(p) for p in parts).encode(), digest_size=8, person=b"vigil-lock"
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


class LocalLeases:
    """Process-local claims and leadership, for a store only one process uses (SQLite)."""

    _claimed: set[str]

    @asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        claimed = self.__dict__.setdefault("_claimed", set())
        if name in claimed:
            yield False
            return
        claimed.add(name)
        try:
            yield True
        finally:
            claimed.discard(name)

    async def try_lead(self, name: str) -> bool:
        return True
