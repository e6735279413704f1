"""The Emulator: an aiohttp app serving Discord's REST API v10 and gateway on 127.0.0.1.

Every request is recorded, matched to a spec route, validated against the official OpenAPI
schema, checked against injected faults and only then handled. Violations are answered with
400 (as Discord would) and collected so the pytest fixture can fail the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from .builders import InteractionBuilder
from .cast import build_default_world
from .faults import Faults
from .gateway import Gateway
from .interactions import InteractionRecord, InteractionRegistry, InteractionResult
from .limits import limits_error
from .models import Channel, Guild, Member, User
from .oauth import OAuth2
from .recording import ApiError, RecordedRequest, Violation
from .rest import HANDLERS, NONCE_WINDOW_S, UNAUTHENTICATED, Call
from .spec import Spec, load_spec
from .waiters import Waiters
from .world import HAS_THREAD, Attachment, World

log = logging.getLogger("emulator")

API_PREFIX = "/api/v10"

#: Routes where discord.py 2.7 sends the documented JSON body fields as query parameters and
#: no body (Discord still accepts this legacy form). The query is validated *as the body*
#: against the route's body schema instead; see README "Deviations".
QUERY_AS_BODY = {("PUT", "/guilds/{guild_id}/bans/{user_id}")}


class Emulator:
    """An offline Discord for one test. Start with ``await emu.start()`` (or the fixture)."""

    def __init__(
        self,
        world: World | None = None,
        *,
        spec: Spec | None = None,
        spec_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world or build_default_world()
        self.spec = spec or load_spec(spec_path)
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        #: Contents of files the bot uploaded, by file name (e.g. an export), for inspection.
        self.uploads: dict[str, bytes] = {}
        self.violations: list[Violation] = []
        #: Spec-known routes the emulator does not implement (answered 404).
        self.unhandled: list[RecordedRequest] = []
        self.faults = Faults(frozenset(self.spec.doc["paths"]))
        self.waiters = Waiters()
        self.gateway = Gateway(self)
        self.interactions = InteractionRegistry()
        self.build = InteractionBuilder(self)
        #: Discord's OAuth2 (authorize, token, Bearer access): see oauth.py.
        self.oauth = OAuth2(self)
        #: Registered application commands: key 0 = global, else guild id.
        self.commands: dict[int, list[dict[str, Any]]] = {}
        self.kicks: list[tuple[int, int, str | None]] = []
        self.deleted_messages: list[dict[str, Any]] = []
        #: User ids whose DMs are closed (POST to their DM channel -> 50007).
        self.dm_closed: set[int] = set()
        #: (channel id, author id, nonce) -> (message id, monotonic time) for enforce_nonce.
        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        #: Seconds an enforced nonce is remembered (Discord: "the past few minutes"); a test
        #: sets it lower to play a restart slower than the window.
        self.nonce_window = NONCE_WINDOW_S
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> Emulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.oauth.add_routes(app, API_PREFIX)  # before the catch-all: not in the spec
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/", self.gateway.handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        for s in self.gateway.sessions.values():
            if s.ws is not None and not s.ws.closed:
                await s.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` / ``DISCORD_API_BASE_URL``."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def token(self) -> str:
        return self.world.token

    # -- commands ----------------------------------------------------------------------------
    def all_commands(self) -> list[dict[str, Any]]:
        return [c for cmds in self.commands.values() for c in cmds]

    def find_command(
        self, name: str, ctype: int = 1, guild_id: int | None = None
    ) -> dict[str, Any] | None:
        """A registered command by name and type (guild-specific first, then global)."""
        for key in ([guild_id] if guild_id else []) + [0]:
            for c in self.commands.get(key, []):
                if c["name"] == name and int(c["type"]) == ctype:
                    return c
        return None

    # -- waiting -----------------------------------------------------------------------------
    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until a bot session received READY and all its GUILD_CREATEs."""
        await self.waiters.wait_for(lambda: self.gateway.ready, timeout, "gateway READY")

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedRequest:
        """First recorded request (index >= ``since``) matching ``predicate`` once answered."""

        def check() -> RecordedRequest | None:
            for r in self.requests[since:]:
                if r.status is not None and predicate(r):
                    return r
            return None

        return await self.waiters.wait_for(check, timeout, "a matching request")

    async def wait_for_gateway(self, kind: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the gateway log holds ``count`` entries of ``kind`` (IDENTIFY, RESUMED...)."""
        await self.waiters.wait_for(
            lambda: self.gateway.count(kind) >= count, timeout, f"{count}x gateway {kind}"
        )

    def requests_to(self, method: str, template: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.template == template]

    # -- messages ----------------------------------------------------------------------------
    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages currently in a channel, oldest first (edits applied in place)."""
        return list(self.world.messages.get(channel_id, {}).values())

    async def post_user_message(
        self,
        channel: Any,
        author: Any,
        content: str,
        attachments: list[Attachment] | None = None,
    ) -> dict[str, Any]:
        """A user posts a message: stored in the world and dispatched as MESSAGE_CREATE.

        In a DM or group DM between users (``world.dm_between``, ``world.group_dm``) the
        message is only stored: the bot is not in that channel and gets no event for it.
        """
        msg = self.world.create_user_message(channel, author, content, attachments)
        if not self.world.bot_can_access(channel):
            return msg
        gid = msg.get("guild_id")
        await self.gateway.dispatch("MESSAGE_CREATE", msg, int(gid) if gid else None)
        return msg

    # -- threads -----------------------------------------------------------------------------
    def threads(self, channel_id: int) -> list[Channel]:
        """Threads started in a channel (archived ones too), oldest first."""
        return self.world.threads_of(channel_id)

    async def archive_thread(self, thread_id: int, *, locked: bool = False) -> None:
        """Discord archives a thread (inactivity, or a moderator; ``locked``: only members with
        Manage Threads may unarchive it): THREAD_UPDATE dispatched."""
        thread = self.world.thread(thread_id)
        if thread is None:
            raise KeyError(thread_id)
        thread.archived, thread.locked = True, locked
        thread.archived_at = datetime.now(UTC)
        await self.gateway.dispatch("THREAD_UPDATE", thread.thread_payload(), thread.guild_id)

    async def delete_thread(self, thread_id: int) -> None:
        """A moderator deletes a thread: it and its messages are gone (later posts get 404
        10003), its starter message no longer carries it; THREAD_DELETE dispatched."""
        thread = self.world.thread(thread_id)
        if thread is None or thread.guild_id is None:
            raise KeyError(thread_id)
        self.world.guilds[thread.guild_id].threads.pop(thread.id)
        self.world.messages.pop(thread.id, None)
        if thread.parent_id is not None:
            starter = self.world.get_message(thread.parent_id, thread.id)
            if starter is not None:
                starter.pop("thread", None)
                starter["flags"] = int(starter.get("flags") or 0) & ~HAS_THREAD
        await self.gateway.dispatch(
            "THREAD_DELETE",
            {
                "id": str(thread.id),
                "type": thread.type,
                "guild_id": str(thread.guild_id),
                "parent_id": str(thread.parent_id),
            },
            thread.guild_id,
        )
        self.waiters.notify()

    def message_history(self, message_id: int) -> list[dict[str, Any]]:
        """Previous versions of a message (oldest first), one per edit."""
        return list(self.world.edit_history.get(int(message_id), []))

    async def member_join(self, guild: Guild, user: User | str) -> Member:
        """A user joins ``guild`` now: added to the world, GUILD_MEMBER_ADD dispatched."""
        u = self.world.user(user)
        member = Member(user=u, guild_id=guild.id, roles=[], joined_at=datetime.now(UTC))
        guild.members[u.id] = member
        await self.gateway.dispatch(
            "GUILD_MEMBER_ADD", {**member.payload(), "guild_id": str(guild.id)}, guild.id
        )
        return member

    async def member_leave(self, guild: Guild, user: User | str) -> None:
        """A member leaves ``guild``: removed, GUILD_MEMBER_REMOVE dispatched."""
        u = self.world.user(user)
        guild.members.pop(u.id, None)
        await self.gateway.dispatch(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": u.payload()}, guild.id
        )

    # -- interactions ------------------------------------------------------------------------
    async def interact(self, payload: dict[str, Any], timeout: float = 5.0) -> InteractionResult:
        """Dispatch INTERACTION_CREATE and wait for the bot's first callback."""
        rec = self.interactions.register(payload)
        gid = payload.get("guild_id")
        await self.gateway.dispatch("INTERACTION_CREATE", payload, int(gid) if gid else None)
        try:
            await asyncio.wait_for(asyncio.shield(rec.callback), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"bot did not answer interaction {payload.get('data', {}).get('name') or ''}"
                f"{payload.get('data', {}).get('custom_id') or ''} within {timeout}s"
            ) from None
        return InteractionResult(self, rec)

    async def dispatch_interaction(self, payload: dict[str, Any]) -> InteractionRecord:
        """Dispatch without waiting (for tests that expect no or a late answer)."""
        rec = self.interactions.register(payload)
        gid = payload.get("guild_id")
        await self.gateway.dispatch("INTERACTION_CREATE", payload, int(gid) if gid else None)
        return rec

    def expire_interaction(self, token_or_id: str | int) -> None:
        """Expire an interaction token: later callbacks get 10062, webhooks 10015."""
        self.interactions.expire(token_or_id)

    # -- gateway faults ----------------------------------------------------------------------
    async def gateway_reconnect(self) -> None:
        """Send op 7 RECONNECT (the bot must reconnect and RESUME)."""
        await self.gateway.reconnect()

    async def gateway_close(self, code: int = 4000) -> None:
        """Close the gateway socket with ``code`` (4000 => bot resumes)."""
        await self.gateway.close(code)

    async def gateway_invalid_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (non-resumable => bot re-IDENTIFYs)."""
        await self.gateway.invalid_session(resumable)

    async def dispatch(self, event: str, data: Any, guild_id: int | None = None) -> None:
        """Send an arbitrary gateway dispatch event."""
        await self.gateway.dispatch(event, data, guild_id)

    # -- HTTP plumbing -----------------------------------------------------------------------
    async def _read_body(self, request: web.Request) -> tuple[Any, list[str], str | None]:
        """Return (json body or None, attached file names, decode error)."""
        ctype = request.content_type
        if ctype == "multipart/form-data":
            files: list[str] = []
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not use it
                if part.filename:
                    files.append(part.filename)
                    self.uploads[part.filename] = bytes(await part.read())
                elif part.name == "payload_json":
                    text = await part.text()
                    try:
                        body = json.loads(text)
                    except ValueError as exc:
                        return None, files, f"payload_json is not JSON: {exc}"
                else:
                    await part.read()
            return body, files, None
        raw = await request.read()
        if not raw:
            return None, [], None
        if ctype != "application/json":
            return None, [], f"unsupported Content-Type {ctype!r}"
        try:
            return json.loads(raw), [], None
        except ValueError as exc:
            return None, [], f"body is not JSON: {exc}"

    def _violate(self, rec: RecordedRequest, message: str) -> web.Response:
        v = Violation(rec.method, rec.path, rec.template, message)
        self.violations.append(v)
        log.error("spec violation: %s", v)
        body = {"code": 50035, "message": "Invalid Form Body", "errors": {"_emulator": message}}
        return self._finish(rec, 400, body)

    def _finish(
        self, rec: RecordedRequest, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> web.Response:
        rec.status = status
        rec.response = body
        self.waiters.notify()
        hdrs = {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": f"emu-{abs(hash((rec.method, rec.template))) % 10**8:x}",
        }
        hdrs.update(headers or {})
        if body is None:
            return web.Response(status=status, headers=hdrs)
        # Exactly "application/json" (no charset): discord.py compares the header verbatim.
        hdrs["Content-Type"] = "application/json"
        return web.Response(body=json.dumps(body).encode(), status=status, headers=hdrs)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        body, files, decode_error = await self._read_body(request)
        match = self.spec.match(method, path)
        rec = RecordedRequest(
            method=method,
            path=path,
            template=match.template if match else None,
            params=match.params if match else {},
            query=dict(request.query),
            body=body,
            timestamp=time.monotonic(),
            headers={k: v for k, v in request.headers.items()},
            files=files,
        )
        self.requests.append(rec)
        if match is None:
            return self._violate(rec, f"no route {path} in Discord's OpenAPI spec")
        if method not in match.methods:
            return self._violate(
                rec, f"{method} not allowed on {match.template} (spec has {sorted(match.methods)})"
            )
        if decode_error:
            return self._violate(rec, decode_error)
        query = dict(request.query)
        if body is None and (method, match.template) in QUERY_AS_BODY and query:
            body = {k: int(v) if v.lstrip("-").isdigit() else v for k, v in query.items()}
            query = {}
        error = self.spec.validate_body(method, match.template, body) or limits_error(body)
        if error:
            return self._violate(rec, error)
        query_error = self._check_query(method, match.template, query)
        if query_error:
            return self._violate(rec, query_error)
        needs_auth = not any(match.template.startswith(p) for p in UNAUTHENTICATED)
        authorization = request.headers.get("Authorization")
        user: User | None = None
        if needs_auth and authorization != f"Bot {self.world.token}":
            # A user's OAuth2 token opens only the routes the spec lets it (scope by scope).
            scopes = self.spec.oauth_scopes(method, match.template)
            user = self.oauth.bearer_user(authorization, scopes) if scopes else None
            if user is None:
                return self._finish(rec, 401, {"code": 0, "message": "401: Unauthorized"})
        fault = self.faults.check(method, match.template, match.params, rec)
        if fault is not None:
            rec.fault = True
            if fault.disconnect and request.transport is not None:
                rec.status = 0  # no answer: the connection is dropped
                self.waiters.notify()
                request.transport.abort()
                return web.Response(status=500)  # never reaches the client
            return self._finish(rec, fault.status, fault.response_body(), fault.response_headers())
        handler = HANDLERS.get((method, match.template))
        if handler is None:
            self.unhandled.append(rec)
            log.warning("emulator does not implement %s %s", method, match.template)
            return self._finish(rec, 404, {"code": 0, "message": "404: Not Found (emulator)"})
        call = Call(method, match.params, query, body, rec.headers, files, user)
        try:
            status, out = await handler(self, call)
        except ApiError as exc:
            return self._finish(rec, exc.status, exc.body())
        hold = self.faults.check_hold(method, match.template, match.params)
        if hold is not None:
            self.waiters.notify()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hold.released.wait(), timeout=60)
        return self._finish(rec, status, out)

    def _check_query(self, method: str, template: str, query: dict[str, str]) -> str | None:
        """Unknown query parameters are a violation; booleans/ints must parse."""
        declared = self.spec.query_params(method, template)
        for key, value in query.items():
            param = declared.get(key)
            if param is None:
                return f"query parameter {key!r} not in spec for {method} {template}"
            typ = param.get("schema", {}).get("type")
            if typ == "boolean" and value.lower() not in ("true", "false", "1", "0"):
                return f"query parameter {key}={value!r} is not a boolean"
            if typ == "integer":
                try:
                    int(value)
                except ValueError:
                    return f"query parameter {key}={value!r} is not an integer"
        return None
