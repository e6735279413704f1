"""The requests every report makes to Discord, sent lean: the first answer and the follow-up.

What it replaces, and why (benchmarks/RESULTS.md, issue 19): discord.py's
`InteractionResponse.defer` asks Discord to send the new message back (`with_response`) and
parses it into a Message; its follow-up always waits for the message and parses it too (its
components and every option of the country menu), and each request builds a Route, a
per-webhook lock and a query string. In a storm of a thousand reports that was about a fifth
of the bot's CPU, spent on answers nobody reads. Here each is one POST of a JSON body with
nothing to parse.

They go through a session of Vigil's own (traced like discord.py's, for the answer-time
metric), so nothing here depends on discord.py's HTTP internals.

Failures keep discord.py's semantics: a 429 from Discord (with a `Via` header; without one it
is Cloudflare's) waits for `retry_after`, a 5xx retries after 1, 3, 5, 7 s (as discord.py's
webhook adapter does); anything else raises the exception
discord.py would raise (`discord.NotFound` for an expired interaction, ...). After a
successful first answer the interaction's `response.is_done()` is true, exactly as after
discord.py's own call, so every later reply knows to follow up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import discord
from discord.enums import InteractionResponseType

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json"}
EPHEMERAL = 64
ATTEMPTS = 5  # as discord.py's webhook adapter

DEFERRED_MESSAGE = InteractionResponseType.deferred_channel_message
CHANNEL_MESSAGE = InteractionResponseType.channel_message


class InteractionHTTP:
    """A session of Vigil's own for these requests, opened on first use, closed by VigilBot."""

    def __init__(self, trace: aiohttp.TraceConfig | None = None) -> None:
        self._trace = trace
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No connection limit, as discord.py's own session: a first answer must never
            # wait for a connection (a pool of N answers at most N per round trip, and in a
            # storm the round trip is long). Idle connections are kept and reused.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                trace_configs=[self._trace] if self._trace is not None else None,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def defer(self, interaction: discord.Interaction[Any]) -> None:
        """The ephemeral "thinking..." answer (type 5), like `response.defer(ephemeral=True,
        thinking=True)`."""
        body = {"type": DEFERRED_MESSAGE.value, "data": {"flags": EPHEMERAL}}
        await self._post(_callback_url(interaction), body)
        _mark_answered(interaction, DEFERRED_MESSAGE)

    async def respond(self, interaction: discord.Interaction[Any], message: dict[str, Any]) -> None:
        """The answer itself (type 4); `message` as `private_message` builds it."""
        body = {"type": CHANNEL_MESSAGE.value, "data": message}
        await self._post(_callback_url(interaction), body)
        _mark_answered(interaction, CHANNEL_MESSAGE)

    async def follow_up(
        self, interaction: discord.Interaction[Any], message: dict[str, Any]
    ) -> None:
        """A follow-up message (after a deferral it replaces "thinking..."); not waited for."""
        url = f"{discord.http.Route.BASE}/webhooks/{interaction.application_id}/{interaction.token}"
        await self._post(url, message)

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
        session = self.session()
        for attempt in range(ATTEMPTS):
            async with session.post(url, data=data, headers=JSON_HEADERS) as response:
                if 200 <= response.status < 300:
                    return
                answer = await discord.http.json_or_text(response)
                if response.status == 429 and not response.headers.get("Via"):
                    raise discord.HTTPException(response, answer)  # not Discord: Cloudflare
                if response.status == 429 and isinstance(answer, dict) and attempt + 1 < ATTEMPTS:
                    delay = float(answer.get("retry_after", 1.0))
                    log.warning("interaction request rate limited; retrying in %.2fs", delay)
                    await asyncio.sleep(delay)
                    continue
                if response.status >= 500 and attempt + 1 < ATTEMPTS:
                    await asyncio.sleep(1 + attempt * 2)
                    continue
                if response.status == 403:
                    raise discord.Forbidden(response, answer)
                if response.status == 404:
                    raise discord.NotFound(response, answer)
                if response.status >= 500:
                    raise discord.DiscordServerError(response, answer)
                raise discord.HTTPException(response, answer)


def private_message(
    content: str | None,
    embeds: list[dict[str, Any]],
    components: list[dict[str, Any]],
    allowed_mentions: dict[str, Any],
) -> dict[str, Any]:
    """An ephemeral message body: what discord.py sends for `ephemeral=True`."""
    message: dict[str, Any] = {
        "content": content or "",
        "embeds": embeds,
        "flags": EPHEMERAL,
        "allowed_mentions": allowed_mentions,
    }
    if components:
        message["components"] = components
    return message


def _callback_url(interaction: discord.Interaction[Any]) -> str:
    return f"{discord.http.Route.BASE}/interactions/{interaction.id}/{interaction.token}/callback"


def _mark_answered(interaction: discord.Interaction[Any], kind: InteractionResponseType) -> None:
    """What discord.py's own response methods record, so `response.is_done()` is true.
    The one private attribute used here; tests/ui/test_discord_contract.py checks it."""
    interaction.response._response_type = kind
