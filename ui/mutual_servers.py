"""Which servers may hear about a DM report: those where Vigil is installed and both the reporter
and the reported message's author are members.

Discord has no endpoint that answers this, and Vigil has no member cache (no privileged
intent). So it asks the API: the servers Vigil is in (GET /users/@me/guilds, every shard's, so
a process that runs some shards still offers them all), then per server whether the author
and, only then, the reporter are members (GET /guilds/{id}/members/{user}). The form must open
within Discord's 3 seconds, so the lookups run side by side under a deadline; a server that did
not answer in time is left out, and such a partial answer is not cached. A complete answer is
cached briefly per (reporter, author): opening the menu again costs no calls. The cache is only
a convenience for the form: the chosen server is checked again, through the API, when the form
is submitted (``members_of``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from core.models import UserSnapshot
from core.snowflakes import is_storable_id
from ui.app import VigilBot

MAX_SERVERS = 24  # with "none", Discord's 25 options of a select
CACHE_SECONDS = 60.0
CACHE_SIZE = 2048
LOOKUP_SECONDS = 1.0  # the evidence is held next, and the form must open within 3 s
CHECK_SECONDS = 5.0  # at submit the reply may be deferred: a slower API still gets its say
PARALLEL = 8  # member lookups in flight at once (Discord's global limit is 50 a second)
LIST_LIMIT = 200  # servers per page of GET /users/@me/guilds


@dataclass(frozen=True, slots=True)
class SharedServer:
    id: int
    name: str


class NotAMember(Exception):
    """Discord says this user is not in that server, or Vigil is not (404, 403)."""


async def member_payload(bot: VigilBot, guild_id: int, user_id: int) -> Mapping[str, Any]:
    """The member as the API knows them; NotAMember when they (or Vigil) are not there."""
    try:
        return await bot.http.get_member(guild_id, user_id)
    except (discord.NotFound, discord.Forbidden) as error:
        raise NotAMember from error


def member_snapshot(payload: Mapping[str, Any]) -> UserSnapshot:
    """A member payload as a report's snapshot: the name the server shows, when they joined."""
    user = payload.get("user") or {}
    name = payload.get("nick") or user.get("global_name") or user.get("username") or ""
    joined = payload.get("joined_at")
    return UserSnapshot(
        id=int(user["id"]),
        name=str(name),
        is_bot=bool(user.get("bot", False)),
        joined_at=discord.utils.parse_time(joined) if isinstance(joined, str) else None,
    )


async def members_of(
    bot: VigilBot, guild_id: int, reporter_id: int, author_id: int
) -> tuple[UserSnapshot, UserSnapshot] | None:
    """(reporter, author) as members of ``guild_id``, asked now; None if either (or Vigil)
    is not in it. Other failures (a timeout, a 5xx) raise: the caller answers with help."""
    if not is_storable_id(guild_id):
        return None
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            reporter, author = await asyncio.gather(
                member_payload(bot, guild_id, reporter_id),
                member_payload(bot, guild_id, author_id),
            )
    except NotAMember:
        return None
    return member_snapshot(reporter), member_snapshot(author)


class MutualServers:
    """The servers shared by a reporter and an author, looked up through the API and cached."""

    def __init__(
        self,
        ttl: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._pairs: OrderedDict[tuple[int, int], tuple[float, tuple[SharedServer, ...]]] = (
            OrderedDict()
        )
        self._servers: tuple[float, tuple[SharedServer, ...]] | None = None

    def _fresh(self, entry: tuple[float, tuple[SharedServer, ...]] | None) -> bool:
        return entry is not None and entry[0] > self._clock()

    async def _vigil_servers(self, bot: VigilBot) -> tuple[SharedServer, ...]:
        if self._servers is not None and self._fresh(self._servers):
            return self._servers[1]
        found: list[SharedServer] = []
        after: int | None = None
        while True:
            page = await bot.http.get_guilds(LIST_LIMIT, after=after, with_counts=False)
            found += [SharedServer(int(g["id"]), str(g.get("name") or g["id"])) for g in page]
            if len(page) < LIST_LIMIT:
                break
            after = int(page[-1]["id"])
        servers = tuple(found)
        self._servers = (self._clock() + self._ttl, servers)
        return servers

    def name_of(self, guild_id: int) -> str | None:
        """A server's name as last listed (for the reporter's confirmation), if known."""
        listed = self._servers[1] if self._servers is not None else ()
        return next((s.name for s in listed if s.id == guild_id), None)

    async def between(
        self, bot: VigilBot, reporter_id: int, author_id: int, deadline: float = LOOKUP_SECONDS
    ) -> tuple[SharedServer, ...]:
        """At most MAX_SERVERS servers, by name. Empty when none is shared, or none answered
        in time (the reporter then gets help and Discord's route: never a wait)."""
        key = (reporter_id, author_id)
        cached = self._pairs.get(key)
        if cached is not None and self._fresh(cached):
            return cached[1]
        gate = asyncio.Semaphore(PARALLEL)

        async def shared(server: SharedServer) -> SharedServer | None:
            async with gate:
                try:
                    await member_payload(bot, server.id, author_id)
                    await member_payload(bot, server.id, reporter_id)
                except NotAMember:
                    return None
                return server

        loop = asyncio.get_running_loop()
        until = loop.time() + deadline
        try:
            async with asyncio.timeout_at(until):
                servers = await self._vigil_servers(bot)
        except (TimeoutError, discord.HTTPException):
            return ()
        tasks = [asyncio.ensure_future(shared(s)) for s in servers]
        if not tasks:
            return ()
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, until - loop.time()))
        for task in pending:
            task.cancel()
        answered = [t for t in done if t.exception() is None]
        found = [s for t in answered if (s := t.result()) is not None]
        found.sort(key=lambda s: (s.name.casefold(), s.id))
        result = tuple(found[:MAX_SERVERS])
        if not pending and len(answered) == len(tasks):
            self._pairs[key] = (self._clock() + self._ttl, result)
            self._pairs.move_to_end(key)
            while len(self._pairs) > self._size:
                self._pairs.popitem(last=False)
        return result
