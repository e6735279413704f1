"""The case thread's Discord side (core/case_feed.py decides what and when): may Vigil start
threads in the alert channel, start one under an alert, post in it.

A thread started from a message has that message's ID, and a message has at most one thread:
Discord refuses a second (160004), and the refusal tells us the thread is the message's own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import aiohttp
import discord

from core.case_feed import FeedPost, ThreadRefused
from core.models import GuildSettings
from core.outbox import DeliveryFailed, Destination
from ui.app import VigilBot
from ui.relay_view import render_feed_post, thread_name
from ui.replies import NO_MENTIONS

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
WRONG_CHANNEL_TYPE = 50024
ARCHIVED = 50083  # a locked archived thread
UNKNOWN_CHANNEL = 10003
# A week: a case's thread stays in the channel's list while it is worked on.
ARCHIVE_MINUTES: Literal[10080] = 10080

Route = Callable[[int, GuildSettings, int, frozenset[int]], Awaitable[Destination]]


def may_use_threads(channel: object, me: discord.Member | None) -> bool:
    """Whether Vigil may start a case's thread in `channel` and post in it (also what
    `/reports config` says)."""
    if me is None or not isinstance(channel, discord.TextChannel):
        return False
    perms = channel.permissions_for(me)
    return perms.view_channel and perms.create_public_threads and perms.send_messages_in_threads


class DiscordThreadPoster:
    def __init__(self, bot: VigilBot, route: Route) -> None:
        self._bot = bot
        self._route = route

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        return await self._route(guild_id, settings, target_id, named)

    async def may_start_thread(self, guild_id: int, channel_id: int) -> bool | None:
        guild = self._bot.get_guild(guild_id)
        if guild is None:
            return None  # not this process's server: try, Discord decides
        return may_use_threads(guild.get_channel(channel_id), guild.me)

    async def start_thread(
        self, channel_id: int, message_id: int, case_number: int, locale: str
    ) -> int:
        try:
            data = await self._bot.http.start_thread_with_message(
                channel_id,
                message_id,
                name=thread_name(case_number, locale),
                auto_archive_duration=ARCHIVE_MINUTES,
            )
        except discord.HTTPException as error:
            if error.code == THREAD_EXISTS:
                return message_id  # started by an attempt that crashed before recording it
            if error.status == 403 or error.code == WRONG_CHANNEL_TYPE:
                raise ThreadRefused(str(error.code)) from error
            raise DeliveryFailed(f"http:{error.status}") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"network:{type(error).__name__}") from error
        return int(data["id"])

    async def post(self, channel_id: int, reply_to: int | None, post: FeedPost, nonce: str) -> int:
        content, text = render_feed_post(post)
        embeds = [discord.Embed(description=text)] if text else []
        extra: dict[str, Any] = {}
        if reply_to is not None:  # no thread: under the alert, as a reply to it
            extra["reference"] = discord.MessageReference(
                message_id=reply_to, channel_id=channel_id, fail_if_not_exists=False
            )
        channel = self._bot.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                content,
                embeds=embeds,
                allowed_mentions=NO_MENTIONS,  # names moderators as mentions that never ping
                nonce=nonce,
                **extra,
            )
        except discord.HTTPException as error:
            if reply_to is None and (
                error.status in (403, 404) or error.code in (ARCHIVED, UNKNOWN_CHANNEL)
            ):
                # The thread was deleted, locked, or closed to Vigil: not usable any more.
                raise DeliveryFailed("thread_gone", message_gone=True) from error
            if error.status == 403:
                raise DeliveryFailed("missing_permission", admins_must_fix=True) from error
            raise DeliveryFailed(f"http:{error.status}") from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"network:{type(error).__name__}") from error
        return message.id
