"""The bot's side of the web dashboard (dashboard.bridge.DiscordSide): who may moderate
where, names, the server's channels and roles, and what the buttons do after an action.

Permissions come from Discord through the bot: the member is fetched with the bot's token
(the bot has no member cache: no members intent) and reused for ACCESS_TTL_SECONDS, the
server's roles from the bot's cache, or from Discord when another shard process holds the
server. When Discord cannot answer, DiscordUnavailable says so (the page is a polite 503).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Generic, TypeVar

import aiohttp
import discord

from core.export import build_export, export_json
from core.i18n import tr
from core.models import AlertData, Case, CaseAction, GuildSettings
from dashboard.bridge import Choice, DiscordUnavailable, GuildAccess, SetupChoices
from ui.alert_view import describe_event, describe_problem
from ui.app import VigilBot
from ui.case_common import in_background, post_audit_line
from ui.setup_checks import NAMES, Naming, ServerView, setup_warnings

log = logging.getLogger(__name__)

NAME_TTL_SECONDS = 600.0
NAME_CACHE_SIZE = 2000
NAME_FETCHES_PER_PAGE = 25
ACCESS_TTL_SECONDS = 30.0
"""How long what Discord said about a member (their roles) or a server is reused: a page
and the next few cost no request to Discord, and a removed role counts within half a
minute."""
ACCESS_CACHE_SIZE = 5000
UNAVAILABLE = (discord.HTTPException, aiohttp.ClientError, TimeoutError)
"""What Discord or the network raise when Discord cannot answer (NotFound and Forbidden, also
HTTPExceptions, are answers: they are caught first)."""


K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A small least-recently-used map whose entries expire (monotonic clock)."""

    def __init__(self, ttl: float, size: int) -> None:
        self._ttl = ttl
        self._size = size
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> tuple[V] | None:
        """(value,) while fresh (the value itself may be None: a remembered "no")."""
        found = self._items.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return (found[1],)

    def put(self, key: K, value: V) -> None:
        self._items[key] = (time.monotonic() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class BotSide:
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._names: OrderedDict[int, tuple[float, str]] = OrderedDict()
        self._members: TtlCache[tuple[int, int], discord.Member | None] = TtlCache(
            ACCESS_TTL_SECONDS, ACCESS_CACHE_SIZE
        )
        self._fetched: TtlCache[int, discord.Guild | None] = TtlCache(
            ACCESS_TTL_SECONDS, ACCESS_CACHE_SIZE
        )

    async def _guild(self, guild_id: int) -> discord.Guild | None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return guild
        cached = self._fetched.get(guild_id)
        if cached is not None:
            return cached[0]
        try:  # another shard process's server: ask Discord with the bot's token
            fetched: discord.Guild | None = await self.bot.fetch_guild(guild_id, with_counts=False)
        except (discord.NotFound, discord.Forbidden):
            fetched = None
        except UNAVAILABLE as error:
            raise DiscordUnavailable(type(error).__name__) from None
        self._fetched.put(guild_id, fetched)
        return fetched

    async def _member(
        self, guild: discord.Guild, user_id: int, *, fresh: bool = False
    ) -> discord.Member | None:
        """The member as Discord said a few seconds ago at most (the bot has no member
        cache: no members intent), or now (`fresh`), None if not a member."""
        cached = None if fresh else self._members.get((guild.id, user_id))
        if cached is not None:
            return cached[0]
        try:
            member: discord.Member | None = await guild.fetch_member(user_id)
        except (discord.NotFound, discord.Forbidden):
            member = None
        except UNAVAILABLE as error:
            raise DiscordUnavailable(type(error).__name__) from None
        self._members.put((guild.id, user_id), member)
        return member

    async def access(
        self, guild_id: int, user_id: int, *, fresh: bool = False
    ) -> GuildAccess | None:
        guild = await self._guild(guild_id)
        if guild is None:
            return None
        member = await self._member(guild, user_id, fresh=fresh)
        if member is None:
            return None
        settings = await self.bot.services.guild_settings.get(guild_id)
        permissions = member.guild_permissions
        mod_role = settings.mod_role_id is not None and any(
            role.id == settings.mod_role_id for role in member.roles
        )
        if not (permissions.manage_guild or mod_role):
            return None
        # The alert's buttons check the presser's permissions in the alert channel.
        channel = guild.get_channel(settings.alert_channel_id or 0)
        if isinstance(channel, discord.abc.GuildChannel):
            permissions = channel.permissions_for(member)
        self._remember(member.id, member.display_name)
        return GuildAccess(
            guild_id=guild.id,
            name=guild.name,
            locale=str(guild.preferred_locale) if guild.preferred_locale else settings.locale,
            can_manage=member.guild_permissions.manage_guild,
            can_act=permissions.manage_messages or permissions.moderate_members,
        )

    async def vigil_guild_ids(self) -> set[int]:
        known = await self.bot.services.store.read(lambda tx: tx.guild_data.known_guild_ids())
        return {g.id for g in self.bot.guilds} | set(known)

    async def serves(self, guild_id: int) -> bool:
        if self.bot.get_guild(guild_id) is not None:
            return True
        return await self.bot.services.store.read(lambda tx: tx.guild_data.knows_guild(guild_id))

    def _remember(self, user_id: int, name: str) -> None:
        self._names[user_id] = (time.monotonic() + NAME_TTL_SECONDS, name)
        self._names.move_to_end(user_id)
        while len(self._names) > NAME_CACHE_SIZE:
            self._names.popitem(last=False)

    async def names(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, str]:
        """From the caches first; at most NAME_FETCHES_PER_PAGE users are asked of Discord
        (together), so a page naming a hundred people costs a bounded number of requests:
        the rest show as their IDs until a later page has fetched them."""
        guild = self.bot.get_guild(guild_id)
        found: dict[int, str] = {}
        missing: list[int] = []
        now = time.monotonic()
        for user_id in user_ids:
            cached = self._names.get(user_id)
            if cached is not None and cached[0] > now:
                found[user_id] = cached[1]
                continue
            member = guild.get_member(user_id) if guild is not None else None
            user: discord.abc.User | None = member or self.bot.get_user(user_id)
            if user is None:
                missing.append(user_id)
                continue
            found[user_id] = user.display_name
            self._remember(user_id, user.display_name)
        fetched = await asyncio.gather(
            *(self.bot.fetch_user(i) for i in missing[:NAME_FETCHES_PER_PAGE]),
            return_exceptions=True,
        )
        for result in fetched:
            if isinstance(result, discord.User):
                found[result.id] = result.display_name
                self._remember(result.id, result.display_name)
            elif not isinstance(result, discord.HTTPException):
                log.warning("dashboard: looking up a name failed: %s", type(result).__name__)
        return found

    async def setup_choices(self, guild_id: int, user_id: int) -> SetupChoices:
        guild = await self._guild(guild_id)
        if guild is None:
            return SetupChoices((), (), guild_id)
        try:
            channels = guild.text_channels or [
                c for c in await guild.fetch_channels() if isinstance(c, discord.TextChannel)
            ]
        except UNAVAILABLE as error:
            raise DiscordUnavailable(type(error).__name__) from None
        member = await self._member(guild, user_id)
        # As Discord's own channel picker: a channel the member cannot see is not named.
        visible = [c for c in channels if member and c.permissions_for(member).view_channel]
        roles = [r for r in guild.roles if not r.is_default() and not r.managed]
        return SetupChoices(
            text_channels=tuple(Choice(c.id, c.name) for c in visible),
            roles=tuple(Choice(r.id, r.name) for r in sorted(roles, key=lambda r: -r.position)),
            everyone_role=guild.default_role.id,
            hidden_channels=frozenset(c.id for c in channels) - {c.id for c in visible},
        )

    async def _server_view(self, guild_id: int) -> ServerView | None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return ServerView.cached(guild)
        try:
            fetched = await self._guild(guild_id)  # another shard process's server
            if fetched is None or self.bot.user is None:
                return None
            channels = await fetched.fetch_channels()
            me = await fetched.fetch_member(self.bot.user.id)
        except (DiscordUnavailable, *UNAVAILABLE):
            return None
        return ServerView(fetched, {c.id: c for c in channels}, me)

    async def setup_warnings(
        self, guild_id: int, user_id: int, settings: GuildSettings, locale: str | None
    ) -> tuple[str, ...]:
        stored = await self.bot.services.cases.delivery_problems(guild_id)
        codes = [problem for _, problem in stored]
        view = await self._server_view(guild_id)
        if view is None:  # Discord cannot be asked now: what the database knows
            return tuple(dict.fromkeys(describe_problem(code, locale) for code in codes))
        try:
            member = await self._member(view.guild, user_id)
        except DiscordUnavailable:
            member = None  # then no channel is named
        hidden = tr("dash.hidden_channel", locale)

        def channel(c: discord.abc.GuildChannel) -> str:
            seen = member is not None and c.permissions_for(member).view_channel
            return NAMES.channel(c) if seen else hidden

        naming = Naming(channel=channel, role=NAMES.role)
        return setup_warnings(view, settings, locale, stored=codes, naming=naming).all

    def after_action(
        self, case: Case, locale: str | None, *, actor_id: int, action: CaseAction
    ) -> None:
        in_background(
            post_audit_line(self.bot, case, locale, actor_id=actor_id, action=action),
            f"audit line for case {case.id}",
        )

    def export_packet(
        self, data: AlertData, user_id: int, guild_name: str, *, include_reporters: bool
    ) -> bytes:
        services = self.bot.services
        packet = build_export(
            data,
            guild_name=guild_name,
            directory=services.hotlines,
            generated_at=services.clock.now(),
            generated_by=user_id,
            describe=describe_event,
            include_reporters=include_reporters,
        )
        return export_json(packet)
