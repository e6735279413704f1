"""A case is kept from its parties: its target, and every member its retaliation line names
(stop 27 review, findings 1, 2 and 5).

The alert goes where no party reads (the alert channel, the admin channel, the owner's DMs);
when every place reads one (a case about the owner), it stays in the alert channel withheld:
no reporters, their words, signals or history, no thread. Its #audit lines are left out where
a party reads. `/reports case`, `/reports export`, the dashboard and every action refuse a
party. Each test here failed on the code the review read."""

from __future__ import annotations

import html
from typing import Any

from tests.e2e.conftest import Vigil, alert_text, result_text
from tests.e2e.dashboard_helpers import browser, start_with_dashboard
from tests.e2e.relay_helpers import THREADS, allow_threads, ask
from tests.e2e.test_forged_redraws import forged_press
from tests.e2e.test_moderator_workflow import press


def owner_dm(vigil: Vigil) -> Any:
    return vigil.world.dm_channel_for(vigil.world.users["olivia"])


async def case_in_owner_dm(vigil: Vigil, number: int) -> dict[str, Any]:
    dm = owner_dm(vigil)

    def found() -> dict[str, Any] | None:
        return next(
            (m for m in vigil.emu.channel_messages(dm.id) if f"Case #{number}:" in alert_text(m)),
            None,
        )

    return await vigil.emu.waiters.wait_for(found, 10, f"case #{number} in the owner's DMs")


async def maya_retaliates(vigil: Vigil) -> None:
    """alice reports maya (case #1, kept from maya), bob reports alice (case #2, in
    #mod-alerts), then maya reports alice back: possible retaliation, so maya is a party of
    case #2."""
    await vigil.setup(threshold=1, audit_channel="audit")
    await vigil.report("alice", "maya", "harassment", details="maya abuses her powers")
    await case_in_owner_dm(vigil, 1)
    await vigil.report("bob", "alice", "spam", details="alice spams the general channel")
    await vigil.wait_alert_text("Case #2:")
    await vigil.report("maya", "alice", "spam")


async def test_a_posted_alert_leaves_the_channel_when_a_party_there_is_named(vigil: Vigil):
    """Case #2 was in #mod-alerts; maya's retaliation makes her a party, and she reads that
    channel: the alert moves to the owner (with the signal and why) and leaves #mod-alerts."""
    await maya_retaliates(vigil)
    maya = vigil.world.users["maya"].id
    alert = await case_in_owner_dm(vigil, 2)
    text = alert_text(alert)
    assert "retaliation" in text and f"<@{maya}>" in text
    assert "a member named in the signals can read the alert channel" in text
    await vigil.emu.waiters.wait_for(
        lambda: not any("Case #2:" in alert_text(m) for m in vigil.alerts()) or None,
        10,
        "case #2 gone from #mod-alerts",
    )
    assert not any(f"<@{maya}>" in alert_text(m) for m in vigil.alerts())


async def test_a_party_named_as_retaliating_is_refused_the_case_everywhere(vigil: Vigil):
    """adam (an admin) is reported by alice, then reports her back after bob did: a party of
    case #2. He cannot open, export or act on it (a forged press included); the refusal says
    the case involves him (he reported alice: nothing new) and changes nothing. The owner,
    no party, reads the whole record, the signal included."""
    await vigil.setup(threshold=1)
    await vigil.report("alice", "adam", "harassment", details="adam bans people for fun")
    await case_in_owner_dm(vigil, 1)
    await vigil.report("bob", "alice", "spam")
    await vigil.wait_alert_text("Case #2:")
    await vigil.report("adam", "alice", "spam")
    await case_in_owner_dm(vigil, 2)
    for answer in (
        await vigil.slash("reports case", "adam", number=2),
        await vigil.slash("reports export", "adam", case=2),
    ):
        assert answer.ephemeral and "Case #2 involves you" in result_text(answer)
        assert "retaliation" not in result_text(answer)
    await vigil.report("carol", "dave", "spam")
    other = await vigil.wait_alert_text("Case #3:")
    forged = await forged_press(vigil, other, "vigil:case:acknowledge:2", "adam")
    assert forged.ephemeral and "Case #2 involves you" in result_text(forged)
    assert vigil.db_rows("SELECT status FROM cases WHERE number = 2") == [("open",)]
    assert vigil.db_rows(
        "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = 2"
    ) == [(0,)]
    record = await vigil.slash("reports case", "olivia", number=2)
    assert "retaliation" in str(record.embeds)


async def test_an_action_on_a_case_naming_a_moderator_leaves_no_audit_line_they_read(
    vigil: Vigil,
):
    """#audit is read by the Moderators (maya): a line about case #2 would follow a case that
    is kept from her. A case with no party there still gets its line."""
    await maya_retaliates(vigil)
    await case_in_owner_dm(vigil, 2)
    record = await vigil.slash("reports case", "olivia", number=2)
    message = record.original()
    assert message is not None
    await vigil.run(
        vigil.emu.build.component("vigil:case:acknowledge:2", user="olivia", message=message)
    )
    assert vigil.db_rows(
        "SELECT e.action FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = 2"
    ) == [("acknowledge",)]
    await vigil.report("carol", "dave", "spam")
    other = await vigil.wait_alert_text("Case #3:")
    await press(vigil, other, "vigil:case:acknowledge:3", "milo")
    audit = vigil.guild.channel("audit")
    await vigil.emu.waiters.wait_for(
        lambda: (
            any("Case #3 ·" in m["content"] for m in vigil.emu.channel_messages(audit.id)) or None
        ),
        10,
        "case #3's audit line",
    )
    assert not any("Case #2 ·" in m["content"] for m in vigil.emu.channel_messages(audit.id))


async def test_a_case_about_the_owner_is_withheld_in_the_alert_channel(vigil: Vigil):
    """The owner reads every channel: the alert stays in #mod-alerts without who reported,
    their words or signals, and says why; moderators read it whole with /reports case, the
    owner is refused. A question to the reporter goes by DM; neither it nor the answer is
    posted under the alert, and no thread is started there."""
    await allow_threads(vigil)
    await vigil.setup(threshold=1)
    await vigil.report("alice", "olivia", "harassment", details="olivia keeps insulting me")
    await vigil.wait_alerts(1)
    alice = vigil.world.users["alice"].id
    text = alert_text(vigil.alerts()[0])
    assert f"<@{alice}>" not in text and "keeps insulting" not in text
    assert "left out of this alert" in text and "Harassment" in text
    record = await vigil.slash("reports case", "adam", number=1)
    assert f"<@{alice}>" in str(record.embeds) and "keeps insulting" in str(record.embeds)
    refused = await vigil.slash("reports case", "olivia", number=1)
    assert "Case #1 is about you" in result_text(refused)
    _, told = await ask(vigil, vigil.alerts()[0], 1, "When did this start?")
    assert "`/reports case number:1`" in str(told) and "under the alert" not in str(told)
    dm = vigil.world.dm_channel_for(vigil.world.users["alice"])
    await vigil.emu.waiters.wait_for(
        lambda: (
            any("When did this start?" in str(m) for m in vigil.emu.channel_messages(dm.id)) or None
        ),
        10,
        "the question in alice's DMs",
    )
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM case_feed") == [(0,)] or None,
        10,
        "the case feed drained",
    )
    assert vigil.emu.requests_to("POST", THREADS) == []
    assert len(vigil.alerts()) == 1
    assert "When did this start?" not in str(vigil.alerts())


async def test_the_dashboard_refuses_a_party_and_its_queue_drops_them_from_the_signal(
    emulator: Any, bot_factory: Any, tmp_path: Any, database_url: str
) -> None:
    """maya (a moderator who reads the dashboard with the Moderators role) retaliated against
    alice: the queue lists case #2 without the retaliation tag for her, and its page refuses
    her; milo, no party, sees the tag and the page with the signal naming maya."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators", threshold=1)
    await vigil.report("alice", "maya", "harassment", details="maya abuses her powers")
    await case_in_owner_dm(vigil, 1)
    await vigil.report("bob", "alice", "spam")
    await vigil.wait_alert_text("Case #2:")
    await vigil.report("maya", "alice", "spam")
    await case_in_owner_dm(vigil, 2)
    harbour = vigil.guild.id
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        status, queue, _ = await maya.get(f"/g/{harbour}/queue")
        assert status == 200 and "retaliation" not in html.unescape(queue)
        status, page, _ = await maya.get(f"/g/{harbour}/cases/2")
        assert status == 403 and "Case #2 involves you" in html.unescape(page)
    async with browser(base) as milo:
        await milo.sign_in(vigil, "milo")
        status, queue, _ = await milo.get(f"/g/{harbour}/queue")
        assert status == 200 and "1 possible retaliation" in html.unescape(queue)
        status, page, _ = await milo.get(f"/g/{harbour}/cases/2")
        text = html.unescape(page)
        assert status == 200 and "reported this member, who had reported them" in text
        assert "Maya" in text
