"""Alert delivery: an outbox drained with retries, so a failed post never loses an alert.

The decision to alert is committed with the report (a case's `alert_revision` moves ahead of
`alert_posted_revision`). This loop makes Discord catch up: post once (with a nonce, so a
post interrupted by a crash is not duplicated), then edit the same message as the case grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from core.alert_view import AlertContent, render_alert
from core.models import Case
from core.ports import Store
from core.service import CaseService

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """Discord did not take the alert. `message_gone`: the alert message was deleted."""

    def __init__(
        self,
        problem: str,
        *,
        retry_after: float | None = None,
        message_gone: bool = False,
        admins_must_fix: bool = False,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.message_gone = message_gone
        # The channel is gone or Vigil lacks a permission: retrying alone won't fix it.
        self.admins_must_fix = admins_must_fix


class AlertPoster(Protocol):
    async def post(self, channel_id: int, content: AlertContent, nonce: str) -> int:
        """Post the alert; returns the message ID."""
        ...

    async def edit(self, channel_id: int, message_id: int, content: AlertContent) -> None: ...


@dataclass(slots=True)
class _Backoff:
    attempts: int = 0
    next_at: float = 0.0
    problem: str = ""


class AlertSignal:
    """Tells the dispatcher an alert changed. Services hold it before any dispatcher exists."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def connect(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __call__(self) -> None:
        for listener in list(self._listeners):
            listener()


def alert_nonce(case_id: int) -> str:
    """Stable per case, at most 25 characters, so Discord can reject a duplicate post."""
    return f"vigil-case-{case_id}"


class AlertDispatcher:
    def __init__(
        self,
        store: Store,
        cases: CaseService,
        poster: AlertPoster,
        *,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        batch: int = 50,
        on_channel_problem: Callable[[int, str], Awaitable[None]] | None = None,
        on_channel_recovered: Callable[[int], Awaitable[None]] | None = None,
        edit_interval: float = 1.0,
        locale_for: Callable[[int], str | None] | None = None,
    ) -> None:
        self._store = store
        self._cases = cases
        self._poster = poster
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._batch = batch
        self._wake = asyncio.Event()
        self._backoff: dict[int, _Backoff] = {}
        self._stopping = False
        self._on_problem = on_channel_problem
        self._on_recovered = on_channel_recovered
        self._troubled_guilds: set[int] = set()
        # At most one edit per alert per `edit_interval`: in a storm, many reports land on the
        # same case within a second, and one edit showing all of them is what moderators need
        # (and what Discord's per-channel rate limits allow). First posts are never delayed.
        self._edit_interval = edit_interval
        self._last_edit: dict[int, float] = {}
        # Guild ID -> the server's Discord locale: alerts are in the server's language.
        self._locale_for = locale_for or (lambda _guild_id: "en")

    def wake(self) -> None:
        self._wake.set()

    def problems(self) -> dict[int, str]:
        """Case ID -> last delivery problem, for `/reports config`."""
        return {cid: b.problem for cid, b in self._backoff.items() if b.problem}

    async def run(self) -> None:
        """Deliver until stopped. Undelivered alerts from before a restart go out first."""
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self.drain_once()
            except Exception:
                log.exception("alert outbox pass failed; retrying")
                delay = self._base_delay
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain_once(self) -> float:
        """One pass over pending alerts. Returns how long to sleep before the next pass."""
        pending = await self._store.read(lambda tx: tx.cases.with_pending_alerts(self._batch))
        now = time.monotonic()
        sleep_for = 60.0
        for case in pending:
            backoff = self._backoff.get(case.id)
            if backoff is not None and backoff.next_at > now:
                sleep_for = min(sleep_for, backoff.next_at - now)
                continue
            edit_due = self._last_edit.get(case.id, 0.0) + self._edit_interval
            if case.alert_message_id is not None and edit_due > now:
                sleep_for = min(sleep_for, edit_due - now)
                continue
            async with self._store.claim(f"alert:{case.id}") as mine:
                delivered = await self._deliver(case) if mine else None
            if delivered is None:  # another process is delivering it; look again soon
                sleep_for = min(sleep_for, self._base_delay)
            elif delivered:
                self._backoff.pop(case.id, None)
            else:
                b = self._backoff[case.id]
                sleep_for = min(sleep_for, max(0.0, b.next_at - time.monotonic()))
        if len(pending) >= self._batch:
            sleep_for = 0.0
        return sleep_for

    async def _deliver(self, case: Case) -> bool:
        data = await self._cases.alert_data(case.id)
        if data is None or data.settings.alert_channel_id is None:
            return True
        if data.case.alert_posted_revision >= data.case.alert_revision:
            return True  # delivered meanwhile (by another process) since the pending list
        content = render_alert(data, self._locale_for(case.guild_id))
        channel_id = data.settings.alert_channel_id
        revision = data.case.alert_revision
        try:
            if data.case.alert_message_id is not None and data.case.alert_channel_id == channel_id:
                try:
                    await self._poster.edit(channel_id, data.case.alert_message_id, content)
                    message_id = data.case.alert_message_id
                except DeliveryFailed as failure:
                    if not failure.message_gone:
                        raise
                    log.warning("alert for case %s was deleted; posting it again", case.id)
                    await self._store.write(lambda tx: tx.cases.forget_alert_message(case.id))
                    message_id = await self._poster.post(
                        channel_id, content, f"{alert_nonce(case.id)}-{revision}"[:25]
                    )
            else:
                message_id = await self._poster.post(channel_id, content, alert_nonce(case.id))
        except DeliveryFailed as failure:
            self._note_failure(case.id, failure)
            if failure.admins_must_fix and self._on_problem is not None:
                self._troubled_guilds.add(case.guild_id)
                await self._on_problem(case.guild_id, failure.problem)
            return False
        await self._cases.mark_alert_rendered(case.id, revision, channel_id, message_id)
        self._last_edit[case.id] = time.monotonic()
        if len(self._last_edit) > 10_000:  # forget old cases; only recent ones matter
            horizon = time.monotonic() - self._edit_interval
            self._last_edit = {k: v for k, v in self._last_edit.items() if v > horizon}
        if case.guild_id in self._troubled_guilds:
            self._troubled_guilds.discard(case.guild_id)
            if self._on_recovered is not None:
                await self._on_recovered(case.guild_id)
        return True

    def _note_failure(self, case_id: int, failure: DeliveryFailed) -> None:
        b = self._backoff.setdefault(case_id, _Backoff())
        b.attempts += 1
        delay = min(self._max_delay, self._base_delay * (2 ** (b.attempts - 1)))
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        b.next_at = time.monotonic() + delay
        b.problem = failure.problem
        log.warning(
            "alert for case %s not delivered (%s); attempt %s, retrying in %.1fs",
            case_id,
            failure.problem,
            b.attempts,
            delay,
        )
