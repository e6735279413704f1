"""Interaction lifecycle: tokens, callbacks, follow-ups and the result object tests await."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Emulator

EPHEMERAL = 1 << 6
LOADING = 1 << 7

#: Discord's limits: initial response within 3 s, token usable for 15 min.
CALLBACK_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60.0


@dataclass
class InteractionRecord:
    """Server-side state of one dispatched interaction."""

    id: int
    token: str
    payload: dict[str, Any]
    dispatched_at: float
    callback: asyncio.Future[dict[str, Any]]
    expired: bool = False
    callback_type: int | None = None
    callback_data: dict[str, Any] = field(default_factory=dict)
    callback_at: float | None = None
    original: dict[str, Any] | None = None
    original_edits: int = 0
    original_deleted: bool = False
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None


class InteractionResult:
    """What the bot answered to one interaction (returned by ``Emulator.interact``)."""

    def __init__(self, emulator: Emulator, record: InteractionRecord) -> None:
        self._emu = emulator
        self.record = record

    # -- the initial callback ------------------------------------------------------------------
    @property
    def type(self) -> int:
        """Callback type: 4 message, 5 deferred, 6 deferred update, 7 update, 8 choices, 9 modal."""
        assert self.record.callback_type is not None
        return self.record.callback_type

    @property
    def data(self) -> dict[str, Any]:
        return self.record.callback_data

    @property
    def latency(self) -> float:
        """Seconds from INTERACTION_CREATE dispatch to the callback request arriving."""
        assert self.record.callback_at is not None
        return self.record.callback_at - self.record.dispatched_at

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self.data.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.data.get("allowed_mentions")

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def token(self) -> str:
        return self.record.token

    # -- later messages ------------------------------------------------------------------------
    def original(self) -> dict[str, Any] | None:
        """The current ``@original`` message (after any edits), or None."""
        return None if self.record.original_deleted else self.record.original

    @property
    def followups(self) -> list[dict[str, Any]]:
        return list(self.record.followups)

    async def wait_followup(self, index: int = 0, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until follow-up number ``index`` (0-based) has been posted; return it."""
        return await self._emu.waiters.wait_for(
            lambda: self.record.followups[index] if len(self.record.followups) > index else None,
            timeout,
            f"follow-up #{index} for interaction {self.record.id}",
        )

    async def wait_original_edit(self, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until ``@original`` has been edited ``count`` times; return the message."""
        await self._emu.waiters.wait_for(
            lambda: self.record.original_edits >= count,
            timeout,
            f"@original edit #{count} for interaction {self.record.id}",
        )
        assert self.record.original is not None
        return self.record.original

    def expire(self) -> None:
        """Expire this interaction's token (later calls get 10062 / 10015)."""
        self.record.expired = True

    def __repr__(self) -> str:
        return (
            f"<InteractionResult type={self.record.callback_type} ephemeral={self.ephemeral}"
            f" content={self.content!r}>"
        )


class InteractionRegistry:
    """Interactions by id and token, with Discord's expiry rules."""

    def __init__(self) -> None:
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        self.callback_deadline = CALLBACK_DEADLINE_S
        self.token_lifetime = TOKEN_LIFETIME_S

    def register(self, payload: dict[str, Any]) -> InteractionRecord:
        rec = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            payload=payload,
            dispatched_at=time.monotonic(),
            callback=asyncio.get_running_loop().create_future(),
        )
        self.by_id[rec.id] = rec
        self.by_token[rec.token] = rec
        return rec

    def for_callback(self, interaction_id: int, token: str) -> InteractionRecord | None:
        rec = self.by_id.get(interaction_id)
        if rec is None or rec.token != token or rec.expired:
            return None
        if time.monotonic() - rec.dispatched_at > self.callback_deadline:
            return None
        return rec

    def for_webhook(self, token: str) -> InteractionRecord | None:
        rec = self.by_token.get(token)
        if rec is None or rec.expired or not rec.acknowledged:
            return None
        if time.monotonic() - rec.dispatched_at > self.token_lifetime:
            return None
        return rec

    def expire(self, token_or_id: str | int) -> None:
        rec = (
            self.by_id.get(token_or_id)
            if isinstance(token_or_id, int)
            else self.by_token.get(token_or_id)
        )
        if rec is not None:
            rec.expired = True
