"""The web dashboard in a real browser (issue 18): Debian's Chromium, headless, driven by
Playwright for Python, against the real bot.py and the emulator (OAuth2 included). A
moderator signs in, opens the queue and a case, reveals the evidence (and sees the audit
entry), adds a note that then shows on the alert in Discord; an attacker tries another
server's case, a forged POST and a bad sign-in state; a member without permission sees no
server. Set VIGIL_DASH_SHOTS=<dir> to keep a screenshot of each page there."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import Vigil, alert_text
from tests.e2e.dashboard_helpers import start_with_dashboard

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install -e '.[test]')"
)
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def find_chromium() -> str | None:
    """The system's Chromium (Debian's `chromium` package; .ci/run installs it)."""
    for name in CANDIDATES:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (apt-get install chromium)"
)
SHOTS = os.environ.get("VIGIL_DASH_SHOTS")
if SHOTS:
    Path(SHOTS).mkdir(parents=True, exist_ok=True)


@pytest_asyncio.fixture
async def chromium() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Root in a container has no user namespace for Chromium's sandbox.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def shot(page: Any, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def sign_in(page: Any, vigil: Vigil, base: str, user: str) -> None:
    vigil.emu.oauth.approve_as(user)
    await page.goto(base + "/")
    await page.get_by_role("link", name="Sign in with Discord").click()
    await page.wait_for_url(base + "/")


async def test_a_moderator_reviews_a_case_in_the_browser(
    emulator, bot_factory, tmp_path, database_url, chromium
):
    from tests.e2e.test_evidence import report_message

    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await report_message(vigil)
    await vigil.report("bob", "carol", reason="harassment", details="keeps DMing me")
    await vigil.wait_alerts(1)
    maya = vigil.world.users["maya"]
    context = await chromium.new_context(viewport={"width": 1100, "height": 800})
    page = await context.new_page()
    await page.goto(base + "/")
    await shot(page, "01-sign-in")
    await sign_in(page, vigil, base, "maya")
    await shot(page, "02-servers")
    await page.get_by_role("link", name="Harbour").click()
    await page.wait_for_url(f"{base}/g/{vigil.guild.id}/queue")
    await shot(page, "03-queue")
    assert "Threat of violence" in await page.inner_text("table")
    await page.get_by_role("link", name="#1").click()
    await shot(page, "04-case")
    assert "second line" not in await page.content()
    await page.get_by_role("button", name="Show evidence").click()
    await page.wait_for_selector("pre.kept")
    assert "second line" in await page.inner_text("pre.kept")
    assert "viewed the kept message text" in await page.inner_text(".timeline")
    await shot(page, "05-evidence")
    assert vigil.db_rows("SELECT action, actor_id FROM case_events") == [
        ("evidence_viewed", maya.id)
    ]
    await page.get_by_label("Note", exact=True).fill("Called dave's parents: <b>not</b> markup")
    await page.get_by_role("button", name="Note", exact=True).click()
    await page.wait_for_selector("p.ok")
    assert "<b>not</b> markup" in await page.inner_text(".timeline")
    alert = await vigil.wait_alert_text("Called dave")
    assert "\\<b\\>not\\</b\\>" in alert_text(alert)  # as the note button's: neutralised
    await page.get_by_role("link", name="Members").click()
    await page.get_by_label("Member ID or name").fill("Dave")
    await page.get_by_role("button", name="Search").click()
    await shot(page, "06-member")
    assert "Reports about them: 1" in await page.inner_text("main")
    await page.get_by_role("link", name="Figures").click()
    await page.wait_for_load_state("networkidle")
    loaded = await page.evaluate("document.querySelector('figure img').naturalWidth")
    assert loaded > 0  # the chart came (same origin, allowed by the CSP)
    await shot(page, "07-stats")
    # The settings are Manage Server's, to read as to change (t18-sec): no link for maya.
    assert await page.get_by_role("link", name="Settings").count() == 0
    # On a phone: the queue's rows become labelled cards, nothing is cut off.
    phone = await chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    await phone.add_cookies(await context.cookies())
    mobile = await phone.new_page()
    await mobile.goto(f"{base}/g/{vigil.guild.id}/queue")
    width = await mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await shot(mobile, "09-queue-phone")
    await mobile.goto(f"{base}/g/{vigil.guild.id}/cases/1")
    await shot(mobile, "10-case-phone")
    await phone.close()
    await context.close()


async def test_the_attacker_in_the_browser(emulator, bot_factory, tmp_path, database_url, chromium):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await vigil.report("alice", "carol", reason="violent_threat")
    await vigil.wait_alerts(1)
    harbour, lighthouse = vigil.guild.id, vigil.world.guild_b.id
    context = await chromium.new_context()
    page = await context.new_page()
    await sign_in(page, vigil, base, "maya")
    response = await page.goto(f"{base}/g/{lighthouse}/cases/1")
    assert response.status == 403
    await shot(page, "11-refused")
    # A forged POST from this very browser, cookie and all, but without the form's token.
    forged = await page.request.post(
        f"{base}/g/{harbour}/cases/1/act", form={"action": "acknowledge"}
    )
    assert forged.status == 403
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]
    # A sign-in redirect with a state this browser never got.
    response = await page.goto(f"{base}/callback?code=stolen&state=guessed")
    assert response.status == 400
    await context.close()
    stranger = await chromium.new_context()
    page = await stranger.new_page()
    await sign_in(page, vigil, base, "alice")  # a member, neither Manage Server nor the role
    assert "no server here" in await page.inner_text("main")
    response = await page.goto(f"{base}/g/{harbour}/queue")
    assert response.status == 403
    await stranger.close()


async def test_a_manager_changes_the_settings_in_the_browser(
    emulator, bot_factory, tmp_path, database_url, chromium
):
    """olivia (Manage Server) moves alerts to #audit and needs two reporters, with Germany's
    help: the page says it saved, warns like /reports config, and the next alert follows the
    new threshold into #audit. The same browser's forged POST (no form token) changes nothing;
    maya (moderator role only) can neither see the settings nor change them, as with
    /reports config (t18-sec)."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    audit = vigil.guild.channel("audit")
    context = await chromium.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await sign_in(page, vigil, base, "olivia")
    await page.get_by_role("link", name="Harbour").click()
    await page.get_by_role("link", name="Settings").click()
    await page.wait_for_url(f"{base}/g/{vigil.guild.id}/settings")
    admin = page.get_by_label("Where alerts go when the reported member can read the alert channel")
    assert "None: such alerts go to the server owner by DM" in await admin.inner_text()
    assert "@Moderators is not mentionable" in await page.inner_text("section.warnings")
    await page.get_by_label("Private channel where moderators receive alerts").select_option(
        label="#audit"
    )
    await page.get_by_label("Distinct reporters needed to alert").fill("2")
    await page.get_by_label("Country for hotline guidance").select_option(label="Germany")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_selector("p.ok[role=status]")
    assert "Settings saved." in await page.inner_text("main")
    await shot(page, "12-settings-saved")
    row = vigil.db_rows(
        "SELECT alert_channel_id, threshold, region FROM guild_settings WHERE guild_id = ?",
        (vigil.guild.id,),
    )
    assert row == [(audit.id, 2, "DE")]
    # A number out of range never leaves the browser (the form's own limits) ...
    await page.get_by_label("Distinct reporters needed to alert").fill("0")
    await page.get_by_role("button", name="Save").click()
    assert (
        await page.evaluate("document.querySelector('input[name=threshold]').validity.valid")
        is False
    )
    # ... and a forged POST from this browser, cookie and all, is refused.
    forged = await page.request.post(
        f"{base}/g/{vigil.guild.id}/settings",
        form={"alert_channel": str(vigil.alerts_channel.id), "threshold": "9"},
    )
    assert forged.status == 403
    assert vigil.db_rows(
        "SELECT threshold FROM guild_settings WHERE guild_id = ?", (vigil.guild.id,)
    ) == [(2,)]
    await context.close()
    await vigil.report("alice", "dave", details="first")
    await vigil.report("bob", "dave", details="second")
    await vigil.wait_alerts(1, audit)
    assert vigil.alerts() == []
    moderator = await chromium.new_context()
    page = await moderator.new_page()
    await sign_in(page, vigil, base, "maya")
    response = await page.goto(f"{base}/g/{vigil.guild.id}/settings")
    assert response.status == 403
    assert "Manage Server permission" in await page.inner_text("main")
    assert await page.get_by_role("button", name="Save").count() == 0
    assert "#audit" not in await page.content()  # no channel is named to her
    await moderator.close()
