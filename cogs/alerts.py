"""Alert posting (the outbox's Discord side) and the alert's buttons.

Buttons are DynamicItems: their custom IDs name an action and a case, and every press
re-reads the case from the database, so they keep working after a restart and trust nothing
the custom ID claims (the case must belong to the guild the press came from).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

import aiohttp
import discord
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import alert_embed, alert_mentions, button_style, send_private
from core.models import CaseAction
from core.outbox import AlertDispatcher, DeliveryFailed
from core.rendering import AlertContent, render_alert
from core.service import CaseActionRefused

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE = 10008


def _failure(error: Exception) -> DeliveryFailed:
    if isinstance(error, discord.HTTPException):
        if error.status == 404 and error.code == UNKNOWN_MESSAGE:
            return DeliveryFailed("the alert message was deleted", message_gone=True)
        if error.status == 403:
            return DeliveryFailed(
                "missing permission in the alert channel (View Channel, Send Messages, Embed Links)"
            )
        if error.status == 404:
            return DeliveryFailed("the alert channel no longer exists")
        if error.status == 429:
            return DeliveryFailed("rate limited by Discord", retry_after=1.0)
        return DeliveryFailed(f"Discord answered {error.status}")
    return DeliveryFailed(f"network error ({type(error).__name__})")


class CaseButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:case:(?P<action>acknowledge|resolve|dismiss):(?P<case_id>[0-9]{1,19})",
):
    def __init__(
        self,
        action: CaseAction,
        case_id: int,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action.value.title(),
                style=style,
                disabled=disabled,
                custom_id=f"vigil:case:{action.value}:{case_id}",
            )
        )
        self.action = action
        self.case_id = case_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: discord.Interaction[VigilBot],
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
    ) -> CaseButton:
        return cls(CaseAction(match["action"]), int(match["case_id"]))

    async def callback(self, interaction: discord.Interaction[VigilBot]) -> None:  # type: ignore[override]
        bot = interaction.client
        permissions = interaction.permissions
        if interaction.guild_id is None or not (
            permissions.manage_messages or permissions.moderate_members
        ):
            await send_private(
                interaction,
                "Only moderators (Manage Messages or Timeout Members permission) can act on "
                "alerts. Nothing was changed.",
            )
            return
        try:
            case = await bot.services.cases.act(
                interaction.guild_id, self.case_id, self.action, interaction.user.id
            )
        except CaseActionRefused as refused:
            await send_private(interaction, str(refused))
            return
        data = await bot.services.cases.alert_data(case.id)
        if data is None:
            return
        content = render_alert(data)
        await interaction.response.edit_message(
            content=content.content,
            embed=alert_embed(content),
            view=alert_view(case.id, content),
            allowed_mentions=alert_mentions(content),
        )
        if interaction.message is not None and interaction.channel_id is not None:
            await bot.services.cases.mark_alert_rendered(
                case.id, data.case.alert_revision, interaction.channel_id, interaction.message.id
            )


def alert_view(case_id: int, content: AlertContent) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for spec in content.buttons:
        view.add_item(
            CaseButton(
                spec.action,
                case_id,
                label=spec.label,
                style=button_style(spec),
                disabled=spec.disabled,
            )
        )
    return view


class DiscordAlertPoster:
    """The outbox's way to Discord. Errors become DeliveryFailed so the core can retry."""

    def __init__(self, bot: VigilBot) -> None:
        self._bot = bot

    async def post(self, channel_id: int, content: AlertContent, nonce: str) -> int:
        channel = self._bot.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                content=content.content,
                embed=alert_embed(content),
                view=alert_view(content.case_id, content),
                allowed_mentions=alert_mentions(content),
                nonce=nonce,
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error
        return message.id

    async def edit(self, channel_id: int, message_id: int, content: AlertContent) -> None:
        message = self._bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                content=content.content,
                embed=alert_embed(content),
                view=alert_view(content.case_id, content),
                allowed_mentions=alert_mentions(content),
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error


class Alerts(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        max_delay = float(bot.services.settings.alert_retry_max_seconds)
        self.dispatcher = AlertDispatcher(
            bot.services.store,
            bot.services.cases,
            DiscordAlertPoster(bot),
            base_delay=min(0.5, max_delay),
            max_delay=max_delay,
        )
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CaseButton)
        self.bot.services.dispatcher = self.dispatcher
        self.bot.services.alert_signal.connect(self.dispatcher.wake)
        self._task = asyncio.create_task(self.dispatcher.run(), name="vigil-alert-outbox")

    async def cog_unload(self) -> None:
        """Stop taking new work, then give pending alerts one last attempt before exit."""
        self.bot.services.alert_signal.disconnect(self.dispatcher.wake)
        self.dispatcher.stop()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
        try:
            await asyncio.wait_for(self.dispatcher.drain_once(), timeout=5)
        except Exception:
            log.warning("last outbox attempt at shutdown failed; it resumes at the next start")
        self.bot.remove_dynamic_items(CaseButton)
        self.bot.services.dispatcher = None


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Alerts(bot))
