"""Alert buttons, refusals, mentions, crash safety, faults and guild isolation, end to end."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.botproc import REPO_ROOT
from tests.e2e.conftest import CALLBACK, MESSAGES, Vigil, alert_text, result_text


async def open_case(vigil: Vigil, reason: str = "child_safety") -> dict[str, Any]:
    await vigil.setup()
    await vigil.report("alice", "dave", reason, details="first report")
    await vigil.wait_alerts(1)
    return vigil.alerts()[0]


def press(vigil: Vigil, alert: dict[str, Any], action: str, user: str, case_id: int = 1):
    return vigil.run(
        vigil.emu.build.component(f"vigil:case:{action}:{case_id}", user=user, message=alert)
    )


async def test_moderator_buttons_update_the_alert(vigil: Vigil):
    alert = await open_case(vigil)
    maya = vigil.world.users["maya"]
    acked = await press(vigil, alert, "acknowledge", "maya")
    assert acked.type == 7  # UPDATE_MESSAGE: the alert itself changes
    embed = acked.data["embeds"][0]
    assert f"acknowledged by <@{maya.id}>" in embed["description"]
    buttons = {c["custom_id"]: c for c in acked.data["components"][0]["components"]}
    assert buttons["vigil:case:acknowledge:1"]["disabled"] is True
    assert not buttons["vigil:case:resolve:1"].get("disabled")
    assert acked.data["allowed_mentions"]["parse"] == []
    resolved = await press(vigil, alert, "resolve", "milo")
    assert "resolved by" in resolved.data["embeds"][0]["description"]
    status_row = {c["custom_id"]: c for c in resolved.data["components"][0]["components"]}
    for key in ("acknowledge", "resolve", "dismiss"):
        assert status_row[f"vigil:case:{key}:1"]["disabled"] is True
    assert not status_row["vigil:case:note:1"].get("disabled")
    assert vigil.db_rows("SELECT status, handled_by FROM cases") == [
        ("resolved", vigil.world.users["milo"].id)
    ]
    again = await press(vigil, alert, "dismiss", "maya")
    assert again.ephemeral and "already resolved" in again.content
    assert vigil.db_rows("SELECT status FROM cases") == [("resolved",)]


async def test_buttons_are_refused_for_members(vigil: Vigil):
    alert = await open_case(vigil)
    refused = await press(vigil, alert, "dismiss", "bob")
    assert refused.ephemeral and "Only moderators" in refused.content
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]


async def test_buttons_work_after_a_restart(vigil: Vigil):
    alert = await open_case(vigil)
    await vigil.restart()
    acked = await press(vigil, alert, "acknowledge", "maya")
    assert acked.type == 7
    assert vigil.db_rows("SELECT status FROM cases") == [("acknowledged",)]


async def test_custom_id_naming_another_guilds_case_is_refused(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety")  # case 1 in Harbour
    await vigil.wait_alerts(1)
    lighthouse = vigil.world.guild_b
    await vigil.emu.interact(
        vigil.emu.build.slash(
            "reports setup",
            user="greta",
            channel=lighthouse.channel("allgemein"),
            options={"alert_channel": lighthouse.channel("moderation")},
        )
    )
    # Hans moderates Lighthouse; he forges a press naming Harbour's case 1.
    # A forged press: Harbour's alert, replayed as if it were in Lighthouse's channel.
    forged_message = dict(vigil.alerts()[0])
    forged_message["channel_id"] = str(lighthouse.channel("moderation").id)
    forged_message["guild_id"] = str(lighthouse.id)
    payload = vigil.emu.build.component("vigil:case:dismiss:1", user="hans", message=forged_message)
    refused = await vigil.run(payload)
    # Lighthouse is a German server: moderators are answered in German.
    assert refused.ephemeral and "gibt es auf diesem Server nicht" in refused.content
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]


@pytest.mark.parametrize(
    ("reporter", "target", "options", "expected"),
    [
        ("alice", "alice", {}, "can't report yourself"),
        ("alice", "helperbot", {}, "Bots and app messages"),
        ("alice", "dave", {"message_link": "https://example.com/x"}, "doesn't look like"),
        ("alice", "dave", {"message_link": "FOREIGN"}, "different server"),
    ],
)
async def test_refusals_are_private_and_store_nothing(vigil, reporter, target, options, expected):
    if options.get("message_link") == "FOREIGN":
        other = vigil.world.guild_b
        options["message_link"] = (
            f"https://discord.com/channels/{other.id}/{other.channel('allgemein').id}/123456789012345678"
        )
    reply = await vigil.report(reporter, target, **options)
    assert reply.ephemeral and expected in reply.content
    assert vigil.report_count() == 0


async def test_rate_limit_refuses_the_sixth_report(vigil: Vigil):
    for target in ("bob", "carol", "dave", "erin", "maya"):
        assert "received" in (await vigil.report("alice", target)).content
    sixth = await vigil.report("alice", "milo")
    assert sixth.ephemeral and "several reports" in sixth.content
    assert vigil.report_count() == 5


async def test_user_text_never_pings(vigil: Vigil):
    await vigil.setup()
    evil = "@everyone @here <@&1> look"
    for name in ("alice", "bob", "carol"):
        await vigil.report(name, "dave", details=evil)
    await vigil.report("erin", "dave", "child_safety", details=evil)
    await vigil.wait_alert_text("**Distinct reporters:** 4")
    text = alert_text(vigil.alerts()[0])
    assert "@everyone" not in text and "@here" not in text
    sends = [
        r
        for r in vigil.emu.requests
        if r.method in ("POST", "PATCH")
        and isinstance(r.body, dict)
        and (
            r.template in (MESSAGES, CALLBACK)
            or "webhooks" in (r.template or "")
            or "messages" in (r.template or "")
        )
    ]
    assert sends
    for request in sends:
        body = request.body.get("data", request.body)
        if not isinstance(body, dict) or not ("content" in body or "embeds" in body):
            continue
        mentions = body.get("allowed_mentions")
        assert mentions is not None, request
        assert mentions.get("parse") == [], request
        assert not mentions.get("users"), request


async def test_kill_9_loses_no_acknowledged_report(vigil: Vigil):
    await vigil.setup()
    acknowledged = 0
    for name in ("alice", "bob", "carol", "erin"):
        reply = await vigil.report(name, "dave", details=f"report by {name}")
        acknowledged += "received" in reply.content
    vigil.proc.kill()  # SIGKILL right after the last confirmation
    await vigil.proc.wait()
    assert vigil.report_count() == acknowledged == 4
    await vigil.start()
    await vigil.wait_alert_text("**Distinct reporters:** 4")
    await asyncio.sleep(0.5)
    assert len(vigil.alerts()) == 1  # never a second alert
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(1,)]


@pytest.mark.long_scenario(seconds=6)
async def test_alert_channel_failing_for_a_while(vigil: Vigil):
    await vigil.setup()
    channel_id = vigil.alerts_channel.id
    emu = vigil.emu
    emu.faults.add("POST", MESSAGES, 500, count=2, channel_id=channel_id)
    emu.faults.add("POST", MESSAGES, 403, count=2, channel_id=channel_id)
    reply = await vigil.report("alice", "dave", "child_safety")
    assert reply.ephemeral and "saved for the moderators" in reply.content
    await vigil.wait_alerts(1, timeout=20)
    await asyncio.sleep(0.5)
    assert len(vigil.alerts()) == 1
    statuses = [
        r.status
        for r in emu.requests_to("POST", MESSAGES)
        if r.params["channel_id"] == str(channel_id)
    ]
    assert statuses[-1] == 200 and 500 in statuses and 403 in statuses


async def test_alert_survives_a_restart_while_discord_fails(vigil: Vigil):
    await vigil.setup()
    rule = vigil.emu.faults.add("POST", MESSAGES, 500, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety")
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "a failed post")
    await vigil.restart(kill=True)
    vigil.emu.faults.rules.remove(rule)
    await vigil.wait_alerts(1, timeout=20)
    await asyncio.sleep(0.5)
    assert len(vigil.alerts()) == 1


async def test_two_guilds_never_see_each_other(vigil: Vigil):
    emu = vigil.emu
    lighthouse = vigil.world.guild_b
    await vigil.setup()
    await emu.interact(
        emu.build.slash(
            "reports setup",
            user="greta",
            channel=lighthouse.channel("allgemein"),
            options={"alert_channel": lighthouse.channel("moderation")},
        )
    )
    # alice and erin are in both guilds; they report ida in Lighthouse only.
    await emu.interact(
        emu.build.slash(
            "report",
            user="ida",
            channel=lighthouse.channel("allgemein"),
            options={"member": "alice", "reason": "violent_threat", "details": "lighthouse only"},
        )
    )
    await vigil.wait_alerts(1, channel=lighthouse.channel("moderation"))
    assert vigil.alerts() == []  # Harbour's channel stays empty
    history = await vigil.slash("reports history", "olivia", member="alice")
    assert "No reports" in history.content
    queue = await vigil.slash("reports queue", "olivia")
    assert "No open cases" in queue.content
    assert "lighthouse only" not in result_text(history)


async def test_reports_commands_need_manage_server(vigil: Vigil):
    for sub, opts in (
        ("reports setup", {"alert_channel": "general"}),
        ("reports config", {}),
        ("reports queue", {}),
        ("reports history", {"member": "dave"}),
    ):
        reply = await vigil.slash(sub, "bob", **opts)
        assert reply.ephemeral and "Manage Server" in reply.content, sub
    assert vigil.db_rows("SELECT COUNT(*) FROM guild_settings") == [(0,)]


async def test_config_queue_and_history(vigil: Vigil):
    await vigil.setup(threshold=2, window_hours=48, region="DE")
    config = await vigil.slash("reports config", "olivia")
    assert "2 distinct reporters within 48 hours" in config.content
    assert "Germany (DE)" in config.content
    assert "can post alerts" in config.content
    await vigil.report("alice", "dave", details="first")
    await vigil.report("bob", "dave", details="second")
    await vigil.wait_alerts(1)
    queue = await vigil.slash("reports queue", "adam")
    assert "#1" in queue.content and str(vigil.world.users["dave"].id) in queue.content
    history = await vigil.slash("reports history", "adam", member="dave")
    assert "2 in all" in history.content and "second" in history.content


async def test_setup_validates_its_options(vigil: Vigil):
    bad_region = await vigil.setup(region="Atlantis")
    assert bad_region.ephemeral and "don't know that region" in bad_region.content
    everyone = await vigil.setup(mod_role="@everyone")
    assert "never mentions @everyone" in everyone.content
    assert vigil.db_rows("SELECT COUNT(*) FROM guild_settings") == [(0,)]


async def test_config_names_a_missing_permission(vigil: Vigil):
    await vigil.setup(alert_channel="audit")
    config = await vigil.slash("reports config", "olivia")
    assert "Problems" in config.content or "can post alerts" in config.content


async def test_hotlines_command_and_autocomplete(vigil: Vigil):
    result = await vigil.slash("hotlines", "alice", country="GB")
    assert result.ephemeral and "Internet Watch Foundation" in result_text(result)
    unknown = await vigil.slash("hotlines", "alice", country="Narnia")
    assert unknown.ephemeral and "don't know that country" in unknown.content
    choices = await vigil.run(
        vigil.emu.build.autocomplete(
            "hotlines", user="alice", options={"country": "germ"}, focused="country"
        )
    )
    assert choices.type == 8 and choices.choices[0]["value"] == "DE"


async def test_gateway_reconnect_and_close_keep_serving(vigil: Vigil):
    emu = vigil.emu
    await emu.gateway_reconnect()
    await emu.wait_for_gateway("RESUMED", timeout=15)
    assert "received" in (await vigil.report("alice", "dave")).content
    await emu.gateway_close(4000)
    await emu.wait_for_gateway("RESUMED", count=2, timeout=15)
    assert "received" in (await vigil.report("bob", "dave")).content
    assert vigil.report_count() == 2


@pytest.mark.long_scenario(seconds=5)
async def test_invalid_session_reconnects_to_the_configured_gateway(vigil: Vigil):
    """After a non-resumable op 9, discord.py reconnects to DEFAULT_GATEWAY: Vigil points it at
    the gateway the configured API named, so the bot comes back here, not to discord.gg."""
    emu = vigil.emu
    await emu.gateway_invalid_session(resumable=False)
    await emu.wait_for_gateway("IDENTIFY", count=2, timeout=20)
    await emu.wait_for_gateway("READY", count=2, timeout=20)
    assert "received" in (await vigil.report("alice", "dave")).content


async def test_expired_interaction_does_not_stop_the_bot(vigil: Vigil):
    payload = vigil.emu.build.slash(
        "report", user="alice", options={"member": "dave", "reason": "spam"}
    )
    vigil.emu.expire_interaction(payload["token"])
    await vigil.emu.dispatch_interaction(payload)
    await asyncio.sleep(0.5)
    assert "received" in (await vigil.report("bob", "dave")).content


async def test_sigterm_exits_cleanly(vigil: Vigil):
    vigil.proc.terminate()
    assert await vigil.proc.wait(timeout=15) == 0
    assert "database closed" in vigil.proc.log_text()


def run_bot(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "bot.py"), *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_missing_token_explains_itself_in_one_line(tmp_path: Path):
    done = run_bot(tmp_path, {})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "Traceback" not in done.stderr
    assert "python bot.py demo" in lines[0]  # the way to see Vigil work before having a token


def test_a_database_upgraded_by_a_newer_vigil_is_refused_in_one_line(tmp_path: Path):
    """An older process in a rolling upgrade must not serve a schema it does not know."""
    db = tmp_path / "vigil.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (999)")
    conn.commit()
    conn.close()
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuv"
    # Discord is a closed local port: were the database opened anyway, nothing leaves the machine.
    env = {
        "DISCORD_TOKEN": token,
        "DATABASE_URL": f"sqlite:///{db}",
        "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",
    }
    done = run_bot(tmp_path, env)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "version 999, newer than this Vigil's" in lines[0]
    assert token not in done.stderr + done.stdout
    rows = sqlite3.connect(db).execute("SELECT version FROM schema_version").fetchall()
    assert rows == [(999,)]  # left as it was


def test_malformed_setting_names_it(tmp_path: Path):
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuv"
    done = run_bot(tmp_path, {"DISCORD_TOKEN": token, "LOG_LEVEL": "loud"})
    assert done.returncode == 2 and done.stderr.startswith("vigil: LOG_LEVEL")
    assert token not in done.stderr + done.stdout


def test_invite_url_lists_the_permissions_used(tmp_path: Path):
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuv"
    done = run_bot(tmp_path, {"DISCORD_TOKEN": token}, "--invite-url")
    assert done.returncode == 0
    server_line, user_line = done.stdout.strip().splitlines()
    url = server_line.split(": ", 1)[1]
    assert "client_id=123456789012345678" in url and "applications.commands" in url
    # The second link installs Vigil for the member themself (issue 16): no bot, no permissions.
    assert user_line.split(": ", 1)[1] == (
        "https://discord.com/oauth2/authorize?client_id=123456789012345678"
        "&integration_type=1&scope=applications.commands"
    )
    # View Channel, Send Messages, Embed Links, Read Message History (to check who wrote a
    # reported message), and Kick, Ban, Manage Messages, Timeout Members for the moderator
    # actions; Create Public Threads and Send Messages in Threads for the case threads
    # (issue 15).
    assert "permissions=1408749366278" in url
