"""End-to-end self-tests: the floor bot (real discord.py) against the emulator."""

from __future__ import annotations

import pytest

from emulator import BotProcess, Emulator

SYNC = "/applications/{application_id}/commands"
MESSAGES = "/channels/{channel_id}/messages"


async def test_connect_and_sync(emulator: Emulator, floor_bot: BotProcess) -> None:
    assert emulator.gateway.count("IDENTIFY") == 1
    puts = emulator.requests_to("PUT", SYNC)
    assert len(puts) == 1 and puts[0].status == 200
    names = {(c["name"], c["type"]) for c in emulator.all_commands()}
    assert names == {("ping", 1), ("Report message", 3)}
    assert all(int(c["id"]) > 0 for c in emulator.all_commands())
    first = emulator.requests[0]
    assert (first.method, first.template) == ("GET", "/users/@me")


async def test_ping_round_trip_is_ephemeral(emulator: Emulator, floor_bot: BotProcess) -> None:
    result = await emulator.interact(emulator.build.slash("ping", user="alice"))
    assert result.type == 4
    assert result.content == "pong"
    assert result.ephemeral
    assert result.latency < 2.0
    original = result.original()
    assert original is not None and original["content"] == "pong"
    # Ephemeral responses are not visible in the channel.
    general = emulator.world.guild_a.channel("general")
    assert emulator.channel_messages(general.id) == []
    cb = emulator.requests_to("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
    assert cb[0].query == {"with_response": "1"} and cb[0].status == 200


async def test_message_command_with_attachment(emulator: Emulator, floor_bot: BotProcess) -> None:
    from emulator import Attachment

    world = emulator.world
    msg = await emulator.post_user_message(
        world.guild_a.channel("general"), "carol", "buy cheap stuff", [Attachment()]
    )
    payload = emulator.build.message_command("Report message", user="alice", message=msg)
    assert payload["data"]["resolved"]["messages"][msg["id"]]["attachments"][0]["filename"]
    result = await emulator.interact(payload)
    assert result.ephemeral and result.content == "Report received."


async def test_unregistered_command_is_refused(emulator: Emulator, floor_bot: BotProcess) -> None:
    with pytest.raises(LookupError):
        emulator.build.slash("reports setup", user="olivia")


async def test_op7_reconnect_resumes(emulator: Emulator, floor_bot: BotProcess) -> None:
    await emulator.gateway_reconnect()
    await emulator.wait_for_gateway("RESUMED", timeout=10)
    assert emulator.gateway.count("IDENTIFY") == 1
    result = await emulator.interact(emulator.build.slash("ping", user="bob"))
    assert result.content == "pong"


async def test_close_4000_resumes(emulator: Emulator, floor_bot: BotProcess) -> None:
    await emulator.gateway_close(4000)
    await emulator.wait_for_gateway("RESUMED", timeout=10)
    result = await emulator.interact(emulator.build.slash("ping", user="bob"))
    assert result.content == "pong"


async def test_events_missed_while_disconnected_are_replayed(
    emulator: Emulator, floor_bot: BotProcess
) -> None:
    await emulator.gateway_close(4000)
    # Dispatched while the bot is away: must be replayed on RESUME, not lost.
    payload = emulator.build.slash("ping", user="dave")
    result = await emulator.interact(payload, timeout=10)
    assert result.content == "pong"
    assert emulator.gateway.count("RESUME") == 1


async def test_invalid_session_reidentifies(emulator: Emulator, floor_bot: BotProcess) -> None:
    await emulator.gateway_invalid_session(resumable=False)
    await emulator.wait_for_gateway("IDENTIFY", count=2, timeout=15)
    await emulator.wait_for_gateway("GUILD_CREATE_DONE", count=2, timeout=5)
    result = await emulator.interact(emulator.build.slash("ping", user="bob"))
    assert result.content == "pong"


async def test_429_is_retried(emulator: Emulator, floor_bot: BotProcess) -> None:
    rule = emulator.faults.add(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        429,
        count=1,
        retry_after=0.1,
    )
    result = await emulator.interact(emulator.build.slash("ping", user="alice"))
    assert result.content == "pong"
    assert rule.hits == 1
    cbs = emulator.requests_to(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
    )
    assert [r.status for r in cbs] == [429, 200]


async def test_expired_interaction_gets_10062(emulator: Emulator, floor_bot: BotProcess) -> None:
    payload = emulator.build.slash("ping", user="alice")
    emulator.interactions.callback_deadline = 0.0  # every callback arrives "too late"
    rec = await emulator.dispatch_interaction(payload)
    req = await emulator.wait_for_request(
        lambda r: r.params.get("interaction_id") == str(rec.id), timeout=5
    )
    assert req.status == 404 and req.response == {"code": 10062, "message": "Unknown interaction"}


async def test_500_is_retried(emulator: Emulator, floor_bot: BotProcess) -> None:
    # discord.py retries 500s after 1 s: still inside Discord's 3 s callback window.
    template = "/interactions/{interaction_id}/{interaction_token}/callback"
    emulator.faults.add("POST", template, 500, count=1)
    result = await emulator.interact(emulator.build.slash("ping", user="alice"))
    assert result.content == "pong"
    assert [r.status for r in emulator.requests_to("POST", template)] == [500, 200]
