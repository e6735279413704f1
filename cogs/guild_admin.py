"""/reports: setup, config, queue and history, for members with Manage Server.

`default_permissions` hides the group from others in the client, but server admins can change
that, so every command checks the member's permissions again here.
"""

from __future__ import annotations

from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.hotlines import country_choices
from cogs.replies import send_private
from core.rendering import relative, render_settings
from core.text import neutralise, trim


def alert_channel_problems(guild: discord.Guild, channel_id: int | None) -> list[str]:
    """Why Vigil could not post alerts, in words an admin can act on (empty: all good)."""
    if channel_id is None:
        return ["No alert channel is set: run `/reports setup alert_channel:`."]
    channel = guild.get_channel(channel_id)
    if channel is None:
        return ["The alert channel no longer exists: choose another with `/reports setup`."]
    me = guild.me
    if me is None or not isinstance(channel, discord.abc.GuildChannel):
        return []
    perms = channel.permissions_for(me)
    missing = [
        name
        for name, ok in (
            ("View Channel", perms.view_channel),
            ("Send Messages", perms.send_messages),
            ("Embed Links", perms.embed_links),
        )
        if not ok
    ]
    if missing:
        return [f"Vigil is missing {', '.join(missing)} in {channel.mention}."]
    return []


class ReportsGroup(app_commands.Group):
    async def interaction_check(self, interaction: discord.Interaction[VigilBot]) -> bool:  # type: ignore[override]
        if interaction.guild is None:
            raise app_commands.CheckFailure("This command only works inside a server.")
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(
                "Only members with the Manage Server permission can use `/reports`."
            )
        return True


class GuildAdmin(commands.Cog):
    reports = ReportsGroup(
        name="reports",
        description="Set up Vigil and review reports (Manage Server)",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    @reports.command(name="setup", description="Choose where alerts go and when they fire")
    @app_commands.describe(
        alert_channel="Private channel where moderators receive alerts",
        threshold="Distinct reporters needed to alert (default 3)",
        window_hours="Hours over which reporters are counted (default 24)",
        region="Country for hotline guidance",
        mod_role="Role to mention on urgent alerts (child safety, self-harm, threats)",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction[VigilBot],
        alert_channel: discord.TextChannel,
        threshold: app_commands.Range[int, 1, 50] | None = None,
        window_hours: app_commands.Range[int, 1, 720] | None = None,
        region: app_commands.Range[str, 2, 60] | None = None,
        mod_role: discord.Role | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        services = self.bot.services
        region_code: str | None = None
        if region is not None:
            country = services.hotlines.country(region.strip())
            if country is None:
                await send_private(
                    interaction,
                    "I don't know that region. Pick a country from the list (for example GB, "
                    "US or DE). Nothing was changed.",
                )
                return
            region_code = country.code
        if mod_role is not None and mod_role.is_default():
            await send_private(
                interaction,
                "Vigil never mentions @everyone. Choose a specific moderator role. "
                "Nothing was changed.",
            )
            return
        current = await services.guild_settings.get(guild.id)
        updated = replace(
            current,
            alert_channel_id=alert_channel.id,
            threshold=threshold if threshold is not None else current.threshold,
            window_hours=window_hours if window_hours is not None else current.window_hours,
            region=region_code if region_code is not None else current.region,
            mod_role_id=mod_role.id if mod_role is not None else current.mod_role_id,
        )
        await services.guild_settings.save(updated)
        region_name = self._region_name(updated.region)
        lines = ["**Vigil is set up.**", *render_settings(updated, region_name)]
        problems = alert_channel_problems(guild, alert_channel.id)
        if problems:
            lines += ["", "**Warning:** " + " ".join(problems) + " Alerts wait until fixed."]
        if mod_role is not None and not mod_role.mentionable:
            me = guild.me
            if me is None or not me.guild_permissions.mention_everyone:
                lines.append(
                    f"Note: {mod_role.mention} is not mentionable, so urgent alerts can't ping "
                    "it. Make it mentionable in the role settings."
                )
        await send_private(interaction, "\n".join(lines))

    @setup_command.autocomplete("region")
    async def region_autocomplete(
        self, interaction: discord.Interaction[VigilBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return country_choices(self.bot.services.hotlines, current)

    def _region_name(self, code: str | None) -> str | None:
        if code is None:
            return None
        country = self.bot.services.hotlines.country(code)
        return country.name if country else code

    @reports.command(name="config", description="Show Vigil's settings and whether alerts can post")
    async def config_command(self, interaction: discord.Interaction[VigilBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        settings = await self.bot.services.guild_settings.get(guild.id)
        lines = render_settings(settings, self._region_name(settings.region))
        problems = alert_channel_problems(guild, settings.alert_channel_id)
        dispatcher = self.bot.services.dispatcher
        if dispatcher is not None:
            problems += sorted(set(dispatcher.problems().values()))
        if problems:
            lines += ["", "**Problems:**", *(f"- {p}" for p in problems)]
        else:
            lines += ["", "Vigil can post alerts in the alert channel."]
        await send_private(interaction, "\n".join(lines))

    @reports.command(name="queue", description="Open cases, urgent and oldest first")
    async def queue_command(self, interaction: discord.Interaction[VigilBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        cases = await self.bot.services.cases.list_active(guild.id, limit=15)
        if not cases:
            await send_private(interaction, "No open cases. ✅")
            return
        lines = ["**Open cases**"]
        for case in cases:
            link = (
                f" · [alert](https://discord.com/channels/{guild.id}/{case.alert_channel_id}/"
                f"{case.alert_message_id})"
                if case.alert_message_id
                else " · alert pending"
            )
            lines.append(
                f"{'🔴 ' if case.urgent else ''}**#{case.number}** <@{case.target_id}> "
                f"({case.status.value}, opened {relative(case.opened_at)}){link}"
            )
        await send_private(interaction, trim("\n".join(lines), 2000))

    @reports.command(name="history", description="Cases and reports about a member")
    @app_commands.describe(member="The member to look up")
    async def history_command(
        self, interaction: discord.Interaction[VigilBot], member: discord.Member | discord.User
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        history = await self.bot.services.cases.history(guild.id, member.id, limit=10)
        if not history.cases and not history.reports:
            await send_private(interaction, f"No reports about {member.mention}.")
            return
        lines = [f"**History of {member.mention}** (`{member.id}`)"]
        if history.cases:
            lines.append("__Cases__")
            for case in history.cases:
                lines.append(
                    f"#{case.number}: {case.status.value}, opened {relative(case.opened_at)}"
                    + (" (urgent)" if case.urgent else "")
                )
        if history.reports:
            lines.append(f"__Latest reports__ ({history.report_total} in all)")
            for report in history.reports:
                details = trim(neutralise(report.details), 120) if report.details else ""
                lines.append(
                    f"{relative(report.created_at)} by <@{report.reporter_id}>: "
                    f"{report.reason.label}" + (f": {details}" if details else "")
                )
        await send_private(interaction, trim("\n".join(lines), 2000))


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(GuildAdmin(bot))
