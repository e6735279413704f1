"""The web dashboard's second round (issue 18), over HTTP against the real bot.py and the
emulator, on both backends: settings saved on the web take effect in Discord (and bad ones
change nothing), the settings page warns like `/reports setup` and `/reports config` (the same
code), welfare check-ins and requests for support on the case page, and the escalation packet
with reporters' IDs under Discord's rule. The browser side is in test_dashboard_browser.py."""

from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from emulator.models import Channel, Overwrite
from emulator.permissions import P
from tests import postgres
from tests.e2e.conftest import Vigil, alert_text, result_text
from tests.e2e.dashboard_helpers import (
    Client,
    browser,
    start_shards_with_dashboard_elsewhere,
    start_with_dashboard,
)
from tests.e2e.test_welfare import (
    check_in,
    lighthouse_alert,
    press,
    self_harm_alert,
    self_report,
    support_button,
)

ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.DOTALL)
WARNINGS = re.compile(r'<section class="card warnings"[^>]*>.*?<ul>(.*?)</ul>', re.DOTALL)
ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)
SETTINGS_ROW = (
    "SELECT alert_channel_id, threshold, window_hours, region, mod_role_id, audit_channel_id, "
    "admin_channel_id, min_account_age_days, retention_days, urgent_reminder_minutes, "
    "reporter_feedback, locale FROM guild_settings WHERE guild_id = ?"
)


def error_of(page: str) -> str:
    found = ERROR.search(page)
    assert found, "no error on the page"
    return html.unescape(found.group(1))


def warnings_of(page: str) -> list[str]:
    found = WARNINGS.search(page)
    return [html.unescape(i) for i in ITEM.findall(found.group(1))] if found else []


def settings_form(vigil: Vigil, **changes: str) -> dict[str, str]:
    """A complete, valid settings form for Harbour (as the page would post it)."""
    form = {
        "alert_channel": str(vigil.alerts_channel.id),
        "mod_role": str(vigil.guild.role("Moderators").id),
        "audit_channel": "",
        "admin_channel": "",
        "region": "",
        "threshold": "3",
        "window_hours": "24",
        "min_account_age_days": "0",
        "retention_days": "180",
        "urgent_reminder_minutes": "15",
        "reporter_feedback": "1",
    }
    return {**form, **changes}


async def save(
    client: Client, guild_id: int, form: dict[str, str], **kw: Any
) -> tuple[int, str, Any]:
    _, page, _ = await client.get(f"/g/{guild_id}/settings")
    return await client.post(f"/g/{guild_id}/settings", form, csrf_from=page, **kw)


# --------------------------------------------------------------------------- settings


async def test_settings_saved_on_the_web_take_effect_in_discord(
    emulator, bot_factory, tmp_path, database_url
):
    """olivia (Manage Server) moves alerts to #audit, needs two reporters, picks Germany: the
    next two reports alert in #audit, a reporter gets Germany's crisis line, and /reports
    config in Discord shows all of it."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    audit = vigil.guild.channel("audit")
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        _, page, _ = await olivia.get(f"/g/{vigil.guild.id}/settings")
        assert "None: such alerts go to the server owner by DM" in page  # the admin channel
        status, _, saved = await save(
            olivia,
            vigil.guild.id,
            settings_form(vigil, alert_channel=str(audit.id), threshold="2", region="DE"),
        )
        assert status == 303 and saved.headers["Location"].endswith("/settings?done=saved")
        _, page, _ = await olivia.get(saved.headers["Location"])
        assert "Settings saved." in page
    row = vigil.db_rows(
        "SELECT alert_channel_id, threshold, region, locale FROM guild_settings WHERE guild_id = ?",
        (vigil.guild.id,),
    )
    assert row == [(audit.id, 2, "DE", "en-GB")]
    await vigil.report("alice", "dave", details="first")
    await vigil.report("bob", "dave", details="second")
    await vigil.wait_alerts(1, audit)  # two reporters now make an alert, in #audit
    assert vigil.alerts() == []  # nothing in #mod-alerts any more
    crisis = result_text(await vigil.report("erin", "carol", "self_harm"))
    assert "TelefonSeelsorge" in crisis  # Germany's help, from the web's choice
    config = await vigil.slash("reports config", "olivia")
    assert f"<#{audit.id}>" in config.content and "Germany (DE)" in config.content
    assert "2 distinct reporters within 24 hours" in config.content


async def test_the_language_is_the_servers_and_saving_records_it(
    emulator, bot_factory, tmp_path, database_url
):
    """The server's language is Discord's (Server Settings), as for /reports setup: when the
    server switches to French, the page is French at once, saving records it for every
    process, and the next alert is French."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    harbour = vigil.guild
    harbour.preferred_locale = "fr"
    await vigil.emu.dispatch("GUILD_UPDATE", harbour.payload(), guild_id=harbour.id)
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        page = ""
        for _ in range(100):
            _, page, _ = await olivia.get(f"/g/{harbour.id}/settings")
            if 'lang="fr"' in page:
                break
            await asyncio.sleep(0.1)
        assert 'lang="fr"' in page and "Réglages" in page
        status, _, saved = await save(olivia, harbour.id, settings_form(vigil, threshold="1"))
        assert status == 303
        _, page, _ = await olivia.get(saved.headers["Location"])
        assert "Réglages enregistrés." in page
    assert vigil.db_rows(
        "SELECT locale, threshold FROM guild_settings WHERE guild_id = ?", (vigil.guild.id,)
    ) == [("fr", 1)]
    await vigil.report("alice", "dave")
    await vigil.wait_alerts(1)
    assert "Motifs" in alert_text(vigil.alerts()[0])


async def test_bad_settings_get_one_clear_line_and_change_nothing(
    emulator, bot_factory, tmp_path, database_url
):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators", region="GB")
    before = vigil.db_rows(SETTINGS_ROW, (vigil.guild.id,))
    elsewhere = vigil.world.guild_b.channel("moderation").id
    cases = [
        ({"threshold": "0"}, "“Distinct reporters needed to alert (default 3)”: use a whole"),
        ({"threshold": "51"}, "from 1 to 50. Nothing was changed."),
        ({"threshold": "two"}, "Distinct reporters needed to alert"),
        ({"window_hours": "1e3"}, "“Hours over which reporters are counted (default 24)”"),
        ({"retention_days": "-1"}, "from 0 to 3650"),
        ({"urgent_reminder_minutes": "121"}, "from 0 to 120"),
        ({"alert_channel": ""}, "No alert channel is set"),
        ({"alert_channel": str(elsewhere)}, "not one of this server's"),  # Lighthouse's
        ({"admin_channel": "12345"}, "not one of this server's"),
        ({"mod_role": str(vigil.guild.id)}, "never mentions @everyone"),
        ({"region": "Atlantis"}, "know that region"),
    ]
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        for changes, expected in cases:
            status, page, _ = await save(olivia, vigil.guild.id, settings_form(vigil, **changes))
            assert status == 422, changes
            error = error_of(page)
            assert expected in error, (changes, error)
            assert "\n" not in error.strip() and "**" not in error, error
            assert "Settings saved." not in page
    assert vigil.db_rows(SETTINGS_ROW, (vigil.guild.id,)) == before


async def test_only_manage_server_saves_and_a_forged_post_changes_nothing(
    emulator, bot_factory, tmp_path, database_url
):
    """maya holds the moderator role (not Manage Server): like /reports config, she can
    neither read the settings (t18-sec: nor the names of the server's channels) nor save
    them. A POST without the form's token, or from another site, is refused; so is a
    server's owner saving another server's settings."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    before = vigil.db_rows(SETTINGS_ROW, (vigil.guild.id,))
    harbour = vigil.guild.id
    wanted = settings_form(vigil, threshold="1")
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        status, page, _ = await maya.get(f"/g/{harbour}/settings")
        assert status == 403 and "Manage Server" in page
        assert 'class="card settings"' not in page and "#mod-alerts" not in page
        _, queue, _ = await maya.get(f"/g/{harbour}/queue")
        assert f"/g/{harbour}/settings" not in queue  # no link to it either
        status, page, _ = await maya.post(f"/g/{harbour}/settings", wanted, csrf_from=queue)
        assert status == 403 and "Manage Server" in page
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        _, page, _ = await olivia.get(f"/g/{harbour}/settings")
        for data, headers in (
            (wanted, {}),
            ({**wanted, "csrf": "guess"}, {}),
            ({**wanted, "csrf": olivia.csrf(page)}, {"Origin": "https://evil.example"}),
        ):
            status, _, _ = await olivia.post(f"/g/{harbour}/settings", data, headers=headers)
            assert status == 403
    async with browser(base) as greta:  # Lighthouse's owner, not in Harbour
        await greta.sign_in(vigil, "greta")
        _, page, _ = await greta.get(f"/g/{vigil.world.guild_b.id}/settings")
        status, _, _ = await greta.post(f"/g/{harbour}/settings", wanted, csrf_from=page)
        assert status == 403
    assert vigil.db_rows(SETTINGS_ROW, (vigil.guild.id,)) == before


# --------------------------------------------------------------------------- warnings


async def test_the_settings_page_warns_like_reports_config(
    emulator, bot_factory, tmp_path, database_url
):
    """The same warnings as /reports config, from the same code through the bot, naming
    channels #name: Vigil cannot post in #quiet; everyone can read #general; the moderator
    role cannot be pinged."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    harbour = vigil.guild
    vigil_role = harbour.role("Vigil")
    quiet = Channel(
        vigil.world.ids.now(),
        "quiet",
        guild_id=harbour.id,
        position=3,
        overwrites=[
            Overwrite(harbour.id, 0, deny=int(P.VIEW_CHANNEL)),
            Overwrite(vigil_role.id, 0, allow=int(P.VIEW_CHANNEL), deny=int(P.SEND_MESSAGES)),
        ],
    )
    harbour.channels[quiet.id] = quiet
    base = await start_with_dashboard(vigil)
    await vigil.setup()
    general = harbour.channel("general")
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        _, page, _ = await olivia.get(f"/g/{harbour.id}/settings")
        assert warnings_of(page) == [] and "Vigil can post alerts in the alert channel." in page
        await save(olivia, harbour.id, settings_form(vigil, alert_channel=str(quiet.id)))
        _, page, _ = await olivia.get(f"/g/{harbour.id}/settings")
        web = warnings_of(page)
        assert "Vigil is missing Send Messages, Embed Links in #quiet." in web
        assert any("@Moderators is not mentionable" in w for w in web)
        await save(olivia, harbour.id, settings_form(vigil, alert_channel=str(general.id)))
        _, page, _ = await olivia.get(f"/g/{harbour.id}/settings")
        public = warnings_of(page)
    assert any("everyone in the server can read #general" in w for w in public)
    assert not any("missing" in w for w in public)
    # Discord says the same, naming the channel with a mention.
    config = (await vigil.slash("reports config", "olivia")).content.replace("**", "")
    for warning in public:
        if "@Moderators" not in warning:  # /reports setup words that note (with a mention)
            assert warning.replace("#general", f"<#{general.id}>") in config, warning
    setup = await vigil.setup(alert_channel="quiet", mod_role="Moderators")
    assert f"Vigil is missing Send Messages, Embed Links in <#{quiet.id}>." in setup.content
    assert f"<@&{harbour.role('Moderators').id}> is not mentionable" in setup.content


# --------------------------------------------------------------------------- welfare


async def test_check_ins_show_on_the_case_with_their_delivery(
    emulator, bot_factory, tmp_path, database_url
):
    """A self-harm case on the web: support first (no sanctions line), and each check-in in
    the timeline with whether it arrived."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    alert = await self_harm_alert(vigil, mod_role="Moderators")
    dave = vigil.world.users["dave"]
    vigil.emu.dm_closed.add(dave.id)
    assert "doesn't accept direct messages" in await check_in(vigil, alert, "maya")
    vigil.emu.dm_closed.discard(dave.id)
    assert "sent Dave a short private message" in await check_in(vigil, alert, "milo")
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        status, page, _ = await olivia.get(f"/g/{vigil.guild.id}/cases/1")
    assert status == 200
    text = html.unescape(page)
    assert "Maya checked in on the member privately (not delivered: their DMs are closed)" in text
    assert "Milo checked in on the member privately (delivered)" in text
    assert text.count('class="event check_in"') == 2
    assert "may be at risk of self-harm: support comes first" in text
    assert "Time out, kick, ban and deleting messages stay in Discord" not in text
    assert "goodbye" in text  # the reporter's words stay for moderators, as on the alert


async def test_check_ins_in_the_servers_language(emulator, bot_factory, tmp_path, database_url):
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    alert = await lighthouse_alert(vigil, region="DE")
    await check_in(vigil, alert, "hans")
    async with browser(base) as greta:
        await greta.sign_in(vigil, "greta")
        _, page, _ = await greta.get(f"/g/{vigil.world.guild_b.id}/cases/1")
    text = html.unescape(page)
    assert 'lang="de"' in page
    assert "Hans hat sich privat nach dem Mitglied erkundigt (zugestellt)" in text
    assert "Unterstützung geht vor" in text


async def test_a_members_own_request_for_support_reads_as_one(
    emulator, bot_factory, tmp_path, database_url
):
    """bob asked for support himself: the queue and the case say so, name no reporter, show
    nothing he wrote, and offer no 'reporter history' of him."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    reply = await self_report(vigil, "bob")
    message = reply.original()
    assert message is not None
    agreed = await press(vigil, message, support_button(reply)["custom_id"], "bob")
    await agreed.wait_original_edit(timeout=10)
    await vigil.wait_alerts(1)
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        _, queue, _ = await maya.get(f"/g/{vigil.guild.id}/queue")
        status, page, _ = await maya.get(f"/g/{vigil.guild.id}/cases/1")
        _, member, _ = await maya.post(
            f"/g/{vigil.guild.id}/members",
            {"user": str(vigil.world.users["bob"].id)},
            csrf_from=page,
        )
    assert 'class="tag welfare">asked for support<' in queue
    text = html.unescape(page)
    assert status == 200
    # Said at the top of the case and in its timeline, where a report names its reporter.
    assert text.count("Bob asked for support themselves (what they wrote stays private)") == 2
    assert "Report by Bob" not in text and "Reporter history" not in text
    assert "can't go on" not in text
    assert "Bob asked for support themselves" in html.unescape(member)
    assert "Report by Bob" not in html.unescape(member)


# --------------------------------------------------------------------------- export


async def test_export_with_reporters_is_for_manage_server_and_recorded_first(
    emulator, bot_factory, tmp_path, database_url
):
    """As `/reports export include_reporters:True`: Manage Server only, recorded in the
    case's history before the file leaves; the moderator role gets the packet without them;
    neither the URL nor the log ever holds a reporter."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    await vigil.report("alice", "carol", reason="violent_threat", details="threat")
    await vigil.wait_alerts(1)
    alice = vigil.world.users["alice"]
    url = f"/g/{vigil.guild.id}/cases/1/export"
    async with browser(base) as maya:
        await maya.sign_in(vigil, "maya")
        _, page, _ = await maya.get(f"/g/{vigil.guild.id}/cases/1")
        assert 'name="include_reporters"' not in page
        status, body, _ = await maya.post(url, {"include_reporters": "1"}, csrf_from=page)
        assert status == 403 and str(alice.id) not in body
        status, body, response = await maya.post(url, {}, csrf_from=page)
        assert status == 200 and response.content_type == "application/json"
        packet = json.loads(body)
        assert packet["reporter_identities"] == "omitted" and str(alice.id) not in body
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        _, page, _ = await olivia.get(f"/g/{vigil.guild.id}/cases/1")
        assert 'name="include_reporters"' in page
        status, _, _ = await olivia.post(url, {"include_reporters": "1"})  # no CSRF token
        assert status == 403
        assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]
        status, body, response = await olivia.post(url, {"include_reporters": "1"}, csrf_from=page)
    assert status == 200 and "attachment" in response.headers["Content-Disposition"]
    assert str(alice.id) not in response.headers["Content-Disposition"]
    packet = json.loads(body)
    assert packet["reporter_identities"] == "included"
    assert packet["reports"][0]["reporter_id"] == str(alice.id)
    olivia_id = vigil.world.users["olivia"].id
    assert vigil.db_rows("SELECT action, actor_id, note FROM case_events") == [
        ("note", olivia_id, "Exported the escalation packet with reporter identities.")
    ]
    assert vigil.proc is not None and str(alice.id) not in vigil.proc.log_text()


# --------------------------------------------------------------------------- erasure


async def test_reports_forget_signs_the_member_out_of_the_dashboard(
    emulator, bot_factory, tmp_path, database_url
):
    """A dashboard session holds its user's ID, name, language and servers: /reports forget
    erases it with the rest (the member may sign in again), and nobody else's."""
    vigil = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    base = await start_with_dashboard(vigil)
    await vigil.setup(mod_role="Moderators")
    maya = vigil.world.users["maya"]
    async with browser(base) as maya_web, browser(base) as milo_web:
        await maya_web.sign_in(vigil, "maya")
        await milo_web.sign_in(vigil, "milo")
        assert vigil.db_rows(
            "SELECT COUNT(*) FROM dashboard_sessions WHERE user_id = ?", (maya.id,)
        ) == [(1,)]
        asked = await vigil.slash("reports forget", "olivia", member="maya")
        message = asked.original()
        assert message is not None
        done = await vigil.run(
            vigil.emu.build.component(f"vigil:forget:{maya.id}", user="olivia", message=message)
        )
        await done.wait_original_edit(timeout=10)
        status, _, _ = await maya_web.get(f"/g/{vigil.guild.id}/queue")
        assert status == 302  # signed out: back to the sign-in page
        status, _, _ = await milo_web.get(f"/g/{vigil.guild.id}/queue")
        assert status == 200
    assert vigil.db_rows(
        "SELECT COUNT(*) FROM dashboard_sessions WHERE user_id = ?", (maya.id,)
    ) == [(0,)]


# --------------------------------------------------------------------------- two processes


@pytest.fixture
def shared_database(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied: two processes share it (no SQLite leg)."""
    postgres.empty(postgres_database)
    return postgres_database


async def test_a_process_without_the_server_saves_and_warns_the_same(
    emulator, bot_factory, shared_database
):
    """Two shard processes share PostgreSQL; the dashboard runs in the one that does NOT hold
    Harbour. Saving works and the warnings are the same, asked of Discord with the bot's token
    (the server's channels and Vigil's own member), not guessed from an empty cache."""
    emu, guild = emulator, emulator.world.guild_a
    _, base = await start_shards_with_dashboard_elsewhere(emu, bot_factory, shared_database)
    await emu.interact(
        emu.build.slash("reports setup", user="olivia", options={"alert_channel": "mod-alerts"}),
        timeout=10,
    )
    general = guild.channel("general")
    vigil = Vigil(emu, bot_factory, Path("unused.db"), shared_database)
    async with browser(base) as olivia:
        await olivia.sign_in(vigil, "olivia")
        _, page, _ = await olivia.get(f"/g/{guild.id}/settings")
        assert warnings_of(page) == [] and "#general" in page  # the channels, fetched
        status, _, _ = await save(
            olivia, guild.id, settings_form(vigil, alert_channel=str(general.id))
        )
        assert status == 303
        _, page, _ = await olivia.get(f"/g/{guild.id}/settings")
    assert any("everyone in the server can read #general" in w for w in warnings_of(page))
    stored = vigil.db_rows(
        "SELECT alert_channel_id FROM guild_settings WHERE guild_id = ?", (guild.id,)
    )
    assert stored == [(general.id,)]
