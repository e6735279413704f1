"""Helpers for the dashboard's end-to-end tests: a Vigil with the dashboard on, and a
cookie-keeping HTTP client that signs in through the emulator's OAuth2 as a cast member."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.e2e.conftest import Vigil
from tests.ports import free_port

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def start_with_dashboard(vigil: Vigil, **env: str) -> str:
    """Start Vigil with the dashboard on; returns its base URL (registered with the
    emulator's OAuth2 as the redirect's site)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    vigil.emu.oauth.register_redirect(base + "/callback")
    await vigil.start(
        DASHBOARD_PORT=str(port),
        DISCORD_CLIENT_SECRET=vigil.emu.oauth.client_secret,
        **env,
    )
    assert vigil.proc is not None
    await vigil.proc.wait_for_log("dashboard on http://127.0.0.1:")
    return base


async def start_shards_with_dashboard_elsewhere(
    emu: Any, bot_factory: Any, database_url: str
) -> tuple[Any, str]:
    """Two shard processes on one database, the dashboard in the one that does NOT hold the
    emulator's first server (its cache has no such server: what it shows and does there is
    asked of Discord). Returns that process and the dashboard's base URL."""
    owner = (emu.world.guild_a.id >> 22) % 2
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emu.oauth.register_redirect(base + "/callback")
    for shard in (owner, 1 - owner):
        env = {"DATABASE_URL": database_url, "SHARD_COUNT": "2", "SHARD_IDS": str(shard)}
        if shard != owner:
            env |= {"DASHBOARD_PORT": str(port), "DISCORD_CLIENT_SECRET": emu.oauth.client_secret}
        web = await bot_factory(env=env, ready_timeout=20.0)
    await web.wait_for_log("dashboard on http://127.0.0.1:")
    return web, base


class Client:
    """One browser: its own cookies, redirects followed by hand (so tests see each step)."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def get(self, path: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
        url = path if path.startswith("http") else self.base + path
        async with self.http.get(url, allow_redirects=False, **kw) as response:
            raw = await response.read()
            return response.status, raw.decode("utf-8", "replace"), response

    async def post(
        self, path: str, data: dict[str, str], *, csrf_from: str | None = None, **kw: Any
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        if csrf_from is not None:
            data = {"csrf": self.csrf(csrf_from), **data}
        async with self.http.post(
            self.base + path, data=data, allow_redirects=False, **kw
        ) as response:
            raw = await response.read()
            return response.status, raw.decode("utf-8", "replace"), response

    def csrf(self, page: str) -> str:
        found = CSRF.search(page)
        assert found, "no CSRF token on the page"
        return found.group(1)

    async def sign_in(self, vigil: Vigil, user: str) -> str:
        """The whole OAuth2 dance as `user`; returns the page after it (the server list)."""
        vigil.emu.oauth.approve_as(user)
        status, _, login = await self.get("/login")
        assert status == 302
        location = login.headers["Location"]
        status, _, authorize = await self.get(location)
        assert status == 302, "the emulator approves and redirects back"
        status, body, callback = await self.get(authorize.headers["Location"])
        assert status == 302 and callback.headers["Location"] == "/", body
        status, page, _ = await self.get("/")
        assert status == 200
        return page

    async def callback_url(self, vigil: Vigil, user: str) -> str:
        """Start a sign-in and get Discord's redirect back, without following it."""
        vigil.emu.oauth.approve_as(user)
        _, _, login = await self.get("/login")
        _, _, authorize = await self.get(login.headers["Location"])
        return str(authorize.headers["Location"])


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@asynccontextmanager
async def browser(base: str) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Client(http, base)
