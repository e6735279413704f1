"""Trust holes a race, a reporter or a log reader could open, closed end to end.

- A ban confirmed while another moderator dismissed the case is recorded, and the moderator
  is told the truth (the member was banned).
- Report details cannot forge lines or list markdown in an alert or a member's history.
- At LOG_LEVEL=DEBUG the log holds neither interaction tokens nor what reporters wrote.
- The largest case Vigil can hold still fits every Discord limit, in the alert and in
  `/reports case`.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Vigil
from tests.e2e.test_moderator_workflow import critical_case, press, settled

BAN = "/guilds/{guild_id}/bans/{user_id}"


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def test_ban_while_another_moderator_dismisses_is_recorded_and_told(vigil: Vigil):
    alert = await critical_case(vigil)
    maya, milo = vigil.world.users["maya"], vigil.world.users["milo"]
    prompt = await press(vigil, alert, "vigil:case:ban:1", "maya")
    message = prompt.original()
    assert message is not None
    confirm = next(i for i in custom_ids(message) if i.startswith("vigil:confirm:ban:"))

    # Milo dismisses the case (as another process would) at the moment Maya's ban reaches
    # Discord: after every check Vigil made before banning, before it records the ban.
    dismissed: list[bool] = []

    def milo_dismisses(_request: Any) -> bool:
        if not dismissed:
            dismissed.append(True)
            vigil.db_rows(
                "UPDATE cases SET status = 'dismissed', dismiss_reason = 'duplicate', "
                "closed_at = opened_at, handled_by = ?, handled_at = opened_at, "
                "alert_revision = alert_revision + 1 WHERE id = 1",
                (milo.id,),
            )
            vigil.db_rows(
                "INSERT INTO case_events (case_id, actor_id, action, detail, created_at) "
                "SELECT 1, ?, 'dismiss', 'duplicate', opened_at FROM cases WHERE id = 1",
                (milo.id,),
            )
        return False  # not a fault: Discord bans the member

    vigil.emu.faults.add("PUT", BAN, predicate=milo_dismisses)
    done = await press(vigil, message, confirm, "maya")
    text = await settled(done)
    assert dismissed, "the ban never reached Discord"
    ban = vigil.emu.requests_to("PUT", BAN)[-1]
    assert ban.status == 204 and ban.params["user_id"] == str(vigil.world.users["dave"].id)
    assert "was banned" in text and "Nothing was changed" not in text, text
    assert "dismissed" in text, text  # and that the case stayed as Milo left it
    events = vigil.db_rows("SELECT action, actor_id FROM case_events WHERE case_id = 1 ORDER BY id")
    assert events == [("dismiss", milo.id), ("ban", maya.id)]
    assert vigil.db_rows("SELECT status FROM cases WHERE id = 1") == [("dismissed",)]
