"""/report and the "Report user" / "Report message" context menus."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import answer_within_deadline, guidance_embed, send_private
from core.guidance import build_guidance
from core.models import MAX_DETAILS_LENGTH, ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal
from core.reasons import Reason
from core.regions import effective_region
from core.rendering import render_report_ack
from core.text import trim

log = logging.getLogger(__name__)

REASON_CHOICES = [app_commands.Choice(name=r.label[:100], value=r.value) for r in Reason]
MEMBER_LOOKUP_SECONDS = 1.0


def snapshot(user: discord.Member | discord.User) -> UserSnapshot:
    joined = user.joined_at if isinstance(user, discord.Member) else None
    return UserSnapshot(id=user.id, name=user.display_name, is_bot=user.bot, joined_at=joined)


async def resolve_member(
    guild: discord.Guild, user: discord.Member | discord.User
) -> discord.Member | discord.User:
    """The user as a member of this guild when they are one (for the join date)."""
    if isinstance(user, discord.Member):
        return user
    cached = guild.get_member(user.id)
    if cached is not None:
        return cached
    try:
        return await asyncio.wait_for(guild.fetch_member(user.id), MEMBER_LOOKUP_SECONDS)
    except (discord.NotFound, discord.HTTPException, TimeoutError):
        return user


async def submit_and_reply(
    bot: VigilBot, interaction: discord.Interaction[VigilBot], submission: ReportSubmission
) -> None:
    """Store first, confirm second: the reporter only ever sees a confirmation of a commit."""
    outcome, deferred = await answer_within_deadline(
        interaction, bot.services.reports.submit(submission)
    )
    if isinstance(outcome, Refusal):
        await send_private(interaction, outcome.message, deferred=deferred)
        return
    region = effective_region(
        outcome.region, interaction.guild_locale and str(interaction.guild_locale)
    )
    guidance = build_guidance(bot.services.hotlines, submission.reason.value, region)
    text = render_report_ack(outcome, submission.target.name, guidance.headline)
    embed = guidance_embed(guidance, title="What you can do now", include_headline=False)
    await send_private(interaction, text, embeds=[embed], deferred=deferred)


class ReportModal(discord.ui.Modal):
    """Reason and details for a context-menu report. The target is fixed when it opens."""

    def __init__(
        self,
        bot: VigilBot,
        target: discord.Member | discord.User,
        source: ReportSource,
        message_link: str | None = None,
    ) -> None:
        super().__init__(
            title=trim(f"Report {target.display_name}", 45),
            timeout=900,
            custom_id="vigil:report-form",
        )
        self.bot = bot
        self.target = target
        self.source = source
        self.message_link = message_link
        self.reason_select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id="reason",
            placeholder="Choose the closest reason",
            options=[discord.SelectOption(label=r.label[:100], value=r.value) for r in Reason],
            min_values=1,
            max_values=1,
        )
        self.details_input: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="details",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=MAX_DETAILS_LENGTH,
            placeholder="What happened? Describe it in words; never paste or upload images.",
        )
        self.add_item(discord.ui.Label(text="What is the problem?", component=self.reason_select))
        self.add_item(
            discord.ui.Label(
                text="Details (optional)",
                description="Only this server's moderators will read this.",
                component=self.details_input,
            )
        )

    async def on_submit(self, interaction: discord.Interaction[VigilBot]) -> None:  # type: ignore[override]
        assert interaction.guild is not None
        values = self.reason_select.values
        if not values or values[0] not in Reason._value2member_map_:
            await send_private(interaction, "Please choose a reason from the list.")
            return
        submission = ReportSubmission(
            guild_id=interaction.guild.id,
            reporter=snapshot(interaction.user),
            target=snapshot(self.target),
            reason=Reason(values[0]),
            source=self.source,
            details=self.details_input.value or None,
            message_link=self.message_link,
        )
        await submit_and_reply(self.bot, interaction, submission)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[VigilBot], error: Exception
    ) -> None:
        log.error("report modal failed", exc_info=error)
        if not interaction.response.is_done():
            await send_private(
                interaction, "Sorry, something went wrong on Vigil's side. Please try again."
            )


class Reporting(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self.user_menu = app_commands.ContextMenu(name="Report user", callback=self.report_user)
        self.message_menu = app_commands.ContextMenu(
            name="Report message", callback=self.report_message
        )
        for menu in (self.user_menu, self.message_menu):
            menu.guild_only = True
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.user_menu.name, type=self.user_menu.type)
        self.bot.tree.remove_command(self.message_menu.name, type=self.message_menu.type)

    @app_commands.command(name="report", description="Confidentially report a member to moderators")
    @app_commands.guild_only()
    @app_commands.describe(
        member="Who are you reporting?",
        reason="The closest reason",
        details="What happened, in words (never paste images). Up to 1000 characters.",
        message_link="Link to the message (right-click it, Copy Message Link)",
    )
    @app_commands.choices(reason=REASON_CHOICES)
    async def report(
        self,
        interaction: discord.Interaction[VigilBot],
        member: discord.User,
        reason: app_commands.Choice[str],
        details: app_commands.Range[str, None, MAX_DETAILS_LENGTH] | None = None,
        message_link: app_commands.Range[str, None, 200] | None = None,
    ) -> None:
        assert interaction.guild is not None
        submission = ReportSubmission(
            guild_id=interaction.guild.id,
            reporter=snapshot(interaction.user),
            target=snapshot(member),
            reason=Reason(reason.value),
            source=ReportSource.SLASH,
            details=details,
            message_link=message_link,
        )
        await submit_and_reply(self.bot, interaction, submission)

    async def report_user(
        self, interaction: discord.Interaction[VigilBot], user: discord.Member | discord.User
    ) -> None:
        await interaction.response.send_modal(ReportModal(self.bot, user, ReportSource.USER_MENU))

    async def report_message(
        self, interaction: discord.Interaction[VigilBot], message: discord.Message
    ) -> None:
        # Only where the message is: its attachments are never opened, fetched or copied.
        if message.webhook_id is not None or message.author.bot:
            await send_private(
                interaction,
                "Messages from bots and apps can't be reported here. Please use Discord's own "
                "**Report** option on the message instead.",
            )
            return
        await interaction.response.send_modal(
            ReportModal(self.bot, message.author, ReportSource.MESSAGE_MENU, message.jump_url)
        )


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Reporting(bot))
