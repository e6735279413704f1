"""What an alert, a record or an audit line may say depends on who reads it (stop 27 review,
findings 1, 2 and 5, and the review of their first fix).

- The retaliation line ("X reported this member, who had reported them") never names someone
  who reads it: read by X it would tell X who reported them. Wherever X reads (the alert's
  channel, their own `/reports case` or dashboard page) X's name leaves the line and
  X's report shows as counted (the export says nothing of how reports counted, for anyone).
  Nothing else about X changes: no move, no refusal (either would
  itself tell X), and X can act on the case like any moderator.
- A case about the owner (who reads every channel) is alerted withheld: no reporters, words,
  signals or history, no thread, nothing posted under it; a press redraws it withheld too.
- No #audit line is posted about a case whose target reads #audit.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from emulator.models import Channel, Overwrite
from tests import postgres
from tests.e2e.conftest import Vigil, alert_text, result_text
from tests.e2e.dashboard_helpers import (
    browser,
    start_shards_with_dashboard_elsewhere,
    start_with_dashboard,
)
from tests.e2e.relay_helpers import THREADS, allow_threads, ask
from tests.e2e.test_moderator_workflow import press

UPDATE_MESSAGE = 7
RETALIATION = "reported this member, who had reported them"


def owner_dm(vigil: Vigil) -> Any:
    return vigil.world.dm_channel_for(vigil.world.users["olivia"])


async def case_in(vigil: Vigil, channel: Any, number: int, needle: str = "") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for message in vigil.emu.channel_messages(channel.id):
            text = alert_text(message)
            if f"Case #{number}:" in text and needle in text:
                return message
        return None

    return await vigil.emu.waiters.wait_for(found, 10, f"case #{number} with {needle!r}")


async def retaliates(vigil: Vigil, who: str, **setup: Any) -> None:
    """alice reports `who` (case #1), bob reports alice (case #2, in #mod-alerts), then `who`
    reports alice back: possible retaliation, named in case #2's signals."""
    await vigil.setup(threshold=1, **setup)
    await vigil.report("alice", who, "harassment", details=f"{who} abuses their powers")
    await vigil.report("bob", "alice", "spam", details="alice spams the general channel")
    await case_in(vigil, vigil.alerts_channel, 2)
    await vigil.report(who, "alice", "spam")
    named = vigil.world.users[who].id
    await case_in(vigil, vigil.alerts_channel, 2, f"<@{named}>")  # listed among reporters


async def test_the_retaliation_line_never_names_a_moderator_who_reads_the_alert(vigil: Vigil):
    """maya reads #mod-alerts: case #2 stays there, lists her report as counted (2 distinct
    reporters) and says nothing of retaliation. The owner, who is not named, reads the
    signal in the record: maya's report not counted, 1 distinct reporter."""
    await retaliates(vigil, "maya")
    maya = vigil.world.users["maya"].id
    alert = await case_in(vigil, vigil.alerts_channel, 2, f"<@{maya}>")
    text = alert_text(alert)
    assert "retaliation" not in text.lower() and RETALIATION not in text
    assert "**Distinct reporters:** 2" in text
    assert not vigil.emu.channel_messages(owner_dm(vigil).id) or not any(
        "Case #2:" in alert_text(m) for m in vigil.emu.channel_messages(owner_dm(vigil).id)
    ), "case #2 moved: that alone would tell maya"
    record = await vigil.slash("reports case", "olivia", number=2)
    shown = json.dumps(record.embeds)
    assert RETALIATION in shown and f"<@{maya}>" in shown
    assert "**Distinct reporters:** 1" in shown


async def test_a_named_admin_reads_and_acts_on_the_case_as_if_unnamed(vigil: Vigil):
    """adam (an admin: he reads everything) is named. His /reports case shows his report
    counted and no retaliation; his export is the same file as the owner's, which says
    nothing of how reports counted; he may act on the case like anyone (a refusal would tell
    him)."""
    await retaliates(vigil, "adam")
    adam = vigil.world.users["adam"].id
    record = await vigil.slash("reports case", "adam", number=2)
    shown = json.dumps(record.embeds)
    assert record.ephemeral and f"<@{adam}>" in shown
    assert RETALIATION not in shown and "**Distinct reporters:** 2" in shown
    await vigil.slash("reports export", "adam", case=2)
    name = f"vigil-case-2-{vigil.guild.id}.json"
    theirs = json.loads(vigil.emu.uploads[name])
    await vigil.slash("reports export", "olivia", case=2)
    truth = json.loads(vigil.emu.uploads[name])
    # The packet (evidence for Discord, NCMEC, the police) is the same for both and says
    # nothing of how reports counted: no false "counted" for adam, no tell either.
    assert len(theirs["reports"]) == len(truth["reports"]) == 2
    for packet in (theirs, truth):
        assert all("counted" not in key for r in packet["reports"] for key in r)
        assert "retaliation" not in json.dumps(packet).lower()
    assert theirs["reports"] == truth["reports"]
    message = record.original()
    assert message is not None
    acted = await press(vigil, message, "vigil:case:acknowledge:2", "adam")
    assert "involves you" not in result_text(acted)
    assert vigil.db_rows("SELECT status FROM cases WHERE number = 2") == [("acknowledged",)]


async def test_the_owner_retaliating_is_named_nowhere_they_read(vigil: Vigil):
    """olivia owns the server and reads every channel: case #2's alert never names her as
    retaliating; adam, who is not named, reads it in the record."""
    await retaliates(vigil, "olivia")
    olivia = vigil.world.users["olivia"].id
    alert = await case_in(vigil, vigil.alerts_channel, 2, f"<@{olivia}>")
    assert RETALIATION not in alert_text(alert)
    record = await vigil.slash("reports case", "adam", number=2)
    assert RETALIATION in json.dumps(record.embeds)


async def test_a_press_redraws_the_alert_as_its_readers_may_read_it(vigil: Vigil):
    """A button redraws the alert in place: milo's Acknowledge on case #2 must not put the
    line naming maya into #mod-alerts (it was drawn from the case alone, unrouted)."""
    await retaliates(vigil, "maya")
    alert = await case_in(vigil, vigil.alerts_channel, 2, "Distinct reporters:** 2")
    pressed = await press(vigil, alert, "vigil:case:acknowledge:2", "milo")
    assert pressed.type == UPDATE_MESSAGE
    drawn = json.dumps(pressed.data)
    assert "Acknowledged" in drawn or "acknowledged" in drawn
    assert RETALIATION not in drawn
    assert RETALIATION not in json.dumps(vigil.alerts())


async def test_a_case_about_the_owner_is_withheld_and_stays_so_when_pressed(vigil: Vigil):
    """The owner reads every channel: the alert stays in #mod-alerts without who reported or
    their words, and says why. A moderator's press redraws it withheld (it was redrawn whole
    by the first fix). Moderators read it whole with /reports case; the owner is refused."""
    await vigil.setup(threshold=1)
    await vigil.report("alice", "olivia", "harassment", details="olivia keeps insulting me")
    await vigil.wait_alerts(1)
    alice = vigil.world.users["alice"].id
    text = alert_text(vigil.alerts()[0])
    assert f"<@{alice}>" not in text and "keeps insulting" not in text
    assert "left out of this alert" in text and "Harassment" in text
    pressed = await press(vigil, vigil.alerts()[0], "vigil:case:acknowledge:1", "adam")
    assert pressed.type == UPDATE_MESSAGE
    for drawn in (json.dumps(pressed.data), json.dumps(vigil.alerts())):
        assert f"<@{alice}>" not in drawn and "keeps insulting" not in drawn
        assert "left out of this alert" in drawn
    record = await vigil.slash("reports case", "adam", number=1)
    assert f"<@{alice}>" in str(record.embeds) and "keeps insulting" in str(record.embeds)
    refused = await vigil.slash("reports case", "olivia", number=1)
    assert "Case #1 is about you" in result_text(refused)


async def test_a_withheld_case_posts_nothing_under_its_alert(vigil: Vigil):
    """A question to the reporter of a case about the owner goes by DM; neither it nor the
    answer is posted under the alert, no thread is started there, and the moderator is told
    the answer will be in the case's record."""
    await allow_threads(vigil)
    await vigil.setup(threshold=1)
    await vigil.report("alice", "olivia", "harassment", details="olivia keeps insulting me")
    await vigil.wait_alerts(1)
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


async def test_a_press_on_a_rerouted_alert_keeps_why_it_is_there(vigil: Vigil):
    """An alert in the admin channel says why it is there; a press redrew it without that."""
    guild = vigil.guild
    staff = Channel(
        max(guild.channels) + 1,
        "staff-only",
        guild_id=guild.id,
        position=3,
        overwrites=[
            Overwrite(guild.id, 0, deny=1 << 10),  # @everyone: no View Channel
            Overwrite(
                guild.role("Vigil").id, 0, allow=(1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)
            ),
        ],
    )
    guild.channels[staff.id] = staff
    await vigil.restart()  # Vigil learns of the new channel
    await vigil.setup(admin_channel="staff-only", threshold=1)
    await vigil.report("alice", "milo", "harassment", details="about milo")
    await vigil.wait_alerts(1, channel=staff)
    pressed = await press(vigil, vigil.alerts(staff)[0], "vigil:case:acknowledge:1", "adam")
    assert pressed.type == UPDATE_MESSAGE
    assert "Posted here, not in the alert channel" in json.dumps(pressed.data)


async def test_no_audit_line_about_a_case_whose_target_reads_audit(vigil: Vigil):
    """#audit is read by the Moderators: an action on the case about maya posts no line there
    (its alert went to the owner); an action on another case does."""
    await vigil.setup(threshold=1, audit_channel="audit")
    await vigil.report("alice", "maya", "harassment", details="maya abuses her powers")
    await case_in(vigil, owner_dm(vigil), 1)
    record = await vigil.slash("reports case", "olivia", number=1)
    message = record.original()
    assert message is not None
    await press(vigil, message, "vigil:case:acknowledge:1", "olivia")
    await vigil.report("carol", "dave", "spam")
    other = await case_in(vigil, vigil.alerts_channel, 2)
    await press(vigil, other, "vigil:case:acknowledge:2", "milo")
    audit = vigil.guild.channel("audit")
    await vigil.emu.waiters.wait_for(
        lambda: (
            any("Case #2 ·" in m["content"] for m in vigil.emu.channel_messages(audit.id)) or None
        ),
        10,
        "case #2's audit line",
    )
    assert not any("Case #1 ·" in m["content"] for m in vigil.emu.channel_messages(audit.id))
    assert vigil.db_rows("SELECT status FROM cases WHERE number = 1") == [("acknowledged",)]


async def test_the_dashboard_never_names_its_reader_as_retaliating(
    emulator: Any, bot_factory: Any, tmp_path: Any, database_url: str
) -> None:
    """maya's queue has no retaliation tag on case #2 and its page neither names her nor tags
    her report "not counted"; milo sees the tag and the line naming maya."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await retaliates(vigil, "maya", mod_role="Moderators")
    harbour = vigil.guild.id
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        status, queue, _ = await maya.get(f"/g/{harbour}/queue")
        assert status == 200 and "retaliation" not in html.unescape(queue)
        status, page, _ = await maya.get(f"/g/{harbour}/cases/2")
        text = html.unescape(page)
        assert status == 200 and RETALIATION not in text and "not counted" not in text.lower()
    async with browser(base) as milo:
        await milo.sign_in(vigil, "milo")
        status, queue, _ = await milo.get(f"/g/{harbour}/queue")
        assert status == 200 and "1 possible retaliation" in html.unescape(queue)
        status, page, _ = await milo.get(f"/g/{harbour}/cases/2")
        text = html.unescape(page)
        assert status == 200 and RETALIATION in text and "Maya" in text


@pytest.fixture
def shared_database(postgres_database: str) -> str:
    """Both shard processes' database (PostgreSQL: SQLite is one process's file)."""
    postgres.empty(postgres_database)
    return postgres_database


async def test_a_dashboard_action_in_another_process_gets_its_audit_line_where_allowed(
    emulator: Any, bot_factory: Any, shared_database: str
) -> None:
    """Two shard processes share the database; the dashboard runs in the one that does NOT
    hold Harbour (its cache has no such server). Acknowledging carol's case on the web posts
    its #audit line (who reads #audit asked of Discord: the server, the channel, carol);
    maya's case gets none (she reads #audit), and nothing is guessed from the empty cache."""
    emu, guild = emulator, emulator.world.guild_a
    web, base = await start_shards_with_dashboard_elsewhere(emu, bot_factory, shared_database)
    vigil = Vigil(emu, bot_factory, Path("unused.db"), shared_database)
    await vigil.setup(threshold=1, audit_channel="audit")
    await vigil.report("alice", "carol", "harassment")
    await vigil.report("alice", "maya", "harassment")
    await case_in(vigil, vigil.alerts_channel, 1)
    await case_in(vigil, owner_dm(vigil), 2)
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        for number in (2, 1):
            _, page, _ = await olivia.get(f"/g/{guild.id}/cases/{number}")
            status, _, _ = await olivia.post(
                f"/g/{guild.id}/cases/{number}/act", {"action": "acknowledge"}, csrf_from=page
            )
            assert status == 303
    await web.wait_for_log("left out: its target can read #audit")
    audit = guild.channel("audit")
    carol = vigil.world.users["carol"].id
    line = await vigil.emu.waiters.wait_for(
        lambda: next(
            (m for m in vigil.emu.channel_messages(audit.id) if "Case #1 ·" in m["content"]),
            None,
        ),
        10,
        "case #1's audit line",
    )
    assert f"<@{carol}>" in line["content"]
    assert not any("Case #2 ·" in m["content"] for m in vigil.emu.channel_messages(audit.id))
    assert vigil.db_rows("SELECT number, status FROM cases ORDER BY number") == [
        (1, "acknowledged"),
        (2, "acknowledged"),
    ]
