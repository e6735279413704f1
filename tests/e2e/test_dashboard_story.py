"""The dashboard's case timeline tells the whole story (issue 18, t15-followup): the reporter
Q&A as the case's thread words it (who asked, "Reporter 1 answered: ...", details added, "stop
messages", whether a question was delivered) and each urgent reminder as it was sent, in the
server's language, user text escaped, reporters by number only. Over HTTP against the real
bot.py and the emulator, on both backends."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import pytest

from tests.e2e.conftest import Vigil, result_text
from tests.e2e.dashboard_helpers import browser, start_with_dashboard
from tests.e2e.relay_helpers import ask, button_ids, wait_dm, wait_rows
from tests.e2e.test_moderator_workflow import press

FAST = {"REMINDER_MINUTE_SECONDS": "0.25"}
RELAY_ITEM = re.compile(r'<li class="relay [a-z]+">(.*?)</li>', re.DOTALL)
REMINDER_ITEM = re.compile(r'<li class="reminder">(.*?)</li>', re.DOTALL)
ANSWER = "<script>alert(1)</script> At the park, @everyone"
DETAILS = "He has <b>done</b> this before"


def first(message: dict[str, Any], prefix: str) -> str:
    return next(i for i in button_ids(message) if i.startswith(prefix))


async def submit(vigil: Vigil, message: dict[str, Any], button: str, user: str, **fields: Any):
    form = await press(vigil, message, button, user)
    assert form.type == 9, form.content
    return await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user=user,
            fields=fields,
            channel=vigil.world.dm_channel_for(vigil.world.users[user]),
        )
    )


@pytest.mark.long_scenario(seconds=4)
async def test_the_case_timeline_shows_the_reporter_qa_and_each_reminder(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil, **FAST)
    await vigil.setup(mod_role="Moderators", urgent_reminder_minutes=1)
    confirmation = await vigil.report("alice", "dave", "child_safety", details="he sent pictures")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    alice = vigil.world.users["alice"]
    # Three reminders, then the owner's notice, each recorded as it was sent.
    await wait_rows(
        vigil,
        "SELECT number, kind FROM case_reminders ORDER BY number",
        [(1, "reminder"), (2, "reminder"), (3, "reminder"), (4, "owner")],
        timeout=40,
    )
    # A question that could not be delivered, one that was, its answer, details, a stop.
    vigil.emu.dm_closed.add(alice.id)
    await ask(vigil, alert, 1, "Are you safe right now?")
    vigil.emu.dm_closed.clear()
    await ask(vigil, alert, 1, "Where did this happen?", moderator="milo")
    dm = await wait_dm(vigil, "alice")
    answered = await submit(vigil, dm, first(dm, "vigil:relay:answer:"), "alice", answer=ANSWER)
    assert "Your answer went to the moderators" in result_text(answered)
    message = confirmation.original()
    assert message is not None
    added = await vigil.run(
        vigil.emu.build.modal_submit(
            (await press(vigil, message, first(message, "vigil:relay:details:"), "alice")).data[
                "custom_id"
            ],
            user="alice",
            fields={"details": DETAILS},
        )
    )
    assert "Added to your report" in result_text(added)
    await press(vigil, dm, first(dm, "vigil:relay:stop:"), "alice")
    await wait_rows(
        vigil,
        "SELECT kind, state FROM relay_messages ORDER BY id",
        [
            ("question", "dms_closed"),
            ("question", "sent"),
            ("answer", "kept"),
            ("details", "kept"),
            ("stopped", "kept"),
        ],
    )

    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        status, page, _ = await olivia.get(f"/g/{vigil.guild.id}/cases/1")
        assert status == 200
        text = html.unescape(page)
        relay = [html.unescape(i) for i in RELAY_ITEM.findall(page)]
        assert len(relay) == 5, relay
        assert "Maya asked Reporter 1, but they don't accept direct messages" in relay[0]
        assert "Are you safe right now?" in relay[0]
        assert "Milo asked Reporter 1:" in relay[1] and "delivered by direct message" in relay[1]
        assert "💬 Reporter 1 answered:" in relay[2] and ANSWER in relay[2]
        assert "Reporter 1 added details to their report:" in relay[3] and DETAILS in relay[3]
        assert "Reporter 1 asked for no more messages" in relay[4]
        for item in relay:  # the relay never names a reporter, on the web either
            assert "Alice" not in item and str(alice.id) not in item
        # User text is escaped: it shows as written, never as markup.
        assert "<script>alert(1)</script>" not in page and "<b>done</b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        # Reporters are numbered on their reports as on the alert, for moderators.
        assert "Report by Alice" in text and "Reporter 1" in text
        reminders = [html.unescape(i) for i in REMINDER_ITEM.findall(page)]
        assert len(reminders) == 4
        for number, item in enumerate(reminders[:3], start=1):
            assert f"Reminder {number} of 3 sent to the moderators" in item
        assert "the server's owner (or the admin channel) was told" in reminders[3]
        # The timeline is in order: the reminders came before the questions.
        assert text.index("Reminder 3 of 3") < text.index("Are you safe right now?")

        # In the server's language.
        vigil.guild.preferred_locale = "de"
        await vigil.emu.dispatch("GUILD_UPDATE", vigil.guild.payload(), guild_id=vigil.guild.id)
        german = ""
        for _ in range(100):
            _, german, _ = await olivia.get(f"/g/{vigil.guild.id}/cases/1")
            if 'lang="de"' in german:
                break
            await asyncio.sleep(0.1)
        german = html.unescape(german)
        assert "Meldende Person 1 hat geantwortet" in german
        assert "Erinnerung 1 von 3 an die Moderation gesendet" in german
        assert "per Direktnachricht zugestellt" in german
