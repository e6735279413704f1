"""A self-test-only bot that exercises the harder discord.py paths against the emulator.

Unlike the floor bot it uses subcommand groups, user commands, modals with ``ui.Label``,
buttons, deferrals, follow-ups, file uploads and moderation calls, so the self-tests prove those
request shapes validate against Discord's spec and that the emulator answers them correctly.
"""

from __future__ import annotations

import datetime
import io
import logging
import os

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands, ui
from discord.ext import commands

log = logging.getLogger("exerciser")


class ReportModal(ui.Modal, title="Report"):
    reason: ui.Label[ReportModal] = ui.Label(
        text="Reason",
        component=ui.Select(
            custom_id="reason",
            options=[
                discord.SelectOption(label="Spam", value="spam"),
                discord.SelectOption(label="Harassment", value="harassment"),
            ],
        ),
    )
    details: ui.Label[ReportModal] = ui.Label(
        text="Details", component=ui.TextInput(custom_id="details", style=discord.TextStyle.long)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.reason.component, ui.Select)
        assert isinstance(self.details.component, ui.TextInput)
        await interaction.response.send_message(
            f"got {self.reason.component.values[0]}: {self.details.component.value}", ephemeral=True
        )


class ClaimView(ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @ui.button(label="Claim", custom_id="claim", style=discord.ButtonStyle.primary)
    async def claim(self, interaction: discord.Interaction, button: ui.Button[ClaimView]) -> None:
        await interaction.response.edit_message(
            content=f"claimed by {interaction.user.name}", view=None
        )


def build_bot() -> commands.AutoShardedBot:
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE_URL"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.AutoShardedBot(command_prefix=commands.when_mentioned, intents=intents)

    reports = app_commands.Group(name="reports", description="Report settings")
    setup = app_commands.Group(name="setup", description="Setup", parent=reports)

    @setup.command(name="alert_channel", description="Where alerts go")
    async def alert_channel(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        msg = await channel.send(
            embed=discord.Embed(title="Alerts configured", colour=0x3498DB),
            view=ClaimView(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await interaction.edit_original_response(content=f"alerts -> {channel.mention} ({msg.id})")
        await interaction.followup.send(
            "second", ephemeral=True, file=discord.File(io.BytesIO(b"x"), "a.txt")
        )

    bot.tree.add_command(reports)

    @bot.tree.context_menu(name="Report user")
    async def report_user(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_modal(ReportModal())

    @bot.tree.command(name="timeout", description="Timeout a member")
    async def timeout_cmd(
        interaction: discord.Interaction, member: discord.Member, minutes: int
    ) -> None:
        try:
            await member.timeout(datetime.timedelta(minutes=minutes), reason="exerciser")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
            return
        await interaction.response.send_message("done", ephemeral=True)

    @bot.tree.command(name="ban", description="Ban a member")
    async def ban_cmd(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.guild.ban(member, reason="exerciser", delete_message_seconds=3600)  # type: ignore[union-attr]
        await member.send("you were banned") if False else None
        await interaction.response.send_message("banned", ephemeral=True)

    @bot.tree.command(name="pick", description="Autocomplete test")
    async def pick(interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(fruit, ephemeral=True)

    @pick.autocomplete("fruit")
    async def pick_auto(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f, value=f)
            for f in ("apple", "apricot")
            if f.startswith(current)
        ]

    @bot.event
    async def setup_hook() -> None:
        bot.add_view(ClaimView())
        await bot.tree.sync()

    @bot.event
    async def on_ready() -> None:
        log.info("exerciser ready")
        user = bot.get_user(int(os.environ["DM_USER_ID"]))
        if user is not None:
            await user.send("hello from exerciser")

    return bot


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    build_bot().run(os.environ["DISCORD_TOKEN"], log_handler=None)
