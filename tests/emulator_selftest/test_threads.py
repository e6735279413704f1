"""Self-tests for threads: starting a public thread from a message, posting into it, the
thread channel object, permissions inherited from the parent, archived and locked threads,
deleted threads, and the gateway events discord.py builds its thread cache from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest_asyncio

from emulator import BotProcess, Emulator, P
from emulator.models import Overwrite
from emulator.spec import load_spec

THREADS = "/channels/{channel_id}/messages/{message_id}/threads"


@pytest_asyncio.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession(emulator.api_base + "/", headers=headers) as session:
        yield session


def allow_threads(emulator: Emulator, channel_name: str = "mod-alerts", **extra: int) -> None:
    """Give the bot's role Create Public Threads in a channel (Vigil's default role lacks it)."""
    guild = emulator.world.guild_a
    channel = guild.channel(channel_name)
    role = guild.role("Vigil")
    allow = int(P.CREATE_PUBLIC_THREADS) | extra.get("allow", 0)
    channel.overwrites = [o for o in channel.overwrites if o.id != role.id] + [
        Overwrite(role.id, 0, allow=allow | int(P.VIEW_CHANNEL | P.SEND_MESSAGES), deny=0)
    ]
    if extra.get("deny"):
        channel.overwrites[-1].deny = extra["deny"]


async def post(
    http: aiohttp.ClientSession, channel_id: int | str, body: dict[str, Any]
) -> tuple[int, Any]:
    async with http.post(f"channels/{channel_id}/messages", json=body) as r:
        return r.status, await r.json()


async def start(
    http: aiohttp.ClientSession, channel_id: int, message_id: int | str, name: str = "Case #1"
) -> tuple[int, Any]:
    body = {"name": name, "auto_archive_duration": 10080}
    async with http.post(f"channels/{channel_id}/messages/{message_id}/threads", json=body) as r:
        return r.status, await r.json()


async def test_a_thread_from_a_message_needs_create_public_threads(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    alerts = emulator.world.guild_a.channel("mod-alerts")
    status, message = await post(http, alerts.id, {"content": "alert"})
    assert status == 200
    status, error = await start(http, alerts.id, message["id"])
    assert (status, error["code"]) == (403, 50013)
    assert emulator.threads(alerts.id) == []

    allow_threads(emulator)
    status, thread = await start(http, alerts.id, message["id"])
    assert status == 201
    spec = load_spec()
    assert spec.validate_schema("ThreadResponse", thread) is None
    # Discord: a thread started from a message has the message's ID; public in a text channel.
    assert thread["id"] == message["id"] and thread["type"] == 11
    assert thread["parent_id"] == str(alerts.id) and thread["name"] == "Case #1"
    assert thread["thread_metadata"]["auto_archive_duration"] == 10080
    assert thread["owner_id"] == str(emulator.world.bot_user.id)
    # The starter message now carries its thread (and the HAS_THREAD flag).
    starter = emulator.world.get_message(alerts.id, int(message["id"]))
    assert starter is not None and starter["thread"]["id"] == thread["id"]
    assert starter["flags"] & (1 << 5)
    assert spec.validate_schema("MessageResponse", starter) is None
    # One thread per message: a second attempt is refused, nothing new is made.
    status, error = await start(http, alerts.id, message["id"], "again")
    assert (status, error["code"]) == (400, 160004)
    assert [t.id for t in emulator.threads(alerts.id)] == [int(message["id"])]
    # The thread is a channel of its own.
    async with http.get(f"channels/{thread['id']}") as r:
        assert r.status == 200
        fetched = await r.json()
    assert spec.validate_schema("ThreadResponse", fetched) is None
    assert fetched["id"] == thread["id"]


async def test_only_text_channel_messages_start_threads(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    alice = emulator.world.users["alice"]
    dm = emulator.world.dm_channel_for(alice)
    status, message = await post(http, dm.id, {"content": "hello"})
    assert status == 200
    status, error = await start(http, dm.id, message["id"])
    assert (status, error["code"]) == (400, 50024)
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    status, error = await start(http, alerts.id, 1234567890123456789)
    assert (status, error["code"]) == (404, 10008)


async def test_posting_in_a_thread_needs_send_messages_in_threads(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    _, message = await post(http, alerts.id, {"content": "alert"})
    _, thread = await start(http, alerts.id, message["id"])
    status, posted = await post(http, thread["id"], {"content": "a note", "nonce": "n-1"})
    assert status == 200 and posted["channel_id"] == thread["id"]
    assert [m["content"] for m in emulator.channel_messages(int(thread["id"]))] == ["a note"]
    assert emulator.world.thread(int(thread["id"])).message_count == 1  # type: ignore[union-attr]
    # Send Messages in Threads denied: the parent still takes posts, the thread refuses them.
    allow_threads(emulator, deny=int(P.SEND_MESSAGES_IN_THREADS))
    status, error = await post(http, thread["id"], {"content": "refused"})
    assert (status, error["code"]) == (403, 50013)
    status, _ = await post(http, alerts.id, {"content": "still fine"})
    assert status == 200


async def test_threads_inherit_their_parents_permissions(emulator: Emulator) -> None:
    world = emulator.world
    guild = world.guild_a
    alerts = guild.channel("mod-alerts")
    message = world.create_user_message(alerts, "maya", "starter")
    thread = world.start_thread(alerts, message, "Case #1", world.users["maya"], 1440)
    bob, maya = guild.member(world.users["bob"]), guild.member(world.users["maya"])
    assert world.channel_permissions(guild, bob, thread) == 0  # private by inheritance
    assert world.channel_permissions(guild, maya, thread) == world.channel_permissions(
        guild, maya, alerts
    )
    assert world.channel(thread.id) is thread and world.guild_of(thread.id) is guild
    # Listed as a thread, not among the guild's channels.
    payload = guild.payload()
    assert str(thread.id) not in {c["id"] for c in payload["channels"]}
    assert [t["id"] for t in payload["threads"]] == [str(thread.id)]


async def test_archived_threads_reopen_on_a_post_unless_locked(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    _, message = await post(http, alerts.id, {"content": "alert"})
    _, thread = await start(http, alerts.id, message["id"])
    thread_id = int(thread["id"])
    await emulator.archive_thread(thread_id)
    assert emulator.world.guild_a.payload()["threads"] == []  # archived: not active
    status, _ = await post(http, thread_id, {"content": "back"})
    assert status == 200
    assert not emulator.world.thread(thread_id).archived  # type: ignore[union-attr]
    await emulator.archive_thread(thread_id, locked=True)
    status, error = await post(http, thread_id, {"content": "locked out"})
    assert (status, error["code"]) == (400, 50083)


async def test_a_deleted_thread_is_gone(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    _, message = await post(http, alerts.id, {"content": "alert"})
    _, thread = await start(http, alerts.id, message["id"])
    await post(http, thread["id"], {"content": "note"})
    await emulator.delete_thread(int(thread["id"]))
    status, error = await post(http, thread["id"], {"content": "after"})
    assert (status, error["code"]) == (404, 10003)
    starter = emulator.world.get_message(alerts.id, int(message["id"]))
    assert starter is not None and "thread" not in starter
    assert emulator.channel_messages(int(thread["id"])) == []


async def test_discord_py_builds_its_thread_cache_from_the_events(
    emulator: Emulator, http: aiohttp.ClientSession, floor_bot: BotProcess
) -> None:
    """THREAD_CREATE / THREAD_UPDATE carry what discord.py's Thread needs, and validate."""
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    _, message = await post(http, alerts.id, {"content": "alert"})
    _, thread = await start(http, alerts.id, message["id"])
    await emulator.archive_thread(int(thread["id"]))
    session = emulator.gateway.live_sessions[0]
    events = {
        p["t"]: p["d"] for p in session.buffer if p["t"] in ("THREAD_CREATE", "THREAD_UPDATE")
    }
    assert events["THREAD_CREATE"]["newly_created"] is True
    assert events["THREAD_UPDATE"]["thread_metadata"]["archived"] is True
    spec = load_spec()
    client = discord.Client(intents=discord.Intents.default())
    state = client._connection
    state.user = discord.ClientUser(state=state, data=emulator.world.bot_user.payload())  # type: ignore[arg-type]
    guild = discord.Guild(data=emulator.world.guild_a.payload(), state=state)  # type: ignore[arg-type]
    for data in events.values():
        shape = {k: v for k, v in data.items() if k != "newly_created"}
        assert spec.validate_schema("ThreadResponse", shape) is None
        parsed = discord.Thread(guild=guild, state=state, data=data)  # type: ignore[arg-type]
        assert parsed.id == int(thread["id"]) and parsed.parent_id == alerts.id
        assert parsed.type is discord.ChannelType.public_thread
    assert floor_bot.returncode is None


async def test_an_archived_thread_takes_no_deletion_until_unarchived(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    allow_threads(emulator)
    alerts = emulator.world.guild_a.channel("mod-alerts")
    _, message = await post(http, alerts.id, {"content": "alert"})
    _, thread = await start(http, alerts.id, message["id"])
    _, posted = await post(http, thread["id"], {"content": "to delete"})
    await emulator.archive_thread(int(thread["id"]))
    async with http.delete(f"channels/{thread['id']}/messages/{posted['id']}") as r:
        assert (r.status, (await r.json())["code"]) == (400, 50083)
    async with http.patch(f"channels/{thread['id']}", json={"archived": False}) as r:
        assert r.status == 200
        reopened = await r.json()
    assert load_spec().validate_schema("ThreadResponse", reopened) is None
    assert reopened["thread_metadata"]["archived"] is False
    async with http.delete(f"channels/{thread['id']}/messages/{posted['id']}") as r:
        assert r.status == 204
    # Locking, and unarchiving a locked thread, need Manage Threads.
    async with http.patch(f"channels/{thread['id']}", json={"locked": True}) as r:
        assert (r.status, (await r.json())["code"]) == (403, 50013)
    await emulator.archive_thread(int(thread["id"]), locked=True)
    async with http.patch(f"channels/{thread['id']}", json={"archived": False}) as r:
        assert (r.status, (await r.json())["code"]) == (403, 50013)
