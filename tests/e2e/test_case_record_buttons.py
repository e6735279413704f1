"""`/reports case` carries the alert's own buttons. A press on that private copy is checked
exactly like one on the alert; it redraws the copy (with the record) and leaves the alert to the
outbox, which must keep the alert where it is in the channel."""

from __future__ import annotations

import json
from typing import Any

from emulator.interactions import InteractionResult
from tests.e2e.conftest import Vigil, alert_text

UPDATE_MESSAGE = 7
CHANNEL_MESSAGE = 4


def button_ids(components: list[dict[str, Any]]) -> list[str]:
    return [c["custom_id"] for row in components for c in row["components"]]


def enabled_ids(components: list[dict[str, Any]]) -> list[str]:
    return [
        c["custom_id"] for row in components for c in row["components"] if not c.get("disabled")
    ]


async def threat_case(vigil: Vigil) -> dict[str, Any]:
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    return vigil.alerts()[0]


async def case_copy(vigil: Vigil, user: str) -> tuple[InteractionResult, dict[str, Any]]:
    copy = await vigil.slash("reports case", user, number=1)
    message = copy.original()
    assert message is not None
    return copy, message


async def press(
    vigil: Vigil, message: dict[str, Any], custom_id: str, user: str
) -> InteractionResult:
    return await vigil.run(vigil.emu.build.component(custom_id, user=user, message=message))


async def test_a_press_on_the_case_copy_redraws_it_and_the_alert_stays_in_its_channel(
    vigil: Vigil,
):
    alert = await threat_case(vigil)
    copy, message = await case_copy(vigil, "olivia")
    assert copy.ephemeral and len(copy.embeds) == 2  # the alert as it stands, and the record
    assert button_ids(copy.components) == button_ids(alert["components"])
    assert "vigil:case:acknowledge:1" in enabled_ids(copy.components)
    where = vigil.db_rows("SELECT alert_channel_id, alert_message_id FROM cases")

    pressed = await press(vigil, message, "vigil:case:acknowledge:1", "olivia")
    assert pressed.type == UPDATE_MESSAGE  # the copy itself is redrawn, with its record
    assert len(pressed.embeds) == 2 and "acknowledged" in json.dumps(pressed.embeds[1])
    assert "vigil:case:acknowledge:1" not in enabled_ids(pressed.components)
    assert vigil.db_rows("SELECT status FROM cases") == [("acknowledged",)]
    # The outbox redraws the alert where it is; the private copy never becomes the alert.
    redrawn = await vigil.wait_alert_text("acknowledged")
    assert redrawn["id"] == alert["id"]
    assert "vigil:case:acknowledge:1" not in enabled_ids(redrawn["components"])
    assert vigil.db_rows("SELECT alert_channel_id, alert_message_id FROM cases") == where


async def test_a_member_without_the_permission_cannot_act_from_a_copy(vigil: Vigil):
    """The buttons of a copy carry no trust: a copy's message handed to someone else (or
    forged) is refused at the press, as on the alert, and nothing changes."""
    await threat_case(vigil)
    _, message = await case_copy(vigil, "olivia")
    refused = await press(vigil, message, "vigil:case:resolve:1", "alice")
    assert refused.ephemeral and refused.type == CHANNEL_MESSAGE
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]


async def test_a_stale_copy_is_refused_in_a_new_message_and_kept(vigil: Vigil):
    """Two moderators: one resolves from the alert while the other still reads an older copy.
    The older copy's Acknowledge is refused with the reason, in a new private message: the
    copy is not overwritten, and the case stays resolved."""
    alert = await threat_case(vigil)
    _, older = await case_copy(vigil, "olivia")
    await press(vigil, alert, "vigil:case:resolve:1", "maya")
    assert vigil.db_rows("SELECT status FROM cases") == [("resolved",)]
    late = await press(vigil, older, "vigil:case:acknowledge:1", "olivia")
    assert late.type == CHANNEL_MESSAGE and late.ephemeral  # not an edit of the copy
    assert "resolved" in (late.content or "")
    assert vigil.db_rows("SELECT status FROM cases") == [("resolved",)]
    assert "resolved" in alert_text(await vigil.wait_alert_text("resolved"))


async def test_kick_from_the_copy_asks_first_then_the_alert_says_so(vigil: Vigil):
    alert = await threat_case(vigil)
    _, message = await case_copy(vigil, "olivia")
    prompt = await press(vigil, message, "vigil:case:kick:1", "olivia")
    assert prompt.type == CHANNEL_MESSAGE and prompt.ephemeral  # a confirmation, nothing done
    assert vigil.emu.requests_to("DELETE", "/guilds/{guild_id}/members/{user_id}") == []
    confirmation = prompt.original()
    assert confirmation is not None
    dave = vigil.world.users["dave"].id
    done = await press(vigil, confirmation, f"vigil:confirm:kick:1:{dave}:0", "olivia")
    await done.wait_original_edit(timeout=10)
    (kick,) = vigil.emu.requests_to("DELETE", "/guilds/{guild_id}/members/{user_id}")
    assert kick.params["user_id"] == str(dave) and kick.status == 204
    redrawn = await vigil.wait_alert_text("kicked the member")
    assert redrawn["id"] == alert["id"]


async def test_a_long_cases_copy_is_redrawn_within_discords_limits(vigil: Vigil):
    """The copy's redraw fits the alert and the record into Discord's 6,000 characters, as the
    first answer does: a long case's Acknowledge is answered, not refused by Discord."""
    await vigil.setup()
    for who in ("alice", "bob", "carol", "erin"):
        await vigil.report(who, "dave", "violent_threat", details=(who[0] * 60 + "\n") * 16)
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    for n in range(5):
        opened = await press(vigil, alert, "vigil:case:note:1", "maya")
        note = {"note": f"note {n} " + "z" * 990}
        await vigil.run(
            vigil.emu.build.modal_submit(opened.data["custom_id"], user="maya", fields=note)
        )
        opened = await press(vigil, alert, "vigil:case:escalate:1", "maya")
        escalation = {"where": ["police"], "reference": f"ref{n}-" + "q" * 90}
        await vigil.run(
            vigil.emu.build.modal_submit(opened.data["custom_id"], user="maya", fields=escalation)
        )
    copy, message = await case_copy(vigil, "olivia")
    assert copy.ephemeral and len(copy.embeds) == 2
    pressed = await press(vigil, message, "vigil:case:acknowledge:1", "olivia")
    assert pressed.type == UPDATE_MESSAGE and len(pressed.embeds) == 2
    assert vigil.db_rows("SELECT status FROM cases") == [("acknowledged",)]
