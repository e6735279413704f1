"""Sign in with Discord: the authorization-code grant, as a confidential client.

The access token is used twice, right after the exchange (who the user is, which servers they
are in), and then dropped: nothing else is asked of Discord on the user's behalf, and no token
is stored. Which of those servers the user may moderate is decided by the bot, per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from dashboard.config import SCOPES, DashboardConfig

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=10)


class SignInFailed(Exception):
    """Discord refused the code or could not be reached (str(): for the log, no secrets)."""


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: int
    name: str
    locale: str | None
    guild_ids: tuple[int, ...]


class OAuthClient:
    def __init__(self, config: DashboardConfig) -> None:
        self._config = config

    def authorize_url(self, state: str) -> str:
        query = {
            "client_id": str(self._config.client_id),
            "redirect_uri": self._config.redirect_uri,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "state": state,
            "prompt": "none",
        }
        return f"{self._config.authorize_url}?{urlencode(query)}"

    async def sign_in(self, code: str) -> SignedInUser:
        config = self._config
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_uri,
        }
        auth = aiohttp.BasicAuth(str(config.client_id), config.client_secret)
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            try:
                async with http.post(
                    config.api_base + "/oauth2/token", data=form, auth=auth
                ) as response:
                    grant: Any = await response.json(content_type=None)
                    if response.status != 200 or not isinstance(grant, dict):
                        raise SignInFailed(f"token exchange answered {response.status}")
                token = str(grant.get("access_token", ""))
                headers = {"Authorization": f"Bearer {token}"}
                me = await _get(http, config.api_base + "/users/@me", headers)
                guilds = await _get(http, config.api_base + "/users/@me/guilds", headers)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                raise SignInFailed(type(error).__name__) from None
        if not isinstance(me, dict) or not str(me.get("id", "")).isdigit():
            raise SignInFailed("no user in /users/@me")
        ids = tuple(
            int(g["id"])
            for g in (guilds if isinstance(guilds, list) else [])
            if isinstance(g, dict) and str(g.get("id", "")).isdigit()
        )
        name = str(me.get("global_name") or me.get("username") or me["id"])
        locale = me.get("locale") if isinstance(me.get("locale"), str) else None
        return SignedInUser(int(me["id"]), name, locale, ids)


async def _get(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> Any:
    async with http.get(url, headers=headers) as response:
        if response.status != 200:
            raise SignInFailed(f"{url.rsplit('/', 1)[-1]} answered {response.status}")
        return await response.json(content_type=None)
