"""The extension that routes every modal submit to its form's handler (ui/forms.py)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from ui.app import VigilBot
from ui.forms import (
    FORM_PREFIX,
    Interaction,
    answer_failed_form,
    answer_stale_form,
    dispatch,
    parse_form,
)

log = logging.getLogger(__name__)


class Forms(commands.Cog):
    """Routes every modal submit to its form's handler, by custom ID."""

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id") or "")
        if not custom_id.startswith(FORM_PREFIX):
            return
        try:
            components = data.get("components") or []
            submit = parse_form(custom_id, components)
            if submit is None:
                await answer_stale_form(interaction, components)
                return
            await dispatch(interaction, submit)
        except Exception:
            log.exception("form %s failed", custom_id.split(":")[1] if ":" in custom_id else "?")
            try:
                await answer_failed_form(interaction)
            except discord.HTTPException:
                log.warning("could not answer a failed form")


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Forms(bot))
