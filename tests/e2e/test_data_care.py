"""Nothing lost, nothing leaked, nothing kept too long: end to end through the emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.botproc import REPO_ROOT
from emulator.interactions import InteractionRecord
from tests.e2e.conftest import MESSAGES, Vigil, alert_text

DAYS_AGO_200 = "2026-01-01T00:00:00.000000+00:00"


def is_sqlite(vigil: Vigil) -> bool:
    return vigil.database_url.startswith("sqlite")


def _confirmed(record: InteractionRecord) -> bool:
    """The reporter was told "received": in the callback, or in the follow-up of a deferral."""
    return "received" in (record.callback_data.get("content") or "") or any(
        "received" in (f.get("content") or "") for f in record.followups
    )


async def test_sigkill_during_a_burst_loses_no_acknowledged_report(vigil: Vigil):
    await vigil.setup()
    reporters = ["alice", "bob", "carol", "erin", "maya", "milo", "adam", "olivia"]
    targets = ["dave", "zed"]
    pending = []
    for n, reporter in enumerate(reporters * 2):
        target = targets[n % 2]
        payload = vigil.emu.build.slash(
            "report",
            user=reporter,
            options={"member": target, "reason": "harassment", "details": f"burst {n}"},
        )
        pending.append(await vigil.emu.dispatch_interaction(payload))
        if n == 9:
            # Wait until a few were confirmed, then kill mid-burst. (In a burst Vigil may defer
            # every report first, the first ones too: a first answer alone confirms nothing.)
            await vigil.emu.waiters.wait_for(
                lambda: sum(_confirmed(r) for r in pending) >= 5 or None, 10, "5 confirmations"
            )
            vigil.proc.kill()
            await vigil.proc.wait()
            break
    # Confirmed = the reporter was told "received": in the callback itself, or (when Vigil
    # deferred first during the burst) in the follow-up sent after the commit. A deferral alone
    # ("thinking...") confirms nothing, and the reporter sees the interaction fail.
    acknowledged = {r.payload["data"]["options"][2]["value"] for r in pending if _confirmed(r)}
    stored = {row[0] for row in vigil.db_rows("SELECT details FROM reports")}
    assert acknowledged and acknowledged <= stored  # every confirmed report survived
    await vigil.start()
    await asyncio.sleep(1.5)  # let the outbox settle
    cases = vigil.db_rows("SELECT target_id FROM cases")
    assert len(cases) == len({c[0] for c in cases})  # one case per target
    for target in targets:
        uid = vigil.world.users[target].id
        reporters_stored = vigil.db_rows(
            "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE target_id = ?", (uid,)
        )[0][0]
        has_case = vigil.db_rows("SELECT COUNT(*) FROM cases WHERE target_id = ?", (uid,))[0][0]
        assert has_case == (1 if reporters_stored >= 3 else 0)
    numbers = [alert_text(m).split("Case #")[1].split(":")[0] for m in vigil.alerts()]
    assert len(numbers) == len(set(numbers)) == len(cases)  # no alert lost or doubled


async def test_sigint_exits_cleanly(vigil: Vigil):
    assert vigil.proc is not None and vigil.proc.proc is not None
    vigil.proc.proc.send_signal(signal.SIGINT)
    assert await vigil.proc.wait(timeout=15) == 0
    assert "database closed" in vigil.proc.log_text()


async def test_token_never_reaches_the_log(vigil: Vigil):
    """Neither the bot token, nor interaction tokens, nor what a reporter wrote, nor who
    reported, even at DEBUG (where discord.py logs whole gateway and HTTP payloads)."""
    await vigil.restart(LOG_LEVEL="DEBUG")  # the most verbose log Vigil can write
    await vigil.setup()
    details = "zebraumbrella4711 secret account of what happened"
    report = await vigil.report("alice", "dave", "violent_threat", details=details)
    await vigil.wait_alert_text("zebraumbrella4711")
    alert = vigil.alerts()[0]
    prompt = await vigil.run(
        vigil.emu.build.component("vigil:case:kick:1", user="maya", message=alert)
    )
    message = prompt.original()
    assert message is not None
    confirm = next(
        c["custom_id"]
        for row in message["components"]
        for c in row["components"]
        if c["custom_id"].startswith("vigil:confirm:")
    )
    done = await vigil.run(vigil.emu.build.component(confirm, user="maya", message=message))
    await done.wait_original_edit(timeout=10)  # a webhook call, its URL carrying the token
    vigil.proc.terminate()
    await vigil.proc.wait(timeout=15)
    log = vigil.proc.log_text()
    assert "logging in" in log  # the log is there, at DEBUG level
    assert "WebSocket Event" in log and "/callback" in log  # payload logging did happen
    assert vigil.emu.token not in log
    for token in (report.token, prompt.token, done.token):
        assert token not in log
    assert "zebraumbrella" not in log
    assert str(vigil.world.users["alice"].id) not in log  # the reporter


@pytest.mark.long_scenario(seconds=3)
async def test_backup_while_running(vigil: Vigil, tmp_path: Path):
    if not is_sqlite(vigil):
        pytest.skip("backup copies SQLite databases; PostgreSQL deployments use pg_dump")
    await vigil.setup()
    for name in ("alice", "bob", "carol"):
        await vigil.report(name, "dave")
    copy = tmp_path / "backups" / "vigil-copy.db"
    env = {**os.environ, "DATABASE_URL": vigil.database_url}
    env.pop("DISCORD_TOKEN", None)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(REPO_ROOT / "bot.py"), "backup", str(copy)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "3 reports" in done.stdout
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    again = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(REPO_ROOT / "bot.py"), "backup", str(copy)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "received" in (await vigil.report("erin", "dave")).content  # still serving


async def test_forget_erases_a_member_after_confirmation(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety", details="about dave")
    await vigil.report("dave", "carol", "self_harm", details="dave worried about carol")
    await vigil.wait_alerts(2)
    dave = vigil.world.users["dave"]
    asked = await vigil.slash("reports forget", "olivia", member="dave")
    assert asked.ephemeral and "can't be undone" in asked.content
    assert vigil.report_count() == 2  # nothing happens before confirming
    message = asked.original()
    assert message is not None
    done = await vigil.run(
        vigil.emu.build.component(f"vigil:forget:{dave.id}", user="olivia", message=message)
    )
    assert done.type == 6
    final = await done.wait_original_edit(timeout=10)
    assert "Erased: 2 report(s) and 1 case(s); 1 alert message(s) being deleted" in final["content"]
    assert vigil.db_rows(
        "SELECT COUNT(*) FROM reports WHERE reporter_id = ? OR target_id = ?", (dave.id, dave.id)
    ) == [(0,)]
    assert vigil.db_rows("SELECT COUNT(*) FROM erasures") == [(1,)]
    # dave's case alert was queued with the erasure; the outbox deletes it from the channel.
    await vigil.emu.waiters.wait_for(lambda: len(vigil.alerts()) == 1 or None, 10, "deletion")
    # Carol's case lost dave's report; its alert no longer names him as a reporter.
    await vigil.emu.waiters.wait_for(
        lambda: f"<@{dave.id}>" not in alert_text(vigil.alerts()[0]) or None, 10, "redraw"
    )
    refused = await vigil.run(
        vigil.emu.build.component(f"vigil:forget:{dave.id}", user="bob", message=message)
    )
    assert "Only members with Manage Server" in refused.content


async def test_retention_purges_at_start(vigil: Vigil):
    await vigil.setup(retention_days=30)
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.report("bob", "zed")  # loose report, no case
    await vigil.wait_alerts(1)
    await vigil.run(
        vigil.emu.build.component("vigil:case:resolve:1", user="maya", message=vigil.alerts()[0])
    )
    vigil.db_rows("UPDATE cases SET closed_at = ?", (DAYS_AGO_200,))
    vigil.db_rows("UPDATE reports SET created_at = ?", (DAYS_AGO_200,))
    await vigil.restart()
    await vigil.emu.waiters.wait_for(
        lambda: vigil.report_count() == 0 or None, 10, "the retention purge"
    )
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]


async def test_removed_guild_is_purged_after_the_grace_period(vigil: Vigil):
    lighthouse = vigil.world.guild_b
    await vigil.report("alice", "dave")
    await vigil.emu.interact(
        vigil.emu.build.slash(
            "report",
            user="ida",
            channel=lighthouse.channel("allgemein"),
            options={"member": "alice", "reason": "spam"},
        )
    )
    await vigil.emu.dispatch("GUILD_DELETE", {"id": str(lighthouse.id)}, lighthouse.id)
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT guild_id FROM departed_guilds") or None, 10, "departure"
    )
    del vigil.world.guilds[lighthouse.id]  # it does not come back
    await vigil.restart(DEPARTED_GUILD_GRACE_DAYS="0")
    await vigil.emu.waiters.wait_for(
        lambda: (
            vigil.db_rows("SELECT COUNT(*) FROM reports WHERE guild_id = ?", (lighthouse.id,))
            == [(0,)]
            or None
        ),
        10,
        "the departed guild's purge",
    )
    assert vigil.db_rows("SELECT COUNT(*) FROM reports WHERE guild_id = ?", (vigil.guild.id,)) == [
        (1,)
    ]


async def test_admins_hear_once_when_alerts_cannot_be_posted(vigil: Vigil):
    await vigil.setup()
    channel_id = vigil.alerts_channel.id
    rule = vigil.emu.faults.add("POST", MESSAGES, 403, channel_id=channel_id)
    await vigil.report("alice", "dave", "child_safety", details="secret report text")
    await vigil.report("bob", "zed", "self_harm", details="another secret")
    olivia = vigil.world.users["olivia"]
    dm = vigil.world.dm_channel_for(olivia)
    await vigil.emu.waiters.wait_for(
        lambda: vigil.emu.channel_messages(dm.id) or None, 10, "a notice to the owner"
    )
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 4 or None, 15, "retries")
    notices = vigil.emu.channel_messages(dm.id)
    assert len(notices) == 1
    text = notices[0]["content"]
    assert "can't post moderator alerts" in text and "missing a permission" in text
    assert "secret" not in text and "Dave" not in text
    config = await vigil.slash("reports config", "olivia")
    assert "missing a permission" in config.content
    vigil.emu.faults.rules.remove(rule)
    await vigil.wait_alerts(2, timeout=60)
