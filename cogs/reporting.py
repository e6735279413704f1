"""/report and the "Report user" / "Report message" context menus."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from core.evidence import capture_evidence
from core.i18n import tr
from core.links import parse_message_link
from core.models import MAX_DETAILS_LENGTH, ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal
from core.reasons import REASON_LABEL_KEYS, Reason
from core.regions import effective_region
from core.rendering import is_cry_for_help, render_refusal, render_report_ack
from core.text import trim
from ui.app import VigilBot
from ui.country_menu import (
    CountrySelect,
    cached_guidance,
    guidance_reply,
    reader_locale,
    region_for,
    reply_with_help,
    reply_with_self_support,
    served_guild_id,
)
from ui.forms import (
    FormSubmit,
    form_custom_id,
    register_form,
    set_stale_answer,
    stateless,
    unregister_form,
)
from ui.markup import message_url
from ui.replies import answer_within_deadline, send_private
from ui.translator import L
from ui.welfare import SupportButton

log = logging.getLogger(__name__)

REASON_CHOICES = [app_commands.Choice(name=L(REASON_LABEL_KEYS[r]), value=r.value) for r in Reason]
MEMBER_LOOKUP_SECONDS = 1.0


def snapshot(user: discord.Member | discord.User) -> UserSnapshot:
    joined = user.joined_at if isinstance(user, discord.Member) else None
    return UserSnapshot(id=user.id, name=user.display_name, is_bot=user.bot, joined_at=joined)


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
    outcome = await bot.services.reports.submit(submission)
    # Counted here, where the outcome is known, whatever happens to the reply afterwards.
    if isinstance(outcome, Refusal):
        bot.services.metrics.report_refused(outcome.code)
    else:
        bot.services.metrics.report_received(submission.reason, submission.source)
    return outcome


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
            # t15-welfare: the member may let the moderators know (their choice, a button).
            offer = (
                SupportButton(interaction.user.id, submission.source, locale)
                if served_guild_id(bot, interaction) is not None
                else None
            )
            await reply_with_self_support(bot, interaction, region, deferred=deferred, offer=offer)
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
    if outcome.evidence_kept is False:
        text += "\n" + tr("evidence.not_kept", locale)
    elif submission.source is ReportSource.SLASH and submission.message_link:
        text += "\n" + tr("evidence.use_report_message", locale)
    parts = guidance_reply(directory, submission.reason, region, locale)
    await send_private(interaction, text, deferred=deferred, parts=parts)


REPORT_FORM = "rf"
REPORT_FORM_PATTERN = (
    r"(?P<source>[um]):(?P<target>[0-9]{1,20})"
    r"(?::(?P<channel>[0-9]{1,20}):(?P<message>[0-9]{1,20})(?::(?P<evidence>[0-9]{1,20}))?)?"
)
EVIDENCE_HOLD_SECONDS = 1.5  # the form must open within Discord's 3 seconds
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
        evidence_id: int | None = None,
    ) -> None:
        code = "m" if source is ReportSource.MESSAGE_MENU else "u"
        where: tuple[int, ...] = message if message is not None else ()
        if message is not None and evidence_id is not None:
            where = (*message, evidence_id)
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
    evidence_id: int | None = None,
) -> None:
    if interaction.guild_id is not None:
        SNAPSHOTS.put(interaction.guild_id, snapshot(target))
    modal = ReportModal(
        target, source, message, locale=reader_locale(interaction), evidence_id=evidence_id
    )
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
    return Reason.parse(chosen)


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
    # Only a server Vigil is in: a user install elsewhere gives a partial guild to file nothing in.
    guild = interaction.guild if served_guild_id(interaction.client, interaction) else None
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
        message_url(guild.id, channel_id, message_id)
        if is_message and channel_id is not None and message_id is not None
        else None
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
        evidence_id=form.id("evidence") if is_message else None,
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
        self.user_menu.guild_only = True
        self.user_menu.allowed_contexts = app_commands.AppCommandContext(guild=True)
        # "Report message" is also a user install usable in DMs and group DMs (what the
        # decorators allowed_installs/allowed_contexts set): there the member gets help and
        # Discord's own reporting route; nothing is filed with a server (see report_message).
        self.message_menu.allowed_installs = app_commands.AppInstallationType(guild=True, user=True)
        self.message_menu.allowed_contexts = app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        )
        for menu in (self.user_menu, self.message_menu):
            bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        unregister_form(REPORT_FORM)
        set_stale_answer(None)
        self.bot.remove_dynamic_items(CountrySelect, SupportButton)
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
        if served_guild_id(self.bot, interaction) is None:
            # A DM, a group DM or a server without Vigil: no server's moderators can act on
            # it, so nothing is kept; the member gets help and Discord's own reporting route.
            locale = reader_locale(interaction)
            region = await region_for(self.bot, None, locale)
            await reply_with_help(
                self.bot, interaction, Reason.OTHER, region, tr("dm.report_elsewhere", locale)
            )
            return
        if message.webhook_id is not None or message.author.bot:
            locale = reader_locale(interaction)
            region = await region_for(self.bot, interaction.guild_id, locale)
            await reply_with_help(
                self.bot, interaction, Reason.OTHER, region, tr("refusal.bot_message", locale)
            )
            return
        where = (message.channel.id, message.id)
        evidence_id = await hold_evidence(self.bot, interaction, message)
        await open_report_form(
            interaction, message.author, ReportSource.MESSAGE_MENU, where, evidence_id
        )


async def hold_evidence(
    bot: VigilBot, interaction: discord.Interaction[VigilBot], message: discord.Message
) -> int | None:
    """Keep the reported message's text (as the interaction resolved it: no privileged intent)
    until its form is submitted. Only metadata of attachments: never a file, URL or file name.
    None when it could not be kept in time: the form still opens, and its answer says so."""
    if interaction.guild_id is None:
        return None
    evidence = capture_evidence(
        author_id=message.author.id,
        sent_at=message.created_at,
        edited=message.edited_at is not None,
        text=message.content,
        content_types=[a.content_type for a in message.attachments],
    )
    try:
        return await asyncio.wait_for(
            bot.services.reports.hold_evidence(
                interaction.guild_id,
                interaction.user.id,
                message.channel.id,
                message.id,
                evidence,
            ),
            EVIDENCE_HOLD_SECONDS,
        )
    except Exception:
        log.exception("keeping a reported message's text failed")
        return None


async def setup(bot: VigilBot) -> None:
    register_form(REPORT_FORM, REPORT_FORM_PATTERN, on_report_form)
    set_stale_answer(answer_stale_form)
    bot.add_dynamic_items(CountrySelect, SupportButton)
    await bot.add_cog(Reporting(bot))
