"""Deleting the reported messages: the plan (what goes, what is skipped and why) and its
wording, shown before anything is deleted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import discord

from core.i18n import tr
from core.models import Case
from ui.app import VigilBot
from ui.markup import mention_channel, message_url

log = logging.getLogger(__name__)


class NothingDeleted(Exception):
    """Delete messages found nothing it may delete: said to the moderator, nothing recorded."""


class Skip(StrEnum):
    """Why a reported message is not deleted (each is said to the moderator)."""

    NOT_HERE = "not_here"  # the link's channel is not a channel of this server
    NO_PERMISSION = "no_permission"  # the moderator lacks Manage Messages in that channel
    BOT_NO_PERMISSION = "bot_no_permission"  # so does Vigil
    GONE = "gone"  # already deleted
    NOT_TARGET = "not_target"  # someone other than the reported member wrote it
    UNREADABLE = "unreadable"  # Vigil cannot read it, so cannot check who wrote it


@dataclass(frozen=True, slots=True)
class DeletionStep:
    channel_id: int
    message_id: int
    url: str
    skip: Skip | None
    message: discord.Message | None = None


async def deletion_plan(
    bot: VigilBot, guild: discord.Guild, case: Case, moderator: discord.Member
) -> list[DeletionStep]:
    """Which reported messages "Delete messages" may delete, and why not the others.

    A link is the reporter's text: only a message in a channel of this guild, written by the
    case's target (fetched and compared, not assumed), in a channel where the moderator holds
    Manage Messages, is ever deleted. Checked when the confirmation is shown and again at the
    click, since both may change."""
    data = await bot.services.cases.alert_data(case.id)
    where = dict.fromkeys(
        (r.channel_id, r.message_id)
        for r in (data.reports if data else ())
        if r.channel_id and r.message_id
    )
    plan: list[DeletionStep] = []
    for channel_id, message_id in where:
        url = message_url(guild.id, channel_id, message_id)

        def step(skip: Skip | None, message: discord.Message | None = None) -> DeletionStep:
            return DeletionStep(channel_id, message_id, url, skip, message)  # noqa: B023

        channel = guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable) or channel.guild.id != guild.id:
            plan.append(step(Skip.NOT_HERE))
            continue
        if not channel.permissions_for(moderator).manage_messages:
            plan.append(step(Skip.NO_PERMISSION))
            continue
        if not channel.permissions_for(guild.me).manage_messages:
            plan.append(step(Skip.BOT_NO_PERMISSION))
            continue
        try:
            message = await channel.fetch_message(message_id)
        except discord.NotFound:
            plan.append(step(Skip.GONE))
            continue
        except discord.HTTPException:
            plan.append(step(Skip.UNREADABLE))
            continue
        if message.author.id != case.target_id:
            plan.append(step(Skip.NOT_TARGET))
            continue
        plan.append(step(None, message))
    return plan


SKIP_KEYS: dict[Skip, str] = {
    Skip.NOT_HERE: "act.delete_skip_not_here",
    Skip.NO_PERMISSION: "act.delete_skip_no_permission",
    Skip.BOT_NO_PERMISSION: "act.delete_skip_bot_permission",
    Skip.GONE: "act.delete_skip_gone",
    Skip.NOT_TARGET: "act.delete_skip_not_target",
    Skip.UNREADABLE: "act.delete_skip_unreadable",
}
MAX_LISTED = 8  # per list, so a prompt stays within one message


def skip_lines(steps: list[DeletionStep], name: str, locale: str | None) -> list[str]:
    lines = [
        "- "
        + tr(
            SKIP_KEYS[s.skip],
            locale,
            link=s.url,
            channel=mention_channel(s.channel_id),
            name=name,
        )
        for s in steps[:MAX_LISTED]
        if s.skip is not None
    ]
    if len(steps) > MAX_LISTED:
        lines.append(tr("act.delete_more", locale, count=len(steps) - MAX_LISTED))
    return lines


def describe_plan(plan: list[DeletionStep], case: Case, name: str, locale: str | None) -> str:
    """The confirmation: which messages will go (jump links) and which won't, and why."""
    going = [s for s in plan if s.skip is None]
    staying = [s for s in plan if s.skip is not None]
    if not going:
        lines = [tr("act.delete_nothing", locale, number=case.number)]
    else:
        lines = [tr("act.delete_prompt", locale, count=len(going), number=case.number)]
        lines += [f"- {s.url}" for s in going[:MAX_LISTED]]
        if len(going) > MAX_LISTED:
            lines.append(tr("act.delete_more", locale, count=len(going) - MAX_LISTED))
    if staying:
        lines.append(tr("act.delete_not_deleted", locale))
        lines += skip_lines(staying, name, locale)
    return "\n".join(lines)[:2000]
