"""Two bot processes, one shard each, sharing one PostgreSQL database, under concurrent reports.

Discord routes a guild's interactions to the one shard that owns it, so two processes normally
never race on one target. They can while a guild changes hands (resharding, a rolling restart
where the old and new process overlap), and the database must stay correct then too. To force
that race, the test hands the guild to the other shard as well (GUILD_CREATE on its session)
and dispatches each pair of reports that completes the threshold at the same moment, one report
to each process's session. Expected: exactly one case and exactly one alert post per target,
both processes still up. The normal routing is also checked: guild traffic through the
emulator reaches only the owning shard.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator import BotProcess, Emulator
from tests import postgres
from tests.dbquery import query
from tests.e2e.conftest import MESSAGES

TARGETS = ("dave", "erin", "carol", "zed")  # none can read #mod-alerts


@pytest.fixture
def shared_database(postgres_database: str) -> str:
    postgres.empty(postgres_database)
    return postgres_database


def session_of(emu: Emulator, shard_id: int) -> Any:
    return next(s for s in emu.gateway.live_sessions if s.shard_id == shard_id)


async def interact_on(emu: Emulator, shard_id: int, payload: dict[str, Any]) -> Any:
    """INTERACTION_CREATE on one shard's session, whoever owns the guild; waits for the answer."""
    record = emu.interactions.register(payload)
    await session_of(emu, shard_id).dispatch("INTERACTION_CREATE", payload, emu.world.bot_user.id)
    await asyncio.wait_for(asyncio.shield(record.callback), 10)
    return record


@pytest.mark.long_scenario(seconds=3)
async def test_two_processes_one_database_one_case_one_alert(
    emulator: Emulator, bot_factory, shared_database: str
):
    emu, world = emulator, emulator.world
    guild = world.guild_a
    alerts = guild.channel("mod-alerts")
    procs: list[BotProcess] = []
    for shard in (0, 1):
        env = {"DATABASE_URL": shared_database, "SHARD_COUNT": "2", "SHARD_IDS": str(shard)}
        procs.append(await bot_factory(env=env, ready_timeout=20.0))
    shards = sorted(detail["shard"][0] for _, kind, detail in emu.gateway.log if kind == "IDENTIFY")
    assert shards == [0, 1]
    owner = (guild.id >> 22) % 2
    other = 1 - owner

    # Normal routing: setup goes through the emulator to the owning shard only.
    await emu.interact(
        emu.build.slash(
            "reports setup", user="olivia", options={"alert_channel": "mod-alerts", "threshold": 2}
        ),
        timeout=10,
    )
    # Other guilds may have a settings row too (each process stores the locale of its guilds).
    stored = query(
        shared_database, "SELECT threshold FROM guild_settings WHERE guild_id = ?", (guild.id,)
    )
    assert stored == [(2,)]

    # The guild is handed to the other shard too, so both processes can take its reports.
    await session_of(emu, other).dispatch("GUILD_CREATE", guild.payload(), world.bot_user.id)
    await asyncio.sleep(0.5)

    for target in TARGETS:
        first = emu.build.slash(
            "report", user="alice", options={"member": target, "reason": "harassment"}
        )
        second = emu.build.slash(
            "report", user="bob", options={"member": target, "reason": "harassment"}
        )
        await asyncio.gather(interact_on(emu, owner, first), interact_on(emu, other, second))

    def posts() -> list[Any]:
        return [
            r
            for r in emu.requests_to("POST", MESSAGES)
            if r.params.get("channel_id") == str(alerts.id) and r.status == 200
        ]

    await emu.waiters.wait_for(
        lambda: len(posts()) >= len(TARGETS) or None, 15, f"{len(TARGETS)} alerts"
    )
    await asyncio.sleep(2.0)  # time for a duplicate to show up, if either process would post one

    cases = query(
        shared_database, "SELECT target_id, status FROM cases WHERE guild_id = ?", (guild.id,)
    )
    assert sorted(cases) == sorted((world.users[t].id, "open") for t in TARGETS)
    assert query(shared_database, "SELECT COUNT(*) FROM reports") == [(2 * len(TARGETS),)]
    assert query(shared_database, "SELECT COUNT(*) FROM reports WHERE case_id IS NULL") == [(0,)]
    assert len(posts()) == len(TARGETS)  # one alert per case: no process posted a second
    assert len(emu.channel_messages(alerts.id)) == len(TARGETS)
    assert all(p.returncode is None for p in procs)  # both processes are still up
    for proc in procs:  # each answered its half of the reports, without errors
        assert "Traceback" not in proc.log_text()
