"""Self-tests for the emulator's OAuth2 (the dashboard's "Sign in with Discord"): authorize,
token, and a user's Bearer token on /users/@me and /users/@me/guilds, with answers checked
against the spec's response schemas."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest_asyncio

from emulator import Emulator

REDIRECT = "http://127.0.0.1:9/callback"


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _authorize_url(emu: Emulator, **overrides: str) -> str:
    query = {
        "client_id": str(emu.world.application_id),
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "identify guilds",
        "state": "s-123",
        **overrides,
    }
    return f"{emu.api_base}/oauth2/authorize?{urlencode(query)}"


def _basic(emu: Emulator, secret: str | None = None) -> dict[str, str]:
    pair = f"{emu.world.application_id}:{secret or emu.oauth.client_secret}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def _code(emu: Emulator, http: aiohttp.ClientSession, user: str) -> str:
    emu.oauth.approve_as(user)
    async with http.get(_authorize_url(emu), allow_redirects=False) as response:
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


async def _token(emu: Emulator, http: aiohttp.ClientSession, code: str) -> aiohttp.ClientResponse:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    return await http.post(emu.api_base + "/oauth2/token", data=form, headers=_basic(emu))


async def test_code_flow_signs_a_cast_member_in(emulator: Emulator, http) -> None:
    emulator.oauth.register_redirect(REDIRECT)
    code = await _code(emulator, http, "maya")
    async with await _token(emulator, http, code) as response:
        assert response.status == 200
        grant = await response.json()
    assert grant["token_type"] == "Bearer" and grant["scope"] == "guilds identify"
    bearer = {"Authorization": f"Bearer {grant['access_token']}"}
    async with http.get(emulator.api_base + "/users/@me", headers=bearer) as response:
        me = await response.json()
    assert me["id"] == str(emulator.world.users["maya"].id)
    assert emulator.spec.validate_schema("UserPIIResponse", me) is None
    async with http.get(emulator.api_base + "/users/@me/guilds", headers=bearer) as response:
        guilds = await response.json()
    assert [g["name"] for g in guilds] == ["Harbour"]  # maya is in Harbour only
    for guild in guilds:
        assert emulator.spec.validate_schema("MyGuildResponse", guild) is None
    assert guilds[0]["owner"] is False


async def test_a_code_is_good_once_and_for_its_redirect_only(emulator: Emulator, http) -> None:
    emulator.oauth.register_redirect(REDIRECT)
    code = await _code(emulator, http, "olivia")
    async with await _token(emulator, http, code) as response:
        assert response.status == 200
    async with await _token(emulator, http, code) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_grant"
    other = await _code(emulator, http, "olivia")
    form = {"grant_type": "authorization_code", "code": other, "redirect_uri": REDIRECT + "x"}
    async with http.post(
        emulator.api_base + "/oauth2/token", data=form, headers=_basic(emulator)
    ) as response:
        assert (await response.json())["error"] == "invalid_grant"
    assert not emulator.violations


async def test_wrong_secret_is_an_invalid_client(emulator: Emulator, http) -> None:
    emulator.oauth.register_redirect(REDIRECT)
    code = await _code(emulator, http, "olivia")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    async with http.post(
        emulator.api_base + "/oauth2/token", data=form, headers=_basic(emulator, "guess")
    ) as response:
        assert response.status == 401


async def test_bad_authorize_requests_are_violations(emulator: Emulator, http) -> None:
    emulator.oauth.register_redirect(REDIRECT)
    emulator.oauth.approve_as("olivia")
    for bad in (
        {"client_id": "1"},
        {"redirect_uri": "https://elsewhere.example/cb"},
        {"response_type": "token"},
        {"scope": "identify bogus"},
    ):
        async with http.get(_authorize_url(emulator, **bad), allow_redirects=False) as response:
            assert response.status == 400
    assert len(emulator.violations) == 4
    emulator.violations.clear()  # expected here: the fixture would fail the test


async def test_consent_page_without_an_approver(emulator: Emulator, http) -> None:
    emulator.oauth.register_redirect(REDIRECT)
    async with http.get(_authorize_url(emulator), allow_redirects=False) as response:
        assert response.status == 200
        assert "maya" in await response.text()
    form = {**parse_qs(urlsplit(_authorize_url(emulator)).query), "deny": "1"}
    flat = {k: v[0] if isinstance(v, list) else v for k, v in form.items()}
    async with http.post(
        emulator.api_base + "/oauth2/authorize", data=flat, allow_redirects=False
    ) as response:
        query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s-123"]


async def test_bearer_tokens_open_only_their_routes_and_scopes(emulator: Emulator, http) -> None:
    only_identify = emulator.oauth.issue_token("alice", ("identify",))
    bearer = {"Authorization": f"Bearer {only_identify}"}
    async with http.get(emulator.api_base + "/users/@me", headers=bearer) as response:
        assert response.status == 200
    async with http.get(emulator.api_base + "/users/@me/guilds", headers=bearer) as response:
        assert response.status == 401  # no "guilds" scope
    full = {"Authorization": f"Bearer {emulator.oauth.issue_token('alice')}"}
    guild = emulator.world.guild_a.id
    async with http.get(f"{emulator.api_base}/guilds/{guild}", headers=full) as response:
        assert response.status == 401  # a user's token is no bot token
    async with http.get(
        emulator.api_base + "/users/@me", headers={"Authorization": "Bearer forged"}
    ) as response:
        assert response.status == 401
    async with http.get(emulator.api_base + "/users/@me/guilds", headers=full) as response:
        names = sorted(g["name"] for g in await response.json())
    assert names == ["Harbour", "Lighthouse"]
