"""The web dashboard (issue 18) over HTTP, against the real bot.py and the emulator's OAuth2:
sign-in and its state, sessions and logout, CSRF, authorisation per server and case, and the
actions going through the same services as the alert's buttons. The browser tests
(test_dashboard_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import ReportSource, UserSnapshot
from core.ports import NewReport
from core.reasons import Reason
from storage import open_store
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


async def test_the_attacker_gets_nothing(emulator, bot_factory, tmp_path, database_url):
    """Another server's case by URL, a forged POST without the CSRF token, a member without
    permission, a bad and a replayed OAuth2 state, a cookie after logout: all refused, and
    nothing changed."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await open_case(vigil)
    harbour, lighthouse = vigil.guild.id, vigil.world.guild_b.id
    before = vigil.db_rows("SELECT COUNT(*) FROM case_events")
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        # Lighthouse is not maya's server: its pages and cases are refused, whatever the number.
        for path in (f"/g/{lighthouse}/queue", f"/g/{lighthouse}/cases/1", "/g/1/queue"):
            status, _, _ = await maya.get(path)
            assert status == 403, path
        status, _, _ = await maya.get(f"/g/{harbour}/cases/999")
        assert status == 404
        # A forged POST: no token, a wrong token, a token from another origin.
        status, case, _ = await maya.get(f"/g/{harbour}/cases/1")
        for data, headers in (
            ({"action": "acknowledge"}, {}),
            ({"action": "acknowledge", "csrf": "guess"}, {}),
            (
                {"action": "acknowledge", "csrf": maya.csrf(case)},
                {"Origin": "https://evil.example"},
            ),
        ):
            status, _, _ = await maya.post(f"/g/{harbour}/cases/1/act", data, headers=headers)
            assert status == 403
        assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == before
        assert vigil.db_rows("SELECT status FROM cases") == [("open",)]
        # Logout ends the session everywhere: the old cookie no longer opens anything.
        cookie = maya.http.cookie_jar.filter_cookies(base)["vigil_session"].value
        status, _, _ = await maya.post("/logout", {}, csrf_from=case)
        assert status == 302
    async with browser(base) as replay:
        status, _, _ = await replay.get(
            f"/g/{harbour}/queue", headers={"Cookie": f"vigil_session={cookie}"}
        )
        assert status == 302  # to the sign-in page
    async with browser(base) as alice:  # a member without Manage Server or the moderator role
        servers = await alice.sign_in(vigil, "alice")
        assert "Harbour" not in servers and "Lighthouse" not in servers
        status, _, _ = await alice.get(f"/g/{harbour}/queue")
        assert status == 403
        status, _, _ = await alice.get(f"/g/{harbour}/cases/1")
        assert status == 403
    async with browser(base) as carol:  # the reported member, even with the moderator role
        vigil.guild.member(vigil.world.users["carol"]).roles.append(
            vigil.guild.role("Moderators").id
        )
        await carol.sign_in(vigil, "carol")
        status, body, _ = await carol.get(f"/g/{harbour}/cases/1")
        assert status == 403 and "said they" not in body
    async with browser(base) as attacker:
        # A state this browser never got, and a replayed redirect: refused, no session.
        url = await attacker.callback_url(vigil, "olivia")
        forged = url.replace("state=", "state=x")
        status, _, _ = await attacker.get(forged)
        assert status == 400
        status, _, _ = await attacker.get(url)  # a forged state burns nothing of the real one
        assert status == 302
    async with browser(base) as victim:
        url = await victim.callback_url(vigil, "olivia")
        status, _, _ = await victim.get(url)
        assert status == 302
        status, _, _ = await victim.get(url)  # the same redirect again
        assert status == 400
    async with browser(base) as stranger:
        # Someone else's redirect in a browser that never started a sign-in.
        async with browser(base) as owner:
            url = await owner.callback_url(vigil, "olivia")
        status, _, _ = await stranger.get(url)
        assert status == 400
        status, page, _ = await stranger.get("/")
        assert "Harbour" not in page
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == before


async def test_sign_in_is_rate_limited(emulator, bot_factory, tmp_path, database_url):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    async with browser(base) as client:
        statuses = [(await client.get("/login"))[0] for _ in range(25)]
    assert statuses[0] == 302 and statuses[-1] == 429


async def test_show_evidence_is_logged_like_the_button(
    emulator, bot_factory, tmp_path, database_url
):
    from tests.e2e.test_evidence import TEXT, report_message

    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await report_message(vigil)
    await vigil.wait_alerts(1)
    maya = vigil.world.users["maya"]
    async with browser(base) as client:
        await client.sign_in(vigil, "maya")
        status, case, _ = await client.get(f"/g/{vigil.guild.id}/cases/1")
        assert status == 200 and "second line" not in case  # the kept text waits for the step
        assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]
        status, shown, _ = await client.post(
            f"/g/{vigil.guild.id}/cases/1/evidence", {}, csrf_from=case
        )
    assert status == 200 and "second line" in shown and "@everyone" in shown
    assert "<@&1>" not in shown and "&lt;@&amp;1&gt;" in shown  # escaped, never markup
    assert TEXT.splitlines()[0].split()[0] in shown
    rows = vigil.db_rows("SELECT action, actor_id FROM case_events")
    assert rows == [("evidence_viewed", maya.id)]
    assert "secret-photo" not in shown


async def seed_cases(database_url: str, guild_id: int, count: int, reporter: int) -> None:
    """`count` cases of one report each, written through storage (not the UI)."""
    store = await open_store(database_url)
    now = datetime.now(UTC)
    try:
        for start in range(0, count, 250):

            async def write(tx, start=start):
                for i in range(start, min(count, start + 250)):
                    target = UserSnapshot(10**17 + i, f"member-{i}")
                    opened = now - timedelta(minutes=i)
                    case = await tx.cases.open(guild_id, target, i % 10 == 0, opened)
                    await tx.reports.add(
                        NewReport(
                            guild_id=guild_id,
                            reporter=UserSnapshot(reporter + i % 7, f"reporter-{i % 7}"),
                            target=target,
                            reason=Reason.CHILD_SAFETY if i % 10 == 0 else Reason.SPAM,
                            source=ReportSource.SLASH,
                            created_at=opened,
                            details=f"details {i}",
                            message_link=None,
                            channel_id=None,
                            message_id=None,
                            case_id=case.id,
                        )
                    )

            await store.write(write)
    finally:
        await store.close()


PAGES = ("queue", "queue?page=40", "stats", "stats?days=365", "stats.png", "settings", "members")


async def test_every_page_renders_empty_and_with_a_thousand_cases(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup()
    await seed_cases(vigil.database_url, vigil.guild.id, 1000, 10**17 + 5000)
    for user, guild, cases in (
        ("greta", vigil.world.guild_b.id, 0),
        ("olivia", vigil.guild.id, 1000),
    ):
        async with browser(base) as client:
            servers = await client.sign_in(vigil, user)
            assert f"/g/{guild}/queue" in servers
            for page in PAGES:
                status, _, response = await client.get(f"/g/{guild}/{page}")
                assert status == 200, (user, page)
                assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            status, queue, _ = await client.get(f"/g/{guild}/queue")
            assert f"{cases}" in queue
            status, _, _ = await client.get(f"/g/{guild}/cases/1")
            assert status == (200 if cases else 404)
            status, found, _ = await client.post(
                f"/g/{guild}/members", {"q": "member-99"}, csrf_from=queue
            )
            assert status == 200
            if cases:
                assert "member-999" in found  # a list of matches, each a POST button
                status, record, _ = await client.post(
                    f"/g/{guild}/members", {"user": str(10**17 + 999)}, csrf_from=queue
                )
                assert status == 200 and "details 999" in record
