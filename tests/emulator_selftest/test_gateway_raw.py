"""Raw gateway protocol checks (zlib-stream framing, IDENTIFY/READY, op 8 chunks, heartbeats)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp

from emulator import Emulator


class _Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.inflator = zlib.decompressobj()

    async def recv(self) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        assert msg.data.endswith(b"\x00\x00\xff\xff")  # every frame ends in Z_SYNC_FLUSH
        payload: dict[str, Any] = json.loads(self.inflator.decompress(msg.data))
        return payload


async def test_zlib_identify_chunk_heartbeat(emulator: Emulator) -> None:
    url = emulator.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        c = _Client(ws)
        hello = await c.recv()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await c.recv())["op"] == 11
        intents = (1 << 0) | (1 << 1)
        identify = {"token": emulator.token, "intents": intents, "properties": {}, "shard": [0, 1]}
        await ws.send_json({"op": 2, "d": identify})
        ready = await c.recv()
        assert ready["t"] == "READY" and ready["s"] == 1
        assert ready["d"]["resume_gateway_url"] == emulator.gateway_url
        assert ready["d"]["application"]["id"] == str(emulator.world.application_id)
        guilds = [await c.recv(), await c.recv()]
        assert {g["d"]["name"] for g in guilds} == {"Harbour", "Lighthouse"}
        harbour = next(g["d"] for g in guilds if g["d"]["name"] == "Harbour")
        assert harbour["preferred_locale"] == "en-GB"
        assert len(harbour["members"]) == harbour["member_count"] == 11
        await ws.send_json(
            {"op": 8, "d": {"guild_id": harbour["id"], "query": "", "limit": 0, "nonce": "n1"}}
        )
        chunk = await c.recv()
        assert chunk["t"] == "GUILD_MEMBERS_CHUNK" and chunk["d"]["nonce"] == "n1"
        assert len(chunk["d"]["members"]) == 11


async def test_members_intent_filters_guild_create(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as ws,
    ):
        assert json.loads((await ws.receive(timeout=5)).data)["op"] == 10
        identify = {"token": emulator.token, "intents": 1, "properties": {}}
        await ws.send_json({"op": 2, "d": identify})
        await ws.receive(timeout=5)  # READY (plain text frames without compress=)
        guild = json.loads((await ws.receive(timeout=5)).data)["d"]
        assert [m["user"]["id"] for m in guild["members"]] == [str(emulator.world.bot_user.id)]


async def test_bad_token_closes_4004(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url) as ws,
    ):
        await ws.receive(timeout=5)
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 0, "properties": {}}})
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4004
