"""Data care: the periodic retention purge, and noticing guilds that removed Vigil.

The purge runs at start and then every RETENTION_SWEEP_MINUTES, in one process only when
several share a database (`Store.try_lead`). Between two purges, text held for report forms
never submitted is purged every few minutes (a DM's is held only briefly).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from core.retention import PENDING_PURGE_INTERVAL
from ui.app import VigilBot

log = logging.getLogger(__name__)
LEADER_KEY = "retention-purge"


class DataCare(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._task: asyncio.Task[None] | None = None
        self._reconciled = False

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever(), name="vigil-retention")

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sweep_forever(self) -> None:
        interval = self.bot.services.settings.retention_sweep_minutes * 60.0
        step = min(interval, PENDING_PURGE_INTERVAL.total_seconds())
        since_sweep = interval  # the full sweep runs at start
        while True:
            try:
                if await self.bot.services.store.try_lead(LEADER_KEY):
                    if since_sweep >= interval:
                        since_sweep = 0.0
                        await self.bot.services.retention.sweep()
                    else:
                        await self.bot.services.retention.purge_pending()
            except Exception:
                log.exception("retention sweep failed; trying again next time")
            await asyncio.sleep(step)
            since_sweep += step

    def _owns(self, guild_id: int) -> bool:
        """Whether this process's shards would see `guild_id` (Discord's shard formula)."""
        count = self.bot.shard_count or 1
        shards = self.bot.shard_ids if self.bot.shard_ids is not None else range(count)
        return (guild_id >> 22) % count in shards

    async def _note_locales(self, guilds: list[discord.Guild]) -> None:
        """Store the servers' languages: a process that does not see a server (several share
        the database) renders its alerts and DMs in that language all the same."""
        try:
            await self.bot.services.guild_settings.note_locales(
                {guild.id: str(guild.preferred_locale) for guild in guilds}
            )
        except Exception:
            log.exception("could not store the servers' languages")

    @commands.Cog.listener()
    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if before.preferred_locale != after.preferred_locale:
            await self._note_locales([after])

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self._note_locales(list(self.bot.guilds))
        if self._reconciled:
            return
        self._reconciled = True
        present = {guild.id for guild in self.bot.guilds}
        await self.bot.services.retention.reconcile_guilds(present, self._owns)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        log.info("removed from guild %s; its data is purged after the grace period", guild.id)
        await self.bot.services.retention.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.bot.services.retention.guild_present(guild.id)
        await self._note_locales([guild])


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(DataCare(bot))
