"""The emulator enforces Discord's limits beyond the spec: 6,000 embed characters per message,
2,000 characters of content (emulator/limits.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from emulator import Emulator


@pytest_asyncio.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emulator.token}"}
    async with aiohttp.ClientSession(emulator.api_base + "/", headers=headers) as session:
        yield session


async def test_embeds_over_6000_in_all_are_refused(emulator: Emulator, http: aiohttp.ClientSession):
    cid = emulator.world.guild_a.channel("mod-alerts").id
    each_valid = [{"description": "x" * 4000}, {"description": "y" * 2001}]
    async with http.post(f"channels/{cid}/messages", json={"embeds": each_valid}) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == 50035
    assert "6000" in emulator.violations[-1].message
    fits = [{"description": "x" * 4000}, {"description": "y" * 2000}]
    async with http.post(f"channels/{cid}/messages", json={"embeds": fits}) as resp:
        assert resp.status == 200
    async with http.post(f"channels/{cid}/messages", json={"content": "z" * 2001}) as resp:
        assert resp.status == 400
    assert len(emulator.violations) == 2
    emulator.violations.clear()  # expected; keep the fixture from failing the test
