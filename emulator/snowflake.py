"""Snowflake ids that encode real timestamps.

Account age and message age checks in the bot derive times from snowflakes, so the world must
mint ids whose embedded timestamp is meaningful (e.g. an account created two days ago).
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(when: datetime, increment: int = 0) -> int:
    """Return a snowflake whose timestamp is ``when`` (UTC) with a low-bits ``increment``."""
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (increment & 0xFFF)


def snowflake_time(snowflake: int) -> datetime:
    """Inverse of :func:`snowflake_at` (to the millisecond)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


class SnowflakeFactory:
    """Mints unique, monotonically increasing snowflakes.

    A single counter feeds the low 12 bits plus worker bits so ids minted in the same millisecond
    never collide, while their timestamps stay faithful.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._last = 0

    def at(self, when: datetime) -> int:
        """A unique snowflake stamped with ``when``."""
        with self._lock:
            n = next(self._counter)
            return snowflake_at(when) | (n & ((1 << 22) - 1))

    def now(self) -> int:
        """A unique snowflake stamped with the current time, strictly increasing."""
        with self._lock:
            n = next(self._counter)
            value = snowflake_at(datetime.now(UTC)) | (n & ((1 << 22) - 1))
            if value <= self._last:
                value = self._last + 1
            self._last = value
            return value
