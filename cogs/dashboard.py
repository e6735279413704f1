"""The moderators' web dashboard, served from this process when DASHBOARD_PORT is set.

Any process can serve it (it reads the shared database and asks Discord with the bot's token
for servers another shard holds); run it in one, behind a reverse proxy with TLS.
"""

from __future__ import annotations

from discord.ext import commands

from dashboard.app import DashboardDeps, DashboardServer
from dashboard.config import DashboardConfig
from ui.app import VigilBot
from ui.dashboard_side import BotSide


class Dashboard(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._server: DashboardServer | None = None

    async def cog_load(self) -> None:
        services = self.bot.services
        if services.settings.dashboard_port is None:
            return  # off by default
        deps = DashboardDeps(
            store=services.store,
            clock=services.clock,
            cases=services.cases,
            guild_settings=services.guild_settings,
            hotlines=services.hotlines,
            discord=BotSide(self.bot),
        )
        config = DashboardConfig.from_settings(services.settings, self.bot.application_id)
        self._server = DashboardServer(config, deps)
        await self._server.start()

    async def cog_unload(self) -> None:
        """Runs when the bot closes, before the store closes (VigilBot._close_once)."""
        if self._server is not None:
            await self._server.stop()


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Dashboard(bot))
