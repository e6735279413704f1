"""Minimal "floor" bot: the fastest possible discord.py bot against the emulator.

Proves the emulator end to end and serves as the latency floor for benchmarks: one slash
command ``/ping`` and one "Report message" message command, synced at startup, each answered
immediately with an ephemeral message. Stores nothing. Both commands are installable to servers
and to user accounts and usable in servers, the bot's DM and DMs/group DMs between users
(``allowed_installs`` / ``allowed_contexts``), so self-tests exercise user-install payloads.

Env: DISCORD_TOKEN, DISCORD_API_BASE_URL (sets ``discord.http.Route.BASE``),
DISCORD_GATEWAY_URL (sets ``DiscordWebSocket.DEFAULT_GATEWAY``), LOG_LEVEL.
"""

from __future__ import annotations

import logging
import os

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("floor_bot")


def build_bot() -> commands.AutoShardedBot:
    base = os.environ.get("DISCORD_API_BASE_URL")
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if gateway:
        # After a non-resumable INVALID_SESSION discord.py reconnects to DEFAULT_GATEWAY
        # (wss://gateway.discord.gg) rather than the URL from /gateway/bot; keep it offline.
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned, intents=discord.Intents.default()
    )

    @bot.tree.command(name="ping", description="Check that the bot answers")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @bot.tree.context_menu(name="Report message")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def report_message(interaction: discord.Interaction, message: discord.Message) -> None:
        text = "Report received."
        if interaction.guild_id is None:
            # Outside servers, echo what discord.py parsed so self-tests can check it.
            c = interaction.context
            ctx = [n for n in ("guild", "dm_channel", "private_channel") if getattr(c, n)]
            owners = sorted(int(k) for k in interaction._integration_owners)
            text += (
                f" ctx={ctx} channel={type(interaction.channel).__name__}"
                f" owners={owners} author={message.author.id} content={message.content!r}"
                f" files={len(message.attachments)} by={interaction.user.id}"
            )
        await interaction.response.send_message(text, ephemeral=True)

    @bot.event
    async def setup_hook() -> None:
        synced = await bot.tree.sync()
        log.info("synced %d commands", len(synced))

    @bot.event
    async def on_ready() -> None:
        log.info("floor bot ready as %s in %d guilds", bot.user, len(bot.guilds))

    @bot.event
    async def on_resumed() -> None:
        log.info("floor bot resumed")

    _ = (ping, report_message, app_commands)
    return bot


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bot = build_bot()
    bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
