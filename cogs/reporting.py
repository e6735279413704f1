"""/report and the "Report user" / "Report message" context menus."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import NO_MENTIONS, answer_within_deadline, guidance_embed, send_private
from cogs.translator import L
from core.country_picker import picker_countries
from core.guidance import (
    GUIDANCE_TITLE_KEY,
    Guidance,
    build_guidance,
    build_self_support,
    hotlines_overview,
    localised_name,
)
from core.hotlines import INTERNATIONAL, HotlineDirectory
from core.i18n import tr
from core.models import MAX_DETAILS_LENGTH, ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal
from core.reasons import REASON_LABEL_KEYS, Reason
from core.regions import effective_region
from core.rendering import is_cry_for_help, render_refusal, render_report_ack, render_self_support
from core.text import trim

log = logging.getLogger(__name__)

REASON_CHOICES = [app_commands.Choice(name=L(REASON_LABEL_KEYS[r]), value=r.value) for r in Reason]
MEMBER_LOOKUP_SECONDS = 1.0
REGION_LOOKUP_SECONDS = 1.0  # a refusal must still answer within Discord's 3 s


def reader_locale(interaction: discord.Interaction[Any]) -> str:
    """The Discord locale of the person who interacted (their client's language)."""
    return interaction.locale.value


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
    """Store first, confirm second: the reporter only ever sees a confirmation of a commit.

    Every answer, whatever happened to the report (stored, refused, rate-limited, failed),
    carries the guidance for its reason: nobody in danger is left without a number to call.
    """
    locale = reader_locale(interaction)
    try:
        outcome, deferred = await answer_within_deadline(
            interaction, bot.services.reports.submit(submission)
        )
    except Exception:
        log.exception("storing a report failed")
        region = await region_for(bot, submission.guild_id, locale)
        await reply_with_help(
            bot, interaction, submission.reason, region, tr("error.generic", locale)
        )
        return
    if isinstance(outcome, Refusal):
        region = await region_for(bot, submission.guild_id, locale)
        if is_cry_for_help(outcome, submission.reason):
            await reply_with_self_support(bot, interaction, region, deferred=deferred)
            return
        text = render_refusal(outcome, submission.reason, locale)
        await reply_with_help(bot, interaction, submission.reason, region, text, deferred=deferred)
        return
    region = effective_region(outcome.region, locale)
    directory = bot.services.hotlines
    guidance = cached_guidance(directory, submission.reason.value, region, locale)
    text = render_report_ack(
        outcome, submission.target.name, guidance.headline, locale, submission.reason
    )
    embed = guidance_embed(guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False)
    view = country_view(directory, submission.reason, region, locale)
    await send_private(interaction, text, embeds=[embed], deferred=deferred, view=view)


async def region_for(bot: VigilBot, guild_id: int | None, locale: str) -> str | None:
    """The country whose help a reporter sees when there is no stored report to read it from:
    the server's region, else the reporter's locale where it names one country. A database
    that fails here must not cost the reporter their help: then the locale alone decides."""
    configured: str | None = None
    if guild_id is not None:
        try:
            settings = await asyncio.wait_for(
                bot.services.guild_settings.get(guild_id), REGION_LOOKUP_SECONDS
            )
            configured = settings.region
        except Exception:
            log.warning("could not read the server's region for guidance", exc_info=True)
    return effective_region(configured, locale)


async def reply_with_help(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    reason: Reason,
    region: str | None,
    text: str,
    *,
    deferred: bool | None = None,
) -> None:
    """A refusal or error, with the guidance for the report's reason and the country menu."""
    locale = reader_locale(interaction)
    directory = bot.services.hotlines
    guidance = cached_guidance(directory, reason.value, region, locale)
    embed = guidance_embed(guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False)
    view = country_view(directory, reason, region, locale)
    await send_private(interaction, text, embeds=[embed], deferred=deferred, view=view)


async def reply_with_self_support(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    region: str | None,
    *,
    deferred: bool | None = None,
) -> None:
    """A member who reported themselves for self-harm is asking for help: crisis support,
    never a refusal. Nothing is stored and no moderator is alerted (the answer says so and
    suggests reaching out to a moderator they trust): telling others is the member's choice."""
    locale = reader_locale(interaction)
    directory = bot.services.hotlines
    guidance = cached_self_support(directory, region, locale)
    text = render_self_support(guidance.headline, locale)
    embed = guidance_embed(guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False)
    view = country_view(directory, SELF_SUPPORT, region, locale)
    await send_private(interaction, text, embeds=[embed], deferred=deferred, view=view)


SELF_SUPPORT = "self_support"
"""Country-menu kind: crisis support for a member who reported themselves for self-harm."""
HOTLINES = "hotlines"
"""Country-menu kind: the /hotlines overview."""


def guidance_for(
    directory: HotlineDirectory, kind: str, country: str | None, locale: str
) -> Guidance:
    """What a country menu shows: a reason's guidance, self-support or the overview."""
    if kind == SELF_SUPPORT:
        return cached_self_support(directory, country, locale)
    if kind == HOTLINES:
        return cached_overview(directory, country, locale)
    value = kind if kind in Reason._value2member_map_ else Reason.OTHER.value
    return cached_guidance(directory, value, country, locale)


COUNTRY_SELECT_TEMPLATE = r"vigil:country:(?P<reason>[a-z_]{1,40}):(?P<country>[A-Z]{2,3})"


class CountrySelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=COUNTRY_SELECT_TEMPLATE
):
    """The "Another country?" menu under a report's guidance: shows another country's help.

    The reason and the country shown are in the custom_id, so nothing is stored and the menu
    keeps working after a restart.
    """

    def __init__(
        self,
        reason: Reason | str,
        country: str,
        options: list[discord.SelectOption] | None = None,
    ) -> None:
        kind = reason.value if isinstance(reason, Reason) else reason
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:country:{kind}:{country}",
                options=options or [],
                min_values=1,
                max_values=1,
            )
        )
        self.kind = kind
        self.country = country

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CountrySelect:
        value = match["reason"]
        known = value in Reason._value2member_map_ or value in (SELF_SUPPORT, HOTLINES)
        return cls(value if known else Reason.OTHER.value, match["country"])

    async def callback(self, interaction: discord.Interaction[VigilBot]) -> None:  # type: ignore[override]
        locale = reader_locale(interaction)
        directory = interaction.client.services.hotlines
        chosen = self.item.values[0] if self.item.values else self.country
        guidance = guidance_for(directory, self.kind, chosen, locale)
        if self.kind == HOTLINES:
            embed = guidance_embed(guidance)
        else:
            embed = guidance_embed(
                guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False
            )
        view = country_view(directory, self.kind, chosen, locale)
        await interaction.response.edit_message(
            embeds=[embed], view=view, allowed_mentions=NO_MENTIONS
        )


@functools.lru_cache(maxsize=1024)
def country_options(
    directory: HotlineDirectory, country: str | None, locale: str
) -> tuple[str, tuple[discord.SelectOption, ...]]:
    """(the code shown, the menu's options). Pure and small, so cached: a report storm would
    otherwise sort and translate the same list for every reply."""
    current = directory.country(country) if country else None
    # At most 24 countries (Discord allows 25 options, one is the international help): the one
    # shown, then the reader's language and region; the rest are reachable through /hotlines.
    shown = picker_countries(directory, current, locale)
    shown.sort(key=lambda c: localised_name(c, locale).casefold())
    options = [
        discord.SelectOption(
            label=localised_name(c, locale)[:100], value=c.code, default=c == current
        )
        for c in shown
    ]
    options.append(
        discord.SelectOption(
            label=tr("select.international", locale)[:100],
            value=INTERNATIONAL,
            default=current is None,
        )
    )
    return (current.code if current else INTERNATIONAL), tuple(options)


cached_guidance = functools.lru_cache(maxsize=1024)(build_guidance)
cached_self_support = functools.lru_cache(maxsize=256)(build_self_support)
cached_overview = functools.lru_cache(maxsize=256)(hotlines_overview)


def country_view(
    directory: HotlineDirectory, reason: Reason | str, country: str | None, locale: str
) -> discord.ui.View:
    """The country menu: the covered countries (and the one shown) in the reader's language."""
    shown_code, options = country_options(directory, country, locale)
    select = CountrySelect(reason, shown_code, list(options))
    select.item.placeholder = tr("select.country", locale)[:150]
    view = discord.ui.View(timeout=None)
    view.add_item(select)
    # Sent as components only: the DynamicItem registered in setup() answers every press. A
    # stored view would unregister that DynamicItem when it times out.
    view.stop()
    return view


class ReportModal(discord.ui.Modal):
    """Reason and details for a context-menu report. The target is fixed when it opens."""

    def __init__(
        self,
        bot: VigilBot,
        target: discord.Member | discord.User,
        source: ReportSource,
        message_link: str | None = None,
        locale: str | None = None,
    ) -> None:
        super().__init__(
            title=trim(tr("modal.title", locale, name=target.display_name), 45),
            timeout=900,
            custom_id="vigil:report-form",
        )
        self.bot = bot
        self.target = target
        self.source = source
        self.message_link = message_link
        self.locale = locale
        self.reason_select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id="reason",
            placeholder=tr("modal.reason_placeholder", locale)[:150],
            options=[
                discord.SelectOption(label=r.label_in(locale)[:100], value=r.value) for r in Reason
            ],
            min_values=1,
            max_values=1,
        )
        self.details_input: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="details",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=MAX_DETAILS_LENGTH,
            placeholder=tr("modal.details_placeholder", locale)[:100],
        )
        self.add_item(
            discord.ui.Label(
                text=tr("modal.reason_label", locale)[:45], component=self.reason_select
            )
        )
        self.add_item(
            discord.ui.Label(
                text=tr("modal.details_label", locale)[:45],
                description=tr("modal.details_description", locale)[:100],
                component=self.details_input,
            )
        )

    async def on_submit(self, interaction: discord.Interaction[VigilBot]) -> None:  # type: ignore[override]
        assert interaction.guild is not None
        values = self.reason_select.values
        if not values or values[0] not in Reason._value2member_map_:
            locale = reader_locale(interaction)
            region = await region_for(self.bot, interaction.guild.id, locale)
            await reply_with_help(
                self.bot, interaction, Reason.OTHER, region, tr("modal.choose_reason", locale)
            )
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
            locale = reader_locale(interaction)
            values = self.reason_select.values
            chosen = values[0] if values else ""
            reason = Reason(chosen) if chosen in Reason._value2member_map_ else Reason.OTHER
            region = await region_for(self.bot, interaction.guild_id, locale)
            await reply_with_help(
                self.bot, interaction, reason, region, tr("error.generic", locale)
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
        self.bot.remove_dynamic_items(CountrySelect)
        self.bot.tree.remove_command(self.user_menu.name, type=self.user_menu.type)
        self.bot.tree.remove_command(self.message_menu.name, type=self.message_menu.type)

    @app_commands.command(name="report", description=L("cmd.report.description"))
    @app_commands.guild_only()
    @app_commands.describe(
        member=L("cmd.report.member"),
        reason=L("cmd.report.reason"),
        details=L("cmd.report.details"),
        message_link=L("cmd.report.message_link"),
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
        await interaction.response.send_modal(
            ReportModal(self.bot, user, ReportSource.USER_MENU, locale=reader_locale(interaction))
        )

    async def report_message(
        self, interaction: discord.Interaction[VigilBot], message: discord.Message
    ) -> None:
        # Only where the message is: its attachments are never opened, fetched or copied.
        if message.webhook_id is not None or message.author.bot:
            locale = reader_locale(interaction)
            region = await region_for(self.bot, interaction.guild_id, locale)
            await reply_with_help(
                self.bot, interaction, Reason.OTHER, region, tr("refusal.bot_message", locale)
            )
            return
        await interaction.response.send_modal(
            ReportModal(
                self.bot,
                message.author,
                ReportSource.MESSAGE_MENU,
                message.jump_url,
                locale=reader_locale(interaction),
            )
        )


async def setup(bot: VigilBot) -> None:
    bot.add_dynamic_items(CountrySelect)
    await bot.add_cog(Reporting(bot))
