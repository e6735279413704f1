"""Self-tests for user installs: command sync with integration_types/contexts, interactions
from DMs and group DMs, private channels in the world and the REST rules around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord.app_commands.namespace import Namespace, ResolveKey

from emulator import Attachment, BotProcess, Emulator
from emulator.spec import load_spec

SYNC = "/applications/{application_id}/commands"
SNOWFLAKE = {"type": "string", "pattern": r"^(0|[1-9][0-9]*)$"}

#: Discord's documented Interaction object (developers docs, "Interaction Structure"), for
#: the fields the spec does not describe: the spec has no schema for incoming interactions.
DOCUMENTED_INTERACTION: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "application_id",
        "type",
        "token",
        "version",
        "channel",
        "channel_id",
        "app_permissions",
        "locale",
        "entitlements",
        "authorizing_integration_owners",
        "context",
        "attachment_size_limit",
    ],
    "properties": {
        "id": SNOWFLAKE,
        "application_id": SNOWFLAKE,
        "type": {"enum": [1, 2, 3, 4, 5]},
        "token": {"type": "string"},
        "version": {"const": 1},
        "app_permissions": {"type": "string", "pattern": "^[0-9]+$"},
        "context": {"enum": [0, 1, 2]},
        "authorizing_integration_owners": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": ["0", "1"]},
            "additionalProperties": SNOWFLAKE,
        },
    },
    # Outside guilds: `user`, never `member` / `guild_id`; in guilds the reverse.
    "if": {"properties": {"context": {"const": 0}}},
    "then": {"required": ["guild_id", "member"], "not": {"required": ["user"]}},
    "else": {
        "required": ["user"],
        "allOf": [{"not": {"required": ["member"]}}, {"not": {"required": ["guild_id"]}}],
    },
}

BOTH = {"integration_types": [0, 1], "contexts": [0, 1, 2]}
COMMANDS: list[dict[str, Any]] = [
    {"name": "hotlines", "type": 1, "description": "Where to get help", **BOTH},
    {"name": "Report message", "type": 3, **BOTH},
    {"name": "setup", "type": 1, "description": "Server only", "contexts": [0]},
]


@pytest_asyncio.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession(emulator.api_base + "/", headers=headers) as session:
        yield session


async def _sync(emulator: Emulator, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with http.put(
        f"applications/{emulator.world.application_id}/commands", json=COMMANDS
    ) as r:
        assert r.status == 200
        return list(await r.json())


def _validate_interaction(payload: dict[str, Any]) -> None:
    """Envelope against the documented shape; embedded objects against the spec."""
    from jsonschema import Draft202012Validator

    Draft202012Validator(DOCUMENTED_INTERACTION).validate(payload)
    spec = load_spec()
    channel = payload["channel"]
    schema = {
        0: "GuildChannelResponse",
        1: "PrivateChannelResponse",
        3: "PrivateGroupChannelResponse",
    }
    assert spec.validate_schema(schema[channel["type"]], channel) is None
    if "user" in payload:
        assert spec.validate_schema("UserResponse", payload["user"]) is None
    for msg in payload.get("data", {}).get("resolved", {}).get("messages", {}).values():
        assert spec.validate_schema("MessageResponse", msg) is None


def _parse(emulator: Emulator, payload: dict[str, Any]) -> discord.Interaction[discord.Client]:
    """What discord.py builds from the payload (a client state with the bot logged in)."""
    client = discord.Client(intents=discord.Intents.default())
    state = client._connection
    state.user = discord.ClientUser(state=state, data=emulator.world.bot_user.payload())  # type: ignore[arg-type]
    return discord.Interaction(data=payload, state=state)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ command sync
async def test_sync_with_install_types_and_contexts_is_stored(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    stored = await _sync(emulator, http)
    assert [(c["name"], c["integration_types"], c["contexts"]) for c in stored] == [
        ("hotlines", [0, 1], [0, 1, 2]),
        ("Report message", [0, 1], [0, 1, 2]),
        ("setup", [0], [0]),  # integration_types defaults to the guild install
    ]
    async with http.get(f"applications/{emulator.world.application_id}/commands") as r:
        again = await r.json()
    assert again == stored
    spec = load_spec()
    assert all(spec.validate_schema("ApplicationCommandResponse", c) is None for c in again)
    # Re-sync keeps the ids (sync-on-change relies on it).
    assert [c["id"] for c in await _sync(emulator, http)] == [c["id"] for c in stored]
    assert emulator.violations == []


@pytest.mark.parametrize(
    "bad", [{"integration_types": [2]}, {"contexts": [3]}, {"contexts": []}, {"contexts": [1, 1]}]
)
async def test_invalid_install_fields_are_violations(
    emulator: Emulator, http: aiohttp.ClientSession, bad: dict[str, Any]
) -> None:
    body = [{"name": "x", "type": 1, "description": "x", **bad}]
    async with http.put(f"applications/{emulator.world.application_id}/commands", json=body) as r:
        assert r.status == 400
    assert len(emulator.violations) == 1 and emulator.all_commands() == []
    emulator.violations.clear()


# ------------------------------------------------------------------------------ interactions
async def test_dm_message_command_validates_and_parses(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await _sync(emulator, http)
    world = emulator.world
    dm = world.dm_alice_carol
    msg = await emulator.post_user_message(dm, "carol", "send me pics", [Attachment()])
    payload = emulator.build.message_command("Report message", user="alice", message=msg)
    _validate_interaction(payload)
    assert payload["context"] == 2
    assert payload["authorizing_integration_owners"] == {"1": str(world.users["alice"].id)}
    assert payload["channel"]["type"] == 1 and "guild_id" not in payload
    # The DM lists the other person to alice.
    assert [u["id"] for u in payload["channel"]["recipients"]] == [str(world.users["carol"].id)]
    resolved = payload["data"]["resolved"]["messages"][msg["id"]]
    assert resolved["author"]["id"] == str(world.users["carol"].id)
    assert resolved["edited_timestamp"] is None and resolved["timestamp"]
    assert resolved["attachments"][0]["content_type"] == "image/png"

    inter = _parse(emulator, payload)
    assert isinstance(inter.channel, discord.DMChannel)
    assert inter.guild is None and inter.user.id == world.users["alice"].id
    assert inter.context.private_channel and not inter.context.guild
    assert inter.is_user_integration() and not inter.is_guild_integration()
    items = Namespace._get_resolved_items(inter, payload["data"]["resolved"])
    message = items[ResolveKey(id=msg["id"], type=-1)]
    assert isinstance(message, discord.Message)
    assert message.author.id == world.users["carol"].id
    assert message.content == "send me pics" and message.attachments[0].filename
    assert message.created_at == discord.utils.snowflake_time(int(msg["id"]))


async def test_group_dm_and_bot_dm_slash_validate_and_parse(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await _sync(emulator, http)
    world = emulator.world
    group = world.group_dm_study
    payload = emulator.build.slash("hotlines", user="ida", channel=group)
    _validate_interaction(payload)
    assert payload["channel"]["type"] == 3 and payload["channel"]["name"] == "study group"
    assert len(payload["channel"]["recipients"]) == 2  # alice and carol, not ida herself
    inter = _parse(emulator, payload)
    assert isinstance(inter.channel, discord.GroupChannel)
    assert inter.channel.owner_id == world.users["alice"].id
    assert inter.context.private_channel and inter.is_user_integration()

    bot_dm = emulator.build.slash("hotlines", user="zed", context="bot_dm", installed="user")
    _validate_interaction(bot_dm)
    assert bot_dm["context"] == 1
    assert bot_dm["authorizing_integration_owners"] == {"1": str(world.users["zed"].id)}
    guild_dm = emulator.build.slash("hotlines", user="zed", context="bot_dm")
    assert guild_dm["authorizing_integration_owners"] == {"0": "0"}
    inter = _parse(emulator, bot_dm)
    assert isinstance(inter.channel, discord.DMChannel) and inter.context.dm_channel

    both = emulator.build.slash("hotlines", user="alice", installed="both")
    _validate_interaction(both)
    assert both["authorizing_integration_owners"] == {
        "0": str(world.guild_a.id),
        "1": str(world.users["alice"].id),
    }


async def test_builders_refuse_what_discord_would_not_offer(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await _sync(emulator, http)
    world = emulator.world
    with pytest.raises(LookupError):  # contexts [0]
        emulator.build.slash("setup", user="alice", context="private_channel")
    with pytest.raises(LookupError):  # integration_types [0] only
        emulator.build.slash("setup", user="alice", installed="user")
    with pytest.raises(ValueError):  # a guild install never reaches DMs between users
        emulator.build.slash("hotlines", user="alice", context="private_channel", installed="guild")
    with pytest.raises(ValueError):  # bob is not in the alice/carol DM
        emulator.build.slash("hotlines", user="bob", channel=world.dm_alice_carol)
    with pytest.raises(ValueError):
        world.create_user_message(world.group_dm_study, "bob", "hi")


# ------------------------------------------------------------------------------ world & REST
async def test_private_channels_world_and_rest(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    world = emulator.world
    assert world.dm_between("carol", "alice") is world.dm_alice_carol
    assert world.group_dm("alice", "ida", "carol") is world.group_dm_study
    assert world.dm_alice_carol is not world.dm_channel_for(world.users["alice"])
    assert [g.name for g in world.mutual_guilds("alice", "carol")] == ["Harbour"]
    assert [g.name for g in world.mutual_guilds("alice", "ida")] == ["Lighthouse"]
    assert world.mutual_guilds("alice", "zed") == []

    msg = await emulator.post_user_message(world.dm_alice_carol, "carol", "hello")
    assert world.jump_url(world.dm_alice_carol.id, int(msg["id"])).startswith(
        "https://discord.com/channels/@me/"
    )
    assert emulator.channel_messages(world.dm_alice_carol.id)[0]["content"] == "hello"
    # The bot is in neither private channel: 50001 on every channel route.
    for path in (
        f"channels/{world.dm_alice_carol.id}",
        f"channels/{world.group_dm_study.id}",
        f"channels/{world.dm_alice_carol.id}/messages/{msg['id']}",
    ):
        async with http.get(path) as r:
            assert (r.status, (await r.json())["code"]) == (403, 50001)
    # Its own DM works, as before.
    async with http.post(
        "users/@me/channels", json={"recipient_id": str(world.users["zed"].id)}
    ) as r:
        dm = await r.json()
    async with http.get(f"channels/{dm['id']}") as r:
        assert r.status == 200 and (await r.json())["recipients"][0]["username"] == "zed"

    # Shared servers: the bot's guilds, then a member lookup per guild (200 or 404 10007).
    async with http.get("users/@me/guilds") as r:
        guild_ids = [g["id"] for g in await r.json()]
    shared = []
    for gid in guild_ids:
        async with http.get(f"guilds/{gid}/members/{world.users['carol'].id}") as r:
            if r.status == 200:
                shared.append(gid)
            else:
                assert (r.status, (await r.json())["code"]) == (404, 10007)
    assert shared == [str(world.guild_a.id)]
    assert emulator.violations == []


async def test_floor_bot_user_install_end_to_end(emulator: Emulator, floor_bot: BotProcess) -> None:
    """Real discord.py: allowed_installs/allowed_contexts are synced, and a "Report message"
    from a DM between users and /ping from a group DM are answered (ephemeral, nothing
    posted, the bot gets no gateway event for the DM message)."""
    put = emulator.requests_to("PUT", SYNC)[0]
    assert {(c["name"], tuple(c["integration_types"]), tuple(c["contexts"])) for c in put.body} == {
        ("ping", (0, 1), (0, 1, 2)),
        ("Report message", (0, 1), (0, 1, 2)),
    }
    world = emulator.world
    dm = world.dm_alice_carol
    msg = await emulator.post_user_message(dm, "carol", "pay or else", [Attachment()])
    res = await emulator.interact(
        emulator.build.message_command("Report message", user="alice", message=msg)
    )
    assert res.ephemeral
    assert res.content == (
        "Report received. ctx=['private_channel'] channel=DMChannel "
        f"owners=[1] author={world.users['carol'].id} content='pay or else' files=1 "
        f"by={world.users['alice'].id}"
    )
    ping = await emulator.interact(
        emulator.build.slash("ping", user="ida", channel=world.group_dm_study)
    )
    assert ping.ephemeral and ping.content == "pong"
    bot_dm = await emulator.interact(emulator.build.slash("ping", user="zed", context="bot_dm"))
    assert bot_dm.content == "pong"
    assert [m["content"] for m in emulator.channel_messages(dm.id)] == ["pay or else"]
    for session in emulator.gateway.live_sessions:
        assert all(
            (p.get("d") or {}).get("channel_id") != str(dm.id)
            for p in session.buffer
            if p.get("t") == "MESSAGE_CREATE"
        )


async def test_null_install_fields_default_like_discord(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """discord.py sends ``integration_types: null`` / ``contexts: null`` for commands without
    allowed_installs / allowed_contexts: stored as the guild install, offered per dm_permission."""
    body = [
        {
            "name": "report",
            "type": 1,
            "description": "x",
            "dm_permission": False,
            "integration_types": None,
            "contexts": None,
        }
    ]
    async with http.put(f"applications/{emulator.world.application_id}/commands", json=body) as r:
        (cmd,) = await r.json()
    assert (cmd["integration_types"], cmd["contexts"]) == ([0], None)
    assert load_spec().validate_schema("ApplicationCommandResponse", cmd) is None
    emulator.build.slash("report", user="alice")  # in a guild: fine
    with pytest.raises(LookupError):
        emulator.build.slash("report", user="alice", context="bot_dm")
    with pytest.raises(LookupError):
        emulator.build.slash("report", user="alice", installed="user")


async def test_application_lists_both_install_types(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get("applications/@me") as r:
        app = await r.json()
    assert sorted(app["integration_types_config"]) == ["0", "1"]
    assert load_spec().validate_schema("PrivateApplicationResponse", app) is None


async def test_my_guilds_pages_by_id_like_discord(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """GET /users/@me/guilds: ascending IDs, ``limit`` (1-200, default 200), ``after`` and
    ``before`` an ID; only guilds the bot is in. (Vigil lists them to find the servers a DM
    report may go to, every shard's at once.)"""
    from datetime import UTC, datetime

    from emulator.models import Guild, Member, Role

    world = emulator.world
    for n in range(3):
        extra = Guild(id=world.ids.now(), name=f"Extra {n}", owner_id=1, preferred_locale="en-US")
        extra.roles[extra.id] = Role(id=extra.id, name="@everyone", permissions=0, position=0)
        extra.members[world.bot_user.id] = Member(
            user=world.bot_user, guild_id=extra.id, roles=[], joined_at=datetime.now(UTC)
        )
        world.guilds[extra.id] = extra
    elsewhere = Guild(id=world.ids.now(), name="Without Vigil", owner_id=1, preferred_locale="fr")
    world.guilds[elsewhere.id] = elsewhere
    mine = sorted(g.id for g in world.guilds.values() if world.bot_user.id in g.members)
    assert len(mine) == 5

    async def page(**query: Any) -> list[int]:
        async with http.get("users/@me/guilds", params=query) as r:
            assert r.status == 200
            body = await r.json()
        spec = load_spec()
        assert all(spec.validate_schema("MyGuildResponse", g) is None for g in body)
        return [int(g["id"]) for g in body]

    assert await page() == mine
    assert await page(with_counts="true") == mine
    assert await page(limit=2, with_counts="false") == mine[:2]
    assert await page(limit=2, after=mine[1]) == mine[2:4]
    assert await page(after=mine[-1]) == []
    assert await page(before=mine[2]) == mine[:2]
    async with http.get("users/@me/guilds", params={"limit": 0}) as r:
        assert r.status == 400
    assert emulator.violations == []
