"""/hotlines: the official places to report or get help, for a country."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import guidance_embed, send_private
from core.guidance import hotlines_overview
from core.hotlines import HotlineDirectory
from core.regions import effective_region


def country_choices(directory: HotlineDirectory, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=f"{c.name} ({c.code})"[:100], value=c.code)
        for c in directory.search_countries(current, limit=25)
    ]


class Hotlines(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="hotlines", description="Official places to report abuse or get help, by country"
    )
    @app_commands.describe(country="Country (defaults to this server's region)")
    async def hotlines(
        self,
        interaction: discord.Interaction[VigilBot],
        country: app_commands.Range[str, 2, 60] | None = None,
    ) -> None:
        directory = self.bot.services.hotlines
        if country is not None:
            found = directory.country(country.strip())
            if found is None:
                await send_private(
                    interaction,
                    "I don't know that country. Start typing its name and pick it from the "
                    "list, or use a two-letter code such as GB, US or DE.",
                )
                return
            code: str | None = found.code
        else:
            configured = None
            if interaction.guild_id is not None:
                configured = (
                    await self.bot.services.guild_settings.get(interaction.guild_id)
                ).region
            code = effective_region(
                configured, str(interaction.guild_locale) if interaction.guild_locale else None
            )
        overview = hotlines_overview(directory, code)
        await send_private(interaction, None, embeds=[guidance_embed(overview)])

    @hotlines.autocomplete("country")
    async def country_autocomplete(
        self, interaction: discord.Interaction[VigilBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return country_choices(self.bot.services.hotlines, current)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Hotlines(bot))
