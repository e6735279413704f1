"""The bot's side of the web dashboard (dashboard.bridge.DiscordSide): who may moderate
where, names, the server's channels and roles, and what the buttons do after an action.

Permissions come from Discord through the bot, at every request: the member is fetched with
the bot's token (the bot has no member cache: no members intent), the server's roles from the
bot's cache, or from Discord when another shard process holds the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable

import discord

from core.export import build_export, export_json
from core.models import AlertData, Case, GuildSettings
from dashboard.bridge import Choice, GuildAccess, SetupChoices
from ui.alert_view import describe_event, describe_problem
from ui.app import VigilBot
from ui.case_common import in_background, post_audit_line
from ui.setup_checks import NAMES, ServerView, setup_warnings

log = logging.getLogger(__name__)

NAME_TTL_SECONDS = 600.0
NAME_CACHE_SIZE = 2000
NAME_FETCHES_PER_PAGE = 25


class BotSide:
    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._names: OrderedDict[int, tuple[float, str]] = OrderedDict()

    async def _guild(self, guild_id: int) -> discord.Guild | None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return guild
        try:  # another shard process's server: ask Discord with the bot's token
            return await self.bot.fetch_guild(guild_id, with_counts=False)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def access(self, guild_id: int, user_id: int) -> GuildAccess | None:
        guild = await self._guild(guild_id)
        if guild is None:
            return None
        try:
            member = await guild.fetch_member(user_id)
        except (discord.NotFound, discord.Forbidden):
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

    async def setup_choices(self, guild_id: int) -> SetupChoices:
        guild = await self._guild(guild_id)
        if guild is None:
            return SetupChoices((), (), guild_id)
        channels = guild.text_channels or [
            c for c in await guild.fetch_channels() if isinstance(c, discord.TextChannel)
        ]
        roles = [r for r in guild.roles if not r.is_default() and not r.managed]
        return SetupChoices(
            text_channels=tuple(Choice(c.id, c.name) for c in channels),
            roles=tuple(Choice(r.id, r.name) for r in sorted(roles, key=lambda r: -r.position)),
            everyone_role=guild.default_role.id,
        )

    async def _server_view(self, guild_id: int) -> ServerView | None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            return ServerView.cached(guild)
        fetched = await self._guild(guild_id)  # another shard process's server
        if fetched is None or self.bot.user is None:
            return None
        try:
            channels = await fetched.fetch_channels()
            me = await fetched.fetch_member(self.bot.user.id)
        except discord.HTTPException:
            return None
        return ServerView(fetched, {c.id: c for c in channels}, me)

    async def setup_warnings(
        self, guild_id: int, settings: GuildSettings, locale: str | None
    ) -> tuple[str, ...]:
        stored = await self.bot.services.cases.delivery_problems(guild_id)
        codes = [problem for _, problem in stored]
        view = await self._server_view(guild_id)
        if view is None:  # Discord cannot be asked now: what the database knows
            return tuple(dict.fromkeys(describe_problem(code, locale) for code in codes))
        return setup_warnings(view, settings, locale, stored=codes, naming=NAMES).all

    def after_action(self, case: Case, locale: str | None) -> None:
        in_background(post_audit_line(self.bot, case, locale), f"audit line for case {case.id}")

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
