"""The core loop end to end: the real bot.py process, driven through the emulator."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from emulator import Attachment, Emulator
from tests.e2e.conftest import CALLBACK, MESSAGE, SYNC, Vigil, alert_text, result_text

MANAGE_GUILD = 1 << 5


async def test_start_syncs_commands_once(vigil: Vigil):
    emu = vigil.emu
    assert len(emu.requests_to("PUT", SYNC)) == 1
    commands = {(c["name"], int(c["type"])): c for c in emu.all_commands()}
    assert set(commands) == {
        ("report", 1),
        ("Report user", 2),
        ("Report message", 3),
        ("hotlines", 1),
        ("reports", 1),
    }
    report = commands[("report", 1)]
    options = {o["name"]: o for o in report["options"]}
    assert [o["name"] for o in report["options"]] == ["member", "reason", "details", "message_link"]
    assert options["member"]["type"] == 6 and options["member"]["required"]
    assert options["reason"]["type"] == 3
    assert {c["value"] for c in options["reason"]["choices"]} == {
        "child_safety",
        "self_harm",
        "violent_threat",
        "harassment",
        "hate",
        "sexual_content",
        "scam",
        "spam",
        "impersonation",
        "other",
    }
    assert options["details"]["type"] == 3 and options["details"]["max_length"] == 1000
    reports = commands[("reports", 1)]
    assert int(reports["default_member_permissions"]) == MANAGE_GUILD
    assert {o["name"] for o in reports["options"]} >= {"setup", "config", "queue", "history"}
    await vigil.restart()
    assert len(emu.requests_to("PUT", SYNC)) == 1  # unchanged tree: no second sync
    await vigil.restart(args=["--sync"])
    assert len(emu.requests_to("PUT", SYNC)) == 2  # --sync forces one


async def test_the_stored_hash_is_of_exactly_the_body_discord_received(vigil: Vigil):
    """The change check and the upload use one payload: what is hashed is what was sent."""
    (put,) = vigil.emu.requests_to("PUT", SYNC)
    sent = json.dumps(put.body, sort_keys=True, separators=(",", ":"))
    rows = vigil.db_rows("SELECT value FROM meta WHERE key = 'command_tree_hash'")
    assert rows == [(hashlib.sha256(sent.encode()).hexdigest(),)]


async def test_a_refused_sync_names_the_commands_and_the_next_start_syncs(
    emulator: Emulator, bot_factory: Any, tmp_path: Path, database_url: str
):
    """Discord refusing the commands (400, invalid form body) is logged the way discord.py's
    tree.sync words it, by command; the bot still starts, and the next start tries again."""
    invalid = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "0": {
                "description": {
                    "_errors": [
                        {"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be 100 or fewer."}
                    ]
                }
            }
        },
    }
    emulator.faults.add("PUT", SYNC, 400, count=1, body=invalid)
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    proc = await vigil.start()
    await proc.wait_for_log("could not sync application commands")
    log = proc.log_text()
    assert "Failed to upload commands to Discord (HTTP status 400, error code 50035)" in log
    assert "In command 'report' defined in function" in log and "Must be 100 or fewer." in log
    assert vigil.db_rows("SELECT value FROM meta WHERE key = 'command_tree_hash'") == []
    await vigil.restart()
    assert [r.status for r in emulator.requests_to("PUT", SYNC)] == [400, 200]
    assert len(vigil.db_rows("SELECT value FROM meta WHERE key = 'command_tree_hash'")) == 1


async def test_threshold_path_posts_one_alert_then_edits(vigil: Vigil):
    setup = await vigil.setup()
    assert setup.ephemeral and "set up" in setup.content
    for reporter in ("alice", "bob"):
        reply = await vigil.report(reporter, "dave", details="keeps sending insults")
        assert reply.ephemeral and "received" in reply.content
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    third = await vigil.report("carol", "dave", "hate", details="slurs in #general")
    assert third.ephemeral and "saved for the moderators" in third.content
    assert "alerted" not in third.content  # the case state is not the reporter's to know
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    text = alert_text(alert)
    assert "Case #1" in text and "**Distinct reporters:** 3" in text
    for name in ("alice", "bob", "carol"):
        assert f"<@{vigil.world.users[name].id}>" in text
    await vigil.report("erin", "dave", "spam", details="fourth report")
    await vigil.wait_alert_text("**Distinct reporters:** 4")
    assert len(vigil.alert_posts()) == 1 and len(vigil.alerts()) == 1
    edits = [r for r in vigil.emu.requests_to("PATCH", MESSAGE) if r.status == 200]
    assert edits and all(r.params["message_id"] == alert["id"] for r in edits)
    assert len(vigil.alerts()) == 1


async def test_duplicate_reporter_does_not_raise_the_count(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave")
    again = await vigil.report("alice", "dave", details="it happened again")
    assert again.ephemeral and "already" in again.content
    await vigil.report("bob", "dave")
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    await vigil.report("carol", "dave")
    message = await vigil.wait_alert_text("**Distinct reporters:** 3")
    assert "it happened again" in alert_text(message)
    assert vigil.report_count() == 4


async def test_critical_report_alerts_at_once_with_guidance(vigil: Vigil):
    mods = vigil.guild.role("Moderators")
    await vigil.setup(region="GB", mod_role="Moderators")
    reply = await vigil.report("alice", "dave", "child_safety", details="sent images to a kid")
    text = result_text(reply)
    assert reply.ephemeral
    assert "999" in text and "Internet Watch Foundation" in text
    assert "<https://www.iwf.org.uk/report>" in text
    assert "Do not download, screenshot, save or share" in text
    assert text.index("999") < text.index("Internet Watch Foundation")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    assert alert["content"] == f"<@&{mods.id}>"
    assert alert_text(alert).count("URGENT") == 1
    post = vigil.alert_posts()[0]
    mentions = post.body["allowed_mentions"]
    assert mentions["parse"] == [] and [int(r) for r in mentions["roles"]] == [mods.id]
    assert not mentions.get("users")


async def test_self_harm_guidance_names_the_crisis_line(vigil: Vigil):
    await vigil.setup(region="US")
    reply = await vigil.report("alice", "bob", "self_harm", details="said goodbye to everyone")
    text = result_text(reply)
    assert "988" in text and "911" in text


async def test_report_message_opens_a_modal_and_records_the_link(vigil: Vigil):
    await vigil.setup()
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(
        general, "dave", "look at this", [Attachment(filename="photo.png")]
    )
    opened = await vigil.run(
        vigil.emu.build.message_command("Report message", user="alice", message=message)
    )
    assert opened.type == 9  # MODAL
    modal = opened.data
    dave = vigil.world.users["dave"]
    assert modal["custom_id"].startswith(f"vigil:rf:m:{dave.id}:{general.id}:{message['id']}:")
    submitted = await vigil.run(
        vigil.emu.build.modal_submit(
            modal["custom_id"],
            user="alice",
            fields={"reason": ["violent_threat"], "details": "threatened to hurt someone"},
            channel=general,
        )
    )
    assert submitted.ephemeral and "received" in submitted.content
    await vigil.wait_alerts(1)
    link = f"https://discord.com/channels/{vigil.guild.id}/{general.id}/{message['id']}"
    assert link in alert_text(vigil.alerts()[0])
    rows = vigil.db_rows("SELECT message_link, message_id, source FROM reports")
    assert rows == [(link, int(message["id"]), "message_menu")]
    # The attachment was never fetched, and nothing the bot sent carries a file.
    assert not [r for r in vigil.emu.requests if "attachments" in r.path or r.files]


async def test_report_user_context_menu(vigil: Vigil):
    await vigil.setup()
    opened = await vigil.run(
        vigil.emu.build.user_command("Report user", user="bob", target="carol")
    )
    assert opened.type == 9
    submitted = await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"],
            user="bob",
            fields={"reason": ["scam"], "details": "fake nitro"},
        )
    )
    assert submitted.ephemeral and "received" in submitted.content
    assert vigil.db_rows("SELECT reason, source FROM reports") == [("scam", "user_menu")]


async def test_report_before_setup_is_delivered_after_setup(vigil: Vigil):
    reply = await vigil.report("alice", "dave", "child_safety")
    assert reply.ephemeral and "setting Vigil up" in reply.content
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    await vigil.setup()
    await vigil.wait_alerts(1)
    assert "URGENT" in alert_text(vigil.alerts()[0])


async def test_not_a_member_can_be_reported(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "zed", "violent_threat")
    message = await vigil.wait_alert_text("not a member")
    assert str(vigil.world.users["zed"].id) in alert_text(message)


async def test_storm_every_report_is_acknowledged_then_confirmed(vigil: Vigil):
    """In a storm Vigil may defer first (ephemeral "thinking"), then confirms after the commit:
    every report gets an ephemeral first answer and an ephemeral confirmation, and is stored."""
    await vigil.setup()
    reporters = ["alice", "bob", "carol", "erin", "maya", "milo", "adam", "olivia"]
    records = []
    for reporter in reporters:
        for target in ("dave", "zed"):
            payload = vigil.emu.build.slash(
                "report", user=reporter, options={"member": target, "reason": "spam"}
            )
            records.append(await vigil.emu.dispatch_interaction(payload))
    await vigil.emu.waiters.wait_for(
        lambda: all(r.callback.done() for r in records) or None, 10, "every first answer"
    )
    deferred = [r for r in records if r.callback_type == 5]
    for record in records:
        assert record.callback_type in (4, 5)
        assert record.callback_data.get("flags", 0) & 64  # ephemeral, deferred or not
    await vigil.emu.waiters.wait_for(
        lambda: all(r.followups for r in deferred) or None, 10, "every confirmation"
    )
    for record in deferred:
        confirmation = record.followups[0]
        assert "received" in confirmation["content"] and confirmation["flags"] & 64
    assert vigil.report_count() == len(records)


FOLLOW_UP = "/webhooks/{webhook_id}/{webhook_token}"


async def test_a_rate_limited_answer_is_sent_again(vigil: Vigil):
    """Vigil answers reports with requests of its own (ui/interaction_http.py): a 429 waits
    for Discord's retry_after and tries again, as discord.py would."""
    await vigil.setup()
    rule = vigil.emu.faults.add("POST", CALLBACK, 429, count=1, retry_after=0.2)
    reply = await vigil.report("alice", "dave", "spam")
    assert rule.hits == 1
    assert reply.ephemeral and "received" in reply.content
    assert vigil.report_count() == 1


async def test_a_failed_confirmation_is_sent_again(vigil: Vigil):
    """In a storm the confirmation is a follow-up; one that Discord fails (500) is sent again."""
    await vigil.setup()
    rule = vigil.emu.faults.add("POST", FOLLOW_UP, 500, count=1)
    records = []
    for reporter in ["alice", "bob", "carol", "erin", "maya", "milo", "adam", "olivia"]:
        for target in ("dave", "zed"):
            payload = vigil.emu.build.slash(
                "report", user=reporter, options={"member": target, "reason": "spam"}
            )
            records.append(await vigil.emu.dispatch_interaction(payload))
    await vigil.emu.waiters.wait_for(
        lambda: all(r.callback.done() for r in records) or None, 10, "every first answer"
    )
    deferred = [r for r in records if r.callback_type == 5]
    assert deferred  # a storm: acknowledged first, confirmed after the commit
    await vigil.emu.waiters.wait_for(
        lambda: all(r.followups for r in deferred) or None, 15, "every confirmation"
    )
    assert rule.hits == 1
    for record in deferred:
        assert "received" in record.followups[0]["content"]
    assert vigil.report_count() == len(records)
