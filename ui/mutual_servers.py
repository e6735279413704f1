"""Which servers may hear about a DM report: those where Vigil is installed and both the reporter
and the reported message's author are members.

Discord has no endpoint that answers this, and Vigil has no member cache (no privileged
intent). So it asks the API: the servers Vigil is in (GET /users/@me/guilds, every shard's, so
a process that runs some shards still offers them all), then per server whether the reporter
and, only where they are, the author are members (GET /guilds/{id}/members/{user}).

What keeps that affordable for a bot in many servers:

* one gate per bot (``Pacer``): at most PARALLEL member lookups in flight, each slot starting at
  most one lookup per SLOT_SECONDS, so all DM forms together stay well under Discord's global
  limit (50 requests a second) and leave room for alerts;
* the reporter's own servers are cached per reporter, whatever the author: a reporter who reports
  several people asks about themselves once a minute;
* what a lookup learned is kept for a minute even when it did not finish (partial): the next
  form only asks about the servers that did not answer;
* each reporter may cause at most LOOKUPS_PER_REPORTER lookups a minute (a cached answer costs
  none); over it, nothing is asked and the reporter is told to wait (``LookupStatus.LIMITED``).

The form must open within Discord's 3 seconds, so the lookups run side by side under a deadline;
an answer that is not complete says so (``LookupStatus.PARTIAL``): with no server found yet the
reporter is asked to try again, never told that no server is shared. The cache is only a
convenience for the form: the chosen server is checked again, through the API, when the form
is submitted (``members_of``).

Everything here is per process: another process has its own caches, gate and limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from core.models import UserSnapshot
from core.snowflakes import is_storable_id
from ui.app import VigilBot

log = logging.getLogger(__name__)

MAX_SERVERS = 24  # with "none", Discord's 25 options of a select
CACHE_SECONDS = 60.0
CACHE_SIZE = 2048
LOOKUP_SECONDS = 1.0  # the evidence is held next, and the form must open within 3 s
CHECK_SECONDS = 5.0  # at submit the reply may be deferred: a slower API still gets its say
NAME_SECONDS = 1.0  # the server's name for the confirmation: never worth a long wait
PARALLEL = 8  # member lookups in flight at once, bot-wide
SLOT_SECONDS = 0.25  # so at most PARALLEL / SLOT_SECONDS = 32 a second (Discord's global: 50)
LIST_LIMIT = 200  # servers per page of GET /users/@me/guilds
LOOKUPS_PER_REPORTER = 5  # lookups that ask Discord, per reporter and LOOKUP_WINDOW_SECONDS
LOOKUP_WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SharedServer:
    id: int
    name: str


class LookupStatus(enum.Enum):
    COMPLETE = "complete"  # every server Vigil is in was checked: the list is the whole answer
    PARTIAL = "partial"  # some did not answer in time (or failed): the list may miss some
    LIMITED = "limited"  # the reporter asked too often: nothing was asked, the list is empty


@dataclass(frozen=True, slots=True)
class Lookup:
    """The servers shared by a reporter and an author (at most MAX_SERVERS), and how sure."""

    servers: tuple[SharedServer, ...]
    status: LookupStatus


@dataclass(frozen=True, slots=True)
class Members:
    """The reporter and the author as members of the chosen server, asked at submit time, and
    the server's name for the reporter's confirmation (None if Discord did not say in time)."""

    reporter: UserSnapshot
    author: UserSnapshot
    server_name: str | None


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


async def server_name(bot: VigilBot, guild_id: int) -> str | None:
    """The server's name: from this process's guild cache, else asked (the server may be on a
    shard another process runs). None when Discord does not say in time: a name is never worth
    failing a report for."""
    guild = bot.get_guild(guild_id)
    if guild is not None:
        return guild.name
    try:
        async with asyncio.timeout(NAME_SECONDS):
            payload = await bot.http.get_guild(guild_id)
    except Exception:
        log.warning("could not read a server's name for a DM report", exc_info=True)
        return None
    name = payload.get("name")
    return str(name) if name else None


async def members_of(
    bot: VigilBot, guild_id: int, reporter_id: int, author_id: int
) -> Members | None:
    """(reporter, author) as members of ``guild_id``, asked now, with its name; None if either
    (or Vigil) is not in it. Other failures (a timeout, a 5xx) raise: the caller answers with
    help. The lookups run side by side; when one fails, the others are cancelled."""
    if not is_storable_id(guild_id):
        return None
    try:
        async with asyncio.timeout(CHECK_SECONDS), asyncio.TaskGroup() as group:
            reporter = group.create_task(member_payload(bot, guild_id, reporter_id))
            author = group.create_task(member_payload(bot, guild_id, author_id))
            name = group.create_task(server_name(bot, guild_id))
    except BaseExceptionGroup as failed:
        if failed.subgroup(NotAMember) is not None:
            return None
        raise failed.exceptions[0] from failed
    return Members(
        member_snapshot(reporter.result()), member_snapshot(author.result()), name.result()
    )


class Pacer:
    """One gate for all of a bot's member lookups: at most ``parallel`` in flight, and each slot
    starts at most one lookup per ``slot_seconds`` (a slot is given back only then), so no
    number of forms opened at once can flood Discord's global rate limit."""

    def __init__(self, parallel: int = PARALLEL, slot_seconds: float = SLOT_SECONDS) -> None:
        self._gate = asyncio.Semaphore(parallel)
        self._slot = slot_seconds

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._gate.acquire()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            yield
        finally:
            wait = started + self._slot - loop.time()
            if wait > 0:
                loop.call_later(wait, self._gate.release)
            else:
                self._gate.release()


class LookupBudget:
    """At most ``count`` lookups per reporter in any ``per`` seconds (bounded, LRU)."""

    def __init__(
        self,
        count: int = LOOKUPS_PER_REPORTER,
        per: float = LOOKUP_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        size: int = CACHE_SIZE,
    ) -> None:
        self._count, self._per, self._clock, self._size = count, per, clock, size
        self._times: OrderedDict[int, deque[float]] = OrderedDict()

    def allow(self, reporter_id: int) -> bool:
        """Spend one lookup of this reporter's; False (nothing spent) when none is left."""
        now = self._clock()
        times = self._times.pop(reporter_id, None) or deque()
        while times and times[0] <= now - self._per:
            times.popleft()
        allowed = len(times) < self._count
        if allowed:
            times.append(now)
        self._times[reporter_id] = times
        while len(self._times) > self._size:
            self._times.popitem(last=False)
        return allowed


@dataclass(frozen=True, slots=True)
class Known:
    """What lookups learned about one user: the servers checked, and those they are in."""

    at: float  # when the first of these lookups ran: everything here is as old as that
    checked: frozenset[int] = frozenset()
    member: frozenset[int] = frozenset()

    def learn(self, checked: Iterable[int], member: Iterable[int]) -> Known:
        return Known(self.at, self.checked | frozenset(checked), self.member | frozenset(member))


class KnownCache:
    """``Known`` per key for ``ttl`` seconds from its first lookup, bounded (LRU)."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float]) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._items: OrderedDict[Hashable, Known] = OrderedDict()

    def get(self, key: Hashable) -> Known:
        known = self._items.get(key)
        if known is None or known.at + self._ttl <= self._clock():
            return Known(self._clock())
        return known

    def put(self, key: Hashable, known: Known) -> None:
        self._items[key] = known
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class MutualServers:
    """The servers shared by a reporter and an author, looked up through the API and cached.
    One per bot (its gate is the bot's): the Reporting cog owns it."""

    def __init__(
        self,
        ttl: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
        pacer: Pacer | None = None,
        budget: LookupBudget | None = None,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._pacer = pacer or Pacer()
        self._budget = budget or LookupBudget(clock=clock, size=size)
        self._reporters = KnownCache(ttl, size, clock)  # reporter -> their Vigil servers
        self._authors = KnownCache(ttl, size, clock)  # (reporter, author) -> the author's
        self._servers: tuple[float, tuple[SharedServer, ...]] | None = None
        self._listing = asyncio.Lock()

    async def _vigil_servers(self, bot: VigilBot) -> tuple[SharedServer, ...]:
        async with self._listing:  # one listing at a time: forms opened at once share it
            if self._servers is not None and self._servers[0] > self._clock():
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

    async def _is_member(self, bot: VigilBot, guild_id: int, user_id: int) -> bool | None:
        """True or False as Discord says; None when it did not answer (any failure)."""
        async with self._pacer.slot():
            try:
                await member_payload(bot, guild_id, user_id)
            except NotAMember:
                return False
            except Exception:
                log.debug("a member lookup failed", exc_info=True)
                return None
        return True

    async def between(
        self, bot: VigilBot, reporter_id: int, author_id: int, deadline: float = LOOKUP_SECONDS
    ) -> Lookup:
        """At most MAX_SERVERS servers, by name, and whether every server was checked. Never
        raises: whatever fails (a timeout, a refusal, a dropped connection) makes the answer
        PARTIAL, and the reporter gets help and Discord's route: never a wait."""
        loop = asyncio.get_running_loop()
        until = loop.time() + deadline
        try:
            async with asyncio.timeout_at(until):
                listed = await self._vigil_servers(bot)
        except Exception:
            log.warning("could not list Vigil's servers for a DM report", exc_info=True)
            return Lookup((), LookupStatus.PARTIAL)
        ids = frozenset(s.id for s in listed)
        pair = (reporter_id, author_id)
        mine, theirs = self._reporters.get(reporter_id), self._authors.get(pair)
        ask_reporter = ids - mine.checked
        ask_author = (mine.member & ids) - theirs.checked
        if ask_reporter or ask_author:
            if not self._budget.allow(reporter_id):
                return Lookup((), LookupStatus.LIMITED)
            reporter, author = Facts(), Facts()

            async def ask(guild_id: int, user_id: int, into: Facts) -> bool:
                answer = await self._is_member(bot, guild_id, user_id)
                into.note(guild_id, answer)
                return answer is True

            async def reporter_then_author(guild_id: int) -> None:
                if await ask(guild_id, reporter_id, reporter):
                    await ask(guild_id, author_id, author)

            async def author_only(guild_id: int) -> None:
                await ask(guild_id, author_id, author)

            tasks = [asyncio.ensure_future(reporter_then_author(g)) for g in ask_reporter]
            tasks += [asyncio.ensure_future(author_only(g)) for g in ask_author]
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, until - loop.time()))
            for task in pending:
                task.cancel()
            # What was answered before the deadline is kept (each answer is noted as it
            # comes), for the next form too: it asks only about the servers left. Merged into
            # the cache as it is now (another form may have learned something meanwhile).
            mine = self._reporters.get(reporter_id).learn(reporter.checked, reporter.member)
            theirs = self._authors.get(pair).learn(author.checked, author.member)
            self._reporters.put(reporter_id, mine)
            self._authors.put(pair, theirs)
        shared = mine.member & theirs.member
        found = sorted(
            (s for s in listed if s.id in shared), key=lambda s: (s.name.casefold(), s.id)
        )
        complete = ids <= mine.checked and (mine.member & ids) <= theirs.checked
        status = LookupStatus.COMPLETE if complete else LookupStatus.PARTIAL
        return Lookup(tuple(found[:MAX_SERVERS]), status)


class Facts:
    """One user's answers during one lookup, noted as each comes: servers checked, and those
    they are in (a server that did not answer is neither)."""

    def __init__(self) -> None:
        self.checked: set[int] = set()
        self.member: set[int] = set()

    def note(self, guild_id: int, answer: bool | None) -> None:
        if answer is None:
            return
        self.checked.add(guild_id)
        if answer:
            self.member.add(guild_id)
