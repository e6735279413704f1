"""A tiny "wake everyone and let them re-check" primitive.

Tests wait for conditions on emulator state (a request arrived, READY was sent, a follow-up was
posted). Rather than one event per condition, every state change calls ``notify()`` and each
waiter re-evaluates its predicate. Conditions on state the emulator does not see (the bot's
database, its log) are also re-checked every POLL seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


POLL = 0.05


class Waiters:
    """Predicate-based waiting on shared state."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(
        self,
        check: Callable[[], T | None],
        within: float,
        what: str = "condition",
    ) -> T:
        """Return the first truthy ``check()`` result; TimeoutError naming ``what`` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {within}s waiting for {what}")
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), min(remaining, POLL))
            except TimeoutError:
                continue
