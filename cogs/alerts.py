"""The outboxes' Discord side: posting and editing alerts, and reporters' feedback DMs.

Both loops wake when a case changes and also poll, so work left over from before a restart,
or refused by Discord for a while, is delivered as soon as it can be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from core.case_feed import CaseFeed, ThreadPending
from core.models import AlertData, GuildScope, GuildSettings
from core.outbox import (
    AlertDispatcher,
    AlertMessage,
    DeliveryFailed,
    Destination,
    UnansweredCase,
    UrgentPing,
)
from ui.alert_view import (
    AlertContent,
    render_channel_notice,
    render_feedback_dm,
    render_message,
    render_ping,
    render_unanswered,
)
from ui.app import VigilBot
from ui.case_actions import alert_view
from ui.replies import NO_MENTIONS, alert_embed, alert_mentions
from ui.routing import route_alert
from ui.threads import DiscordThreadPoster
from vigil_ops.metrics import AlertKind, FeedbackOutcome

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE = 10008
MAX_THREAD_MESSAGES = 1000  # a purged case's thread: Vigil's messages among its last 1000
NOTICE_CHECK_SECONDS = 5.0
#: One alert request (a POST, an edit, a reminder) may take this long, discord.py's own
#: retries included (it sleeps through a 429's retry_after and retries 500/502/504 up to five
#: times: ~25 s). Past it the attempt fails and the outbox retries with its own per-case
#: backoff, so a server whose channel keeps refusing holds its delivery place briefly.
ATTEMPT_SECONDS = 10.0
#: A pass waits this long for the deliveries it started; a slower one goes on alone (its
#: server's place stays taken) and the next pass serves the other servers.
PASS_WAIT_SECONDS = 0.5


def _failure(error: Exception) -> DeliveryFailed:
    """Discord's answer as a problem code (stored per guild, worded when shown)."""
    if isinstance(error, discord.HTTPException):
        if error.status == 404 and error.code == UNKNOWN_MESSAGE:
            return DeliveryFailed("message_gone", message_gone=True)
        if error.status == 403:
            return DeliveryFailed("missing_permission", admins_must_fix=True)
        if error.status == 404:
            return DeliveryFailed("channel_gone", admins_must_fix=True)
        if error.status == 429:
            return DeliveryFailed("rate_limited", retry_after=1.0)
        return DeliveryFailed(f"http:{error.status}")
    return DeliveryFailed(f"network:{type(error).__name__}")


def changed_at(data: AlertData) -> datetime:
    """When the case last changed as its alert shows it (opened, a report, an action): the
    start of the delivery latency operators watch."""
    return max(
        [data.case.opened_at]
        + [r.created_at for r in data.reports]
        + [e.created_at for e in data.events]
    )


def _differs(message: discord.Message, content: AlertContent) -> bool:
    """Whether a posted alert shows something other than `content`."""
    if not message.embeds:
        return True
    shown, wanted = message.embeds[0], alert_embed(content)
    return (
        shown.title != wanted.title
        or shown.description != wanted.description
        or [(f.name, f.value) for f in shown.fields] != [(f.name, f.value) for f in wanted.fields]
    )


class DiscordAlertPoster:
    """The outbox's way to Discord. Errors become DeliveryFailed so the core can retry."""

    def __init__(self, bot: VigilBot) -> None:
        self._bot = bot

    async def post(self, channel_id: int, alert: AlertMessage, nonce: str) -> int:
        content = render_message(alert)
        channel = self._bot.get_partial_messageable(channel_id)
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                message = await channel.send(
                    content=content.content,
                    embed=alert_embed(content),
                    view=alert_view(content.case_id, content),
                    allowed_mentions=alert_mentions(content),
                    nonce=nonce,
                )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            # A timeout may cut a POST that reached Discord: the outbox marked the post
            # started, so its retry looks in the channel first (and the nonce matches).
            raise self._failed(error) from error
        if _differs(message, content):
            # Discord matched our nonce to a post an earlier (killed) process made: that
            # message shows an older state of the case, so bring it up to date.
            await self.edit(channel_id, message.id, alert)
        self._delivered(AlertKind.POST, alert)
        return message.id

    def _delivered(self, kind: AlertKind, alert: AlertMessage) -> None:
        seconds = (self._bot.services.clock.now() - changed_at(alert.data)).total_seconds()
        self._bot.services.metrics.alert_delivered(kind, alert.data.case.urgent, seconds)

    def _failed(self, error: Exception) -> DeliveryFailed:
        failure = _failure(error)
        self._bot.services.metrics.delivery_failed(failure.problem)
        return failure

    async def edit(self, channel_id: int, message_id: int, alert: AlertMessage) -> None:
        content = render_message(alert)
        message = self._bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                await message.edit(
                    content=content.content,
                    embed=alert_embed(content),
                    view=alert_view(content.case_id, content),
                    allowed_mentions=alert_mentions(content),
                )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise self._failed(error) from error
        self._delivered(AlertKind.EDIT, alert)

    async def route(
        self,
        guild_id: int,
        settings: GuildSettings,
        target_id: int,
        named: frozenset[int] = frozenset(),
    ) -> Destination:
        """ui/routing.route_alert, Discord's errors worded as delivery problems.

        Only a process that sees the server can tell: another refuses (the outbox leaves
        such servers' alerts to their process: `serves`; this is the case feed's guard)."""
        try:
            return await route_alert(self._bot, guild_id, settings, target_id, named)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error

    async def find_posted(self, channel_id: int, case_id: int, nonce: str) -> int | None:
        """This bot's alert for `case_id` among the channel's last 50 messages (matched by
        nonce when Discord returns it, else by the case ID in the alert's buttons)."""
        channel = self._bot.get_partial_messageable(channel_id)
        me = self._bot.user.id if self._bot.user else None
        marker = re.compile(rf"vigil:[a-z_]+:[a-z_]+:{case_id}(?::|$)")
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                async for message in channel.history(limit=50):
                    if message.author.id != me:
                        continue
                    if message.nonce is not None and str(message.nonce) == nonce:
                        return message.id
                    for row in message.components:
                        for item in getattr(row, "children", ()):
                            custom_id = getattr(item, "custom_id", None)
                            if custom_id and marker.fullmatch(custom_id):
                                return message.id
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error
        return None

    async def ping(
        self, channel_id: int, message_id: int | None, ping: UrgentPing, nonce: str
    ) -> None:
        role_id, text = ping.role_id, render_ping(ping)
        channel = self._bot.get_partial_messageable(channel_id)
        mentions = (
            discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False
            )
            if role_id
            else NO_MENTIONS
        )
        extra: dict[str, Any] = {}
        if message_id is not None:  # in the case's thread: no reply (replies stay in a channel)
            extra["reference"] = discord.MessageReference(
                message_id=message_id, channel_id=channel_id, fail_if_not_exists=False
            )
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                await channel.send(content=text, allowed_mentions=mentions, nonce=nonce, **extra)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error

    async def clear_thread(self, thread_id: int) -> None:
        """Vigil's own messages in the thread, deleted one by one (no Manage Threads needed:
        anyone may delete their own messages). What moderators wrote there is theirs.

        Each request is capped at ATTEMPT_SECONDS, like an alert's: a thread Discord is slow
        to empty holds its server's cleanup that long at most per request, and a cut attempt
        is retried later (what it deleted stays deleted)."""
        channel = self._bot.get_partial_messageable(thread_id)
        me = self._bot.user.id if self._bot.user else None
        try:
            # An archived thread takes no deletions: reopened first (Vigil started it; a
            # locked one refuses, and then there is nothing Vigil may delete there).
            async with asyncio.timeout(ATTEMPT_SECONDS):
                await self._bot.http.edit_channel(thread_id, archived=False)
            history = channel.history(limit=MAX_THREAD_MESSAGES)
            while True:
                async with asyncio.timeout(ATTEMPT_SECONDS):  # a page of history, or none
                    message = await anext(history, None)
                if message is None:
                    return
                if message.author.id == me:
                    async with asyncio.timeout(ATTEMPT_SECONDS):
                        with contextlib.suppress(discord.NotFound):
                            await message.delete()
        except discord.NotFound:
            return  # the thread is gone already
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error

    async def delete(self, channel_id: int, message_id: int) -> None:
        message = self._bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            async with asyncio.timeout(ATTEMPT_SECONDS):
                await message.delete()
        except discord.NotFound:
            return  # already gone
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise _failure(error) from error


class FeedbackSender:
    """Tells each reporter, once, that moderators acted on their report (never what or how)."""

    MAX_ATTEMPTS = 5
    POLL_SECONDS = 30.0

    def __init__(self, bot: VigilBot) -> None:
        self._bot = bot
        self._wake = asyncio.Event()
        self._attempts: dict[tuple[int, int], int] = {}
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain_once()
            except Exception:
                log.exception("feedback pass failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.POLL_SECONDS)

    async def drain_once(self) -> None:
        cases = self._bot.services.cases
        for case_id, reporter_id in await cases.pending_feedback(50):
            # Every process runs this loop: the claim makes one of them send each DM.
            if not await cases.claim_feedback(case_id, reporter_id):
                continue
            state = await self._send(case_id, reporter_id)
            if state is not None:
                await cases.mark_feedback(case_id, reporter_id, state)
                self._bot.services.metrics.feedback_dm(FeedbackOutcome(state))

    async def _send(self, case_id: int, reporter_id: int) -> str | None:
        """The final state, or None to try again later."""
        data = await self._bot.services.cases.alert_data(case_id)
        if data is None:
            return "failed"
        guild = self._bot.get_guild(data.case.guild_id)
        # A DM has no interaction, so no reader's language: the server's is the best guess.
        text = render_feedback_dm(
            guild.name if guild else None,
            data.case.target_name,
            str(guild.preferred_locale) if guild else data.settings.locale,
            critical=any(
                r.reporter_id == reporter_id and r.reason.is_critical for r in data.reports
            ),
        )
        try:
            channel = await self._bot.create_dm(discord.Object(reporter_id))
            await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            return "dms_closed"  # the reporter does not accept DMs: skipped, and recorded
        except discord.NotFound:
            return "failed"
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            key = (case_id, reporter_id)
            self._attempts[key] = self._attempts.get(key, 0) + 1
            log.warning("feedback DM for case %s not sent yet: %s", case_id, error)
            return "failed" if self._attempts[key] >= self.MAX_ATTEMPTS else None
        return "sent"


class Alerts(commands.Cog):
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        max_delay = float(bot.services.settings.alert_retry_max_seconds)
        poster = DiscordAlertPoster(bot)
        # t15-relay: a thread per case, and what goes into it (core/case_feed.py).
        self.feed = CaseFeed(
            bot.services.store,
            bot.services.cases,
            DiscordThreadPoster(bot, poster.route),
            locale_for=self.guild_locale,
            retry_seconds=min(2.0, max_delay),
            serves=self.serves,
            scope=self.scope,
        )
        self.dispatcher = AlertDispatcher(
            bot.services.store,
            bot.services.cases,
            poster,
            base_delay=min(0.5, max_delay),
            max_delay=max_delay,
            on_channel_problem=self.tell_admins,
            on_channel_recovered=bot.services.retention.clear_notices,
            locale_for=self.guild_locale,
            on_pass=self.after_pass,
            reminder_minute=timedelta(seconds=bot.services.settings.reminder_minute_seconds),
            edit_interval=bot.services.settings.alert_edit_interval_seconds,
            on_unanswered=self.tell_unanswered,
            on_delivered=self.start_thread,
            serves=self.serves,
            pass_wait=PASS_WAIT_SECONDS,
            scope=self.scope,
        )
        self.feedback = FeedbackSender(bot)
        # Servers of other shards this process sees all the same (one changing hands): their
        # work is read here too (`scope`). Kept from the gateway's events: usually empty.
        self._seen_elsewhere: set[int] = set()
        self._next_notice_check = 0.0
        self._cleanups_seen = 0
        self._task: asyncio.Task[None] | None = None
        self._feedback_task: asyncio.Task[None] | None = None
        self._feed_task: asyncio.Task[None] | None = None

    async def start_thread(self, case_id: int) -> None:
        """A case's alert is out: its thread follows, then what waited for it is posted (if
        the thread is still pending, the case feed starts it when it next looks)."""
        with contextlib.suppress(ThreadPending):
            await self.feed.ensure_thread(case_id)
        self.feed.wake()

    def serves(self, guild_id: int) -> bool:
        """Whether this process sees the server, so can route its alerts (cogs' route)."""
        return self.bot.get_guild(guild_id) is not None

    def scope(self) -> GuildScope:
        """The servers Discord routes to this process, those of its shards (all of them
        without SHARD_IDS), and any other it sees: the outbox and the case feed read no other
        process's work."""
        count, ids = self.bot.shard_count, self.bot.shard_ids
        if count is None or ids is None:
            return GuildScope()
        seen = tuple(self._seen_elsewhere)
        return GuildScope(shard_count=count, shard_ids=tuple(ids), seen=seen)

    def _sees(self, guild: discord.Guild, available: bool) -> None:
        """Keep the servers of other shards this process sees (`scope`)."""
        count, ids = self.bot.shard_count, self.bot.shard_ids
        if count is None or ids is None or (guild.id >> 22) % count in ids:
            return
        if available:
            self._seen_elsewhere.add(guild.id)
        else:
            self._seen_elsewhere.discard(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._sees(guild, True)
        self.dispatcher.serving_changed()  # its alerts, left for its process, are due now
        self.feed.serving_changed()

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._sees(guild, True)
        self.dispatcher.serving_changed()
        self.feed.serving_changed()

    @commands.Cog.listener()
    async def on_guild_unavailable(self, guild: discord.Guild) -> None:
        self._sees(guild, False)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self._sees(guild, False)

    def guild_locale(self, guild_id: int) -> str | None:
        """The server's Discord locale (alerts follow it); None if this process does not see
        the server: the outbox then takes the locale stored in the server's settings."""
        guild = self.bot.get_guild(guild_id)
        return str(guild.preferred_locale) if guild is not None else None

    async def after_pass(self) -> None:
        """After an outbox pass: tell the outbox when this process purged or erased something
        (it deletes those messages at once, other processes' every CLEANUP_CHECK_SECONDS),
        and tell the admins of this process's servers about problems any process recorded.

        Passes follow each other many times a second in a storm, so problems are looked for
        every NOTICE_CHECK_SECONDS, not at every pass."""
        now = time.monotonic()
        queued = self.bot.services.retention.cleanups_queued
        if queued != self._cleanups_seen:
            self._cleanups_seen = queued
            self.dispatcher.cleanup_queued()
        if now < self._next_notice_check:
            return
        self._next_notice_check = now + NOTICE_CHECK_SECONDS
        for guild_id, problem in await self.bot.services.cases.delivery_problems():
            if problem in ("missing_permission", "channel_gone"):
                await self.tell_admins(guild_id, problem)

    async def tell_unanswered(self, notice: UnansweredCase) -> bool:
        """After the last reminder: the admin channel if set, else the owner's DMs, are told
        the case's number and how long it waited (never its content). False when this
        process does not see the server or Discord refused: the next pass tries again."""
        guild = self.bot.get_guild(notice.guild_id)
        if guild is None:
            return False
        text = render_unanswered(
            guild.name, notice.case_number, notice.waited_minutes, notice.locale
        )
        try:
            if notice.settings.admin_channel_id is not None:
                channel = self.bot.get_partial_messageable(notice.settings.admin_channel_id)
                await channel.send(text, allowed_mentions=NO_MENTIONS)
                return True
            if guild.owner_id is None:
                return False
            owner = await self.bot.create_dm(discord.Object(guild.owner_id))
            await owner.send(text, allowed_mentions=NO_MENTIONS)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            log.warning("could not tell guild %s about an unanswered case: %s", guild.id, error)
            return False
        return True

    async def tell_admins(self, guild_id: int, problem: str) -> None:
        """One notice per guild and problem: in the system channel, else to the owner.

        Only the process that sees the server records and sends it (another would record it
        and then have nobody to send it to). It names the problem, never a report's content."""
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return
        if not await self.bot.services.retention.record_notice(guild_id, problem):
            return
        text = render_channel_notice(guild.name, problem, str(guild.preferred_locale))
        system = guild.system_channel
        try:
            if system is not None and system.permissions_for(guild.me).send_messages:
                await system.send(text, allowed_mentions=NO_MENTIONS)
                return
            owner = await self.bot.create_dm(discord.Object(guild.owner_id or 0))
            await owner.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as error:
            log.warning("could not tell guild %s about its alert channel: %s", guild_id, error)

    async def cog_load(self) -> None:
        self.bot.services.dispatcher = self.dispatcher
        self.bot.services.alert_signal.connect(self.dispatcher.wake)
        self.bot.services.feedback_signal.connect(self.feedback.wake)
        self.bot.services.alert_signal.connect(self.feed.wake)  # events and relay messages
        self._task = asyncio.create_task(self.dispatcher.run(), name="vigil-alert-outbox")
        self._feedback_task = asyncio.create_task(self.feedback.run(), name="vigil-feedback")
        self._feed_task = asyncio.create_task(self.feed.run(), name="vigil-case-feed")

    async def cog_unload(self) -> None:
        """Stop taking new work, then give pending alerts one last attempt before exit."""
        self.bot.services.alert_signal.disconnect(self.dispatcher.wake)
        self.bot.services.feedback_signal.disconnect(self.feedback.wake)
        self.bot.services.alert_signal.disconnect(self.feed.wake)
        self.dispatcher.stop()
        self.feedback.stop()
        self.feed.stop()
        for task in (self._task, self._feedback_task, self._feed_task):
            if task is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=5)
        try:
            await asyncio.wait_for(self.dispatcher.drain_once(), timeout=5)
        except Exception:
            log.warning("last outbox attempt at shutdown failed; it resumes at the next start")
        await self.dispatcher.settle(5.0)
        self.bot.services.dispatcher = None


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Alerts(bot))
