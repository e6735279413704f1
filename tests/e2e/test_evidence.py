"""Evidence (issue 14): the text of a reported message is kept with the report, never the media.

"Report message" hands Vigil the message as Discord resolved it for the interaction (no
privileged intent). Vigil keeps its text, author, time, edited flag, and the number and content
types of its attachments: never the files, their URLs or their names, anywhere (database,
alert, replies, export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.interactions import InteractionResult
from emulator.world import Attachment
from tests.e2e.conftest import Vigil, alert_text
from tests.e2e.test_moderator_workflow import press

SECRET_NAME = "secret-photo.png"
TEXT = "meet me @everyone <@&1> ||x|| [click](https://evil.example) **bold**\nsecond line"


async def post(vigil: Vigil, author: str = "dave", text: str = TEXT) -> dict[str, Any]:
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(
        general, author, text, [Attachment(filename=SECRET_NAME)]
    )
    message["edited_timestamp"] = message["timestamp"]  # the resolved message says "edited"
    return message


async def open_menu(vigil: Vigil, message: dict[str, Any], user: str = "alice") -> str:
    opened = await vigil.run(
        vigil.emu.build.message_command("Report message", user=user, message=message)
    )
    assert opened.type == 9
    return str(opened.data["custom_id"])


async def submit(
    vigil: Vigil, custom_id: str, user: str = "alice", reason: str = "violent_threat"
) -> InteractionResult:
    return await vigil.run(
        vigil.emu.build.modal_submit(
            custom_id,
            user=user,
            fields={"reason": [reason], "details": "threatened me"},
            channel=vigil.guild.channel("general"),
        )
    )


async def report_message(vigil: Vigil, user: str = "alice") -> dict[str, Any]:
    message = await post(vigil)
    submitted = await submit(vigil, await open_menu(vigil, message, user), user)
    assert submitted.ephemeral and "received" in submitted.content
    return message


def attachment_urls(message: dict[str, Any]) -> list[str]:
    return [a[k] for a in message["attachments"] for k in ("url", "proxy_url")]


def everything_sent(vigil: Vigil) -> str:
    """Every body the bot sent to Discord, and every file it uploaded."""
    bodies = [json.dumps(r.body, ensure_ascii=False) for r in vigil.emu.requests if r.body]
    files = [v.decode("utf-8", "replace") for v in vigil.emu.uploads.values()]
    return "\n".join(bodies + files)


async def test_report_message_keeps_the_text_and_never_the_media(vigil: Vigil):
    await vigil.setup()
    message = await report_message(vigil)
    rows = vigil.db_rows(
        "SELECT evidence_text, evidence_author_id, evidence_edited, evidence_attachments, "
        "evidence_types, evidence_sent_at FROM reports"
    )
    dave = vigil.world.users["dave"]
    assert [r[:5] for r in rows] == [(TEXT, dave.id, 1, 1, "image/png")]
    assert rows[0][5]
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]  # claimed
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    text = alert_text(alert)
    # The alert says what was kept, never the text.
    assert f"message text, {len(TEXT)} characters" in text
    assert "1 attachment(s) not kept (image/png)" in text
    assert "meet me" not in text and "second line" not in text
    # Export: the text and the attachment count/types, no file.
    await press(vigil, alert, "vigil:case:export:1", "maya")
    packet = json.loads(vigil.emu.uploads[f"vigil-case-1-{vigil.guild.id}.json"])
    kept = packet["reports"][0]["message_evidence"]
    assert kept["text"] == TEXT and kept["edited"] is True
    assert kept["attachments_not_kept"] == 1 and kept["attachment_content_types"] == ["image/png"]
    assert kept["author_id"] == str(dave.id)
    # Nowhere: no file name, no attachment URL (database rows, everything sent, the export).
    rows_text = json.dumps(vigil.db_rows("SELECT * FROM reports"), default=str)
    rows_text += json.dumps(vigil.db_rows("SELECT * FROM case_events"), default=str)
    sent = everything_sent(vigil)
    for needle in ["secret-photo", *attachment_urls(message)]:
        assert needle not in rows_text and needle not in sent, needle


async def test_show_evidence_spoilers_the_text_and_records_who_looked(vigil: Vigil):
    await vigil.setup()
    message = await report_message(vigil)
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    assert any(
        c["custom_id"] == "vigil:case:evidence:1"
        for row in alert["components"]
        for c in row["components"]
    )
    shown = await press(vigil, alert, "vigil:case:evidence:1", "maya")
    assert shown.ephemeral
    content = shown.content or ""
    assert content.count("||") >= 2 and content.rstrip().endswith("||")
    body = content[content.index("||") + 2 : content.rstrip().rindex("||")]
    assert "meet me" in body
    # Escaped: no ping, no link, no markdown, no spoiler break-out.
    assert "@everyone" not in body and "<@&1>" not in body and "https://" not in body
    assert "\\|\\|x\\|\\|" in body and "\\*\\*bold\\*\\*" in body
    callback = vigil.emu.requests_to(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
    )[-1]
    assert callback.body["data"]["allowed_mentions"]["parse"] == []
    assert "secret-photo" not in content
    for url in attachment_urls(message):
        assert url not in content
    maya = vigil.world.users["maya"]
    assert vigil.db_rows("SELECT actor_id, action FROM case_events") == [
        (maya.id, "evidence_viewed")
    ]
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]  # not a status change
    record = await vigil.slash("reports case", "olivia", number=1)
    assert "viewed the kept message text" in alert_text({"embeds": record.embeds})


async def test_show_evidence_refuses_members_and_the_target(vigil: Vigil):
    await vigil.setup()
    # A non-moderator pressing the button (custom IDs are untrusted) sees nothing.
    await report_message(vigil)
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    refused = await press(vigil, alert, "vigil:case:evidence:1", "bob")
    assert refused.ephemeral and "Only moderators" in (refused.content or "")
    assert "meet me" not in (refused.content or "")
    # A moderator who is the case's own target sees nothing either.
    own = await post(vigil, author="maya")
    await submit(vigil, await open_menu(vigil, own, "carol"), "carol")
    number = vigil.db_rows(
        "SELECT id FROM cases WHERE target_id = ?", (vigil.world.users["maya"].id,)
    )[0][0]
    # Case 2's alert goes elsewhere (Maya can read #mod-alerts): a copy of case 1's alert with
    # case 2's button stands for it (Discord only dispatches a button the message has).
    forged = json.loads(
        json.dumps(alert).replace("vigil:case:evidence:1", f"vigil:case:evidence:{number}")
    )
    refused = await press(vigil, forged, f"vigil:case:evidence:{number}", "maya")
    assert "about you" in (refused.content or "") and "meet me" not in (refused.content or "")
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]


async def test_critical_report_details_are_spoilered_on_the_alert(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    assert "||said they would hurt someone||" in alert_text(vigil.alerts()[0])


async def test_erasure_removes_the_kept_text(vigil: Vigil):
    await vigil.setup()
    await report_message(vigil)
    pending = await post(vigil)
    await open_menu(vigil, pending, "carol")  # never submitted
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(1,)]
    dave = vigil.world.users["dave"]
    asked = await vigil.slash("reports forget", "olivia", member="dave")
    message = asked.original()
    assert message is not None
    done = await vigil.run(
        vigil.emu.build.component(f"vigil:forget:{dave.id}", user="olivia", message=message)
    )
    await done.wait_original_edit(timeout=10)
    assert vigil.db_rows("SELECT COUNT(*) FROM reports WHERE evidence_text IS NOT NULL") == [(0,)]
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]


async def test_a_refused_report_keeps_no_text(vigil: Vigil):
    """Nothing filed, nothing kept: a report refused on submit (alice over her limit) drops
    the message's held text at once, and Report message on one's own message (a
    self-report, never filed) does not hold it at all (review of stop 30)."""
    await vigil.restart(REPORT_RATE_LIMIT="1")
    await vigil.setup()
    await report_message(vigil)  # alice's one report of the window
    refused = await submit(vigil, await open_menu(vigil, await post(vigil)))
    assert "wasn't recorded" in refused.content and "danger" in refused.content
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]
    own = await post(vigil, author="alice", text="my own words")
    await open_menu(vigil, own)
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]
    assert vigil.report_count() == 1


async def test_a_form_submitted_after_a_restart_still_files_with_its_text(vigil: Vigil):
    await vigil.setup()
    message = await post(vigil)
    custom_id = await open_menu(vigil, message)
    await vigil.restart()
    submitted = await submit(vigil, custom_id)
    assert submitted.ephemeral and "received" in submitted.content
    assert vigil.db_rows("SELECT evidence_text FROM reports") == [(TEXT,)]


async def test_a_form_whose_text_is_gone_still_files_and_says_so(vigil: Vigil):
    await vigil.setup()
    message = await post(vigil)
    custom_id = await open_menu(vigil, message)
    vigil.db_rows("DELETE FROM pending_evidence")  # purged (or another database)
    submitted = await submit(vigil, custom_id)
    assert submitted.ephemeral and "received" in submitted.content
    assert "could not be kept" in submitted.content and "Report message" in submitted.content
    assert vigil.report_count() == 1
    assert vigil.db_rows("SELECT evidence_text FROM reports") == [(None,)]


async def test_a_forged_form_cannot_claim_anothers_evidence(vigil: Vigil):
    await vigil.setup()
    message = await post(vigil)
    alices = await open_menu(vigil, message, "alice")
    # Bob submits Alice's form (same custom ID): the text stays Alice's to claim.
    submitted = await submit(vigil, alices, "bob")
    assert "could not be kept" in submitted.content
    assert vigil.db_rows("SELECT evidence_text FROM reports") == [(None,)]
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(1,)]


async def test_slash_report_with_a_link_points_to_report_message(vigil: Vigil):
    await vigil.setup()
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "bad")
    link = f"https://discord.com/channels/{vigil.guild.id}/{general.id}/{message['id']}"
    reply = await vigil.report("alice", "dave", "harassment", message_link=link)
    assert "use Report message on it" in reply.content
    assert vigil.db_rows("SELECT message_link, evidence_text FROM reports") == [(link, None)]


async def test_unclaimed_evidence_is_purged_by_the_sweep(vigil: Vigil):
    await vigil.setup()
    await open_menu(vigil, await post(vigil))  # opened, never submitted
    fresh = await post(vigil)
    await open_menu(vigil, fresh, "carol")
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="microseconds")
    alices = vigil.world.users["alice"].id
    vigil.db_rows(
        "UPDATE pending_evidence SET created_at = ? WHERE reporter_id = ?", (two_hours_ago, alices)
    )
    await vigil.restart()  # the sweep runs at start
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(1,)] or None,
        10,
        "the pending-evidence purge",
    )
    carols = vigil.world.users["carol"].id
    assert vigil.db_rows("SELECT reporter_id FROM pending_evidence") == [(carols,)]
