"""/report and the "Report user" / "Report message" context menus."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
from collections import OrderedDict
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.app import VigilBot
from cogs.forms import (
    FormSubmit,
    form_custom_id,
    register_form,
    set_stale_answer,
    stateless,
    unregister_form,
)
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
from core.links import parse_message_link
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


CHANNEL_LOOKUP_SECONDS = 1.0


async def guild_channel_ids(
    bot: VigilBot, guild: discord.Guild, message_link: str | None
) -> frozenset[int]:
    """The channels and threads of this guild a report's link may point to.

    The guild cache (guilds intent) knows every channel and active thread; a channel it does
    not know (an archived thread) is looked up once and counted only if Discord says it is this
    guild's. Core decides with this plain set: a link's own guild ID is only the reporter's
    text."""
    known = {c.id for c in guild.channels} | {t.id for t in guild.threads}
    link = parse_message_link(message_link) if message_link else None
    if link is not None and link.channel_id not in known and link.guild_id == guild.id:
        try:
            channel = await asyncio.wait_for(
                bot.fetch_channel(link.channel_id), CHANNEL_LOOKUP_SECONDS
            )
        except (discord.HTTPException, discord.InvalidData, TimeoutError):
            channel = None
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread) and (
            channel.guild.id == guild.id
        ):
            known.add(channel.id)
    return frozenset(known)


async def submit_with_channels(bot: VigilBot, submission: ReportSubmission) -> Any:
    """Submit, with the guild's channel set when there is a link to check against it."""
    guild = bot.get_guild(submission.guild_id)
    if submission.message_link and guild is not None:
        channels = await guild_channel_ids(bot, guild, submission.message_link)
        submission = dataclasses.replace(submission, guild_channel_ids=channels)
    return await bot.services.reports.submit(submission)


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
            interaction, submit_with_channels(bot, submission)
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


REPORT_FORM = "rf"
REPORT_FORM_PATTERN = (
    r"(?P<source>[um]):(?P<target>[0-9]{1,20})"
    r"(?::(?P<channel>[0-9]{1,20}):(?P<message>[0-9]{1,20}))?"
)
FORM_SOURCES = {"u": ReportSource.USER_MENU, "m": ReportSource.MESSAGE_MENU}
SNAPSHOT_CACHE_SIZE = 4096


class SnapshotCache:
    """Who a form is about, as seen when it opened: (guild, target) -> snapshot.

    Filled when a form opens so a submit needs no Discord call; bounded, and only a
    convenience: a miss (restart, eviction) looks the member up through the API instead."""

    def __init__(self, size: int = SNAPSHOT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, int], UserSnapshot] = OrderedDict()

    def put(self, guild_id: int, target: UserSnapshot) -> None:
        self._items[(guild_id, target.id)] = target
        self._items.move_to_end((guild_id, target.id))
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, guild_id: int, target_id: int) -> UserSnapshot | None:
        return self._items.get((guild_id, target_id))


SNAPSHOTS = SnapshotCache()


class ReportModal(discord.ui.Modal):
    """Reason and details for a context-menu report.

    Stateless: the custom ID names the source, the target and (for a message) where the message
    is, so every open form is its own and a submission is filed about the target its form was
    opened for, by any process, even after a restart (``on_report_form`` answers it)."""

    def __init__(
        self,
        target: discord.Member | discord.User,
        source: ReportSource,
        message: tuple[int, int] | None = None,
        locale: str | None = None,
    ) -> None:
        code = "m" if source is ReportSource.MESSAGE_MENU else "u"
        where = message if message is not None else ()
        super().__init__(
            title=trim(tr("modal.title", locale, name=target.display_name), 45),
            timeout=None,
            custom_id=form_custom_id(REPORT_FORM, code, target.id, *where),
        )
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


async def open_report_form(
    interaction: discord.Interaction[VigilBot],
    target: discord.Member | discord.User,
    source: ReportSource,
    message: tuple[int, int] | None = None,
) -> None:
    if interaction.guild_id is not None:
        SNAPSHOTS.put(interaction.guild_id, snapshot(target))
    modal = ReportModal(target, source, message, locale=reader_locale(interaction))
    await interaction.response.send_modal(stateless(modal))


async def lookup_target(bot: VigilBot, guild: discord.Guild, target_id: int) -> UserSnapshot | None:
    """The target as the form saw it, or as Discord knows them now; None if nobody answers."""
    cached = SNAPSHOTS.get(guild.id, target_id)
    if cached is not None:
        return cached
    user: discord.Member | discord.User | None = guild.get_member(target_id)
    if user is None:
        try:
            user = await asyncio.wait_for(guild.fetch_member(target_id), MEMBER_LOOKUP_SECONDS)
        except (discord.HTTPException, TimeoutError):
            try:
                user = await asyncio.wait_for(bot.fetch_user(target_id), MEMBER_LOOKUP_SECONDS)
            except (discord.HTTPException, TimeoutError):
                return None
    return snapshot(user)


async def answer_open_again(
    interaction: discord.Interaction[VigilBot], reason: Reason = Reason.OTHER
) -> None:
    """ "Please open the form again", with the help for the reason chosen (never bare)."""
    bot = interaction.client
    locale = reader_locale(interaction)
    region = await region_for(bot, interaction.guild_id, locale)
    await reply_with_help(bot, interaction, reason, region, tr("form.open_again", locale))


def form_reason(form: FormSubmit) -> Reason | None:
    chosen = form.first("reason")
    return Reason(chosen) if chosen is not None and chosen in Reason._value2member_map_ else None


async def on_report_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """A report form's submission. A form that fails still answers with the help for the
    reason chosen: a person in danger is never left with a bare error."""
    try:
        await file_report_form(interaction, form)
    except Exception:
        log.exception("report form failed")
        locale = reader_locale(interaction)
        region = await region_for(interaction.client, interaction.guild_id, locale)
        reason = form_reason(form) or Reason.OTHER
        text = tr("error.generic", locale)
        await reply_with_help(interaction.client, interaction, reason, region, text)


async def file_report_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """A report form's submission, about the target its own custom ID names."""
    locale = reader_locale(interaction)
    guild = interaction.guild
    reason = form_reason(form)
    target_id = form.id("target")
    source = FORM_SOURCES.get(form.parts.get("source", ""))
    channel_id, message_id = form.id("channel"), form.id("message")
    is_message = source is ReportSource.MESSAGE_MENU
    if (
        guild is None
        or target_id is None
        or source is None
        or is_message != (channel_id is not None and message_id is not None)
    ):
        await answer_open_again(interaction, reason or Reason.OTHER)
        return
    if reason is None:
        region = await region_for(interaction.client, guild.id, locale)
        await reply_with_help(
            interaction.client, interaction, Reason.OTHER, region, tr("modal.choose_reason", locale)
        )
        return
    target = await lookup_target(interaction.client, guild, target_id)
    if target is None:
        await answer_open_again(interaction, reason)
        return
    link = (
        f"https://discord.com/channels/{guild.id}/{channel_id}/{message_id}" if is_message else None
    )
    details = form.first("details")
    submission = ReportSubmission(
        guild_id=guild.id,
        reporter=snapshot(interaction.user),
        target=target,
        reason=reason,
        source=source,
        details=details or None,
        message_link=link,
    )
    await submit_and_reply(interaction.client, interaction, submission)


async def answer_stale_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """Any form Vigil no longer knows. A report form (it has a reason) gets the help for the
    reason chosen with the request to open it again: a person in danger is never left bare."""
    if "reason" not in form.values:
        await send_private(interaction, tr("form.open_again", reader_locale(interaction)))
        return
    await answer_open_again(interaction, form_reason(form) or Reason.OTHER)


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
        unregister_form(REPORT_FORM)
        set_stale_answer(None)
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
        await open_report_form(interaction, user, ReportSource.USER_MENU)

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
        await open_report_form(
            interaction, message.author, ReportSource.MESSAGE_MENU, (message.channel.id, message.id)
        )


async def setup(bot: VigilBot) -> None:
    register_form(REPORT_FORM, REPORT_FORM_PATTERN, on_report_form)
    set_stale_answer(answer_stale_form)
    bot.add_dynamic_items(CountrySelect)
    await bot.add_cog(Reporting(bot))
