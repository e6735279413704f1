"""Keeping data only as long as promised: retention purges, erasure, departed guilds.

Moderation data is evidence about people. Each guild chooses how long it is kept
(`retention_days`, default 180, 0 = keep); a member's data can be erased on request; a guild
that removes Vigil has its data purged after a grace period unless it comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.evidence import DM_PENDING_EVIDENCE_TTL, PENDING_EVIDENCE_TTL
from core.models import DEPARTED_GUILD_GRACE_DAYS, CaseAction, ErasedCase, PurgeCounts
from core.ports import Store, UnitOfWork
from core.snowflakes import is_storable_id

log = logging.getLogger(__name__)

PENDING_PURGE_INTERVAL = timedelta(minutes=5)  # with DM_PENDING_EVIDENCE_TTL: gone within 15


@dataclass(frozen=True, slots=True)
class Erasure:
    counts: PurgeCounts
    erased_cases: tuple[ErasedCase, ...]  # their alert messages should go too


class RetentionService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        grace_days: int = DEPARTED_GUILD_GRACE_DAYS,
        on_alert_change: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._grace = timedelta(days=grace_days)
        self._on_alert_change = on_alert_change or (lambda: None)
        # Purges and erasures this process has made that leave Discord messages to delete (a
        # purged case's alert; an erased reporter's questions, answers and thread posts): the
        # outbox looks for them when this moves (and now and then for other processes'), not at
        # every pass.
        self.cleanups_queued = 0

    async def sweep(self) -> PurgeCounts:
        """One pass: expired data of every guild, then guilds gone longer than the grace."""
        now = self._clock.now()
        guild_ids = await self._store.read(lambda tx: tx.guild_data.known_guild_ids())
        total = PurgeCounts()
        for guild_id in sorted(guild_ids):

            async def purge(tx: UnitOfWork, guild_id: int = guild_id) -> PurgeCounts:
                settings = await tx.settings.get(guild_id)
                if settings.retention_days <= 0:
                    return PurgeCounts()
                cutoff = now - timedelta(days=settings.retention_days)
                return await tx.guild_data.purge_expired(guild_id, cutoff)

            total += await self._store.write(purge)
        await self.purge_pending()
        # Dashboard sessions past their expiry (who signed in, their servers) and sign-ins
        # never finished: useless once expired, so not kept until someone signs in again.
        ended = await self._store.write(lambda tx: tx.dashboard.purge_expired(now))
        if ended:
            log.info("retention: purged %d expired dashboard sessions and sign-ins", ended)
        gone = await self._store.read(lambda tx: tx.guild_data.departed_before(now - self._grace))
        for departed in gone:

            async def purge_all(tx: UnitOfWork, guild_id: int = departed) -> PurgeCounts:
                return await tx.guild_data.purge_guild(guild_id)

            total += await self._store.write(purge_all)
        if total.reports or total.cases:
            log.info("retention: purged %d reports and %d cases", total.reports, total.cases)
        if total.cases:
            self.cleanups_queued += total.cases
            self._on_alert_change()  # the outbox deletes the purged cases' alert messages
        return total

    async def purge_pending(self) -> int:
        """Evidence held for a form never submitted goes after a short while, whatever the
        guild's retention: it was never part of a report. A DM's text (a third person's private
        message, held under no server) goes sooner. Also run between full sweeps
        (PENDING_PURGE_INTERVAL), so a DM's text never waits for the hourly sweep."""
        now = self._clock.now()
        cutoff, dm_cutoff = now - PENDING_EVIDENCE_TTL, now - DM_PENDING_EVIDENCE_TTL
        return await self._store.write(
            lambda tx: tx.reports.purge_pending_evidence(cutoff, dm_cutoff)
        )

    async def forget(self, guild_id: int, user_id: int, actor_id: int) -> Erasure:
        if not is_storable_id(user_id):
            return Erasure(counts=PurgeCounts(), erased_cases=())  # not an ID: nothing held
        now = self._clock.now()

        async def erase(tx: UnitOfWork) -> tuple[PurgeCounts, list[ErasedCase], list[int]]:
            # Their report transactions (as reporter, and about them) wait, or are waited
            # for: none adds a report of theirs that the erasure would miss or miscount.
            await tx.reports.lock_for_report(guild_id, user_id, user_id)
            counts, erased, touched, held = await tx.guild_data.forget_user(
                guild_id, user_id, actor_id, now
            )
            # Cases about the manager running the erasure kept the member's reports (not the
            # manager's to erase): their audit trail says so, for the other moderators (a case
            # about a manager is never shown to them), and their alerts are redrawn.
            for case_id in held:
                await tx.cases.append_event(
                    case_id, CaseAction.ERASURE_HELD, actor_id, now, detail=str(user_id)
                )
            return counts, erased, [*touched, *held]

        counts, erased, touched = await self._store.write(erase)
        if touched or erased:
            # Alerts that listed the erased reporter are redrawn; the erased cases' threads
            # and questions are deleted from Discord (t15-relay) by the outbox's next pass,
            # which looks for them because this count moved.
            self.cleanups_queued += 1
            self._on_alert_change()
        return Erasure(counts=counts, erased_cases=tuple(erased))

    async def guild_left(self, guild_id: int) -> None:
        now = self._clock.now()
        await self._store.write(lambda tx: tx.guild_data.mark_departed(guild_id, now))

    async def guild_present(self, guild_id: int) -> None:
        await self._store.write(lambda tx: tx.guild_data.mark_present(guild_id))

    async def reconcile_guilds(self, present: set[int], owns: Callable[[int], bool]) -> None:
        """At start: guilds we hold data for, that this process should see, but doesn't."""
        known = await self._store.read(lambda tx: tx.guild_data.known_guild_ids())
        for guild_id in known:
            if owns(guild_id) and guild_id not in present:
                await self.guild_left(guild_id)
        for guild_id in present:
            await self.guild_present(guild_id)

    async def record_notice(self, guild_id: int, problem: str) -> bool:
        now = self._clock.now()
        return await self._store.write(
            lambda tx: tx.guild_data.record_notice(guild_id, problem, now)
        )

    async def clear_notices(self, guild_id: int) -> None:
        await self._store.write(lambda tx: tx.guild_data.clear_notices(guild_id))
