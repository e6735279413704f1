"""/report and the "Report user" / "Report message" context menus."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from core.evidence import DM_EVIDENCE_GUILD, capture_evidence
from core.i18n import tr
from core.links import MessageLink, parse_message_link
from core.models import MAX_DETAILS_LENGTH, ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal, RefusalCode, refuse
from core.reasons import REASON_LABEL_KEYS, Reason
from core.regions import effective_region
from core.rendering import is_cry_for_help, render_refusal, render_report_ack
from core.service import ReportOutcome
from core.snowflakes import is_storable_id
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
from ui.mutual_servers import LookupStatus, MutualServers, SharedServer, members_of
from ui.relay import AddDetailsButton
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
    in_server = submission.source is not ReportSource.DM_MESSAGE
    if submission.message_link and guild is not None and in_server:
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
    """Store first, confirm second: the reporter only ever sees a confirmation of a commit."""

    async def work() -> Filed | None:
        outcome = await submit_with_channels(bot, submission)
        if isinstance(outcome, Refusal):  # nothing filed: the message's text is not kept
            held_in = submission.guild_id
            await drop_held_text(bot, submission.evidence_id, submission.reporter.id, held_in)
        return Filed(submission, outcome)

    await file_and_reply(
        bot, interaction, submission.reason, submission.source, work(), submission.guild_id
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Filed:
    """What filing did: the submission and its outcome. ``server_name``: the server a DM
    report was filed in, as Discord named it when the choice was checked (for the reporter's
    confirmation); None for a report made in a server, or when Discord did not say in time.

    Filing gives None instead when a DM report's chosen server turned out not to be shared by
    the reporter and the author (nothing was stored)."""

    submission: ReportSubmission
    outcome: ReportOutcome
    server_name: str | None = None


def with_route(text: str, source: ReportSource, locale: str) -> str:
    """A DM report's every answer also names Discord's own route for reporting a DM."""
    if source is not ReportSource.DM_MESSAGE:
        return text
    return trim(text + "\n" + tr("dm.discord_route", locale), 2000)


async def reply_refused(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    refusal: Refusal,
    reason: Reason,
    guild_id: int | None,
    *,
    route: bool = False,
    deferred: bool | None = None,
    source: ReportSource | None = None,
) -> None:
    """A refused report's answer, wherever it was made: reporting oneself for self-harm is a
    cry for help (crisis support, never a refusal; in a server, with the member's choice to let
    the moderators know, ``SupportButton``); anything else gets the refusal with the help for
    its reason (and with ``route``, Discord's own route for reporting a DM)."""
    locale = reader_locale(interaction)
    region = await region_for(bot, guild_id, locale)
    if is_cry_for_help(refusal, reason):
        offer = (
            SupportButton(interaction.user.id, source, locale)
            if source is not None and served_guild_id(bot, interaction) is not None
            else None
        )
        await reply_with_self_support(bot, interaction, region, deferred=deferred, offer=offer)
        return
    text = render_refusal(refusal, reason, locale)
    if route:
        text = with_route(text, ReportSource.DM_MESSAGE, locale)
    await reply_with_help(bot, interaction, reason, region, text, deferred=deferred)


async def file_and_reply(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    reason: Reason,
    source: ReportSource,
    work: Awaitable[Filed | None],
    guild_id: int | None,
) -> None:
    """Run ``work`` (it stores the report) within Discord's deadline, then answer.

    Every answer, whatever happened to the report (stored, refused, rate-limited, failed),
    carries the guidance for its reason: nobody in danger is left without a number to call.
    """
    locale = reader_locale(interaction)
    try:
        filed, deferred = await answer_within_deadline(interaction, work)
    except Exception:
        log.exception("storing a report failed")
        region = await region_for(bot, guild_id, locale)
        text = with_route(tr("error.generic", locale), source, locale)
        await reply_with_help(bot, interaction, reason, region, text)
        return
    if filed is None:
        region = await region_for(bot, None, locale)
        text = with_route(tr("dm.server_refused", locale), source, locale)
        await reply_with_help(bot, interaction, reason, region, text, deferred=deferred)
        return
    submission, outcome = filed.submission, filed.outcome
    if isinstance(outcome, Refusal):
        await reply_refused(
            bot,
            interaction,
            outcome,
            submission.reason,
            submission.guild_id,
            route=source is ReportSource.DM_MESSAGE,
            deferred=deferred,
            source=source,
        )
        return
    region = effective_region(outcome.region, locale)
    directory = bot.services.hotlines
    guidance = cached_guidance(directory, submission.reason.value, region, locale)
    text = render_report_ack(
        outcome,
        submission.target.name,
        guidance.headline,
        locale,
        submission.reason,
        server=filed.server_name,
    )
    if outcome.evidence_kept is False:
        text += "\n" + tr("evidence.not_kept", locale)
    elif submission.source is ReportSource.SLASH and submission.message_link:
        text += "\n" + tr("evidence.use_report_message", locale)
    text = with_route(text, source, locale)
    # t15-relay: more to say later? Only this reporter may, about this report, after restarts.
    parts = guidance_reply(directory, submission.reason, region, locale).plus(
        AddDetailsButton(outcome.report_id, locale)
    )
    await send_private(interaction, text, deferred=deferred, parts=parts)


REPORT_FORM = "rf"
REPORT_FORM_PATTERN = (
    r"(?P<source>[umd]):(?P<target>[0-9]{1,20})"
    r"(?::(?P<channel>[0-9]{1,20}):(?P<message>[0-9]{1,20})(?::(?P<evidence>[0-9]{1,20}))?)?"
)
EVIDENCE_HOLD_SECONDS = 1.5  # the form must open within Discord's 3 seconds
DM_HOLD_SECONDS = 1.0  # after the server lookup (ui/mutual_servers.py), still within 3 s
FORM_SOURCES = {
    "u": ReportSource.USER_MENU,
    "m": ReportSource.MESSAGE_MENU,
    "d": ReportSource.DM_MESSAGE,
}
FORM_CODES = {source: code for code, source in FORM_SOURCES.items()}
NO_SERVER = "none"  # the server select's "none, just tell me where to report"
SERVER_CHOICE = re.compile(r"[0-9]{1,20}")  # ASCII digits only: never "²", "٣" or "１"
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
    """Reason and details for a context-menu report; from a DM, also which server to tell.

    Stateless: the custom ID names the source, the target and (for a message) where the message
    is, so every open form is its own and a submission is filed about the target its form was
    opened for, by any process, even after a restart (``on_report_form`` answers it). A DM
    form's server choice is an answer like the reason: checked again when it is submitted. A
    DM form about one's own message has no server to choose and no details (nothing of it is
    ever stored): it is answered like a self-report in a server."""

    def __init__(
        self,
        target: discord.Member | discord.User,
        source: ReportSource,
        message: tuple[int, int] | None = None,
        locale: str | None = None,
        evidence_id: int | None = None,
        servers: Sequence[SharedServer] = (),
    ) -> None:
        code = FORM_CODES[source]
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
        details_key = "modal.details_description"
        if source is ReportSource.DM_MESSAGE:
            if not servers:
                return  # one's own message: see the class docstring
            self.add_item(server_label(servers, locale))
            details_key = "dm.details_description"
        self.add_item(
            discord.ui.Label(
                text=tr("modal.details_label", locale)[:45],
                description=tr(details_key, locale)[:100],
                component=self.details_input,
            )
        )


def server_label(
    servers: Sequence[SharedServer], locale: str | None
) -> discord.ui.Label[discord.ui.View]:
    """ "Which server should hear about it?": the servers shared with the author, and none."""
    options = [discord.SelectOption(label=s.name[:100], value=str(s.id)) for s in servers]
    options.append(discord.SelectOption(label=tr("dm.server_none", locale)[:100], value=NO_SERVER))
    select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
        custom_id="server",
        placeholder=tr("dm.server_placeholder", locale)[:150],
        options=options[:25],
        min_values=1,
        max_values=1,
    )
    return discord.ui.Label(
        text=tr("dm.server_label", locale)[:45],
        description=tr("dm.server_description", locale)[:100],
        component=select,
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
    reason chosen (and, from a DM, Discord's own route): a person in danger is never left with
    a bare error."""
    try:
        await file_report_form(interaction, form)
    except Exception:
        log.exception("report form failed")
        locale = reader_locale(interaction)
        region = await region_for(interaction.client, interaction.guild_id, locale)
        reason = form_reason(form) or Reason.OTHER
        source = FORM_SOURCES.get(form.parts.get("source", ""), ReportSource.USER_MENU)
        text = with_route(tr("error.generic", locale), source, locale)
        await reply_with_help(interaction.client, interaction, reason, region, text)


async def file_report_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """A report form's submission, about the target its own custom ID names."""
    if form.parts.get("source") == FORM_CODES[ReportSource.DM_MESSAGE]:
        await file_dm_report_form(interaction, form)
        return
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


def server_choice(choice: str | None) -> int | None:
    """The server a DM form's select names: a snowflake in ASCII digits, else None (the select
    is the reporter's input: "none", or anything a forged submission sends)."""
    if choice is None or SERVER_CHOICE.fullmatch(choice) is None:
        return None
    server_id = int(choice)
    return server_id if is_storable_id(server_id) else None


async def file_dm_report_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """A "Report message" form from a DM: filed in the server the reporter chose, if both the
    reporter and the author are members of it now (asked through the API, whatever the form
    says: its choice is the reporter's input); "none" files nothing. Either way the answer
    carries the help for the reason, the country menu and Discord's own route for DMs. About
    one's own message, nothing is filed and the answer is a self-report's (crisis support for
    self-harm), as in a server.

    Text held for a form that files nothing is dropped at once, not left for the sweep."""
    bot = interaction.client
    locale = reader_locale(interaction)
    reason = form_reason(form)
    target_id, channel_id, message_id = form.id("target"), form.id("channel"), form.id("message")
    evidence_id = form.id("evidence")
    reporter_id = interaction.user.id
    if interaction.guild_id is not None or None in (target_id, channel_id, message_id):
        await answer_open_again(interaction, reason or Reason.OTHER)
        return
    assert target_id is not None and channel_id is not None and message_id is not None
    if reason is not None and target_id == reporter_id:
        # One's own message: nothing held, nothing filed. No route either: there is nothing
        # to report to Discord about one's own message.
        bot.services.metrics.report_refused(RefusalCode.SELF_REPORT)
        await reply_refused(bot, interaction, refuse(RefusalCode.SELF_REPORT), reason, None)
        return
    choice = form.first("server")
    server_id = server_choice(choice)

    async def discard() -> None:
        await drop_held_text(bot, evidence_id, reporter_id)

    if reason is None or server_id is None:
        # No reason, "none", or no server the form could have offered: nothing is filed.
        if reason is None:
            text = with_route(tr("modal.choose_reason", locale), ReportSource.DM_MESSAGE, locale)
        elif choice == NO_SERVER:
            text = tr("dm.told_nobody", locale)
        else:
            text = with_route(tr("dm.server_refused", locale), ReportSource.DM_MESSAGE, locale)
        await answer_dm(bot, interaction, reason or Reason.OTHER, text)
        await discard()
        return

    async def work() -> Filed | None:
        assert reason is not None and server_id is not None
        members = await members_of(bot, server_id, reporter_id, target_id)
        if members is None:
            await discard()
            return None
        submission = ReportSubmission(
            guild_id=server_id,
            reporter=members.reporter,
            target=members.author,
            reason=reason,
            source=ReportSource.DM_MESSAGE,
            details=form.first("details") or None,
            message_link=MessageLink(
                guild_id=None, channel_id=channel_id, message_id=message_id
            ).url,
            evidence_id=evidence_id,
        )
        outcome = await submit_with_channels(bot, submission)
        if isinstance(outcome, Refusal):
            await discard()
        return Filed(submission, outcome, members.server_name)

    await file_and_reply(bot, interaction, reason, ReportSource.DM_MESSAGE, work(), None)


async def drop_held_text(
    bot: VigilBot, evidence_id: int | None, reporter_id: int, held_in: int = DM_EVIDENCE_GUILD
) -> None:
    """Drop a message's held text that will not be filed. Best effort: held text nobody
    claims is purged anyway (within minutes from a DM, an hour from a server)."""
    if evidence_id is None:
        return
    try:
        await bot.services.reports.discard_evidence(evidence_id, reporter_id, held_in)
    except Exception:
        log.warning("dropping a report's held text failed", exc_info=True)


async def answer_dm(
    bot: VigilBot, interaction: discord.Interaction[VigilBot], reason: Reason, text: str
) -> None:
    """A DM report's answer that files nothing: ``text`` (which names Discord's own route), the
    help for ``reason`` and the country menu. The region comes from the reader's locale alone
    (no server is involved); if even that fails, the international help is shown."""
    locale = reader_locale(interaction)
    try:
        region = await region_for(bot, None, locale)
    except Exception:
        log.exception("no region for a DM report's help")
        region = None
    await reply_with_help(bot, interaction, reason, region, text)


async def answer_stale_form(interaction: discord.Interaction[VigilBot], form: FormSubmit) -> None:
    """Any form Vigil no longer knows, with the request to open it again and the help for the
    reason chosen on a report form (the general help on any other: whoever sent it may be a
    reporter answering a question): a person in danger is never left bare."""
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
        # One per bot: its member-lookup gate is shared by every DM form this bot opens.
        self.mutual_servers = MutualServers()

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
        if interaction.guild_id is None:
            await open_dm_report(self.bot, interaction, message, self.mutual_servers)
            return
        if served_guild_id(self.bot, interaction) is None:
            # A server without Vigil: no server's moderators can act on it, so nothing is
            # kept; the member gets help and Discord's own reporting route.
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
        # One's own message is never filed (a self-report): its text is not kept either.
        own = message.author.id == interaction.user.id
        evidence_id = (
            None
            if own
            else await hold_evidence(self.bot, interaction, message, interaction.guild_id)
        )
        await open_report_form(
            interaction, message.author, ReportSource.MESSAGE_MENU, where, evidence_id
        )


async def open_dm_report(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    message: discord.Message,
    mutual: MutualServers,
) -> None:
    """ "Report message" in a DM or group DM. Whatever goes wrong (an HTTP or network error, a
    failure computing the help), the reporter still gets help for their situation and
    Discord's own route: never the bare error of the command tree."""
    try:
        await offer_dm_form(bot, interaction, message, mutual)
    except Exception:
        log.exception("opening a DM report failed")
        locale = reader_locale(interaction)
        text = with_route(tr("error.generic", locale), ReportSource.DM_MESSAGE, locale)
        try:
            await answer_dm(bot, interaction, Reason.OTHER, text)
        except Exception:
            log.exception("could not answer a DM report that failed to open")


async def offer_dm_form(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    message: discord.Message,
    mutual: MutualServers,
) -> None:
    """The form asks which server should hear about it, among those Vigil shares with both the
    reporter and the author. With none to offer (or a bot's message) no form opens and nothing
    is kept: help and Discord's route, saying whether no server is shared, the lookup did not
    finish in time, or the reporter has asked too often. One's own message opens a form with
    nothing to choose but the reason (answered like a self-report in a server)."""
    locale = reader_locale(interaction)
    author = message.author
    where = (message.channel.id, message.id)
    dm = ReportSource.DM_MESSAGE
    if message.webhook_id is not None or author.bot:
        text = with_route(tr("refusal.bot_message", locale), dm, locale)
        await answer_dm(bot, interaction, Reason.OTHER, text)
        return
    if author.id == interaction.user.id:
        modal = ReportModal(author, dm, where, locale=locale)
        await interaction.response.send_modal(stateless(modal))
        return
    lookup = await mutual.between(bot, interaction.user.id, author.id)
    if not lookup.servers:
        if lookup.status is LookupStatus.COMPLETE:
            text = tr("dm.report_elsewhere", locale)
        elif lookup.status is LookupStatus.LIMITED:
            text = with_route(tr("dm.lookup_limited", locale), dm, locale)
        else:
            text = with_route(tr("dm.lookup_timeout", locale), dm, locale)
        await answer_dm(bot, interaction, Reason.OTHER, text)
        return
    evidence_id = await hold_evidence(bot, interaction, message, DM_EVIDENCE_GUILD, DM_HOLD_SECONDS)
    modal = ReportModal(
        author, dm, where, locale=locale, evidence_id=evidence_id, servers=lookup.servers
    )
    try:
        await interaction.response.send_modal(stateless(modal))
    except Exception:
        await drop_held_text(bot, evidence_id, interaction.user.id)  # no form will claim it
        raise


async def hold_evidence(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    message: discord.Message,
    held_in: int,
    deadline: float = EVIDENCE_HOLD_SECONDS,
) -> int | None:
    """Keep the reported message's text (as the interaction resolved it: no privileged intent)
    until its form is submitted. Only metadata of attachments: never a file, URL or file name.
    None when it could not be kept in time: the form still opens, and its answer says so.
    ``held_in``: the server, or DM_EVIDENCE_GUILD for a DM (its server is chosen on submit)."""
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
                held_in,
                interaction.user.id,
                message.channel.id,
                message.id,
                evidence,
            ),
            deadline,
        )
    except Exception:
        log.exception("keeping a reported message's text failed")
        return None


async def setup(bot: VigilBot) -> None:
    register_form(REPORT_FORM, REPORT_FORM_PATTERN, on_report_form)
    set_stale_answer(answer_stale_form)
    bot.add_dynamic_items(CountrySelect, SupportButton)
    await bot.add_cog(Reporting(bot))
