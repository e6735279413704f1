"""The servers a DM report may go to: looked up through the API, cached briefly, bounded."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from ui import mutual_servers
from ui.mutual_servers import (
    MAX_SERVERS,
    LookupBudget,
    LookupStatus,
    MutualServers,
    Pacer,
    SharedServer,
    members_of,
)

REPORTER, AUTHOR = 1001, 1002


def not_found() -> discord.NotFound:
    return discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), {"code": 10007})


class FakeHttp:
    """GET /users/@me/guilds and GET /guilds/{g}/members/{u}, counted."""

    def __init__(self, guilds: dict[int, set[int]], slow: set[int] = frozenset()) -> None:
        self.guilds = guilds  # guild id -> member ids
        self.slow = slow  # guilds whose member lookups never answer in time
        self.listings = 0
        self.lookups: list[tuple[int, int]] = []
        self.fail: set[int] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.cancelled: list[tuple[int, int]] = []
        self.list_error: Exception | None = None
        self.names_asked: list[int] = []

    async def get_guilds(self, limit: int, after: int | None = None, **_: Any) -> list[Any]:
        self.listings += 1
        if self.list_error is not None:
            raise self.list_error
        ids = sorted(g for g in self.guilds if after is None or g > after)[:limit]
        return [{"id": str(g), "name": f"Server {g % 1000:03d}"} for g in ids]

    async def get_guild(self, guild_id: int) -> dict[str, Any]:
        self.names_asked.append(guild_id)
        return {"id": str(guild_id), "name": f"Server {guild_id % 1000:03d}"}

    async def get_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        self.lookups.append((guild_id, user_id))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if guild_id in self.slow:
                await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.append((guild_id, user_id))
            raise
        finally:
            self.in_flight -= 1
        if guild_id in self.fail:
            raise discord.HTTPException(SimpleNamespace(status=500, reason="x"), "boom")
        if user_id not in self.guilds.get(guild_id, set()):
            raise not_found()
        return {
            "user": {"id": str(user_id), "username": f"u{user_id}", "global_name": None},
            "nick": "Nick" if user_id == REPORTER else None,
            "joined_at": "2025-01-01T00:00:00+00:00",
        }


def bot(http: Any, cached: dict[int, str] | None = None) -> Any:
    """A bot whose guild cache knows ``cached`` (id -> name): none by default."""
    names = cached or {}

    def get_guild(guild_id: int) -> Any:
        return SimpleNamespace(name=names[guild_id]) if guild_id in names else None

    return SimpleNamespace(http=http, get_guild=get_guild)


def ids(found: Any) -> list[int]:
    return [s.id for s in found.servers]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_only_shared_servers_by_name_and_cached_for_a_while():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1003: both, 1001: both, 1002: {REPORTER}, 1004: {AUTHOR}})
    clock = Clock()
    servers = MutualServers(ttl=60, clock=clock)
    found = await servers.between(bot(http), REPORTER, AUTHOR)
    assert found.servers == (SharedServer(1001, "Server 001"), SharedServer(1003, "Server 003"))
    assert found.status is LookupStatus.COMPLETE
    # The reporter is asked first; the author only where the reporter is a member.
    assert (1004, AUTHOR) not in http.lookups
    calls = len(http.lookups)
    assert await servers.between(bot(http), REPORTER, AUTHOR) == found
    assert len(http.lookups) == calls and http.listings == 1
    clock.now = 61
    http.guilds[1002].add(AUTHOR)
    again = await servers.between(bot(http), REPORTER, AUTHOR)
    assert ids(again) == [1001, 1002, 1003]
    assert http.listings == 2


async def test_a_server_that_answers_late_is_left_out_and_nothing_is_cached():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1001: both, 1002: both}, slow={1002})
    servers = MutualServers()
    found = await servers.between(bot(http), REPORTER, AUTHOR, deadline=0.2)
    assert ids(found) == [1001] and found.status is LookupStatus.PARTIAL
    http.slow.clear()
    again = await servers.between(bot(http), REPORTER, AUTHOR)
    assert ids(again) == [1001, 1002] and again.status is LookupStatus.COMPLETE


async def test_an_api_error_leaves_that_server_out_uncached():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1001: both, 1002: both})
    http.fail.add(1002)
    servers = MutualServers()
    first = await servers.between(bot(http), REPORTER, AUTHOR)
    assert ids(first) == [1001] and first.status is LookupStatus.PARTIAL
    http.fail.clear()
    assert len((await servers.between(bot(http), REPORTER, AUTHOR)).servers) == 2


async def test_at_most_24_servers_and_every_page_of_the_listing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(mutual_servers, "LIST_LIMIT", 7)
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1000 + n: both for n in range(30)})
    found = await MutualServers().between(bot(http), REPORTER, AUTHOR, deadline=5)
    assert len(found.servers) == MAX_SERVERS == 24
    assert ids(found) == [1000 + n for n in range(24)]
    assert http.listings == 5  # 7 + 7 + 7 + 7 + 2


async def test_members_of_checks_both_now():
    http = FakeHttp({1001: {REPORTER, AUTHOR}, 1002: {REPORTER}})
    pair = await members_of(bot(http), 1001, REPORTER, AUTHOR)
    assert pair is not None
    reporter, author = pair.reporter, pair.author
    assert (reporter.id, reporter.name, author.name) == (REPORTER, "Nick", f"u{AUTHOR}")
    assert reporter.joined_at is not None and not author.is_bot
    assert await members_of(bot(http), 1002, REPORTER, AUTHOR) is None
    assert await members_of(bot(http), 0, REPORTER, AUTHOR) is None
    http.fail.add(1001)
    with pytest.raises(discord.HTTPException):
        await members_of(bot(http), 1001, REPORTER, AUTHOR)


# ------------------------------------------------------------------ review: rate, cache, limits
async def test_one_gate_per_bot_bounds_lookups_in_flight_across_forms():
    """Many reporters open forms at once: all their member lookups share the bot's gate, so no
    more than its slots are ever in flight (a gate made per call would allow slots x forms)."""
    members = {REPORTER, AUTHOR} | set(range(2000, 2010))
    http = FakeHttp({1000 + n: members for n in range(6)})
    servers = MutualServers(pacer=Pacer(parallel=3, slot_seconds=0))
    found = await asyncio.gather(
        *(
            servers.between(bot(http), reporter, AUTHOR, deadline=5)
            for reporter in range(2000, 2010)
        )
    )
    assert all(len(f.servers) == 6 for f in found)
    assert http.most_in_flight == 3


async def test_a_slot_starts_at_most_one_lookup_per_period():
    """The gate paces: a slot is given back only after its period, however fast Discord
    answered, so the bot never bursts past Discord's global limit."""
    pacer = Pacer(parallel=1, slot_seconds=30)
    async with pacer.slot():
        pass
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1), pacer.slot():
            pass


async def test_the_reporters_own_servers_are_reused_whatever_the_author():
    everyone = {REPORTER, AUTHOR, 1003}
    http = FakeHttp({1001: everyone, 1002: {REPORTER, 1003}, 1004: {AUTHOR, 1003}})
    servers = MutualServers()
    assert ids(await servers.between(bot(http), REPORTER, AUTHOR)) == [1001]
    asked = len(http.lookups)
    other = await servers.between(bot(http), REPORTER, 1003)
    assert ids(other) == [1001, 1002] and other.status is LookupStatus.COMPLETE
    # Only the new author was asked, and only where the reporter is: never the reporter again.
    assert sorted(http.lookups[asked:]) == [(1001, 1003), (1002, 1003)]


async def test_a_partial_answer_is_kept_and_only_the_rest_is_asked_again():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1001: both, 1002: both, 1003: both}, slow={1003})
    servers = MutualServers()
    first = await servers.between(bot(http), REPORTER, AUTHOR, deadline=0.2)
    assert ids(first) == [1001, 1002] and first.status is LookupStatus.PARTIAL
    http.slow.clear()
    asked = len(http.lookups)
    again = await servers.between(bot(http), REPORTER, AUTHOR)
    assert ids(again) == [1001, 1002, 1003] and again.status is LookupStatus.COMPLETE
    assert http.lookups[asked:] == [(1003, REPORTER), (1003, AUTHOR)]


async def test_nothing_answered_in_time_is_partial_not_none_shared():
    http = FakeHttp({1001: {REPORTER, AUTHOR}}, slow={1001})
    found = await MutualServers().between(bot(http), REPORTER, AUTHOR, deadline=0.2)
    assert found.servers == () and found.status is LookupStatus.PARTIAL


@pytest.mark.parametrize(
    "error",
    [
        OSError(104, "Connection reset by peer"),
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),
        ValueError("a page Vigil did not expect"),
    ],
)
async def test_a_listing_that_fails_in_any_way_is_partial_and_never_raises(error: Exception):
    http = FakeHttp({1001: {REPORTER, AUTHOR}})
    http.list_error = error
    found = await MutualServers().between(bot(http), REPORTER, AUTHOR)
    assert found.servers == () and found.status is LookupStatus.PARTIAL


async def test_each_reporter_may_look_up_a_few_times_a_minute():
    """A reporter's lookups that ask Discord are limited (answers from the cache are free);
    another reporter has their own budget; a minute later the reporter may look up again."""
    clock = Clock()
    http = FakeHttp({1001: {REPORTER, 3000, 3001, 3002, 3003}, 1002: {4000, 3000}})
    servers = MutualServers(clock=clock, budget=LookupBudget(count=3, per=60, clock=clock))
    for author in (3000, 3001, 3002):
        assert (await servers.between(bot(http), REPORTER, author)).status is LookupStatus.COMPLETE
    assert (await servers.between(bot(http), REPORTER, 3000)).status is LookupStatus.COMPLETE
    asked = len(http.lookups)
    limited = await servers.between(bot(http), REPORTER, 3003)
    assert limited.servers == () and limited.status is LookupStatus.LIMITED
    assert len(http.lookups) == asked  # nothing was asked
    assert (await servers.between(bot(http), 4000, 3000)).status is LookupStatus.COMPLETE
    clock.now = 59
    assert (await servers.between(bot(http), REPORTER, 3003)).status is LookupStatus.LIMITED
    clock.now = 61
    assert ids(await servers.between(bot(http), REPORTER, 3003)) == [1001]


async def test_members_of_cancels_the_other_lookup_when_one_fails():
    """The reporter is not in the server: the author's (slow) lookup is cancelled, not left
    running with its exception never retrieved."""
    http = FakeHttp({1001: {AUTHOR}})
    failing = FailingFirst(http, fails=REPORTER)
    assert await members_of(bot(failing), 1001, REPORTER, AUTHOR) is None
    assert failing.cancelled == [AUTHOR]


async def test_members_of_names_the_server_from_the_cache_or_discord():
    http = FakeHttp({1001: {REPORTER, AUTHOR}})
    cached = await members_of(bot(http, {1001: "Harbour"}), 1001, REPORTER, AUTHOR)
    assert cached is not None and cached.server_name == "Harbour"
    assert http.names_asked == []
    # Not in this process's cache (another shard's server): asked through the API.
    fetched = await members_of(bot(http), 1001, REPORTER, AUTHOR)
    assert fetched is not None and fetched.server_name == "Server 001"
    assert http.names_asked == [1001]


class FailingFirst:
    """One user's lookup fails at once (404), the other's never answers: a TaskGroup must
    cancel the hanging one."""

    def __init__(self, http: FakeHttp, fails: int) -> None:
        self.http, self.fails = http, fails
        self.cancelled: list[int] = []

    async def get_guild(self, guild_id: int) -> dict[str, Any]:
        return await self.http.get_guild(guild_id)

    async def get_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        if user_id == self.fails:
            await asyncio.sleep(0.01)
            raise not_found()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.append(user_id)
            raise
        return {}
