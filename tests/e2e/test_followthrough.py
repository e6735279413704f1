"""Issue 14 follow-through through the emulator, on both backends: urgent reminders replying
to the alert (role mention only), the owner told after three, Acknowledge showing who and when
and stopping them, and retaliation reports kept, shown, never counted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import MESSAGE, MESSAGES, Vigil, alert_text
from tests.e2e.test_fuzz_inputs import forged_message
from tests.e2e.test_moderator_workflow import press, uid

# A reminder "minute" lasts a quarter of a second here (REMINDER_MINUTE_SECONDS is for tests
# only): the whole schedule (1, 2, 4 and 4 "minutes") then plays in under 3 s.
FAST = {"REMINDER_MINUTE_SECONDS": "0.25"}


def reminders(vigil: Vigil, alert: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m
        for m in vigil.alerts()
        if (m.get("message_reference") or {}).get("message_id") == alert["id"]
        and "Reminder" in (m.get("content") or "")
    ]


@pytest.mark.long_scenario(seconds=3)
async def test_reminders_reply_to_the_alert_then_the_owner_is_told(vigil: Vigil):
    await vigil.restart(**FAST)
    role = vigil.guild.role("Moderators")
    await vigil.setup(mod_role="Moderators", urgent_reminder_minutes=1)
    await vigil.report("alice", "dave", "child_safety", details="private detail xyz")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    await vigil.emu.waiters.wait_for(
        lambda: len(reminders(vigil, alert)) >= 3 or None, 40, "three reminders"
    )
    for number, message in enumerate(reminders(vigil, alert), start=1):
        assert message["content"].startswith(f"<@&{role.id}> Reminder {number} of 3")
    posts = [
        r
        for r in vigil.emu.requests_to("POST", MESSAGES)
        if "Reminder" in ((r.body or {}).get("content") or "")
    ]
    assert len(posts) == 3
    for request in posts:
        mentions = request.body["allowed_mentions"]
        assert mentions.get("parse") in (None, [])
        assert [str(r) for r in mentions.get("roles", [])] == [str(role.id)]
        assert not mentions.get("users") and not mentions.get("replied_user")
    owner_dm = vigil.world.dm_channel_for(vigil.world.users["olivia"])
    notice = await vigil.emu.waiters.wait_for(
        lambda: next(
            (
                m
                for m in vigil.emu.channel_messages(owner_dm.id)
                if "Urgent case #1" in (m.get("content") or "")
            ),
            None,
        ),
        40,
        "the owner's notice",
    )
    assert "3 reminders" in notice["content"] and "private detail" not in notice["content"]
    # Recorded right after it was sent: nothing more is ever due for this case.
    await vigil.emu.waiters.wait_for(
        lambda: (
            vigil.db_rows("SELECT reminders_sent, next_reminder_at FROM cases") == [(4, None)]
            or None
        ),
        10,
        "the notice recorded",
    )
    assert len(reminders(vigil, alert)) == 3


async def test_acknowledge_shows_who_and_when_and_stops_reminders(vigil: Vigil):
    await vigil.restart(**FAST)
    await vigil.setup(mod_role="Moderators", urgent_reminder_minutes=1)
    await vigil.report("alice", "dave", "self_harm")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    await vigil.emu.waiters.wait_for(
        lambda: reminders(vigil, alert) or None, 40, "the first reminder"
    )
    await press(vigil, alert, "vigil:case:acknowledge:1", "maya")
    shown = await vigil.wait_alert_text(f"<@{uid(vigil, 'maya')}>")
    text = alert_text(shown)
    assert "acknowledged" in text.lower() and "<t:" in text  # who and when
    rows = vigil.db_rows("SELECT status, next_reminder_at FROM cases")
    assert rows == [("acknowledged", None)]  # no further reminder is scheduled


async def test_retaliation_is_kept_shown_and_never_counted(vigil: Vigil):
    await vigil.setup(threshold=2)
    await vigil.report("alice", "dave", "harassment")
    await vigil.report("bob", "dave", "harassment")
    await vigil.wait_alerts(1)
    # dave reports alice back, even as critical: stored, not counted, no case, no alert.
    answer = await vigil.report("dave", "alice", "child_safety")
    assert answer.ephemeral
    rows = vigil.db_rows(
        "SELECT counts_toward_threshold, not_counted_reason, case_id FROM reports "
        "WHERE reporter_id = ?",
        (uid(vigil, "dave"),),
    )
    assert rows == [(0, "retaliation", None)]
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(1,)]
    # Two genuine reports about alice open her case: the alert shows the signal.
    await vigil.report("erin", "alice", "harassment")
    await vigil.report("bob", "alice", "harassment")
    shown = await vigil.wait_alert_text("Possible retaliation")
    assert f"<@{uid(vigil, 'dave')}>" in alert_text(shown)


async def _child_safety_message_case(vigil: Vigil) -> tuple[dict[str, Any], dict[str, Any]]:
    await vigil.setup()
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "grooming message")
    form = await vigil.run(
        vigil.emu.build.message_command("Report message", user="alice", message=message)
    )
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user="alice",
            fields={"reason": ["child_safety"], "details": "x"},
        )
    )
    await vigil.wait_alerts(1)
    return vigil.alerts()[0], message


async def test_delete_refused_before_escalation_unless_delete_anyway(vigil: Vigil):
    alert, _message = await _child_safety_message_case(vigil)
    pressed = await press(vigil, alert, "vigil:case:delete_messages:1", "maya")
    prompt = await pressed.wait_followup(timeout=10)
    assert "escalate before deleting" in prompt["content"]
    ids = [c["custom_id"] for row in prompt["components"] for c in row["components"]]
    plain = f"vigil:confirm:delete_messages:1:{uid(vigil)}:0"
    anyway = f"vigil:confirm:delete_messages:1:{uid(vigil)}:1"
    assert plain not in ids and anyway in ids
    # A forged plain confirmation is refused at click time: nothing deleted.
    refused = await press(vigil, forged_message(prompt, plain, 2, []), plain, "maya")
    assert "escalate before deleting" in (await refused.wait_original_edit(timeout=10))["content"]
    assert [r for r in vigil.emu.requests_to("DELETE", MESSAGE) if r.status == 204] == []
    done = await press(vigil, prompt, anyway, "maya")
    assert "deleted" in (await done.wait_original_edit(timeout=10))["content"]
    assert vigil.db_rows(
        "SELECT actor_id, detail FROM case_events WHERE action = 'delete_messages'"
    ) == [(uid(vigil, "maya"), "delete_anyway")]
    await vigil.wait_alert_text("deleted anyway")


async def test_delete_allowed_after_escalation(vigil: Vigil):
    alert, _message = await _child_safety_message_case(vigil)
    text = alert_text(alert)
    assert "Child safety: steps in order" in text
    assert "⬜ 1. **Contain**: time out the member now" in text
    assert "incident actions" in text  # guidance only: Vigil does not pause DMs itself
    assert "✅ 2. **Keep evidence**: done by Vigil" in text  # the message came with the report
    assert "⬜ 3. **Report**" in text and "⬜ 4. **Remove**" in text
    opened = await press(vigil, alert, "vigil:case:escalate:1", "maya")
    await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"],
            user="maya",
            fields={"where": ["ncmec"], "reference": "CT-1"},
        )
    )
    maya = f"<@{uid(vigil, 'maya')}>"
    ticked = alert_text(await vigil.wait_alert_text(f"✅ 3. **Report**: done by {maya}"))
    assert "⬜ 4. **Remove**" in ticked
    pressed = await press(vigil, alert, "vigil:case:delete_messages:1", "maya")
    prompt = await pressed.wait_followup(timeout=10)
    assert "escalate before deleting" not in prompt["content"]
    done = await press(vigil, prompt, f"vigil:confirm:delete_messages:1:{uid(vigil)}:0", "maya")
    assert "deleted" in (await done.wait_original_edit(timeout=10))["content"]
    await vigil.wait_alert_text(f"✅ 4. **Remove**: done by {maya}")


async def test_steps_without_the_message_ask_to_report_it_first(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety")
    await vigil.wait_alerts(1)
    text = alert_text(vigil.alerts()[0])
    assert "⬜ 2. **Keep evidence**: report the message to Discord" in text


async def test_dont_count_from_history_is_silent_reversible_and_recorded(vigil: Vigil):
    await vigil.setup(threshold=2)
    alice = uid(vigil, "alice")
    history = await vigil.slash("reports history", "olivia", member="alice")
    message = history.original()
    assert message is not None
    ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
    assert ids == [f"vigil:countreports:{alice}:0"]
    done = await press(vigil, message, ids[0], "olivia")
    assert done.ephemeral and "no longer count" in done.content
    # Even a critical report of hers opens no case on its own; she still gets her guidance.
    answer = await vigil.report("alice", "dave", "child_safety")
    assert answer.ephemeral and answer.content
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]
    assert vigil.db_rows(
        "SELECT counts_toward_threshold, not_counted_reason FROM reports WHERE reporter_id = ?",
        (alice,),
    ) == [(0, "muted_reporter")]
    await vigil.report("bob", "dave", "harassment")
    await vigil.report("erin", "dave", "harassment")
    shown = await vigil.wait_alert_text("Not counted (moderators set their reports")
    assert f"<@{alice}>" in alert_text(shown)
    assert all(
        f"<@{alice}>" not in (m.get("content") or "")
        for m in vigil.emu.channel_messages(
            vigil.world.dm_channel_for(vigil.world.users["alice"]).id
        )
    )
    # Reversible, and both switches are in the audit trail with who did them.
    again = await vigil.slash("reports history", "olivia", member="alice")
    assert "don't count" in again.content
    original = again.original()
    assert original is not None
    undo = await press(vigil, original, f"vigil:countreports:{alice}:1", "olivia")
    assert "count toward thresholds again" in undo.content
    olivia = uid(vigil, "olivia")
    assert vigil.db_rows(
        "SELECT actor_id, counts FROM reporter_count_events WHERE user_id = ? ORDER BY id",
        (alice,),
    ) == [(olivia, 0), (olivia, 1)]
    assert vigil.db_rows("SELECT COUNT(*) FROM muted_reporters") == [(0,)]
