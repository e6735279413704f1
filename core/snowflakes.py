"""Discord snowflake arithmetic, so account ages can be derived without a Discord call."""

from __future__ import annotations

from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000
MAX_SNOWFLAKE = 2**63 - 1  # Discord IDs are 64-bit, and so are the databases' integers


def is_storable_id(value: int) -> bool:
    """Whether `value` can be a Discord ID (or a row ID): a number from a custom ID or a link
    outside this range is junk, and would overflow the database's integer columns."""
    return 0 < value <= MAX_SNOWFLAKE


def parse_id(raw: str) -> int | None:
    """An ID typed or posted as text, or None: ASCII digits only (no other script's digits),
    and at most 20 of them, checked before `int()` (which refuses a few thousand digits with
    an error, and is slow on long ones)."""
    if not raw or len(raw) > 20 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if is_storable_id(value) else None


def snowflake_time(snowflake: int) -> datetime:
    """When the object with this ID was created (for a user: the account's creation)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def snowflake_at(when: datetime, increment: int = 0) -> int:
    """A snowflake that would have been minted at `when` (used by tests and the emulator)."""
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (increment & 0x3FFFFF)
