"""/hotlines: the official places to report or get help, for a country."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import guidance_embed, send_private
from cogs.reporting import HOTLINES, country_view, region_for
from cogs.translator import L
from core.guidance import find_country, hotlines_overview, localised_name, search_countries
from core.hotlines import HotlineDirectory
from core.i18n import tr


def country_choices(
    directory: HotlineDirectory, current: str, locale: str | None = None
) -> list[app_commands.Choice[str]]:
    """Countries matching what the member typed, named in their language."""
    language = locale or "en"
    return [
        app_commands.Choice(name=f"{localised_name(c, language)} ({c.code})"[:100], value=c.code)
        for c in search_countries(directory, current, language, limit=25)
    ]


class Hotlines(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    @app_commands.command(name="hotlines", description=L("cmd.hotlines.description"))
    @app_commands.describe(country=L("cmd.hotlines.country"))
    async def hotlines(
        self,
        interaction: discord.Interaction[VigilBot],
        country: app_commands.Range[str, 2, 60] | None = None,
    ) -> None:
        directory = self.bot.services.hotlines
        locale = interaction.locale.value
        if country is not None:
            found = find_country(directory, country, locale)
            if found is None:
                await send_private(interaction, tr("country.unknown", locale))
                return
            code: str | None = found.code
        else:
            # The server's region, else the reader's locale where it names one country, else
            # the international answer: the country menu below lets the reader correct it.
            code = await region_for(self.bot, interaction.guild_id, locale)
        overview = hotlines_overview(directory, code, locale)
        view = country_view(directory, HOTLINES, code, locale)
        await send_private(interaction, None, embeds=[guidance_embed(overview)], view=view)

    @hotlines.autocomplete("country")
    async def country_autocomplete(
        self, interaction: discord.Interaction[VigilBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return country_choices(self.bot.services.hotlines, current, interaction.locale.value)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Hotlines(bot))
