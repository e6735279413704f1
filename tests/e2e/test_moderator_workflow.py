"""The moderator workflow end to end: actions from the alert, audit trail, feedback, export,
brigading signals. Every Discord call the bot makes is checked in the emulator's records."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.interactions import InteractionResult
from emulator.models import Overwrite
from tests.e2e.conftest import Vigil, alert_text, result_text

MEMBER = "/guilds/{guild_id}/members/{user_id}"
BAN = "/guilds/{guild_id}/bans/{user_id}"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
DM_CHANNELS = "/users/@me/channels"


async def critical_case(vigil: Vigil, target: str = "dave", **setup: Any) -> dict[str, Any]:
    await vigil.setup(**setup)
    await vigil.report("alice", target, "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    return vigil.alerts()[0]


def uid(vigil: Vigil, name: str = "dave") -> int:
    """A cast member's ID: confirmations name the member they were shown for."""
    return int(vigil.world.users[name].id)


async def press(
    vigil: Vigil, message: dict[str, Any], custom_id: str, user: str, **kw: Any
) -> InteractionResult:
    return await vigil.run(vigil.emu.build.component(custom_id, user=user, message=message, **kw))


async def choose(
    vigil: Vigil, prompt: InteractionResult, custom_id: str, user: str, value: str
) -> InteractionResult:
    """Pick a select option on an ephemeral prompt the bot showed."""
    message = prompt.original()
    assert message is not None
    return await press(vigil, message, custom_id, user, component_type=3, values=[value])


async def confirm(
    vigil: Vigil, prompt: InteractionResult, custom_id: str, user: str
) -> InteractionResult:
    message = prompt.original()
    assert message is not None
    ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
    assert custom_id in ids, ids
    return await press(vigil, message, custom_id, user)


async def settled(result: InteractionResult) -> str:
    """The text of an ephemeral prompt after the bot finished (deferred, then edited)."""
    message = await result.wait_original_edit(timeout=10)
    return message["content"]


async def test_timeout_from_the_alert(vigil: Vigil):
    alert = await critical_case(vigil)
    dave = vigil.world.users["dave"]
    prompt = await press(vigil, alert, "vigil:case:timeout:1", "maya")
    assert prompt.ephemeral and "how long" in prompt.content
    before = datetime.now(UTC)
    done = await choose(vigil, prompt, f"vigil:timeout:1:{dave.id}", "maya", "3600")
    assert done.type == 6  # deferred: the Discord call happens before the answer
    assert "timed out for 1 hour" in await settled(done)
    patch = vigil.emu.requests_to("PATCH", MEMBER)[-1]
    assert patch.params["user_id"] == str(dave.id) and patch.status == 200
    until = datetime.fromisoformat(patch.body["communication_disabled_until"])
    assert timedelta(minutes=59) < until - before < timedelta(minutes=61)
    assert "Vigil case #1" in (patch.reason or "")
    message = await vigil.wait_alert_text("timed out the member (1 hour)")
    assert "resolved by" in alert_text(message)
    assert vigil.db_rows("SELECT status FROM cases") == [("resolved",)]
    actions = vigil.db_rows("SELECT action, detail, actor_id FROM case_events")
    assert actions == [("timeout", "3600", vigil.world.users["maya"].id)]


async def test_kick_asks_first_then_kicks(vigil: Vigil):
    alert = await critical_case(vigil)
    prompt = await press(vigil, alert, "vigil:case:kick:1", "milo")
    assert prompt.ephemeral and "Kick" in prompt.content
    assert vigil.emu.requests_to("DELETE", MEMBER) == []  # nothing happens before confirming
    done = await confirm(vigil, prompt, f"vigil:confirm:kick:1:{uid(vigil)}:0", "milo")
    assert "was kicked" in await settled(done)
    kick = vigil.emu.requests_to("DELETE", MEMBER)[-1]
    assert kick.params["user_id"] == str(vigil.world.users["dave"].id) and kick.status == 204
    message = await vigil.wait_alert_text("kicked the member")
    buttons = {c["custom_id"]: c for row in message["components"] for c in row["components"]}
    assert buttons["vigil:case:kick:1"]["disabled"] and buttons["vigil:case:timeout:1"]["disabled"]
    assert not buttons["vigil:case:ban:1"].get("disabled")


async def test_cancel_changes_nothing(vigil: Vigil):
    alert = await critical_case(vigil)
    prompt = await press(vigil, alert, "vigil:case:kick:1", "milo")
    cancelled = await confirm(vigil, prompt, "vigil:cancel", "milo")
    assert cancelled.type == 7 and "Nothing was changed" in cancelled.data["content"]
    assert vigil.emu.requests_to("DELETE", MEMBER) == []
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]


async def test_ban_deleting_recent_messages(vigil: Vigil):
    alert = await critical_case(vigil)
    prompt = await press(vigil, alert, "vigil:case:ban:1", "maya")
    done = await confirm(vigil, prompt, f"vigil:confirm:ban:1:{uid(vigil)}:86400", "maya")
    assert "was banned" in await settled(done)
    ban = vigil.emu.requests_to("PUT", BAN)[-1]
    seconds = (ban.body or {}).get(
        "delete_message_seconds", ban.query.get("delete_message_seconds")
    )
    assert int(seconds) == 86400 and ban.status == 204
    await vigil.wait_alert_text("banned the member (delete the last 24 hours of messages)")


async def test_delete_reported_messages(vigil: Vigil):
    await vigil.setup()
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "threat")
    form = await vigil.run(
        vigil.emu.build.message_command("Report message", user="alice", message=message)
    )
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user="alice",
            fields={"reason": ["violent_threat"], "details": "x"},
        )
    )
    await vigil.wait_alerts(1)
    pressed = await press(vigil, vigil.alerts()[0], "vigil:case:delete_messages:1", "maya")
    assert pressed.type == 5  # deferred: Vigil reads each reported message before asking
    prompt = await pressed.wait_followup(timeout=10)
    assert "Delete the 1 reported message" in prompt["content"]
    assert vigil.world.jump_url(general.id, message["id"]) in prompt["content"]
    confirm_id = f"vigil:confirm:delete_messages:1:{uid(vigil)}:0"
    done = await press(vigil, prompt, confirm_id, "maya")
    assert "1 reported message(s) deleted" in await settled(done)
    deleted = vigil.emu.requests_to("DELETE", MESSAGE)[-1]
    assert deleted.params == {"channel_id": str(general.id), "message_id": message["id"]}
    assert deleted.status == 204


async def test_hierarchy_is_checked_before_acting(vigil: Vigil):
    # An alert about a member who can read #mod-alerts goes elsewhere (the owner's DMs), so
    # here the Admins role is an ordinary high role that cannot see #mod-alerts.
    admins = vigil.guild.role("Admins")
    admins.permissions &= ~(1 << 3)  # no Administrator
    vigil.alerts_channel.overwrites.append(Overwrite(admins.id, 0, deny=1 << 10))
    await vigil.restart()
    # Maya (Moderators) may not act on Adam (Admins, above her).
    alert = await critical_case(vigil, target="adam")
    refused = await press(vigil, alert, "vigil:case:kick:1", "maya")
    assert refused.ephemeral and "Your highest role must be above" in refused.content
    # Olivia (the owner) may, but Vigil's own role is below Adam's Admins role.
    refused = await press(vigil, alert, "vigil:case:ban:1", "olivia")
    assert "Vigil's highest role must be above" in refused.content
    assert vigil.emu.requests_to("DELETE", MEMBER) == []
    assert vigil.emu.requests_to("PUT", BAN) == []


async def test_enforcement_is_refused_for_members(vigil: Vigil):
    alert = await critical_case(vigil)
    refused = await press(vigil, alert, "vigil:case:ban:1", "bob")
    assert refused.ephemeral and "Only moderators" in refused.content
    # Bob replays the confirmation a moderator was shown: the press is checked, not trusted.
    prompt = await press(vigil, alert, "vigil:case:ban:1", "maya")
    forged = await confirm(vigil, prompt, f"vigil:confirm:ban:1:{uid(vigil)}:0", "bob")
    assert "Only moderators" in result_text(forged)
    assert vigil.emu.requests_to("PUT", BAN) == []


async def test_discord_refusing_is_explained_and_not_recorded(vigil: Vigil):
    alert = await critical_case(vigil)
    vigil.emu.faults.add("DELETE", MEMBER, 403, count=1)
    prompt = await press(vigil, alert, "vigil:case:kick:1", "milo")
    done = await confirm(vigil, prompt, f"vigil:confirm:kick:1:{uid(vigil)}:0", "milo")
    assert "Discord refused to kick" in await settled(done)
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]


async def test_dismiss_as_malicious_flags_the_reporter_next_time(vigil: Vigil):
    await vigil.setup()
    for name in ("alice", "bob", "carol"):
        await vigil.report(name, "dave", details="coordinated")
    await vigil.wait_alerts(1)
    prompt = await press(vigil, vigil.alerts()[0], "vigil:case:dismiss:1", "maya")
    done = await choose(vigil, prompt, f"vigil:dismiss:1:{uid(vigil)}", "maya", "malicious")
    assert done.type == 7 and "dismissed (malicious report)" in done.data["content"]
    await vigil.wait_alert_text("dismissed (malicious report) by")
    # Alice reports someone else: her earlier malicious report is flagged on the new alert.
    await vigil.report("alice", "erin", "child_safety")
    await vigil.wait_alerts(2)
    text = alert_text(vigil.alerts()[1])
    assert f"Earlier reports dismissed as malicious: <@{vigil.world.users['alice'].id}>" in text


async def test_notes_and_escalation_are_kept_with_the_case(vigil: Vigil):
    alert = await critical_case(vigil)
    opened = await press(vigil, alert, "vigil:case:note:1", "maya")
    assert opened.type == 9
    noted = await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"], user="maya", fields={"note": "Spoke to alice, credible."}
        )
    )
    assert noted.ephemeral and "Note added" in noted.content
    opened = await press(vigil, alert, "vigil:case:escalate:1", "maya")
    assert opened.type == 9
    escalated = await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"],
            user="maya",
            fields={"where": ["ncmec"], "reference": "CT-12345"},
        )
    )
    assert "escalated to NCMEC CyberTipline, ref: CT-12345" in escalated.content.replace("\\", "")
    await vigil.wait_alert_text("Notes (1)")
    record = await vigil.slash("reports case", "olivia", number=1)
    text = (result_text(record) + json.dumps(record.embeds)).replace("\\", "")
    assert "Spoke to alice, credible." in text and "CT-12345" in text
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]  # neither closes the case


async def test_export_packet_has_what_authorities_ask_for(vigil: Vigil):
    await vigil.setup(region="US")
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "bad")
    link = f"https://discord.com/channels/{vigil.guild.id}/{general.id}/{message['id']}"
    await vigil.report("alice", "dave", "child_safety", details="sent images", message_link=link)
    await vigil.wait_alerts(1)
    exported = await press(vigil, vigil.alerts()[0], "vigil:case:export:1", "maya")
    assert exported.ephemeral
    name = f"vigil-case-1-{vigil.guild.id}.json"
    packet = json.loads(vigil.emu.uploads[name])
    assert packet["target"]["user_id"] == str(vigil.world.users["dave"].id)
    assert packet["guild"]["id"] == str(vigil.guild.id)
    assert packet["reported_messages"][0]["message_id"] == message["id"]
    assert packet["reported_messages"][0]["channel_id"] == str(general.id)
    assert packet["reports"][0]["details"] == "sent images"
    assert packet["reports"][0]["reported_at_utc"].endswith("+00:00")
    places = json.dumps(packet["where_to_file"])
    assert "NCMEC" in places and "https://report.cybertip.org" in places
    assert "attachment" not in json.dumps(packet["reports"]).lower()
    # The same packet from the slash command.
    again = await vigil.slash("reports export", "olivia", case=1)
    assert again.ephemeral and "Escalation packet" in again.content


async def test_audit_channel_gets_a_line_per_action(vigil: Vigil):
    alert = await critical_case(vigil, audit_channel="audit")
    audit = vigil.guild.channel("audit")
    await press(vigil, alert, "vigil:case:acknowledge:1", "maya")
    prompt = await press(vigil, alert, "vigil:case:kick:1", "maya")
    await settled(await confirm(vigil, prompt, f"vigil:confirm:kick:1:{uid(vigil)}:0", "maya"))
    # Audit lines are posted after the moderator's answer: wait for them.
    await vigil.emu.waiters.wait_for(
        lambda: len(vigil.emu.channel_messages(audit.id)) >= 2 or None, 10, "two audit lines"
    )
    lines = [m["content"] for m in vigil.emu.channel_messages(audit.id)]
    assert len(lines) == 2
    assert "Case #1" in lines[0] and "acknowledged" in lines[0]
    assert "kicked the member" in lines[1]
    history = await vigil.slash("reports history", "olivia", member="dave")
    assert "kicked the member" in history.content and "acknowledged" in history.content


async def test_reporters_hear_once_that_moderators_acted(vigil: Vigil):
    await vigil.setup()
    carol = vigil.world.users["carol"]
    vigil.emu.dm_closed.add(carol.id)
    for name in ("alice", "bob", "carol"):
        await vigil.report(name, "dave")
    await vigil.wait_alerts(1)
    resolved = await press(vigil, vigil.alerts()[0], "vigil:case:resolve:1", "maya")
    assert resolved.type == 7

    def states() -> dict[int, str] | None:
        rows = vigil.db_rows("SELECT reporter_id, state FROM reporter_feedback")
        done = dict(rows)
        return done if len(done) == 3 and "pending" not in done.values() else None

    final = await vigil.emu.waiters.wait_for(states, 10, "feedback DMs")
    assert final[carol.id] == "dms_closed"
    assert final[vigil.world.users["alice"].id] == "sent"
    dms = [
        m
        for user in ("alice", "bob")
        for m in vigil.emu.channel_messages(vigil.world.dm_channel_for(vigil.world.users[user]).id)
    ]
    assert len(dms) == 2
    for dm in dms:
        assert "acted on your report about" in dm["content"]
        assert "kick" not in dm["content"].lower() and "ban" not in dm["content"].lower()


async def test_queue_pages_through_open_cases(vigil: Vigil):
    await vigil.setup()
    # Not olivia: a case about the moderator viewing the queue is never listed to them
    # (tests/e2e/test_queue_trust.py).
    targets = ["bob", "carol", "dave", "erin", "maya", "milo", "adam", "ida", "zed"]
    reporters = ["alice", "bob", "erin"]
    for n, target in enumerate(targets):
        reporter = reporters[n % 3] if reporters[n % 3] != target else "carol"
        await vigil.report(reporter, target, "self_harm")
    first = await vigil.slash("reports queue", "olivia")
    assert "page 1 of 2" in first.content and first.content.count("**#") == 8
    page_two = await press(vigil, first.original(), "vigil:queue:2", "olivia")
    assert page_two.type == 7 and "page 2 of 2" in page_two.data["content"]
    assert page_two.data["content"].count("**#") == 1


async def test_min_account_age_counts_young_accounts_out(vigil: Vigil):
    await vigil.setup(min_account_age_days=7)
    for name in ("carol", "alice", "bob"):  # carol's account is two days old
        await vigil.report(name, "dave")
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    assert vigil.report_count() == 3  # recorded all the same
    await vigil.report("erin", "dave")
    message = await vigil.wait_alert_text("**Distinct reporters:** 3")
    assert "1 reporter(s) not counted" in alert_text(message)


async def test_brigading_signals_on_the_alert(vigil: Vigil):
    await vigil.setup()
    for name in ("carol", "dave", "alice"):  # carol: new account; dave: joined an hour ago
        await vigil.report(name, "bob")
    message = await vigil.wait_alert_text("Reporter signals")
    text = alert_text(message)
    assert "1 of 3 reporter account(s) younger than 7 days" in text
    assert "1 reporter(s) joined in the last 24 hours" in text
    assert "Burst" in text
