"""What every case action shares: the server's language, who counts as a moderator, the
audit line, recording an action and the permission check."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp
import discord

from core.models import Case, CaseAction
from core.moderation import Actor, TargetMember, refusal_for
from core.service import CaseActionRefused
from ui.alert_view import (
    describe_outcome,
    describe_refusal,
    render_audit_line,
)
from ui.app import VigilBot
from ui.replies import NO_MENTIONS, private_answer, send_private

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VigilBot]

MODERATORS_ONLY = "act.moderators_only"
MAX_NOTE = 1000
MAX_REFERENCE = 100


def server_locale(interaction: discord.Interaction[VigilBot]) -> str:
    """The server's Discord locale: moderator-facing text follows it (the reader's outside one)."""
    return str(interaction.guild_locale or interaction.locale)


def is_moderator(interaction: Interaction) -> bool:
    permissions = interaction.permissions
    return interaction.guild is not None and (
        permissions.manage_messages or permissions.moderate_members
    )


AUDIT_DRAIN_SECONDS = 5.0
_BACKGROUND: set[asyncio.Task[None]] = set()


def in_background(work: Coroutine[Any, Any, None], what: str) -> None:
    """Run `work` after the interaction is answered; a failure is logged, never raised.

    A slow channel (the audit channel under a rate limit) must not push a moderator's answer
    past Discord's 3 seconds: the answer goes first, side posts follow."""
    task = asyncio.get_running_loop().create_task(work)
    _BACKGROUND.add(task)

    def done(finished: asyncio.Task[None]) -> None:
        _BACKGROUND.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("%s failed", what, exc_info=finished.exception())

    task.add_done_callback(done)


async def post_audit_line(
    bot: VigilBot, case: Case, locale: str | None, *, actor_id: int, action: CaseAction
) -> None:
    """One line per action in the audit channel, if the server has one: the newest event of
    this action by this moderator (another moderator's action recorded meanwhile is theirs to
    post), and only if the case's target can't read the channel: a reported moderator must
    not follow their own case there (its alert is kept from them). Best effort, never raises:
    the audit trail itself is in the database, `/reports case` and the dashboard."""
    services = bot.services
    data = await services.cases.alert_data(case.id)
    if data is None or data.settings.audit_channel_id is None:
        return
    event = next(
        (e for e in reversed(data.events) if e.actor_id == actor_id and e.action is action),
        None,
    )
    if event is None or event.action is CaseAction.NOTE:
        return  # notes can be sensitive; they stay with the case
    channel_id = data.settings.audit_channel_id
    try:
        # Another shard process's server (an action from the dashboard): asked of Discord.
        guild = bot.get_guild(case.guild_id) or await bot.fetch_guild(
            case.guild_id, with_counts=False
        )
        target = frozenset({data.case.target_id})
        if await bot.readers.among(guild, channel_id, target):
            log.info("audit line for case %s left out: its target can read #audit", case.id)
            return
        await bot.get_partial_messageable(channel_id).send(
            render_audit_line(data.case, event, locale), allowed_mentions=NO_MENTIONS
        )
    except (discord.DiscordException, aiohttp.ClientError, TimeoutError) as error:
        log.warning("audit line for case %s not posted: %s", case.id, error)


async def record(
    interaction: Interaction,
    case_id: int,
    action: CaseAction,
    *,
    note: str | None = None,
    detail: str | None = None,
) -> Case | None:
    """Record an action; on refusal tell the moderator why (privately) and return None.

    The audit line is posted in the background: the caller answers the interaction first."""
    assert interaction.guild_id is not None
    try:
        case = await interaction.client.services.cases.act(
            interaction.guild_id,
            case_id,
            action,
            interaction.user.id,
            note=note,
            detail=detail,
        )
    except CaseActionRefused as refused:
        await reply_or_edit(interaction, describe_refusal(refused, server_locale(interaction)))
        return None
    in_background(
        post_audit_line(
            interaction.client,
            case,
            server_locale(interaction),
            actor_id=interaction.user.id,
            action=action,
        ),
        f"audit line for case {case.id}",
    )
    return case


async def reply_or_edit(interaction: Interaction, text: str) -> None:
    """Private text: edits our own ephemeral prompt when answering one, else a new message.

    A prompt is text and buttons; a private message with embeds is a case's record
    (`/reports case`), which stays as it is: the answer comes as a new message under it."""
    message = interaction.message
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, view=None)
    elif message is not None and private_answer(message) and not message.embeds:
        await interaction.response.edit_message(content=text, view=None)
    else:
        await send_private(interaction, text)


# --------------------------------------------------------------------------- permissions


def actor_of(member: discord.Member, permissions: discord.Permissions) -> Actor:
    return Actor(
        name=member.display_name,
        permissions=frozenset(name for name, granted in permissions if granted),
        top_role_position=member.top_role.position,
        is_owner=member.guild.owner_id == member.id,
    )


async def target_of(guild: discord.Guild, case: Case) -> tuple[TargetMember, discord.Member | None]:
    member = guild.get_member(case.target_id)
    if member is None:
        try:
            member = await guild.fetch_member(case.target_id)
        except discord.NotFound:
            member = None
    if member is None:
        return TargetMember(name=case.target_name, is_member=False), None
    return (
        TargetMember(
            name=member.display_name,
            is_member=True,
            top_role_position=member.top_role.position,
            is_owner=guild.owner_id == member.id,
        ),
        member,
    )


async def check_enforcement(
    interaction: Interaction, case: Case, action: CaseAction
) -> tuple[str | None, discord.Member | None]:
    """(why not, or None; the target as a member if they are one)."""
    guild = interaction.guild
    assert guild is not None and isinstance(interaction.user, discord.Member)
    me = guild.me
    target, member = await target_of(guild, case)
    why = refusal_for(
        action,
        actor_of(interaction.user, interaction.permissions),
        actor_of(me, me.guild_permissions),
        target,
    )
    return (describe_outcome(why, server_locale(interaction)) if why else None), member


async def drain_background() -> None:
    """Audit lines still being posted get a moment before the database closes."""
    if _BACKGROUND:
        await asyncio.wait(set(_BACKGROUND), timeout=AUDIT_DRAIN_SECONDS)
