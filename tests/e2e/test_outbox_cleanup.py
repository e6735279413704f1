"""Deleting the messages of purged and erased cases never holds up another server's alerts,
whatever Discord answers one server's DELETEs, and each process deletes only its own servers'
messages (end to end: the real bot.py against the emulator).

The emulator answers Harbour's DELETEs with a 429 or a 502 for ever; discord.py retries inside
the call, so each attempt lasts up to the request's cap (10 s). The outbox used to delete
queued messages one after another, oldest first, inside its loop: every other server's alerts
and reminders waited for the whole queue."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import BotProcess, Emulator
from tests import postgres
from tests.dbquery import query
from tests.e2e.conftest import MESSAGE, Vigil
from tests.e2e.test_erasure_races import forget, wait_no_alerts
from tests.e2e.test_outbox_hardening import alert_channel_row, lighthouse_reports_alice

TARGETS = ("dave", "erin", "carol", "zed")  # none can read #mod-alerts
SHARDS = 2
QUEUED = "SELECT COUNT(*) FROM alert_cleanup WHERE kind = 'message' AND guild_id = ?"


@pytest.mark.long_scenario(seconds=5)
@pytest.mark.parametrize(
    "status, retry_after", [(429, 5.0), (502, 0.2)], ids=["429-retry-after-5s", "502"]
)
async def test_a_server_whose_deletions_fail_for_ever_never_delays_another_servers_alert(
    vigil: Vigil, status: int, retry_after: float
):
    """Four of Harbour's alerts are erased while Discord refuses every DELETE there; the bot
    restarts (the rows wait in the database). Lighthouse's urgent alert goes out at once all
    the same; Harbour's alerts stay queued, not lost, and go when Discord takes them."""
    await vigil.setup()
    harbour = vigil.guild.id
    for target in TARGETS:
        await vigil.report("alice", target, "child_safety")
    await vigil.wait_alerts(len(TARGETS))
    await vigil.emu.waiters.wait_for(
        lambda: (
            vigil.db_rows("SELECT COUNT(*) FROM cases WHERE alert_message_id IS NULL") == [(0,)]
            or None
        ),
        10,
        "the alerts recorded",
    )
    rule = vigil.emu.faults.add(
        "DELETE", MESSAGE, status, retry_after=retry_after, channel_id=vigil.alerts_channel.id
    )
    for target in TARGETS:
        await forget(vigil, target)
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "a refused DELETE")
    await vigil.restart(kill=True)  # the queue outlives the process
    hits = rule.hits
    await vigil.emu.waiters.wait_for(
        lambda: rule.hits > hits or None, 15, "the restarted process's DELETE"
    )
    moderation = await lighthouse_reports_alice(vigil.emu)
    await vigil.wait_alerts(1, channel=moderation)  # not after Harbour's queue
    assert len(vigil.alerts()) == len(TARGETS)  # still refused, still queued
    assert vigil.db_rows(QUEUED, (harbour,)) == [(len(TARGETS),)]
    vigil.emu.faults.remove(rule)  # Discord takes them again
    await wait_no_alerts(vigil, timeout=30)
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows(QUEUED, (harbour,)) == [(0,)] or None, 10, "the queue done"
    )


def shard_of(guild_id: int, count: int = SHARDS) -> int:
    """The shard Discord sends the server to (its process's `SHARD_IDS`)."""
    return (guild_id >> 22) % count


async def _start_shard(
    bot_factory: Any, database: str, shard: int, count: int = SHARDS
) -> BotProcess:
    """A bot process running one shard of `count`, on the shared database."""
    env = {
        "DATABASE_URL": database,
        "SHARD_COUNT": str(count),
        "SHARD_IDS": str(shard),
        "LOG_LEVEL": "INFO",
        "ALERT_RETRY_MAX_SECONDS": "2",
    }
    proc: BotProcess = await bot_factory(env=env, ready_timeout=20.0)
    return proc


def _harbour_case_with_a_thread_post(database: str, emu: Emulator) -> None:
    """Harbour's case #1, its alert and thread posted, and a moderator's note waiting for the
    thread (the case feed's work for Harbour's process)."""
    harbour = emu.world.guild_a
    alerts = harbour.channel("mod-alerts")
    query(
        database,
        "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, status, "
        "urgent, opened_at, alert_channel_id, alert_message_id, alert_posted_revision, "
        "thread_id) VALUES (?, 1, ?, 'Dave', 1, 'open', 1, ?, ?, 4242, 1, 4242)",
        (harbour.id, emu.world.users["dave"].id, "2026-01-01T00:00:00", alerts.id),
    )
    ((case_id,),) = query(database, "SELECT id FROM cases WHERE guild_id = ?", (harbour.id,))
    query(
        database,
        "INSERT INTO case_events (case_id, actor_id, action, note, created_at) "
        "VALUES (?, ?, 'note', 'checking', ?)",
        (case_id, emu.world.users["maya"].id, "2026-01-01T00:00:00"),
    )
    ((event_id,),) = query(database, "SELECT id FROM case_events WHERE case_id = ?", (case_id,))
    query(
        database,
        "INSERT INTO case_feed (guild_id, case_id, event_id, created_at) VALUES (?, ?, ?, ?)",
        (harbour.id, case_id, event_id, "2026-01-01T00:00:00"),
    )


async def test_only_the_process_that_serves_a_server_deletes_its_messages(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """Two shard processes on one database. 60 of Harbour's messages wait for deletion
    (older than Lighthouse's one) while only Lighthouse's process runs: it never touches
    Harbour's (it may not even see that channel), nor lets them fill its batch, nor Harbour's
    thread posts (quietly): Lighthouse's message goes at once. Harbour's process, once up,
    deletes Harbour's."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    harbour, lighthouse = world.guild_a, world.guild_b
    alerts, moderation = harbour.channel("mod-alerts"), lighthouse.channel("moderation")
    # The emulator's IDs change from run to run: a shard count that parts the two servers.
    count = next(n for n in range(2, 64) if shard_of(harbour.id, n) != shard_of(lighthouse.id, n))
    lighthouse_shard = shard_of(lighthouse.id, count)
    query(postgres_database, *alert_channel_row(harbour.id, alerts.id))
    _harbour_case_with_a_thread_post(postgres_database, emu)
    queue = (
        "INSERT INTO alert_cleanup (guild_id, channel_id, message_id, created_at) "
        "VALUES (?, ?, ?, '2026-01-01T00:00:00')"
    )
    for n in range(60):  # messages already gone: Discord answers 404, the row is done
        query(postgres_database, queue, (harbour.id, alerts.id, 1000 + n))
    erased = world.create_user_message(moderation, world.bot_user, "an erased case's alert")
    query(postgres_database, queue, (lighthouse.id, moderation.id, int(erased["id"])))
    refused = emu.faults.add("DELETE", MESSAGE, 502, channel_id=alerts.id)
    theirs = await _start_shard(bot_factory, postgres_database, lighthouse_shard, count=count)
    await emu.waiters.wait_for(
        lambda: emu.channel_messages(moderation.id) == [] or None, 10, "Lighthouse's deletion"
    )
    assert refused.hits == 0  # never tried by the process that does not serve Harbour
    assert query(postgres_database, QUEUED, (harbour.id,)) == [(60,)]
    assert "not_served" not in theirs.log_text()  # the case feed left Harbour's thread alone
    emu.faults.remove(refused)
    await _start_shard(bot_factory, postgres_database, shard_of(harbour.id, count), count=count)
    await emu.waiters.wait_for(
        lambda: query(postgres_database, QUEUED, (harbour.id,)) == [(0,)] or None,
        20,
        "Harbour's queue done by Harbour's process",
    )


async def test_other_shards_waiting_alerts_never_starve_this_processs_own(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """600 servers of the other shard have an urgent alert waiting (their process is down):
    more than the outbox's bound on what it leaves out of a read. Lighthouse's process must
    deliver Lighthouse's urgent alert at once (it used to read 50 of the others' alerts at
    every pass, leave out at most 500, and never reach its own)."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    lighthouse_shard = shard_of(world.guild_b.id)
    other_shard = 1 - lighthouse_shard
    stamp = "2026-01-01T00:00:00"
    guild = "((5000 + g)::bigint * ? + ?) << 22"  # the g-th made-up server of that shard
    query(
        postgres_database,
        f"INSERT INTO guild_settings (guild_id, alert_channel_id, updated_at) "
        f"SELECT {guild}, 1, ? FROM generate_series(1, 600) AS g",
        (SHARDS, other_shard, stamp),
    )
    query(
        postgres_database,
        f"INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
        f"status, urgent, opened_at) SELECT {guild}, 1, 1000 + g, 'raider', 0, 'open', 1, ? "
        "FROM generate_series(1, 600) AS g",
        (SHARDS, other_shard, stamp),
    )
    await _start_shard(bot_factory, postgres_database, lighthouse_shard)
    moderation = await lighthouse_reports_alice(emu)
    await emu.waiters.wait_for(
        lambda: emu.channel_messages(moderation.id) or None, 10, "Lighthouse's alert"
    )
