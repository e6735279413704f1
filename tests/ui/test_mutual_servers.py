"""The servers a DM report may go to: looked up through the API, cached briefly, bounded."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from ui import mutual_servers
from ui.mutual_servers import MAX_SERVERS, MutualServers, SharedServer, members_of

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

    async def get_guilds(self, limit: int, after: int | None = None, **_: Any) -> list[Any]:
        self.listings += 1
        ids = sorted(g for g in self.guilds if after is None or g > after)[:limit]
        return [{"id": str(g), "name": f"Server {g % 1000:03d}"} for g in ids]

    async def get_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        self.lookups.append((guild_id, user_id))
        if guild_id in self.slow:
            await asyncio.sleep(30)
        if guild_id in self.fail:
            raise discord.HTTPException(SimpleNamespace(status=500, reason="x"), "boom")
        if user_id not in self.guilds.get(guild_id, set()):
            raise not_found()
        return {
            "user": {"id": str(user_id), "username": f"u{user_id}", "global_name": None},
            "nick": "Nick" if user_id == REPORTER else None,
            "joined_at": "2025-01-01T00:00:00+00:00",
        }


def bot(http: FakeHttp) -> Any:
    return SimpleNamespace(http=http)


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
    assert found == (SharedServer(1001, "Server 001"), SharedServer(1003, "Server 003"))
    # The author is asked first; the reporter only where the author is a member.
    assert (1002, REPORTER) not in http.lookups
    calls = len(http.lookups)
    assert await servers.between(bot(http), REPORTER, AUTHOR) == found
    assert len(http.lookups) == calls and http.listings == 1
    assert servers.name_of(1003) == "Server 003"
    clock.now = 61
    http.guilds[1002].add(AUTHOR)
    again = await servers.between(bot(http), REPORTER, AUTHOR)
    assert [s.id for s in again] == [1001, 1002, 1003]
    assert http.listings == 2


async def test_a_server_that_answers_late_is_left_out_and_nothing_is_cached():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1001: both, 1002: both}, slow={1002})
    servers = MutualServers()
    found = await servers.between(bot(http), REPORTER, AUTHOR, deadline=0.2)
    assert [s.id for s in found] == [1001]
    http.slow.clear()
    assert [s.id for s in await servers.between(bot(http), REPORTER, AUTHOR)] == [1001, 1002]


async def test_an_api_error_leaves_that_server_out_uncached():
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1001: both, 1002: both})
    http.fail.add(1002)
    servers = MutualServers()
    assert [s.id for s in await servers.between(bot(http), REPORTER, AUTHOR)] == [1001]
    http.fail.clear()
    assert len(await servers.between(bot(http), REPORTER, AUTHOR)) == 2


async def test_at_most_24_servers_and_every_page_of_the_listing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(mutual_servers, "LIST_LIMIT", 7)
    both = {REPORTER, AUTHOR}
    http = FakeHttp({1000 + n: both for n in range(30)})
    found = await MutualServers().between(bot(http), REPORTER, AUTHOR, deadline=5)
    assert len(found) == MAX_SERVERS == 24
    assert [s.id for s in found] == [1000 + n for n in range(24)]
    assert http.listings == 5  # 7 + 7 + 7 + 7 + 2


async def test_members_of_checks_both_now():
    http = FakeHttp({1001: {REPORTER, AUTHOR}, 1002: {REPORTER}})
    pair = await members_of(bot(http), 1001, REPORTER, AUTHOR)
    assert pair is not None
    reporter, author = pair
    assert (reporter.id, reporter.name, author.name) == (REPORTER, "Nick", f"u{AUTHOR}")
    assert reporter.joined_at is not None and not author.is_bot
    assert await members_of(bot(http), 1002, REPORTER, AUTHOR) is None
    assert await members_of(bot(http), 0, REPORTER, AUTHOR) is None
    http.fail.add(1001)
    with pytest.raises(discord.HTTPException):
        await members_of(bot(http), 1001, REPORTER, AUTHOR)
