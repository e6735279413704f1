"""REST route handlers, keyed by (method, spec path template).

Handlers enforce what Discord enforces for a bot (channel permissions, role hierarchy, author
checks, interaction acknowledgement rules) so the bot's error handling gets exercised.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import recording as R
from .interactions import EPHEMERAL, LOADING, InteractionRecord
from .models import Channel, Guild, Member, User, iso
from .permissions import P
from .recording import ApiError, fail

if TYPE_CHECKING:
    from .server import Emulator

_JSON = TypeVar("_JSON")


def _copy(value: _JSON) -> _JSON:
    """A deep copy of JSON data (every stored body is JSON), through the C encoder: a bot's
    startup stores ~30 commands with nested options, which copy.deepcopy made ~10 ms of
    the emulator's time per test."""
    return cast(_JSON, json.loads(json.dumps(value)))


@dataclass
class Call:
    """A validated request as handlers see it."""

    method: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    files: list[str] = field(default_factory=list)
    #: The user whose OAuth2 Bearer token made the request (None: the bot's own token).
    user: User | None = None

    def pid(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(400, 50035, f"Invalid Form Body ({name} is not snowflake)") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")


Result = tuple[int, Any]
Handler = Callable[["Emulator", Call], Awaitable[Result]]
HANDLERS: dict[tuple[str, str], Handler] = {}
#: Routes reachable without a bot Authorization header (token in the URL instead).
UNAUTHENTICATED = {"/interactions/", "/webhooks/"}
#: How long Discord remembers an enforced nonce ("the past few minutes").
NONCE_WINDOW_S = 300.0


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        HANDLERS[(method, template)] = fn
        return fn

    return deco


# ------------------------------------------------------------------------------ helpers
def _guild(emu: Emulator, gid: int) -> Guild:
    guild = emu.world.guilds.get(gid)
    if guild is None or emu.world.bot_user.id not in guild.members:
        raise fail(R.UNKNOWN_GUILD)
    return guild


def _bot_member(emu: Emulator, guild: Guild) -> Member:
    return guild.members[emu.world.bot_user.id]


def _channel(emu: Emulator, cid: int) -> Channel:
    ch = emu.world.channel(cid)
    if ch is None:
        raise fail(R.UNKNOWN_CHANNEL)
    if not emu.world.bot_can_access(ch):
        # A DM / group DM between other users: the bot is not a recipient (even when a
        # user-installed command was used there, Discord gives it no access to the channel).
        raise fail(R.MISSING_ACCESS)
    return ch


def _channel_perms(emu: Emulator, ch: Channel) -> int | None:
    """Bot's permissions in ``ch`` (None for DMs, where permissions do not apply)."""
    guild = emu.world.guild_of(ch.id)
    if guild is None:
        return None
    return emu.world.channel_permissions(guild, _bot_member(emu, guild), ch)


def _require(perms: int | None, needed: int) -> None:
    if perms is None:
        return
    if not perms & P.VIEW_CHANNEL:
        raise fail(R.MISSING_ACCESS)
    if perms & needed != needed:
        raise fail(R.MISSING_PERMISSIONS)


def _message_fields(body: dict[str, Any]) -> dict[str, Any]:
    keep = ("content", "embeds", "components", "flags", "allowed_mentions", "attachments")
    return {k: body[k] for k in keep if k in body and body[k] is not None}


def _check_not_empty(body: dict[str, Any], files: list[str]) -> None:
    if not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or files
    ):
        raise fail(R.EMPTY_MESSAGE)


def _attachments_from_files(emu: Emulator, files: list[str], cid: int) -> list[dict[str, Any]]:
    from .world import Attachment

    return [
        emu.world.attachment_payload(
            Attachment(filename=f, content_type="application/octet-stream"), cid
        )
        for f in files
    ]


def _apply_edit(emu: Emulator, msg: dict[str, Any], body: dict[str, Any], files: list[str]) -> None:
    emu.world.edit_history.setdefault(int(msg["id"]), []).append(_copy(msg))
    for key in ("content", "embeds", "components", "flags", "allowed_mentions"):
        if key in body:
            value = body[key]
            if key == "flags":
                # Only SUPPRESS_EMBEDS can be toggled by an edit; EPHEMERAL is preserved.
                value = (msg.get("flags", 0) & EPHEMERAL) | int(value or 0)
                value &= ~LOADING
            msg[key] = value if value is not None else ([] if key != "content" else "")
    if "attachments" in body and body["attachments"] is not None:
        kept_ids = {str(a.get("id")) for a in body["attachments"]}
        msg["attachments"] = [a for a in msg.get("attachments", []) if a["id"] in kept_ids]
    if files:
        msg.setdefault("attachments", []).extend(
            _attachments_from_files(emu, files, int(msg["channel_id"]))
        )
    msg["flags"] = int(msg.get("flags") or 0) & ~LOADING
    msg["edited_timestamp"] = iso(datetime.now(UTC))


# ------------------------------------------------------------------------------ auth/gateway
@route("GET", "/users/@me")
async def get_me(emu: Emulator, call: Call) -> Result:
    if call.user is not None:  # a user's OAuth2 token (scope identify): no email without "email"
        return 200, {**call.user.payload(), "locale": call.user.locale, "mfa_enabled": False}
    return 200, {**emu.world.bot_user.payload(), "verified": True, "mfa_enabled": False}


@route("GET", "/gateway/bot")
async def gateway_bot(emu: Emulator, call: Call) -> Result:
    return 200, {
        "url": emu.gateway_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


@route("GET", "/gateway")
async def gateway(emu: Emulator, call: Call) -> Result:
    return 200, {"url": emu.gateway_url}


def _application(emu: Emulator) -> dict[str, Any]:
    world = emu.world
    owner = world.find_user(world.owner_user_id or 0)
    return {
        "id": str(world.application_id),
        "name": "Vigil",
        "icon": None,
        "description": "Confidential abuse reports for moderators.",
        "summary": "",
        "type": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 1 << 23,
        "hook": True,
        "is_monetized": False,
        "owner": owner.payload() if owner else None,
        "team": None,
        "bot": world.bot_user.payload(),
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(world.guilds),
        # No "install_params": Discord omits it when no in-app authorization link is set.
        "integration_types_config": {str(t): {} for t in world.install_types},
        "flags_new": str(1 << 23),
        "role_connections_verification_url": None,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["applications.commands", "bot"],
    }


@route("GET", "/applications/@me")
async def app_me(emu: Emulator, call: Call) -> Result:
    return 200, _application(emu)


@route("GET", "/oauth2/applications/@me")
async def oauth_app_me(emu: Emulator, call: Call) -> Result:
    return 200, _application(emu)


# ------------------------------------------------------------------------------ commands
def _store_commands(emu: Emulator, body: list[dict[str, Any]], guild_id: int | None) -> list[Any]:
    key = guild_id or 0
    existing = {(c["name"], c["type"]): c for c in emu.commands.get(key, [])}
    out = []
    for raw in body:
        ctype = int(raw.get("type", 1))
        prev = existing.get((raw["name"], ctype))
        cmd = {
            "id": prev["id"] if prev else str(emu.world.ids.now()),
            "application_id": str(emu.world.application_id),
            "version": str(emu.world.ids.now()),
            "type": ctype,
            "name": raw["name"],
            "description": raw.get("description", ""),
            "options": _copy(raw.get("options") or []),
            "default_member_permissions": raw.get("default_member_permissions"),
            "dm_permission": raw.get("dm_permission", True),
            "nsfw": raw.get("nsfw", False),
            # Discord fills in the application's default install (guild) when omitted/null.
            "integration_types": raw.get("integration_types") or [0],
            "contexts": raw.get("contexts"),
            "name_localizations": raw.get("name_localizations"),
            "description_localizations": raw.get("description_localizations"),
        }
        if guild_id:
            cmd["guild_id"] = str(guild_id)
        out.append(cmd)
    emu.commands[key] = out
    return _copy(out)


@route("PUT", "/applications/{application_id}/commands")
async def put_commands(emu: Emulator, call: Call) -> Result:
    if call.pid("application_id") != emu.world.application_id:
        raise ApiError(
            403, 20012, "You are not authorized to perform this action on this application"
        )
    return 200, _store_commands(emu, call.body or [], None)


@route("GET", "/applications/{application_id}/commands")
async def get_commands(emu: Emulator, call: Call) -> Result:
    return 200, _copy(emu.commands.get(0, []))


@route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def put_guild_commands(emu: Emulator, call: Call) -> Result:
    _guild(emu, call.pid("guild_id"))
    return 200, _store_commands(emu, call.body or [], call.pid("guild_id"))


@route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def get_guild_commands(emu: Emulator, call: Call) -> Result:
    return 200, _copy(emu.commands.get(call.pid("guild_id"), []))


# ------------------------------------------------------------------------------ interactions
def _interaction_message(
    emu: Emulator, rec: InteractionRecord, data: dict[str, Any], flags: int, files: list[str]
) -> dict[str, Any]:
    world = emu.world
    p = rec.payload
    cid = int(p["channel_id"])
    channel = world.channel(cid) or Channel(id=cid, name=None, type=1)
    user = p.get("member", {}).get("user") or p.get("user") or {}
    meta = {
        "id": p["id"],
        "type": p["type"],
        "user": user,
        "authorizing_integration_owners": p.get("authorizing_integration_owners", {}),
    }
    msg = world.message_payload(
        channel=channel,
        author=world.bot_user,
        content=data.get("content") or "",
        embeds=data.get("embeds"),
        components=data.get("components"),
        flags=flags,
        webhook_id=world.application_id,
        interaction_meta=meta,
        msg_type=20 if p["type"] == 2 else 0,
        attachments=_attachments_from_files(emu, files, cid),
    )
    if "allowed_mentions" in data:
        msg["allowed_mentions"] = data["allowed_mentions"]
    return msg


async def _publish(emu: Emulator, msg: dict[str, Any]) -> None:
    """Store a non-ephemeral message in its channel and dispatch MESSAGE_CREATE."""
    if int(msg.get("flags") or 0) & EPHEMERAL:
        return
    emu.world.store_message(msg)
    ch = emu.world.channel(int(msg["channel_id"]))
    if ch is not None and not emu.world.bot_can_access(ch):
        return  # visible in a DM / group DM between users, but the bot gets no event there
    gid = msg.get("guild_id")
    await emu.gateway.dispatch("MESSAGE_CREATE", msg, int(gid) if gid else None)


@route("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
async def interaction_callback(emu: Emulator, call: Call) -> Result:
    rec = emu.interactions.for_callback(
        call.pid("interaction_id"), call.params["interaction_token"]
    )
    if rec is None:
        raise fail(R.UNKNOWN_INTERACTION)
    if rec.acknowledged:
        raise fail(R.ALREADY_ACKED)
    body = call.body or {}
    ctype = int(body["type"])
    data = body.get("data") or {}
    rec.callback_type = ctype
    rec.callback_data = data
    rec.callback_at = time.monotonic()
    message: dict[str, Any] | None = None
    if ctype == 4:
        _check_not_empty(data, call.files)
        message = _interaction_message(emu, rec, data, int(data.get("flags") or 0), call.files)
        rec.original = message
        await _publish(emu, message)
    elif ctype == 5:
        flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
        message = _interaction_message(emu, rec, {}, flags, [])
        rec.original = message
    elif ctype in (6, 7):
        target = rec.payload.get("message")
        if target is not None:
            stored = emu.world.get_message(int(target["channel_id"]), int(target["id"]))
            message = stored if stored is not None else _copy(target)
            if ctype == 7:
                _apply_edit(emu, message, data, call.files)
                if stored is not None:
                    await emu.gateway.dispatch(
                        "MESSAGE_UPDATE",
                        message,
                        int(message["guild_id"]) if message.get("guild_id") else None,
                    )
            rec.original = message
    if not rec.callback.done():
        rec.callback.set_result(body)
    emu.waiters.notify()
    if not call.flag("with_response"):
        return 204, None
    resp: dict[str, Any] = {
        "interaction": {
            "id": str(rec.id),
            "type": rec.payload["type"],
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(
                message is not None and int(message.get("flags") or 0) & EPHEMERAL
            ),
        }
    }
    if message is not None and ctype in (4, 5, 7):
        resp["interaction"]["response_message_id"] = message["id"]
        resp["resource"] = {"type": ctype, "message": message}
    elif ctype in (8, 9, 6):
        resp["resource"] = {"type": ctype}
    return 200, resp


def _webhook_record(emu: Emulator, call: Call) -> InteractionRecord:
    if call.pid("webhook_id") != emu.world.application_id:
        raise fail(R.UNKNOWN_WEBHOOK)
    rec = emu.interactions.for_webhook(call.params["webhook_token"])
    if rec is None:
        raise fail(R.UNKNOWN_WEBHOOK)
    return rec


@route("POST", "/webhooks/{webhook_id}/{webhook_token}")
async def followup_create(emu: Emulator, call: Call) -> Result:
    rec = _webhook_record(emu, call)
    body = call.body or {}
    _check_not_empty(body, call.files)
    flags = int(body.get("flags") or 0)
    if rec.callback_type == 5 and rec.original is not None and rec.original["flags"] & LOADING:
        # The first follow-up after a deferral edits the loading message (Discord behaviour).
        msg = rec.original
        _apply_edit(emu, msg, body, call.files)
        rec.original_edits += 1
        await _publish(emu, msg)
    else:
        msg = _interaction_message(emu, rec, body, flags, call.files)
        await _publish(emu, msg)
    rec.followups.append(msg)
    emu.waiters.notify()
    if call.flag("wait"):
        return 200, msg
    return 204, None


def _find_webhook_message(rec: InteractionRecord, mid: str) -> dict[str, Any]:
    if mid == "@original":
        if rec.original is None or rec.original_deleted:
            raise fail(R.UNKNOWN_MESSAGE)
        return rec.original
    for m in rec.followups:
        if m["id"] == mid:
            return m
    if rec.original is not None and rec.original["id"] == mid:
        return rec.original
    raise fail(R.UNKNOWN_MESSAGE)


async def _webhook_get(emu: Emulator, call: Call, mid: str) -> Result:
    rec = _webhook_record(emu, call)
    return 200, _find_webhook_message(rec, mid)


async def _webhook_patch(emu: Emulator, call: Call, mid: str) -> Result:
    rec = _webhook_record(emu, call)
    msg = _find_webhook_message(rec, mid)
    was_loading = int(msg.get("flags") or 0) & LOADING
    _apply_edit(emu, msg, call.body or {}, call.files)
    if msg is rec.original:
        rec.original_edits += 1
    if was_loading:
        await _publish(emu, msg)
    elif not int(msg.get("flags") or 0) & EPHEMERAL:
        gid = msg.get("guild_id")
        await emu.gateway.dispatch("MESSAGE_UPDATE", msg, int(gid) if gid else None)
    emu.waiters.notify()
    return 200, msg


async def _webhook_delete(emu: Emulator, call: Call, mid: str) -> Result:
    rec = _webhook_record(emu, call)
    msg = _find_webhook_message(rec, mid)
    if msg is rec.original:
        rec.original_deleted = True
    emu.world.messages.get(int(msg["channel_id"]), {}).pop(int(msg["id"]), None)
    emu.waiters.notify()
    return 204, None


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
async def wh_get_original(emu: Emulator, call: Call) -> Result:
    return await _webhook_get(emu, call, "@original")


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
async def wh_patch_original(emu: Emulator, call: Call) -> Result:
    return await _webhook_patch(emu, call, "@original")


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
async def wh_delete_original(emu: Emulator, call: Call) -> Result:
    return await _webhook_delete(emu, call, "@original")


@route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def wh_get(emu: Emulator, call: Call) -> Result:
    return await _webhook_get(emu, call, call.params["message_id"])


@route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def wh_patch(emu: Emulator, call: Call) -> Result:
    return await _webhook_patch(emu, call, call.params["message_id"])


@route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def wh_delete(emu: Emulator, call: Call) -> Result:
    return await _webhook_delete(emu, call, call.params["message_id"])


# ------------------------------------------------------------------------------ channels
@route("GET", "/channels/{channel_id}")
async def get_channel(emu: Emulator, call: Call) -> Result:
    ch = _channel(emu, call.pid("channel_id"))
    perms = _channel_perms(emu, ch)
    if perms is not None and not perms & P.VIEW_CHANNEL:
        raise fail(R.MISSING_ACCESS)
    return 200, ch.payload()


async def _post_into_thread(emu: Emulator, thread: Channel, perms: int | None) -> None:
    """Discord's rules for posting in a thread: Send Messages in Threads (not Send Messages);
    a locked archived thread refuses; an archived one is unarchived by the post."""
    _require(perms, P.SEND_MESSAGES_IN_THREADS)
    if not thread.archived:
        return
    if thread.locked and not (perms or 0) & P.MANAGE_THREADS:
        raise fail(R.ARCHIVED_THREAD)
    thread.archived = False
    thread.archived_at = datetime.now(UTC)
    await emu.gateway.dispatch("THREAD_UPDATE", thread.thread_payload(), thread.guild_id)


@route("POST", "/channels/{channel_id}/messages")
async def create_message(emu: Emulator, call: Call) -> Result:
    ch = _channel(emu, call.pid("channel_id"))
    perms = _channel_perms(emu, ch)
    if ch.is_thread:
        await _post_into_thread(emu, ch, perms)
    else:
        _require(perms, P.SEND_MESSAGES)
    if ch.type == 1 and ch.recipients and ch.recipients[0].id in emu.dm_closed:
        raise fail(R.CANNOT_DM)
    body = call.body or {}
    _check_not_empty(body, call.files)
    if call.files:
        _require(perms, P.ATTACH_FILES)
    nonce = body.get("nonce")
    nonce_key = (ch.id, emu.world.bot_user.id, str(nonce))
    if nonce is not None and body.get("enforce_nonce"):
        # Discord: with enforce_nonce, a recent message by the same author with the same nonce
        # is returned instead of creating a duplicate (this is how retries stay idempotent).
        seen = emu.nonces.get(nonce_key)
        if seen is not None and time.monotonic() - seen[1] < emu.nonce_window:
            existing = emu.world.get_message(ch.id, seen[0])
            if existing is not None:
                emu.waiters.notify()
                return 200, existing
    embeds = body.get("embeds") or []
    if perms is not None and not perms & P.EMBED_LINKS:
        embeds = []  # Discord silently drops embeds without Embed Links.
    ref = body.get("message_reference")
    msg = emu.world.message_payload(
        channel=ch,
        author=emu.world.bot_user,
        content=body.get("content") or "",
        embeds=embeds,
        components=body.get("components"),
        flags=int(body.get("flags") or 0),
        attachments=_attachments_from_files(emu, call.files, ch.id),
        msg_type=19 if ref else 0,
        message_reference=(
            {k: str(v) if k.endswith("_id") else v for k, v in ref.items()} if ref else None
        ),
    )
    if "allowed_mentions" in body:
        msg["allowed_mentions"] = body["allowed_mentions"]
    if nonce is not None:
        msg["nonce"] = nonce
        emu.nonces[nonce_key] = (int(msg["id"]), time.monotonic())
    await _publish(emu, msg)
    emu.waiters.notify()
    return 200, msg


@route("PATCH", "/channels/{channel_id}")
async def modify_channel(emu: Emulator, call: Call) -> Result:
    """Threads only (the rest of Modify Channel is not modelled): archive or unarchive, lock,
    rename. Unarchiving needs Send Messages in Threads, and Manage Threads when locked;
    archiving another's thread or locking needs Manage Threads."""
    ch = _channel(emu, call.pid("channel_id"))
    if not ch.is_thread:
        raise ApiError(404, 0, "404: Not Found (emulator: only threads are modified)")
    perms = _channel_perms(emu, ch) or 0
    manage = bool(perms & P.MANAGE_THREADS)
    body = call.body or {}
    _require(perms, P.SEND_MESSAGES_IN_THREADS)
    if body.get("locked") is not None and not manage:
        raise fail(R.MISSING_PERMISSIONS)
    if body.get("archived") is False and ch.archived and ch.locked and not manage:
        raise fail(R.MISSING_PERMISSIONS)
    if body.get("archived") and ch.owner_id != emu.world.bot_user.id and not manage:
        raise fail(R.MISSING_PERMISSIONS)
    if body.get("archived") is not None:
        ch.archived = bool(body["archived"])
        ch.archived_at = datetime.now(UTC)
    if body.get("locked") is not None:
        ch.locked = bool(body["locked"])
    if body.get("name"):
        ch.name = str(body["name"])
    await emu.gateway.dispatch("THREAD_UPDATE", ch.thread_payload(), ch.guild_id)
    emu.waiters.notify()
    return 200, ch.thread_payload()


@route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def create_thread_from_message(emu: Emulator, call: Call) -> Result:
    """A public thread under a message of a text channel: Create Public Threads needed; its ID
    is the message's; a message has at most one thread (160004 on a second attempt)."""
    ch = _channel(emu, call.pid("channel_id"))
    if ch.type not in (0, 5):
        raise fail(R.INVALID_CHANNEL_TYPE)
    perms = _channel_perms(emu, ch)
    _require(perms, P.CREATE_PUBLIC_THREADS)
    msg = emu.world.get_message(ch.id, call.pid("message_id"))
    if msg is None:
        raise fail(R.UNKNOWN_MESSAGE)
    if emu.world.thread(int(msg["id"])) is not None or msg.get("thread"):
        raise fail(R.THREAD_ALREADY_CREATED)
    body = call.body or {}
    thread = emu.world.start_thread(
        ch,
        msg,
        str(body["name"]),
        emu.world.bot_user,
        int(body.get("auto_archive_duration") or 1440),
    )
    created = {**thread.thread_payload(), "newly_created": True}
    await emu.gateway.dispatch("THREAD_CREATE", created, thread.guild_id)
    await emu.gateway.dispatch("MESSAGE_UPDATE", msg, thread.guild_id)
    emu.waiters.notify()
    return 201, thread.thread_payload()


@route("GET", "/channels/{channel_id}/messages")
async def list_messages(emu: Emulator, call: Call) -> Result:
    ch = _channel(emu, call.pid("channel_id"))
    _require(_channel_perms(emu, ch), P.READ_MESSAGE_HISTORY)
    msgs = sorted(emu.world.messages.get(ch.id, {}).values(), key=lambda m: -int(m["id"]))
    if "before" in call.query:
        msgs = [m for m in msgs if int(m["id"]) < int(call.query["before"])]
    if "after" in call.query:
        msgs = [m for m in msgs if int(m["id"]) > int(call.query["after"])]
    limit = int(call.query.get("limit", 50))
    return 200, [_as_fetched(m) for m in msgs[:limit]]


def _as_fetched(msg: dict[str, Any]) -> dict[str, Any]:
    """A stored message as Discord returns it when fetched: without the nonce, which Discord
    gives back only when the message is created and in its gateway event."""
    return {k: v for k, v in msg.items() if k != "nonce"}


def _stored_message(emu: Emulator, call: Call) -> tuple[Channel, dict[str, Any], int | None]:
    ch = _channel(emu, call.pid("channel_id"))
    perms = _channel_perms(emu, ch)
    if perms is not None and not perms & P.VIEW_CHANNEL:
        raise fail(R.MISSING_ACCESS)
    msg = emu.world.get_message(ch.id, call.pid("message_id"))
    if msg is None:
        raise fail(R.UNKNOWN_MESSAGE)
    return ch, msg, perms


@route("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(emu: Emulator, call: Call) -> Result:
    _, msg, perms = _stored_message(emu, call)
    _require(perms, P.READ_MESSAGE_HISTORY)
    return 200, _as_fetched(msg)


@route("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(emu: Emulator, call: Call) -> Result:
    _, msg, _ = _stored_message(emu, call)
    if int(msg["author"]["id"]) != emu.world.bot_user.id:
        raise fail(R.NOT_AUTHOR)
    _apply_edit(emu, msg, call.body or {}, call.files)
    gid = msg.get("guild_id")
    await emu.gateway.dispatch("MESSAGE_UPDATE", msg, int(gid) if gid else None)
    emu.waiters.notify()
    return 200, msg


@route("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(emu: Emulator, call: Call) -> Result:
    ch, msg, perms = _stored_message(emu, call)
    if int(msg["author"]["id"]) != emu.world.bot_user.id:
        _require(perms, P.MANAGE_MESSAGES)
    if ch.is_thread and ch.archived and not (perms or 0) & P.MANAGE_THREADS:
        raise fail(R.ARCHIVED_THREAD)  # an archived thread takes no changes: unarchive first
    emu.world.messages[ch.id].pop(int(msg["id"]), None)
    msg["deleted"] = True
    emu.deleted_messages.append(msg)
    guild = emu.world.guild_of(ch.id)
    data: dict[str, Any] = {"id": msg["id"], "channel_id": str(ch.id)}
    if guild is not None:
        data["guild_id"] = str(guild.id)
    await emu.gateway.dispatch("MESSAGE_DELETE", data, guild.id if guild else None)
    emu.waiters.notify()
    return 204, None


# ------------------------------------------------------------------------------ users / DMs
@route("GET", "/users/{user_id}")
async def get_user(emu: Emulator, call: Call) -> Result:
    user = emu.world.find_user(call.pid("user_id"))
    if user is None:
        raise fail(R.UNKNOWN_USER)
    return 200, user.payload()


@route("POST", "/users/@me/channels")
async def create_dm(emu: Emulator, call: Call) -> Result:
    user = emu.world.find_user(int((call.body or {}).get("recipient_id", 0)))
    if user is None:
        raise fail(R.UNKNOWN_USER)
    return 200, emu.world.dm_channel_for(user).payload()


# ------------------------------------------------------------------------------ guilds/members
@route("GET", "/guilds/{guild_id}")
async def get_guild(emu: Emulator, call: Call) -> Result:
    payload = _guild(emu, call.pid("guild_id")).payload()
    for key in ("members", "channels", "threads", "presences", "voice_states"):
        payload.pop(key, None)
    return 200, payload


@route("GET", "/guilds/{guild_id}/channels")
async def get_guild_channels(emu: Emulator, call: Call) -> Result:
    return 200, [c.payload() for c in _guild(emu, call.pid("guild_id")).channels.values()]


@route("GET", "/guilds/{guild_id}/roles")
async def get_guild_roles(emu: Emulator, call: Call) -> Result:
    return 200, [r.payload() for r in _guild(emu, call.pid("guild_id")).roles.values()]


@route("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(emu: Emulator, call: Call) -> Result:
    guild = _guild(emu, call.pid("guild_id"))
    member = guild.members.get(call.pid("user_id"))
    if member is None:
        raise fail(R.UNKNOWN_MEMBER)
    return 200, member.payload()


def _moderate(emu: Emulator, call: Call, needed: int) -> tuple[Guild, Member | None]:
    guild = _guild(emu, call.pid("guild_id"))
    bot = _bot_member(emu, guild)
    if not emu.world.base_permissions(guild, bot) & needed:
        raise fail(R.MISSING_PERMISSIONS)
    target = guild.members.get(call.pid("user_id"))
    if target is not None and not emu.world.can_moderate(guild, bot, target):
        raise fail(R.MISSING_PERMISSIONS)
    return guild, target


@route("PATCH", "/guilds/{guild_id}/members/{user_id}")
async def patch_member(emu: Emulator, call: Call) -> Result:
    body = call.body or {}
    needed = 0
    if "communication_disabled_until" in body:
        needed |= P.MODERATE_MEMBERS
    if "roles" in body:
        needed |= P.MANAGE_ROLES
    if "nick" in body:
        needed |= P.MANAGE_GUILD | (1 << 27)  # MANAGE_NICKNAMES
    guild, target = (
        _moderate(emu, call, needed) if needed else (_guild(emu, call.pid("guild_id")), None)
    )
    target = guild.members.get(call.pid("user_id"))
    if target is None:
        raise fail(R.UNKNOWN_MEMBER)
    if "communication_disabled_until" in body:
        raw = body["communication_disabled_until"]
        if raw is None:
            target.communication_disabled_until = None
        else:
            until = datetime.fromisoformat(raw)
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            if until - datetime.now(UTC) > timedelta(days=28, seconds=5):
                raise ApiError(400, 50035, "Invalid Form Body (timeout longer than 28 days)")
            if emu.world.base_permissions(guild, target) & P.ADMINISTRATOR:
                raise fail(R.MISSING_PERMISSIONS)
            target.communication_disabled_until = until
    if "roles" in body and body["roles"] is not None:
        target.roles = [int(r) for r in body["roles"]]
    if "nick" in body:
        target.nick = body["nick"]
    await emu.gateway.dispatch(
        "GUILD_MEMBER_UPDATE", {**target.payload(), "guild_id": str(guild.id)}, guild.id
    )
    emu.waiters.notify()
    return 200, target.payload()


@route("DELETE", "/guilds/{guild_id}/members/{user_id}")
async def kick_member(emu: Emulator, call: Call) -> Result:
    guild, target = _moderate(emu, call, P.KICK_MEMBERS)
    if target is None:
        raise fail(R.UNKNOWN_MEMBER)
    del guild.members[target.id]
    emu.kicks.append((guild.id, target.id, call.headers.get("X-Audit-Log-Reason")))
    await emu.gateway.dispatch(
        "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": target.user.payload()}, guild.id
    )
    emu.waiters.notify()
    return 204, None


@route("PUT", "/guilds/{guild_id}/bans/{user_id}")
async def ban_member(emu: Emulator, call: Call) -> Result:
    guild, target = _moderate(emu, call, P.BAN_MEMBERS)
    uid = call.pid("user_id")
    user = emu.world.find_user(uid)
    if user is None:
        raise fail(R.UNKNOWN_USER)
    body = call.body or {}
    seconds = int(body.get("delete_message_seconds") or body.get("delete_message_days", 0) * 86400)
    guild.bans[uid] = {
        "user": user.payload(),
        "reason": call.headers.get("X-Audit-Log-Reason"),
        "delete_message_seconds": seconds,
    }
    if seconds:
        cutoff = datetime.now(UTC) - timedelta(seconds=seconds)
        for cid in [*guild.channels, *guild.threads]:
            msgs = emu.world.messages.get(cid, {})
            doomed = [
                mid
                for mid, m in msgs.items()
                if int(m["author"]["id"]) == uid
                and datetime.fromisoformat(m["timestamp"]) >= cutoff
            ]
            if doomed:
                for mid in doomed:
                    emu.deleted_messages.append(msgs.pop(mid))
                await emu.gateway.dispatch(
                    "MESSAGE_DELETE_BULK",
                    {
                        "ids": [str(m) for m in doomed],
                        "channel_id": str(cid),
                        "guild_id": str(guild.id),
                    },
                    guild.id,
                )
    await emu.gateway.dispatch(
        "GUILD_BAN_ADD", {"guild_id": str(guild.id), "user": user.payload()}, guild.id
    )
    if target is not None:
        del guild.members[uid]
        await emu.gateway.dispatch(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": user.payload()}, guild.id
        )
    emu.waiters.notify()
    return 204, None


@route("GET", "/guilds/{guild_id}/bans/{user_id}")
async def get_ban(emu: Emulator, call: Call) -> Result:
    guild = _guild(emu, call.pid("guild_id"))
    ban = guild.bans.get(call.pid("user_id"))
    if ban is None:
        raise fail(R.UNKNOWN_BAN)
    return 200, {"user": ban["user"], "reason": ban["reason"]}


@route("DELETE", "/guilds/{guild_id}/bans/{user_id}")
async def unban(emu: Emulator, call: Call) -> Result:
    guild, _ = _moderate(emu, call, P.BAN_MEMBERS)
    ban = guild.bans.pop(call.pid("user_id"), None)
    if ban is None:
        raise fail(R.UNKNOWN_BAN)
    await emu.gateway.dispatch(
        "GUILD_BAN_REMOVE", {"guild_id": str(guild.id), "user": ban["user"]}, guild.id
    )
    emu.waiters.notify()
    return 204, None


@route("GET", "/guilds/{guild_id}/members")
async def list_members(emu: Emulator, call: Call) -> Result:
    guild = _guild(emu, call.pid("guild_id"))
    after = int(call.query.get("after", 0))
    limit = int(call.query.get("limit", 1))
    members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
    return 200, [m.payload() for m in members[:limit]]


@route("GET", "/guilds/{guild_id}/bans")
async def list_bans(emu: Emulator, call: Call) -> Result:
    guild = _guild(emu, call.pid("guild_id"))
    return 200, [{"user": b["user"], "reason": b["reason"]} for b in guild.bans.values()]


async def _member_role(emu: Emulator, call: Call, add: bool) -> Result:
    guild, target = _moderate(emu, call, P.MANAGE_ROLES)
    if target is None:
        raise fail(R.UNKNOWN_MEMBER)
    role = guild.roles.get(call.pid("role_id"))
    if role is None:
        raise ApiError(404, 10011, "Unknown Role")
    if role.managed or role.position >= guild.top_role_position(_bot_member(emu, guild)):
        raise fail(R.MISSING_PERMISSIONS)
    if add and role.id not in target.roles:
        target.roles.append(role.id)
    if not add and role.id in target.roles:
        target.roles.remove(role.id)
    await emu.gateway.dispatch(
        "GUILD_MEMBER_UPDATE", {**target.payload(), "guild_id": str(guild.id)}, guild.id
    )
    emu.waiters.notify()
    return 204, None


@route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(emu: Emulator, call: Call) -> Result:
    return await _member_role(emu, call, True)


@route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(emu: Emulator, call: Call) -> Result:
    return await _member_role(emu, call, False)


@route("POST", "/channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(emu: Emulator, call: Call) -> Result:
    ch = _channel(emu, call.pid("channel_id"))
    _require(_channel_perms(emu, ch), P.MANAGE_MESSAGES)
    ids = [int(i) for i in (call.body or {}).get("messages", [])]
    msgs = emu.world.messages.get(ch.id, {})
    gone = [i for i in ids if i in msgs]
    for i in gone:
        emu.deleted_messages.append(msgs.pop(i))
    guild = emu.world.guild_of(ch.id)
    await emu.gateway.dispatch(
        "MESSAGE_DELETE_BULK",
        {
            "ids": [str(i) for i in gone],
            "channel_id": str(ch.id),
            "guild_id": str(guild.id) if guild else None,
        },
        guild.id if guild else None,
    )
    emu.waiters.notify()
    return 204, None


@route("GET", "/users/@me/guilds")
async def my_guilds(emu: Emulator, call: Call) -> Result:
    """With a user's OAuth2 token, that user's guilds; with the bot's, the bot's guilds by
    ascending ID, paged like Discord: ``after`` / ``before`` an ID, ``limit`` 1-200 (200)."""
    if call.user is not None:  # a user's OAuth2 token (scope guilds): the guilds they are in
        user = call.user
        return 200, [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == user.id,
                "permissions": str(emu.world.base_permissions(g, g.members[user.id])),
                "features": [],
            }
            for g in emu.world.guilds.values()
            if user.id in g.members
        ]
    bot_id = emu.world.bot_user.id
    guilds = sorted(
        (g for g in emu.world.guilds.values() if bot_id in g.members), key=lambda g: g.id
    )
    if "after" in call.query:
        guilds = [g for g in guilds if g.id > int(call.query["after"])]
    if "before" in call.query:
        guilds = [g for g in guilds if g.id < int(call.query["before"])]
    limit = int(call.query.get("limit", 200))
    if not 1 <= limit <= 200:
        raise ApiError(400, 50035, "Invalid Form Body (limit)")
    counts = call.flag("with_counts")
    return 200, [
        {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "banner": None,
            "owner": False,
            "permissions": str(emu.world.base_permissions(g, g.members[bot_id])),
            "features": [],
            **(
                {"approximate_member_count": len(g.members), "approximate_presence_count": 0}
                if counts
                else {}
            ),
        }
        for g in guilds[:limit]
    ]
