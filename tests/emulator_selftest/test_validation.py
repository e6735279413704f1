"""Self-tests for spec validation, routing, faults and REST behaviour (raw aiohttp client)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from emulator import Emulator


@pytest_asyncio.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession(emulator.api_base + "/", headers=headers) as session:
        yield session


async def test_invalid_body_is_a_violation(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    cid = emulator.world.guild_a.channel("general").id
    async with http.post(f"channels/{cid}/messages", json={"content": 123}) as resp:
        assert resp.status == 400
        assert (await resp.json())["code"] == 50035
    assert len(emulator.violations) == 1
    assert "content" in emulator.violations[0].message
    assert emulator.channel_messages(cid) == []
    emulator.violations.clear()  # expected; keep the fixture from failing the test


async def test_unknown_route_is_a_violation(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get("channels/1/not-a-route") as resp:
        assert resp.status == 400
    async with http.delete("gateway/bot") as resp:
        assert resp.status == 400
    assert [v.template for v in emulator.violations] == [None, "/gateway/bot"]
    emulator.violations.clear()


async def test_valid_message_create_edit_delete(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    cid = emulator.world.guild_a.channel("mod-alerts").id
    async with http.post(
        f"channels/{cid}/messages",
        json={"content": "new report", "embeds": [{"title": "Report", "color": 0xFF0000}]},
    ) as resp:
        assert resp.status == 200
        msg = await resp.json()
    async with http.patch(f"channels/{cid}/messages/{msg['id']}", json={"content": "claimed"}):
        pass
    stored = emulator.channel_messages(cid)
    assert [m["content"] for m in stored] == ["claimed"]
    assert stored[0]["edited_timestamp"] is not None
    assert [v["content"] for v in emulator.message_history(int(msg["id"]))] == ["new report"]
    async with http.delete(f"channels/{cid}/messages/{msg['id']}") as resp:
        assert resp.status == 204
    assert emulator.channel_messages(cid) == []
    assert emulator.violations == []


async def test_multipart_payload_json_is_validated(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    cid = emulator.world.guild_a.channel("general").id
    form = aiohttp.FormData()
    form.add_field(
        "payload_json",
        '{"content": "see file", "attachments": [{"id": 0}]}',
        content_type="application/json",
    )
    form.add_field("files[0]", b"data", filename="log.txt")
    async with http.post(f"channels/{cid}/messages", data=form) as resp:
        assert resp.status == 200
        assert (await resp.json())["attachments"][0]["filename"] == "log.txt"
    bad = aiohttp.FormData()
    bad.add_field("payload_json", '{"content": ["x"]}', content_type="application/json")
    async with http.post(f"channels/{cid}/messages", data=bad) as resp:
        assert resp.status == 400
    assert len(emulator.violations) == 1
    emulator.violations.clear()


async def test_private_channel_permissions(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    world = emulator.world
    alerts = world.guild_a.channel("mod-alerts")
    alice = world.guild_a.member(world.users["alice"])
    maya = world.guild_a.member(world.users["maya"])
    assert world.channel_permissions(world.guild_a, alice, alerts) == 0
    assert world.channel_permissions(world.guild_a, maya, alerts) & 0x400
    # Bot loses access: Discord answers 50001.
    from emulator import Overwrite, P

    alerts.overwrites.append(Overwrite(world.bot_user.id, 1, deny=int(P.VIEW_CHANNEL)))
    async with http.post(f"channels/{alerts.id}/messages", json={"content": "x"}) as resp:
        assert resp.status == 403 and (await resp.json())["code"] == 50001


async def test_moderation_routes_and_hierarchy(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    world = emulator.world
    g = world.guild_a
    carol, maya = world.users["carol"], world.users["maya"]
    async with http.patch(
        f"guilds/{g.id}/members/{carol.id}",
        json={"communication_disabled_until": "2099-01-01T00:00:00+00:00"},
    ) as resp:
        assert resp.status == 400  # longer than 28 days
    emulator.violations.clear()
    from datetime import UTC, datetime, timedelta

    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    async with http.patch(
        f"guilds/{g.id}/members/{carol.id}",
        json={"communication_disabled_until": until},
        headers={"X-Audit-Log-Reason": "spam"},
    ) as resp:
        assert resp.status == 200
    assert g.member(carol).communication_disabled_until is not None
    # Moderators outrank the bot's role: 50013.
    async with http.delete(f"guilds/{g.id}/members/{maya.id}") as resp:
        assert resp.status == 403 and (await resp.json())["code"] == 50013
    async with http.put(
        f"guilds/{g.id}/bans/{carol.id}", json={"delete_message_seconds": 3600}
    ) as resp:
        assert resp.status == 204
    assert carol.id in g.bans and carol.id not in g.members


async def test_fault_403_and_500(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    cid = emulator.world.guild_a.channel("general").id
    emulator.faults.add("POST", "/channels/{channel_id}/messages", 403, count=1, channel_id=cid)
    async with http.post(f"channels/{cid}/messages", json={"content": "x"}) as resp:
        assert resp.status == 403
        assert await resp.json() == {"code": 50013, "message": "Missing Permissions"}
    async with http.post(f"channels/{cid}/messages", json={"content": "x"}) as resp:
        assert resp.status == 200
    emulator.faults.add("POST", "/channels/{channel_id}/messages", 429, until=60, retry_after=1.5)
    async with http.post(f"channels/{cid}/messages", json={"content": "x"}) as resp:
        assert resp.status == 429
        assert resp.headers["Via"] and (await resp.json())["retry_after"] == 1.5


async def test_unauthorized_without_token(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.get(emulator.api_base + "/users/@me") as resp,
    ):
        assert resp.status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"type": 4, "data": {"content": "hi", "flags": 64}},
        {"type": 5, "data": {"flags": 64}},
        {
            "type": 9,
            "data": {
                "custom_id": "m",
                "title": "T",
                "components": [
                    {
                        "type": 18,
                        "label": "Details",
                        "component": {"type": 4, "custom_id": "d", "style": 2},
                    }
                ],
            },
        },
        {"type": 8, "data": {"choices": [{"name": "a", "value": "a"}]}},
    ],
)
def test_callback_shapes_validate(body: dict[str, object]) -> None:
    from emulator.spec import load_spec

    spec = load_spec()
    err = spec.validate_body(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback", body
    )
    assert err is None, err


async def test_enforce_nonce_deduplicates(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    cid = emulator.world.guild_a.channel("mod-alerts").id
    body = {"content": "alert", "nonce": "case-1", "enforce_nonce": True}
    async with http.post(f"channels/{cid}/messages", json=body) as resp:
        first = await resp.json()
    async with http.post(f"channels/{cid}/messages", json=body) as resp:
        assert resp.status == 200
        second = await resp.json()
    assert first["id"] == second["id"] and first["nonce"] == "case-1"
    assert len(emulator.channel_messages(cid)) == 1
    async with http.post(f"channels/{cid}/messages", json={"content": "x", "nonce": "case-1"}):
        pass  # without enforce_nonce Discord creates a new message
    assert len(emulator.channel_messages(cid)) == 2


def test_vendored_spec_matches_shared() -> None:
    """The copy that lets a lone clone run the tests must not drift from shared/'s spec."""
    import pytest

    from emulator.spec import SHARED_SPEC, VENDORED_SPEC

    if not SHARED_SPEC.exists():
        pytest.skip("shared/discord-api-spec is not beside this clone")
    assert VENDORED_SPEC.read_bytes() == SHARED_SPEC.read_bytes()


async def test_fault_disconnect_drops_the_connection(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """A disconnect fault answers nothing: the client sees the server hang up (what discord.py
    raises as an aiohttp.ClientError, not an HTTPException), and the world is untouched."""
    cid = emulator.world.guild_a.channel("general").id
    rule = emulator.faults.add(
        "POST", "/channels/{channel_id}/messages", disconnect=True, channel_id=cid
    )
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post(f"channels/{cid}/messages", json={"content": "x"}) as resp:
            await resp.read()
    assert emulator.channel_messages(cid) == []
    faulted = [r for r in emulator.requests if r.fault]
    assert faulted and all(r.status == 0 for r in faulted)
    emulator.faults.remove(rule)
    async with http.post(f"channels/{cid}/messages", json={"content": "x"}) as resp:
        assert resp.status == 200
