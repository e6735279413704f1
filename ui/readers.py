"""Who can read a channel, asked of the guild cache (members are fetched: Vigil has no members
intent) and remembered for a minute. The alert's route (ui/routing.py) and the #audit line ask
the same question: one answer, one cache."""

from __future__ import annotations

import time

import discord

REMEMBER_SECONDS = 60.0
MAX_REMEMBERED = 10_000


class ChannelReaders:
    """(guild, channel, member) -> whether the member can read the channel, for a minute:
    an alert's edits and its audit lines come in bursts. Discord's errors other than "not a
    member" are raised as they are (the caller decides what a failed question means)."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int, int], tuple[bool, float]] = {}

    async def can_read(self, guild: discord.Guild, channel_id: int, member_id: int) -> bool:
        key = (guild.id, channel_id, member_id)
        cached = self._known.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        readable = await self._ask(guild, channel_id, member_id)
        if len(self._known) > MAX_REMEMBERED:
            self._known.clear()
        self._known[key] = (readable, time.monotonic() + REMEMBER_SECONDS)
        return readable

    @staticmethod
    async def _ask(guild: discord.Guild, channel_id: int, member_id: int) -> bool:
        """Discord's answer: "no such channel" and "not a member" are answers (remembered like
        the others); any other error is raised, and nothing is remembered."""
        channel: discord.abc.GuildChannel | discord.Thread | None = guild.get_channel(channel_id)
        if channel is None:  # a fetched guild (another process's server) has no channels
            try:
                channel = await guild.fetch_channel(channel_id)
            except discord.NotFound:
                return False  # no such channel: nobody reads it
        member = guild.get_member(member_id)
        if member is None:
            try:
                member = await guild.fetch_member(member_id)
            except discord.NotFound:
                return False  # not (or no longer) a member: can't read any channel
        return channel.permissions_for(member).view_channel

    async def among(
        self, guild: discord.Guild, channel_id: int, members: frozenset[int]
    ) -> frozenset[int]:
        """Those of `members` who can read the channel (asked in ID order: usually one)."""
        return frozenset([m for m in sorted(members) if await self.can_read(guild, channel_id, m)])
