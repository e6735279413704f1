"""Operators' side: the `/metrics` and `/healthz` endpoint, and the periodic gauges.

The endpoint runs only when METRICS_PORT is set, bound to METRICS_HOST (127.0.0.1 unless told
otherwise). The gauges (outbox backlog, oldest unposted alert, oldest unacknowledged urgent
case, gateway latency) are read every few seconds by one loop here, with one `store.read`,
rather than after every outbox pass: an idle outbox sleeps up to a minute between passes, and
the health check must not mistake an idle outbox for a stuck one. A stuck outbox still shows:
the oldest unposted alert's age comes from the database and keeps growing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from discord.ext import commands

from core.ports import UnitOfWork
from core.stats import OutboxBacklog
from ui.app import VigilBot
from vigil_ops.health import HealthChecks, OpsServer

log = logging.getLogger(__name__)

OBSERVE_SECONDS = 5.0


class Ops(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._server: OpsServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected_once: set[int] = set()

    def gateway_connected(self) -> bool:
        """Every shard this process runs has a live, unclosed gateway connection."""
        if self.bot.is_closed() or not self.bot.is_ready():
            return False
        shards = self.bot.shards
        return bool(shards) and all(not shard.is_closed() for shard in shards.values())

    async def database_answers(self) -> bool:
        """For `/healthz`: `SELECT 1`, then the outbox read, so that a probe judges the backlog
        as it is now, not as of the last 5-second observation."""
        answered = await self.bot.services.store.read(lambda tx: tx.stats.ping())
        await self.observe()
        return answered

    async def observe(self) -> None:
        """The outbox backlog and urgent cases (one read), and each shard's latency."""

        async def read(tx: UnitOfWork) -> tuple[OutboxBacklog, datetime | None]:
            return await tx.stats.outbox_backlog(), await tx.stats.oldest_unacknowledged_urgent()

        metrics = self.bot.services.metrics
        backlog, urgent = await self.bot.services.store.read(read)
        metrics.outbox_observed(backlog.pending, backlog.oldest_unposted_since, urgent)
        for shard_id, latency in self.bot.latencies:
            metrics.gateway_latency(shard_id, latency)

    async def _observe_forever(self) -> None:
        while True:
            try:
                await self.observe()
            except Exception:
                log.warning("could not read the outbox gauges; trying again", exc_info=True)
            await asyncio.sleep(OBSERVE_SECONDS)

    @commands.Cog.listener()
    async def on_shard_connect(self, shard_id: int) -> None:
        """The first connection of a shard is a start; every later one is a reconnect."""
        if shard_id in self._connected_once:
            self.bot.services.metrics.gateway_reconnected(shard_id)
        self._connected_once.add(shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.bot.services.metrics.gateway_reconnected(shard_id)

    async def cog_load(self) -> None:
        settings = self.bot.services.settings
        if settings.metrics_port is None:
            return  # nobody can read the gauges: no need to read the database for them
        self._task = asyncio.create_task(self._observe_forever(), name="vigil-ops-gauges")
        checks = HealthChecks(
            gateway_connected=self.gateway_connected,
            database_answers=self.database_answers,
            outbox_oldest_age=self.bot.services.metrics.outbox_oldest_age,
            outbox_max_age=float(settings.health_outbox_max_age_seconds),
        )
        self._server = OpsServer(
            self.bot.services.metrics, checks, settings.metrics_host, settings.metrics_port
        )
        await self._server.start()

    async def cog_unload(self) -> None:
        """Runs when the bot closes, before the store closes (VigilBot._close_once)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._server is not None:
            await self._server.stop()


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Ops(bot))
