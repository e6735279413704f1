"""A press redraws only the message it is entitled to: the case's own alert, or that case's
`/reports case` copy in the hands of someone who may read it. A custom ID names any case and a
message carries no trust, so a forged press (another case's ID on an alert, a case's ID on any
private message) records the action, if allowed, and redraws nothing it should not.

Found by a review (stop 26): a forged Acknowledge on one alert drew another case there, with
its reporters, and made that message the other case's alert; a forged Acknowledge on any
private message showed the full record to a moderator without Manage Server. Also here: "don't
count" needs Manage Server, and never silences reports about the manager who set it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from emulator.interactions import InteractionResult
from tests.e2e.conftest import MESSAGES, Vigil, alert_text
from tests.e2e.test_fuzz_inputs import forged_message

UPDATE_MESSAGE = 7
CHANNEL_MESSAGE = 4


async def forged_press(
    vigil: Vigil, message: dict[str, Any], custom_id: str, user: str
) -> InteractionResult:
    carrying = forged_message(message, custom_id, 2, [])
    return await vigil.run(vigil.emu.build.component(custom_id, user=user, message=carrying))


async def test_another_cases_id_on_an_alert_redraws_nothing_there(vigil: Vigil):
    await vigil.setup(threshold=1)
    # milo moderates and can read #mod-alerts: his case's alert goes to the owner by DM.
    await vigil.report("alice", "milo", "harassment", details="milo keeps DMing me")
    owner_dm = vigil.world.dm_channel_for(vigil.world.users["olivia"])
    await vigil.emu.waiters.wait_for(
        lambda: next(iter(vigil.emu.channel_messages(owner_dm.id)), None), 10, "the DM alert"
    )
    await vigil.report("bob", "dave", "spam")
    await vigil.wait_alerts(1)
    dave_alert = vigil.alerts()[0]
    milo_case = dict(vigil.db_rows("SELECT number, id FROM cases"))[1]
    where = "SELECT id, alert_channel_id, alert_message_id FROM cases ORDER BY id"
    await vigil.emu.waiters.wait_for(
        lambda: all(row[2] for row in vigil.db_rows(where)) or None, 10, "both alerts recorded"
    )
    before = vigil.db_rows(where)

    pressed = await forged_press(vigil, dave_alert, f"vigil:case:acknowledge:{milo_case}", "maya")
    assert pressed.type == CHANNEL_MESSAGE and pressed.ephemeral  # a private line, no redraw
    line = pressed.content or ""
    assert line.startswith("Case #1: acknowledged")  # naming no member: milo's case is
    assert "milo keeps" not in line and str(vigil.world.users["milo"].id) not in line  # hidden
    assert vigil.db_rows("SELECT status FROM cases WHERE id = ?", (milo_case,)) == [
        ("acknowledged",)
    ]
    # Each case's alert stays where it is; milo's reporter never reaches #mod-alerts.
    assert (
        vigil.db_rows("SELECT id, alert_channel_id, alert_message_id FROM cases ORDER BY id")
        == before
    )
    redrawn = await vigil.emu.waiters.wait_for(
        lambda: next(
            (m for m in vigil.emu.channel_messages(owner_dm.id) if "acknowledged" in alert_text(m)),
            None,
        ),
        10,
        "milo's alert redrawn in the owner's DM",
    )
    assert redrawn is not None
    for message in vigil.alerts():
        assert "milo keeps DMing me" not in alert_text(message)


async def test_a_cases_id_on_any_private_message_shows_no_record(vigil: Vigil):
    """maya (Manage Messages, not Manage Server) may acknowledge, but may not read `/reports
    case`: a forged press on her own report's confirmation neither shows her the record nor
    wipes the guidance it carries."""
    await vigil.setup(threshold=1)
    await vigil.report("alice", "milo", "harassment", details="milo keeps DMing me")
    refused = await vigil.slash("reports case", "maya", number=1)
    assert "Manage Server" in (refused.content or "")
    mine = await vigil.report("maya", "dave", "spam")
    confirmation = mine.original()
    assert confirmation is not None
    case_id = vigil.db_rows("SELECT id FROM cases WHERE number = 1")[0][0]
    pressed = await forged_press(vigil, confirmation, f"vigil:case:acknowledge:{case_id}", "maya")
    assert pressed.type == CHANNEL_MESSAGE  # a new private line; her confirmation is kept
    body = json.dumps(pressed.embeds).lower() + (pressed.content or "").lower()
    assert "full record" not in body and "milo keeps" not in body
    assert mine.original() == confirmation


async def test_dont_count_needs_manage_server(vigil: Vigil):
    await vigil.setup(threshold=1)
    alice = vigil.world.users["alice"].id
    mine = await vigil.report("milo", "dave", "spam")
    confirmation = mine.original()
    assert confirmation is not None
    pressed = await forged_press(vigil, confirmation, f"vigil:countreports:{alice}:0", "milo")
    assert pressed.ephemeral and "Manage Server" in (pressed.content or "")
    assert vigil.db_rows("SELECT COUNT(*) FROM muted_reporters") == [(0,)]


async def test_dont_count_never_silences_reports_about_who_set_it(vigil: Vigil):
    """adam (a manager) sets alice's reports to "don't count" through the real `/reports
    history` button. Her reports about others stay uncounted; her report about adam counts
    and alerts as any other (nothing tells adam whether she reported him)."""
    await vigil.setup(threshold=1)
    alice = vigil.world.users["alice"].id
    history = await vigil.slash("reports history", "adam", member="alice")
    message = history.original()
    assert message is not None
    done = await vigil.run(
        vigil.emu.build.component(f"vigil:countreports:{alice}:0", user="adam", message=message)
    )
    assert "no longer count" in (done.content or "")
    await vigil.report("alice", "dave", "violent_threat", details="dave said he'd hurt me")
    await vigil.report("alice", "adam", "violent_threat", details="adam said he'd hurt me")
    adam = vigil.world.users["adam"].id
    assert vigil.db_rows("SELECT target_id, counts_toward_threshold FROM reports ORDER BY id") == [
        (vigil.world.users["dave"].id, 0),
        (adam, 1),
    ]
    assert vigil.db_rows("SELECT target_id FROM cases") == [(adam,)]


async def forged_select(
    vigil: Vigil, message: dict[str, Any], custom_id: str, user: str, value: str
) -> InteractionResult:
    carrying = forged_message(message, custom_id, 3, [value])
    payload = vigil.emu.build.component(
        custom_id, user=user, message=carrying, component_type=3, values=[value]
    )
    return await vigil.run(payload)


async def test_the_country_menu_forged_on_an_alert_answers_privately(vigil: Vigil):
    """The menu is only ever on a private answer; a member who forges it onto an alert gets
    the guidance they asked for, privately, and the alert stays as it is."""
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    pressed = await forged_select(vigil, alert, "vigil:country:child_safety:DE", "bob", "FR")
    assert pressed.type == CHANNEL_MESSAGE and pressed.ephemeral and pressed.embeds
    assert vigil.alerts()[0]["components"] == alert["components"]
    assert vigil.alerts()[0]["embeds"][0]["title"] == alert["embeds"][0]["title"]


async def test_a_queue_page_forged_on_an_alert_answers_privately(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    pressed = await forged_press(vigil, alert, "vigil:queue:1", "olivia")
    assert pressed.type == CHANNEL_MESSAGE and pressed.ephemeral
    assert vigil.alerts()[0]["components"] == alert["components"]
    assert vigil.alerts()[0].get("content") == alert.get("content")


async def test_someone_elses_support_button_still_gives_the_crisis_lines(vigil: Vigil):
    """Only the member it was shown to may ask moderators for support through it; whoever
    else presses it is told so, with the crisis lines (they may need help too)."""
    await vigil.setup(region="GB")
    alice = vigil.world.users["alice"].id
    mine = await vigil.report("bob", "dave", "spam")
    confirmation = mine.original()
    assert confirmation is not None
    pressed = await forged_press(vigil, confirmation, f"vigil:support:{alice}:slash", "bob")
    assert pressed.ephemeral and "shown to" in (pressed.content or "")
    assert pressed.embeds  # the crisis lines for the server's region
    assert "Samaritans" in json.dumps(pressed.embeds) or "116 123" in json.dumps(pressed.embeds)
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]


async def test_a_junk_support_button_or_stale_form_still_gives_help(vigil: Vigil):
    """A button anyone may press whose ID is junk (user 0), or a form Vigil no longer knows
    (an Answer form of a removed kind): whoever sent it may be a reporter in danger, so the
    answer carries the help, never a bare line (reporter-edge review of stop 30)."""
    await vigil.setup(region="GB")
    mine = await vigil.report("bob", "dave", "spam")
    confirmation = mine.original()
    assert confirmation is not None
    pressed = await forged_press(vigil, confirmation, "vigil:support:0:slash", "bob")
    assert pressed.ephemeral and "no longer in use" in (pressed.content or "")
    assert "What you can do now" in json.dumps(pressed.embeds)  # the help, as on any failure
    stale = await vigil.run(
        vigil.emu.build.modal_submit(
            "vigil:gone-form:1",
            user="bob",
            fields={"answer": "help"},
            channel=vigil.guild.channel("general"),
        )
    )
    assert stale.ephemeral and "open" in (stale.content or "").lower()
    assert "What you can do now" in json.dumps(stale.embeds) and vigil.report_count() == 1


async def test_a_press_that_overtakes_the_alerts_record_still_redraws_it(vigil: Vigil):
    """A moderator can press a button on a new alert before Vigil has stored where it is (the
    press overtakes the POST's answer): the press waits for that record and redraws the alert
    in place, as on any alert."""
    await vigil.setup()
    hold = vigil.emu.faults.hold("POST", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)  # in the channel; its POST's answer still held back
    alert = vigil.alerts()[0]
    assert vigil.db_rows("SELECT alert_message_id FROM cases") == [(None,)]
    pressing = asyncio.ensure_future(forged_press(vigil, alert, "vigil:case:resolve:1", "maya"))
    await asyncio.sleep(0.3)  # the press is waiting for the record meanwhile
    hold.release()
    pressed = await pressing
    assert pressed.type == UPDATE_MESSAGE
    assert vigil.db_rows("SELECT alert_message_id FROM cases") == [(int(alert["id"]),)]


async def test_a_support_press_forged_onto_an_alert_answers_privately(vigil: Vigil):
    """The support button edited whatever message it was pressed on (stop 27 review, finding
    8): forged onto an alert by the member it names, it drew crisis support over the alert.
    Now such a press is answered anew, privately, and the alert stays as it was."""
    await vigil.setup(region="GB")
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    bob = vigil.world.users["bob"].id
    pressed = await forged_press(vigil, alert, f"vigil:support:{bob}:slash", "bob")
    answer = await pressed.wait_original_edit(timeout=10)
    assert pressed.ephemeral  # a private answer of its own ("thinking", then edited)
    assert "Samaritans" in json.dumps(answer) or "116 123" in json.dumps(answer)
    assert vigil.alerts()[0]["components"] == alert["components"]
    assert vigil.alerts()[0].get("embeds") == alert.get("embeds")
