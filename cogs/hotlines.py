"""/hotlines: the official places to report or get help, for a country."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from core.guidance import find_country, hotlines_overview
from core.i18n import tr
from ui.app import VigilBot
from ui.country_menu import (
    HOTLINES,
    country_choices,
    country_view,
    region_for,
    served_guild_id,
)
from ui.replies import guidance_embed, send_private
from ui.translator import L


class Hotlines(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    @app_commands.command(name="hotlines", description=L("cmd.hotlines.description"))
    @app_commands.describe(country=L("cmd.hotlines.country"))
    # Help needs no server: installable by a member for themself, usable in DMs and group DMs.
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def hotlines(
        self,
        interaction: discord.Interaction[VigilBot],
        country: app_commands.Range[str, 2, 60] | None = None,
    ) -> None:
        directory = self.bot.services.hotlines
        locale = interaction.locale.value
        found = find_country(directory, country, locale) if country is not None else None
        # A country not recognised (a typo) is said in one line above the same help as no
        # country at all, with the menu to pick it: a typo never leaves someone without a line.
        unknown = tr("country.unknown", locale) if country is not None and found is None else None
        if found is not None:
            code: str | None = found.code
        else:
            # The server's region, else the reader's locale where it names one country, else
            # the international answer: the country menu below lets the reader correct it.
            # Outside the servers Vigil is in (a DM, a user install elsewhere) only the locale.
            code = await region_for(self.bot, served_guild_id(self.bot, interaction), locale)
        overview = hotlines_overview(directory, code, locale)
        view = country_view(directory, HOTLINES, code, locale)
        await send_private(interaction, unknown, embeds=[guidance_embed(overview)], view=view)

    @hotlines.autocomplete("country")
    async def country_autocomplete(
        self, interaction: discord.Interaction[VigilBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return country_choices(self.bot.services.hotlines, current, interaction.locale.value)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Hotlines(bot))
