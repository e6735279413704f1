"""The web dashboard's security review (t18-sec), as an attacker, a second user and a broken
Discord would test it, over HTTP against the real bot.py and the emulator, on both backends.

Each test names the review item it closes: who reported a moderator stays hidden from them
(1); a guessed server costs Discord nothing, and a signed-in user's requests are bounded (2);
evidence and export need what the alert's buttons need (3); exporting kept text is recorded
first, on the web and in Discord (4); Discord's errors get a polite page with every header
(5); huge and foreign numbers get answers, not errors (6); the sign-in rate limit keys on the
real client (7); cookies and sessions (8); the Origin check (9); the settings are Manage
Server's and name no hidden channel (10); abandoned sign-ins are purged (11)."""

from __future__ import annotations

import asyncio
import html
import json

import aiohttp

from emulator.models import Channel, Overwrite, Role
from emulator.permissions import P
from tests.e2e.conftest import CALLBACK, Vigil, alert_text
from tests.e2e.dashboard_helpers import Client, browser, start_with_dashboard
from tests.e2e.test_evidence import TEXT, report_message
from tests.e2e.test_moderator_workflow import press
from tests.ports import free_port

MEMBER = "/guilds/{guild_id}/members/{user_id}"
HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cache-Control",
)


def assert_safe_headers(response: aiohttp.ClientResponse) -> None:
    for name in HEADERS:
        assert name in response.headers, name
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"


def session_cookie(client: Client) -> str:
    return str(client.http.cookie_jar.filter_cookies(client.base)["vigil_session"].value)


# ------------------------------------------------------------------------------- item 1


async def test_a_members_page_never_shows_who_reported_the_viewer(
    emulator, bot_factory, tmp_path, database_url
):
    """bob reported maya (a moderator) and dave. On bob's page maya sees the report about
    dave only, counted without hers; a name search never lists her, as her own case is
    refused; milo, another moderator, sees both."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await vigil.report("bob", "maya", reason="violent_threat", details="about maya")
    await vigil.report("bob", "dave", reason="violent_threat", details="about dave")
    bob = vigil.world.users["bob"]
    harbour = vigil.guild.id
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        _, queue, _ = await maya.get(f"/g/{harbour}/queue")
        status, page, _ = await maya.post(
            f"/g/{harbour}/members", {"user": str(bob.id)}, csrf_from=queue
        )
        text = html.unescape(page)
        assert status == 200 and "about Dave" in text
        assert "about Maya" not in text and "Reports they filed: 1" in text
        status, found, _ = await maya.post(f"/g/{harbour}/members", {"q": "maya"}, csrf_from=queue)
        assert status == 200 and "No reported member matches" in found
    async with browser(base) as milo:
        await milo.sign_in(vigil, "milo")
        _, queue, _ = await milo.get(f"/g/{harbour}/queue")
        _, page, _ = await milo.post(
            f"/g/{harbour}/members", {"user": str(bob.id)}, csrf_from=queue
        )
        text = html.unescape(page)
        assert "about Maya" in text and "about Dave" in text and "Reports they filed: 2" in text


async def test_a_removed_moderator_role_stops_changes_at_once(
    emulator, bot_factory, tmp_path, database_url
):
    """milo's Moderators role is taken away while his case page is open: his note is refused
    at once (a change asks Discord now), not for the 30 s a page may reuse what Discord said
    (dashboard review of stop 30, finding 3)."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators", threshold=1)
    await vigil.report("alice", "dave", "harassment")
    await vigil.wait_alerts(1)
    harbour = vigil.guild.id
    async with browser(base) as milo:
        await milo.sign_in(vigil, "milo")
        status, page, _ = await milo.get(f"/g/{harbour}/cases/1")
        assert status == 200
        member = vigil.guild.members[vigil.world.users["milo"].id]
        member.roles = [r for r in member.roles if vigil.guild.roles[r].name != "Moderators"]
        status, _, _ = await milo.post(
            f"/g/{harbour}/cases/1/act", {"action": "note", "note": "still here"}, csrf_from=page
        )
        assert status == 403
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events WHERE action = 'note'") == [(0,)]


# ------------------------------------------------------------------------------- item 2


async def test_a_guessed_server_costs_discord_nothing(
    emulator, bot_factory, tmp_path, database_url
):
    """maya asks for Lighthouse (Vigil's, not hers), a made-up server and one Vigil is not
    in: refused, and the bot asked Discord nothing about them. Her own server's pages reuse
    what Discord said a moment ago (one member lookup, not one per page). A script signed
    in as her is stopped after its share of requests; milo is not."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    emu = vigil.emu
    harbour, lighthouse = vigil.guild.id, vigil.world.guild_b.id
    made_up = 400_000_000_000_000_001
    maya = vigil.world.users["maya"]
    guessed = {str(lighthouse), str(made_up)}
    async with browser(base) as client, browser(base) as milo:
        await client.sign_in(vigil, "maya")
        await milo.sign_in(vigil, "milo")
        _, queue, _ = await client.get(f"/g/{harbour}/queue")
        since = len(emu.requests)
        for guild in (lighthouse, made_up):
            for path in ("queue", "cases/1", "settings", "stats.png", "members"):
                status, _, response = await client.get(f"/g/{guild}/{path}")
                assert status == 403, (guild, path)
                assert_safe_headers(response)
            status, _, _ = await client.post(
                f"/g/{guild}/members", {"user": str(maya.id)}, csrf_from=queue
            )
            assert status == 403
        asked = [r for r in emu.requests[since:] if r.params.get("guild_id") in guessed]
        assert asked == [], [(r.method, r.path) for r in asked]
        # Her own server: what Discord said at sign-in serves the next pages too.
        for _ in range(5):
            status, _, _ = await client.get(f"/g/{harbour}/queue")
            assert status == 200
        lookups = [r for r in emu.requests_to("GET", MEMBER) if r.params["user_id"] == str(maya.id)]
        assert len(lookups) == 1, len(lookups)
        # A script with her cookie: refused once past its share, without asking Discord.
        statuses: list[int] = []
        for _ in range(400):
            status, page, response = await client.get(f"/g/{made_up}/queue")
            statuses.append(status)
            if status == 429:
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {403}
        assert "Too many pages in a short while" in page
        assert_safe_headers(response)
        status, _, _ = await client.get(f"/g/{harbour}/queue")
        assert status == 429  # her share, whichever page
        status, _, _ = await milo.get(f"/g/{harbour}/queue")
        assert status == 200  # nobody else's
    asked = [r for r in emu.requests[since:] if r.params.get("guild_id") in guessed]
    assert asked == []


# ------------------------------------------------------------------------------- item 3


async def test_evidence_and_export_need_what_the_buttons_need(
    emulator, bot_factory, tmp_path, database_url
):
    """The moderator role is @Regulars, which grants nothing: bob (a Regular) reads the case,
    but the kept text and the export need Manage Messages or Timeout Members, as the alert's
    Show evidence and Export buttons do. Nothing is shown, nothing recorded."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Regulars")
    await report_message(vigil)
    await vigil.wait_alerts(1)
    url = f"/g/{vigil.guild.id}/cases/1"
    async with browser(base) as bob:
        await bob.sign_in(vigil, "bob")
        status, case, _ = await bob.get(url)
        assert status == 200 and "second line" not in case
        assert f"{url}/evidence" not in case and f"{url}/export" not in case
        assert "Only moderators (Manage Messages or Timeout Members permission)" in case
        for path, data in (
            ("evidence", {}),
            ("export", {}),
            ("export", {"include_reporters": "1"}),
        ):
            status, body, response = await bob.post(f"{url}/{path}", data, csrf_from=case)
            assert status == 403, path
            assert "second line" not in body and "attachment" not in response.headers.get(
                "Content-Disposition", ""
            )
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]


# ------------------------------------------------------------------------------- item 4


async def test_exporting_kept_text_is_recorded_first_on_the_web_and_in_discord(
    emulator, bot_factory, tmp_path, database_url
):
    """The packet carries the reported message's text: exporting it is recorded like Show
    evidence, before the file leaves. In Discord the record is there while Discord is still
    receiving the file; on the web the download comes with it. Both show in the case's
    timeline and in /reports case, not among the alert's actions."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await report_message(vigil)
    await vigil.wait_alerts(1)
    emu = vigil.emu
    maya, milo = vigil.world.users["maya"], vigil.world.users["milo"]
    file = f"vigil-case-1-{vigil.guild.id}.json"
    held = emu.faults.hold("POST", CALLBACK)
    pressed = asyncio.create_task(press(vigil, vigil.alerts()[0], "vigil:case:export:1", "maya"))
    await emu.waiters.wait_for(lambda: file in emu.uploads or None, 10, "the export upload")
    # The file reached Discord and the bot has no answer yet: the record is already there.
    assert vigil.db_rows("SELECT action, actor_id FROM case_events") == [("exported", maya.id)]
    held.release()
    exported = await pressed
    assert exported.ephemeral
    assert json.loads(emu.uploads[file])["reports"][0]["message_evidence"]["text"] == TEXT
    async with browser(base) as client:
        await client.sign_in(vigil, "milo")
        _, case, _ = await client.get(f"/g/{vigil.guild.id}/cases/1")
        status, body, response = await client.post(
            f"/g/{vigil.guild.id}/cases/1/export", {}, csrf_from=case
        )
        assert status == 200 and "attachment" in response.headers["Content-Disposition"]
        assert json.loads(body)["reports"][0]["message_evidence"]["text"] == TEXT
        rows = vigil.db_rows("SELECT action, actor_id FROM case_events ORDER BY id")
        assert rows == [("exported", maya.id), ("exported", milo.id)]
        _, case, _ = await client.get(f"/g/{vigil.guild.id}/cases/1")
    timeline = html.unescape(case.split('class="timeline"')[1])
    assert "Maya exported the case with the kept message text" in timeline
    assert "Milo exported the case with the kept message text" in timeline
    record = await vigil.slash("reports case", "olivia", number=1)
    trail = alert_text({"embeds": record.embeds})
    assert trail.count("exported the case with the kept message text") == 2
    assert "exported" not in alert_text(vigil.alerts()[0])  # the audit trail, not the alert
    assert vigil.db_rows("SELECT status, next_reminder_at IS NULL FROM cases")[0][0] == "open"


async def test_exporting_with_reporters_records_both_in_one_go(
    emulator, bot_factory, tmp_path, database_url
):
    """olivia's export with reporters' IDs and the kept text: the note and the export,
    both recorded before the download, in that order."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await report_message(vigil)
    await vigil.wait_alerts(1)
    olivia = vigil.world.users["olivia"]
    async with browser(base) as client:
        await client.sign_in(vigil, "olivia")
        _, case, _ = await client.get(f"/g/{vigil.guild.id}/cases/1")
        status, body, _ = await client.post(
            f"/g/{vigil.guild.id}/cases/1/export", {"include_reporters": "1"}, csrf_from=case
        )
    assert status == 200 and json.loads(body)["reporter_identities"] == "included"
    assert vigil.db_rows("SELECT action, actor_id FROM case_events ORDER BY id") == [
        ("note", olivia.id),
        ("exported", olivia.id),
    ]


# ------------------------------------------------------------------------------- item 5


async def sign_in_anyway(client: Client, vigil: Vigil, user: str) -> None:
    """The OAuth2 dance without looking at the page after it (it may be an error page)."""
    vigil.emu.oauth.approve_as(user)
    _, _, login = await client.get("/login")
    _, _, authorize = await client.get(login.headers["Location"])
    status, _, _ = await client.get(authorize.headers["Location"])
    assert status == 302


async def test_discord_errors_get_a_polite_page_with_every_header(
    emulator, bot_factory, tmp_path, database_url
):
    """Discord answers 503, then drops the connection, then sends nonsense: the dashboard
    says so politely (503, or 500 for the nonsense), with every security header, logs it
    without a path, and works again as soon as Discord does (a failure is not remembered)."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    emu = vigil.emu
    harbour = vigil.guild.id
    # One moderator per fault: what Discord said about a member is reused for a while.
    faults = [
        ("maya", {"status": 503}, 503, "Discord did not answer just now"),
        ("milo", {"disconnect": True}, 503, "Discord did not answer just now"),
        ("olivia", {"status": 200, "body": {"nonsense": True}}, 500, "Something went wrong"),
    ]
    for user, options, expected, words in faults:
        async with browser(base) as client:
            user_id = vigil.world.users[user].id
            fault = emu.faults.add("GET", MEMBER, user_id=user_id, **options)
            await sign_in_anyway(client, vigil, user)
            for path in ("/", f"/g/{harbour}/queue"):
                status, page, response = await client.get(path)
                assert status == expected, (options, path, page[:300])
                assert words in html.unescape(page)
                assert_safe_headers(response)
                assert "Traceback" not in page and "nonsense" not in page
                if expected == 503:
                    assert response.headers["Retry-After"].isdigit()
            emu.faults.remove(fault)
            status, page, _ = await client.get("/")
            assert status == 200 and "Harbour" in page, options
    assert vigil.proc is not None
    log = vigil.proc.log_text()
    assert "Discord unavailable" in log and "unexpected error" in log
    assert f"/g/{harbour}" not in log


# ------------------------------------------------------------------------------- item 6


async def test_huge_and_foreign_numbers_get_answers_not_errors(
    emulator, bot_factory, tmp_path, database_url
):
    """Case numbers past what the database holds, thousands of digits, other scripts'
    digits: every page answers (404, 403, 422 or the page), nothing changes, nothing fails;
    /reports case in Discord answers a huge number politely too."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await vigil.report("alice", "carol", reason="violent_threat")
    await vigil.wait_alerts(1)
    g = vigil.guild.id
    many = "9" * 5000
    arabic = "\u0661\u0662\u0663"  # ١٢٣
    before = vigil.db_rows("SELECT COUNT(*) FROM case_events")
    gets = [
        (f"/g/{g}/cases/9999999999", 404),
        (f"/g/{g}/cases/2147483648", 404),
        (f"/g/{g}/cases/2147483647", 404),
        (f"/g/{g}/cases/0", 404),
        (f"/g/{g}/cases/0000000001", 200),
        (f"/g/{g}/queue?page={many}", 200),
        (f"/g/{g}/queue?page={arabic}", 200),
        (f"/g/{g}/stats?days={many}", 200),
        (f"/g/{g}/stats?days=%C2%B2", 200),  # superscript two
        ("/g/99999999999999999999/queue", 403),
        (f"/g/{arabic}/queue", 404),
    ]
    async with browser(base) as client:
        await client.sign_in(vigil, "olivia")
        for path, expected in gets:
            status, page, response = await client.get(path)
            assert status == expected, (path[:60], status, page[:200])
            assert_safe_headers(response)
        _, queue, _ = await client.get(f"/g/{g}/queue")
        posts = [
            ("members", {"user": many}, 200),
            ("members", {"user": arabic, "q": arabic}, 200),
            ("members", {"q": many}, 200),
            ("members", {"user": "-1", "q": "x"}, 200),
            ("cases/9999999999/act", {"action": "note", "note": "x"}, 404),
            ("cases/9999999999/evidence", {}, 404),
            ("cases/9999999999/export", {}, 404),
            ("cases/1/act", {"action": many}, 400),
            ("cases/1/act", {"action": "dismiss", "reason": many}, 400),
        ]
        for field in ("threshold", "alert_channel", "mod_role", "audit_channel", "window_hours"):
            for value in (many, arabic, "1e9", " 3 ", "\x00"):
                form = {
                    "alert_channel": str(vigil.alerts_channel.id),
                    "threshold": "3",
                    "window_hours": "24",
                    "min_account_age_days": "0",
                    "retention_days": "180",
                    "urgent_reminder_minutes": "15",
                    field: value,
                }
                number = field in ("threshold", "window_hours")
                posts.append(("settings", form, 303 if number and value == " 3 " else 422))
        for path, data, expected in posts:
            status, page, response = await client.post(f"/g/{g}/{path}", data, csrf_from=queue)
            assert status == expected, (path, str(data)[:80], status, page[:200])
            assert_safe_headers(response)
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == before
    answer = await vigil.slash("reports case", "olivia", number=9_999_999_999)
    assert "9999999999" in (answer.content or "") and answer.ephemeral
    assert vigil.proc is not None
    assert "Traceback" not in vigil.proc.log_text()


# ------------------------------------------------------------------------------- item 7


async def logins(client: Client, forwarded: str | None, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return [(await client.get("/login", headers=headers))[0] for _ in range(count)]


async def test_a_client_cannot_dodge_the_sign_in_limit_by_forwarding(
    emulator, bot_factory, tmp_path, database_url
):
    """Served over plain http nobody forwards: an X-Forwarded-For the client writes itself
    is ignored, so a new one per try does not open a new allowance."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    async with browser(base) as client:
        statuses = [
            (await client.get("/login", headers={"X-Forwarded-For": f"198.51.100.{i}"}))[0]
            for i in range(25)
        ]
    assert statuses[0] == 302 and statuses[-1] == 429


async def test_behind_a_trusted_proxy_each_client_is_its_own_address_or_ipv6_64(
    emulator, bot_factory, tmp_path, database_url
):
    """DASHBOARD_TRUSTED_PROXIES=127.0.0.1: the proxy's X-Forwarded-For names the client.
    One IPv4 address, or one IPv6 /64, is one client; what a client puts on the left of the
    header itself is not believed; other clients go on signing in; and a sign-in that comes
    back from Discord with its valid state is never refused for the limit."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil, DASHBOARD_TRUSTED_PROXIES="127.0.0.1")
    async with browser(base) as client:
        assert await logins(client, "203.0.113.7", 20) == [302] * 20
        assert await logins(client, "203.0.113.7", 1) == [429]
        assert await logins(client, "198.51.100.1, 203.0.113.7", 1) == [429]  # spoofed left
        assert await logins(client, "203.0.113.8", 1) == [302]
        assert await logins(client, "2001:db8:1:2::1", 20) == [302] * 20
        assert await logins(client, "2001:db8:1:2:ffff::9", 1) == [429]  # the same /64
        assert await logins(client, "2001:db8:1:3::1", 1) == [302]
    async with browser(base) as moderator:
        # 19 tries, then a whole sign-in: /login is the 20th, its callback is not counted.
        assert await logins(moderator, "192.0.2.44", 19) == [302] * 19
        vigil.emu.oauth.approve_as("maya")
        headers = {"X-Forwarded-For": "192.0.2.44"}
        status, _, login = await moderator.get("/login", headers=headers)
        assert status == 302
        _, _, authorize = await moderator.get(login.headers["Location"])
        status, _, done = await moderator.get(authorize.headers["Location"], headers=headers)
        assert status == 302 and done.headers["Location"] == "/"
        # A callback with a stale state still counts: this client is past its allowance.
        status, _, _ = await moderator.get("/callback?code=x&state=stale", headers=headers)
        assert status == 429


# ------------------------------------------------------------------------------- item 8


async def test_signing_in_again_ends_the_previous_session(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    maya = vigil.world.users["maya"]
    async with browser(base) as client:
        await client.sign_in(vigil, "maya")
        first = session_cookie(client)
        await client.sign_in(vigil, "maya")
        second = session_cookie(client)
        assert first != second
    assert vigil.db_rows(
        "SELECT COUNT(*) FROM dashboard_sessions WHERE user_id = ?", (maya.id,)
    ) == [(1,)]
    async with browser(base) as replay:
        status, _, _ = await replay.get(
            f"/g/{vigil.guild.id}/queue", headers={"Cookie": f"vigil_session={first}"}
        )
        assert status == 302  # the old cookie opens nothing any more
        status, _, _ = await replay.get(
            f"/g/{vigil.guild.id}/queue", headers={"Cookie": f"vigil_session={second}"}
        )
        assert status == 200


def set_cookies(response: aiohttp.ClientResponse) -> dict[str, str]:
    """Set-Cookie lines by cookie name (the whole line, attributes and all)."""
    return {line.split("=", 1)[0]: line for line in response.headers.getall("Set-Cookie", [])}


def cookie_value(line: str) -> str:
    return line.split("=", 1)[1].split(";", 1)[0]


async def test_behind_https_the_cookies_are_host_prefixed(
    emulator, bot_factory, tmp_path, database_url
):
    """With an https address (a TLS proxy in front), the cookies are `__Host-`: Secure, for
    the whole site, and this host's alone; an unprefixed cookie with the same value is not
    the session. (The test speaks plain http to the process behind the proxy.)"""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    vigil.emu.oauth.register_redirect(public + "/callback")
    await vigil.start(
        DASHBOARD_PORT=str(port),
        DASHBOARD_PUBLIC_URL=public,
        DISCORD_CLIENT_SECRET=vigil.emu.oauth.client_secret,
    )
    assert vigil.proc is not None
    await vigil.proc.wait_for_log("dashboard on http://127.0.0.1:")
    await vigil.setup(mod_role="Moderators")
    local = f"http://127.0.0.1:{port}"
    vigil.emu.oauth.approve_as("maya")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        client = Client(http, local)
        status, _, login = await client.get("/login")
        assert status == 302 and "Strict-Transport-Security" in login.headers
        sign_in = set_cookies(login)["__Host-vigil_signin"]
        assert "Secure" in sign_in and "Path=/" in sign_in and "Domain" not in sign_in
        _, _, authorize = await client.get(login.headers["Location"])
        back = authorize.headers["Location"].replace(public, local)
        status, _, callback = await client.get(
            back, headers={"Cookie": f"__Host-vigil_signin={cookie_value(sign_in)}"}
        )
        assert status == 302, callback.headers
        cookies = set_cookies(callback)
        session = cookies["__Host-vigil_session"]
        assert "Secure" in session and "HttpOnly" in session and "Path=/" in session
        assert "Domain" not in session and "SameSite=Lax" in session
        assert "Secure" in cookies["__Host-vigil_signin"]  # its deletion, as it was set
        value = cookie_value(session)
        status, page, _ = await client.get("/", headers={"Cookie": f"__Host-vigil_session={value}"})
        assert status == 200 and "Harbour" in page
        status, page, _ = await client.get("/", headers={"Cookie": f"vigil_session={value}"})
        assert status == 200 and "Harbour" not in page  # the sign-in page


# ------------------------------------------------------------------------------- item 9


async def test_the_origin_is_compared_as_browsers_do(emulator, bot_factory, tmp_path, database_url):
    """An Origin in capitals, or with the default port written out, is this site; a
    neighbouring port, a look-alike host or `null` is not."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await vigil.report("alice", "carol", reason="violent_threat")
    await vigil.wait_alerts(1)
    port = int(base.rsplit(":", 1)[1])
    url = f"/g/{vigil.guild.id}/cases/1/act"
    async with browser(base) as client:
        await client.sign_in(vigil, "maya")
        _, case, _ = await client.get(f"/g/{vigil.guild.id}/cases/1")
        for origin in (
            f"http://127.0.0.1:{port + 1}",
            f"http://127.0.0.1:{port}.evil.example",
            f"https://127.0.0.1:{port}",
            "null",
        ):
            status, _, _ = await client.post(
                url, {"action": "note", "note": "x"}, csrf_from=case, headers={"Origin": origin}
            )
            assert status == 403, origin
        status, _, _ = await client.post(
            url,
            {"action": "note", "note": "from capitals"},
            csrf_from=case,
            headers={"Origin": f"HTTP://127.0.0.1:{port}"},
        )
        assert status == 303
    assert vigil.db_rows("SELECT note FROM case_events") == [("from capitals",)]


# ------------------------------------------------------------------------------- item 10


async def test_settings_never_name_a_channel_the_manager_cannot_see(
    emulator, bot_factory, tmp_path, database_url
):
    """milo manages the server (a Managers role) but cannot see #staff-room, which olivia
    made the admin channel. His settings page names every channel he can see and not that
    one, in the form or the warnings; saving keeps it where it is; a forged form cannot
    move it to another field."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    harbour = vigil.guild
    managers = Role(vigil.world.ids.now(), "Managers", int(P.MANAGE_GUILD), 1)
    harbour.roles[managers.id] = managers
    harbour.member(vigil.world.users["milo"]).roles.append(managers.id)
    staff = Channel(
        vigil.world.ids.now(),
        "staff-room",
        guild_id=harbour.id,
        position=4,
        overwrites=[
            Overwrite(harbour.id, 0, deny=int(P.VIEW_CHANNEL)),
            Overwrite(harbour.role("Admins").id, 0, allow=int(P.VIEW_CHANNEL)),
        ],
    )
    harbour.channels[staff.id] = staff
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators", admin_channel="staff-room")
    row = "SELECT admin_channel_id, audit_channel_id, threshold FROM guild_settings"
    assert vigil.db_rows(row) == [(staff.id, None, 3)]
    form = {
        "alert_channel": str(vigil.alerts_channel.id),
        "mod_role": str(harbour.role("Moderators").id),
        "audit_channel": "",
        "admin_channel": str(staff.id),
        "region": "",
        "threshold": "2",
        "window_hours": "24",
        "min_account_age_days": "0",
        "retention_days": "180",
        "urgent_reminder_minutes": "15",
    }
    async with browser(base) as milo:
        await milo.sign_in(vigil, "milo")
        status, page, _ = await milo.get(f"/g/{harbour.id}/settings")
        assert status == 200 and "#general" in page and "#mod-alerts" in page
        assert "staff-room" not in page
        assert f'<option value="{staff.id}" selected>a channel you can' in page
        status, _, _ = await milo.post(f"/g/{harbour.id}/settings", form, csrf_from=page)
        assert status == 303
        assert vigil.db_rows(row) == [(staff.id, None, 2)]
        forged = {**form, "audit_channel": str(staff.id), "threshold": "5"}
        status, page, _ = await milo.post(f"/g/{harbour.id}/settings", forged, csrf_from=page)
        assert status == 422 and "staff-room" not in page
    assert vigil.db_rows(row) == [(staff.id, None, 2)]
    async with browser(base) as adam:  # an administrator sees every channel
        await adam.sign_in(vigil, "adam")
        _, page, _ = await adam.get(f"/g/{harbour.id}/settings")
        assert "#staff-room" in page


# ------------------------------------------------------------------------------- item 11


async def test_abandoned_sign_ins_are_purged_at_the_next_login(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    async with browser(base) as client:
        for _ in range(3):
            await client.get("/login")
    assert vigil.db_rows("SELECT COUNT(*) FROM dashboard_logins") == [(3,)]
    # Age them past their ten minutes, as if abandoned long ago.
    vigil.db_rows(
        "UPDATE dashboard_logins SET created_at = ?, expires_at = ? RETURNING state_hash",
        ("2020-01-01T00:00:00.000000+00:00", "2020-01-01T00:10:00.000000+00:00"),
    )
    async with browser(base) as client:
        status, _, _ = await client.get("/login")
    assert status == 302
    assert vigil.db_rows("SELECT COUNT(*) FROM dashboard_logins") == [(1,)]
