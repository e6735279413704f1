"""A reported manager cannot erase the evidence about themselves by erasing their reporter.

Found by a review (stop 26): `/reports forget member:<reporter>` run by the manager the reporter
reported deleted that report too, and the case about the manager stayed open with none. Now the
erasure leaves out what the member reported about the manager running it (and their exchange in
cases about that manager); each such case's audit trail says so, for the other moderators, and
another manager's erasure of the member takes it. The answer to the manager is the usual one:
it does not tell them whether anything was kept (that would tell them who reported them)."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Vigil


async def forget(vigil: Vigil, manager: str, member: str) -> dict[str, Any]:
    asked = await vigil.slash("reports forget", manager, member=member)
    message = asked.original()
    assert message is not None
    member_id = vigil.world.users[member].id
    done = await vigil.run(
        vigil.emu.build.component(f"vigil:forget:{member_id}", user=manager, message=message)
    )
    return await done.wait_original_edit(timeout=10)


async def test_the_subject_of_a_case_cannot_erase_its_reporters_reports(vigil: Vigil):
    await vigil.setup(threshold=1)
    await vigil.report("alice", "adam", "harassment", details="adam threatened to ban me")
    await vigil.report("alice", "dave", "spam")
    adam, alice = vigil.world.users["adam"].id, vigil.world.users["alice"].id
    adams_case = vigil.db_rows("SELECT id FROM cases WHERE target_id = ?", (adam,))[0][0]

    answer = await forget(vigil, "adam", "alice")
    # The usual answer, counting what was erased: her report about dave (and its case).
    assert "Erased: 1 report(s) and 0 case(s)" in answer["content"]
    assert vigil.db_rows("SELECT target_id FROM reports WHERE reporter_id = ?", (alice,)) == [
        (adam,)
    ]
    assert vigil.db_rows("SELECT status FROM cases WHERE id = ?", (adams_case,)) == [("open",)]
    # The case about adam says so, naming who asked and whom, for the other moderators.
    assert vigil.db_rows(
        "SELECT action, actor_id, detail FROM case_events WHERE case_id = ?", (adams_case,)
    ) == [("erasure_held", adam, str(alice))]

    # Another manager's erasure of alice takes what was kept.
    final = await forget(vigil, "olivia", "alice")
    assert "Erased: 1 report(s)" in final["content"]
    assert vigil.db_rows("SELECT COUNT(*) FROM reports WHERE reporter_id = ?", (alice,)) == [(0,)]
    # The audit trail keeps who tried; her ID goes with the rest of her data.
    assert vigil.db_rows(
        "SELECT action, actor_id, detail FROM case_events WHERE case_id = ?", (adams_case,)
    ) == [("erasure_held", adam, None)]
    record = await vigil.slash("reports case", "olivia", number=1)
    assert "asked to erase a member erased since" in json.dumps(record.embeds)


async def test_the_answer_is_the_same_whether_or_not_the_member_reported_the_manager(
    vigil: Vigil,
):
    """No oracle: erasing a member who reported nobody, or only others, reads the same."""
    await vigil.setup(threshold=1)
    await vigil.report("bob", "dave", "spam")
    answer = await forget(vigil, "adam", "bob")
    assert "Erased: 1 report(s) and 0 case(s)" in answer["content"]
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events WHERE action = 'erasure_held'") == [(0,)]
