"""The web dashboard (issue 18) over HTTP, against the real bot.py and the emulator's OAuth2:
sign-in and its state, sessions and logout, CSRF, authorisation per server and case, and the
actions going through the same services as the alert's buttons. The browser tests
(test_dashboard_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

from tests.e2e.conftest import Vigil, alert_text
from tests.e2e.dashboard_helpers import browser, start_with_dashboard


async def open_case(vigil: Vigil) -> None:
    await vigil.setup(mod_role="Moderators")
    await vigil.report("alice", "carol", reason="violent_threat", details="said they'd hurt me")
    await vigil.wait_alerts(1)


async def test_sign_in_queue_case_and_note_on_the_alert(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await open_case(vigil)
    async with browser(base) as maya:
        servers = await maya.sign_in(vigil, "maya")
        assert "Harbour" in servers and "Lighthouse" not in servers
        guild = vigil.guild.id
        status, queue, _ = await maya.get(f"/g/{guild}/queue")
        assert status == 200 and "#1" in queue and "Carol" in queue
        status, case, _ = await maya.get(f"/g/{guild}/cases/1")
        assert status == 200 and "said they" in case
        status, _, done = await maya.post(
            f"/g/{guild}/cases/1/act", {"action": "note", "note": "Spoke to carol"}, csrf_from=case
        )
        assert status == 303, done.headers
    await vigil.wait_alert_text("Spoke to carol")
    assert "Spoke to carol" in alert_text(vigil.alerts()[0])
