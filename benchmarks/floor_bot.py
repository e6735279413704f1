"""The storm's floor: the fastest discord.py bot that accepts Vigil's `/report` payloads.

Same discord.py stack and emulator as Vigil, and the same `/report` signature (member, reason
with Vigil's choices, details, message_link) so the emulator builds byte-for-byte the same
interaction payloads and discord.py parses the same options and resolved members. Every
interaction is answered at once with an ephemeral message; nothing is stored, nothing is
alerted. Vigil's latency over this bot is Vigil's own cost.

Env (set by `emulator.BotProcess`): DISCORD_TOKEN, DISCORD_API_BASE_URL,
DISCORD_GATEWAY_URL, LOG_LEVEL; SHARD_COUNT and SHARD_IDS as Vigil reads them.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.reasons import Reason

log = logging.getLogger("storm_floor_bot")

REASON_CHOICES = [app_commands.Choice(name=r.label[:100], value=r.value) for r in Reason]


def build_bot() -> commands.AutoShardedBot:
    base = os.environ.get("DISCORD_API_BASE_URL")
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    # Several floor processes, one shard each, as `benchmarks.storm --shards N` runs Vigil.
    shards: dict[str, Any] = {}
    if os.environ.get("SHARD_COUNT"):
        shards["shard_count"] = int(os.environ["SHARD_COUNT"])
    if os.environ.get("SHARD_IDS"):
        shards["shard_ids"] = [int(i) for i in os.environ["SHARD_IDS"].split(",")]
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned,
        help_command=None,
        intents=discord.Intents(guilds=True),  # what Vigil asks for
        allowed_mentions=discord.AllowedMentions.none(),
        chunk_guilds_at_startup=False,
        **shards,
    )

    @bot.tree.command(name="report", description="Confidentially report a member to moderators")
    @app_commands.guild_only()
    @app_commands.choices(reason=REASON_CHOICES)
    async def report(
        interaction: discord.Interaction,
        member: discord.User,
        reason: app_commands.Choice[str],
        details: app_commands.Range[str, None, 1000] | None = None,
        message_link: app_commands.Range[str, None, 200] | None = None,
    ) -> None:
        await interaction.response.send_message("Report received.", ephemeral=True)

    @bot.tree.command(name="ping", description="Check that the bot answers")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @bot.event
    async def setup_hook() -> None:
        synced = await bot.tree.sync()
        log.info("synced %d commands", len(synced))

    _ = (report, ping)
    return bot


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bot = build_bot()
    bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
