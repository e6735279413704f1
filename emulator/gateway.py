"""The gateway websocket: HELLO/IDENTIFY/READY, heartbeats, RESUME with replay, op 7/9, chunks.

Sessions outlive connections so a RESUME after op 7 or a 4000 close replays exactly the events
the bot missed, as Discord does. Compression honours ``compress=zlib-stream`` (a shared zlib
context, each frame ending in Z_SYNC_FLUSH); anything else gets plain text frames, which
discord.py accepts (it only decompresses ``bytes`` frames).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger("emulator.gateway")

HEARTBEAT_INTERVAL_MS = 41_250

GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15

_MEMBER_EVENTS = {"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"}
_BAN_EVENTS = {"GUILD_BAN_ADD", "GUILD_BAN_REMOVE"}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"}


def apply_intents(event: str, data: Any, intents: int, bot_id: int) -> Any | None:
    """Filter/strip a dispatch like Discord does for the session's intents (None = not sent).

    GUILD_CREATE carries only the bot's own member without GUILD_MEMBERS, and message
    content/embeds/attachments/components are blanked without MESSAGE_CONTENT unless the
    message is the bot's own, mentions the bot, or is a DM.
    """
    if event in _MEMBER_EVENTS and not intents & GUILD_MEMBERS:
        return None
    if event in _BAN_EVENTS and not intents & GUILD_MODERATION:
        return None
    if event in _MESSAGE_EVENTS and isinstance(data, dict):
        needed = GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES
        if not intents & needed:
            return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not intents & MESSAGE_CONTENT:
            author = (data.get("author") or {}).get("id")
            mentioned = any(m.get("id") == str(bot_id) for m in data.get("mentions") or [])
            if data.get("guild_id") and author != str(bot_id) and not mentioned:
                data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
    if event == "GUILD_CREATE" and not intents & GUILD_MEMBERS and isinstance(data, dict):
        data = {
            **data,
            "members": [m for m in data["members"] if m["user"]["id"] == str(bot_id)],
        }
    return data


@dataclass
class GatewaySession:
    """A gateway session (survives reconnects until invalidated)."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    compressor: Any = None
    valid: bool = True
    ready_sent: bool = False
    identify_payload: dict[str, Any] = field(default_factory=dict)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns_guild(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.shard_count == self.shard_id

    async def send_raw(self, payload: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None or ws.closed:
            return
        text = json.dumps(payload, separators=(",", ":"))
        async with self.send_lock:
            try:
                if self.compressor is not None:
                    data = self.compressor.compress(text.encode()) + self.compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await ws.send_bytes(data)
                else:
                    await ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("send on closed gateway socket dropped: %s", exc)

    async def dispatch(self, event: str, data: Any, bot_id: int = 0) -> int:
        """Assign the next sequence number, buffer for resume, and send if connected."""
        if bot_id:
            data = apply_intents(event, data, self.intents, bot_id)
            if data is None:
                return self.seq
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        if len(self.buffer) > 1000:
            del self.buffer[:-1000]
        await self.send_raw(payload)
        return self.seq


class Gateway:
    """Gateway endpoint and session registry for one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.sessions: dict[str, GatewaySession] = {}
        #: (monotonic time, kind, detail) for IDENTIFY / RESUME / READY / RESUMED / close...
        self.log: list[tuple[float, str, Any]] = []
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS

    # -- introspection -----------------------------------------------------------------------
    def count(self, kind: str) -> int:
        return sum(1 for _, k, _ in self.log if k == kind)

    def _note(self, kind: str, detail: Any = None) -> None:
        self.log.append((time.monotonic(), kind, detail))
        self.emu.waiters.notify()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.valid]

    @property
    def ready(self) -> bool:
        return any(s.ready_sent for s in self.live_sessions)

    # -- dispatch ----------------------------------------------------------------------------
    async def dispatch(self, event: str, data: Any, guild_id: int | None = None) -> None:
        """Send a dispatch event to every valid session (that owns ``guild_id``, if given)."""
        for s in self.live_sessions:
            if guild_id is None or s.owns_guild(guild_id):
                await s.dispatch(event, data, self.emu.world.bot_user.id)

    # -- faults ------------------------------------------------------------------------------
    async def reconnect(self) -> None:
        """Send op 7 RECONNECT on every connected session."""
        for s in self.live_sessions:
            await s.send_raw({"op": 7, "d": None})
        self._note("op7")

    async def close(self, code: int = 4000) -> None:
        """Close every connected socket with ``code`` (sessions stay resumable)."""
        for s in self.live_sessions:
            if s.ws is not None and not s.ws.closed:
                await s.ws.close(code=code, message=b"emulator close")
        self._note("close", code)

    async def invalid_session(self, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` the session is dropped and the bot must IDENTIFY."""
        for s in self.live_sessions:
            if not resumable:
                s.valid = False
            await s.send_raw({"op": 9, "d": resumable})
        self._note("op9", resumable)

    # -- connection handling -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        compressor = None
        if request.query.get("compress") == "zlib-stream":
            compressor = zlib.compressobj()
        conn = _Connection(self, ws, compressor)
        self._note("connect", dict(request.query))
        try:
            await conn.run()
        finally:
            self._note("disconnect", ws.close_code)
        return ws

    async def _send_ready(self, s: GatewaySession) -> None:
        world = self.emu.world
        guild_ids = [
            gid
            for gid, g in world.guilds.items()
            if world.bot_user.id in g.members and s.owns_guild(gid)
        ]
        ready = {
            "v": 10,
            "user": {**world.bot_user.payload(), "verified": True, "mfa_enabled": False},
            "user_settings": {},
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "session_type": "normal",
            "session_id": s.session_id,
            "resume_gateway_url": self.emu.gateway_url,
            "shard": [s.shard_id, s.shard_count],
            "application": {"id": str(world.application_id), "flags": 1 << 23},
            "auth": {},
        }
        await s.dispatch("READY", ready)
        self._note("READY", s.session_id)
        for gid in guild_ids:
            await s.dispatch("GUILD_CREATE", world.guilds[gid].payload(), world.bot_user.id)
        s.ready_sent = True
        self._note("GUILD_CREATE_DONE", s.session_id)


class _Connection:
    """One websocket connection; binds to a session after IDENTIFY or RESUME."""

    def __init__(self, gw: Gateway, ws: web.WebSocketResponse, compressor: Any) -> None:
        self.gw = gw
        self.ws = ws
        self.compressor = compressor
        self.session: GatewaySession | None = None

    async def send(self, payload: dict[str, Any]) -> None:
        tmp = GatewaySession("", 0, 1, 0, ws=self.ws, compressor=self.compressor)
        await tmp.send_raw(payload)

    async def run(self) -> None:
        await self.send({"op": 10, "d": {"heartbeat_interval": self.gw.heartbeat_interval_ms}})
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    await self.ws.close(code=4002, message=b"Error while decoding payload.")
                break
            try:
                payload = json.loads(msg.data)
            except ValueError:
                await self.ws.close(code=4002, message=b"Error while decoding payload.")
                break
            await self.on_payload(payload)
        if self.session is not None and self.session.ws is self.ws:
            self.session.ws = None

    async def on_payload(self, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            await self.send({"op": 11})
        elif op == 2:
            await self.identify(data or {})
        elif op == 6:
            await self.resume(data or {})
        elif op == 8:
            await self.request_members(data or {})
        elif op in (3, 4):
            self.gw._note(f"op{op}", data)
        else:
            await self.ws.close(code=4001, message=b"Unknown opcode.")

    async def identify(self, data: dict[str, Any]) -> None:
        if self.session is not None:
            await self.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") not in (self.gw.emu.world.token, f"Bot {self.gw.emu.world.token}"):
            await self.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or [0, 1]
        # A new IDENTIFY for a shard supersedes older sessions of that shard.
        for old in self.gw.live_sessions:
            if old.shard_id == shard_id:
                old.valid = False
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            shard_id=int(shard_id),
            shard_count=int(shard_count),
            intents=int(data.get("intents", 0)),
            ws=self.ws,
            compressor=self.compressor,
            identify_payload=data,
        )
        self.gw.sessions[session.session_id] = session
        self.session = session
        self.gw._note("IDENTIFY", {"shard": [shard_id, shard_count], "intents": session.intents})
        await self.gw._send_ready(session)

    async def resume(self, data: dict[str, Any]) -> None:
        session = self.gw.sessions.get(str(data.get("session_id")))
        token_ok = data.get("token") in (self.gw.emu.world.token, f"Bot {self.gw.emu.world.token}")
        if session is None or not session.valid or not token_ok:
            self.gw._note("RESUME_REJECTED", data.get("session_id"))
            await self.send({"op": 9, "d": False})
            return
        if session.ws is not None and not session.ws.closed and session.ws is not self.ws:
            await session.ws.close(code=4000)
        session.ws = self.ws
        session.compressor = self.compressor
        self.session = session
        last = int(data.get("seq") or 0)
        self.gw._note("RESUME", {"session_id": session.session_id, "seq": last})
        for payload in list(session.buffer):
            if payload["s"] > last:
                await session.send_raw(payload)
        await session.dispatch("RESUMED", {})
        self.gw._note("RESUMED", session.session_id)

    async def request_members(self, data: dict[str, Any]) -> None:
        if self.session is None:
            await self.ws.close(code=4003, message=b"Not authenticated.")
            return
        world = self.gw.emu.world
        gids = data.get("guild_id")
        gid_list = gids if isinstance(gids, list) else [gids]
        for gid in gid_list:
            guild = world.guilds.get(int(gid or 0))
            if guild is None:
                continue
            members = list(guild.members.values())
            query = data.get("query")
            user_ids = data.get("user_ids")
            if user_ids:
                wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
                members = [m for m in members if m.id in wanted]
            elif query:
                members = [m for m in members if m.user.username.startswith(query)]
            limit = data.get("limit") or 0
            if limit:
                members = members[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            await self.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        self.gw._note("op8", data)
