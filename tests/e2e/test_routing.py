"""Issue 12: no answer to a report ends without help, the country is never guessed wrong, the
export routes by reason and hides reporters; issue 11 item 17: the confirmation does not reveal
the case state. End to end: the real bot.py against the emulator, on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Vigil, result_text

INHOPE = "<https://www.inhope.org>"
NCMEC = "<https://report.cybertip.org>"


def country_menu(result: Any) -> dict[str, Any]:
    for row in result.components:
        for component in row.get("components") or []:
            if str(component.get("custom_id", "")).startswith("vigil:country:"):
                return component
    raise AssertionError(f"no country menu in {result.components!r}")


def guidance(result: Any) -> str:
    assert result.embeds, result
    return str(result.embeds[0].get("description") or "")


async def test_a_refused_critical_report_still_carries_the_guidance(vigil: Vigil):
    """Reporting a bot for child safety is refused, but the reporter still gets the emergency
    number first, concrete hotline links and the country menu; nothing is stored."""
    await vigil.setup()
    reply = await vigil.report("alice", "helperbot", "child_safety", details="images")
    assert reply.ephemeral
    assert "Bots and app messages" in reply.content and "don't wait" in reply.content
    text = guidance(reply)
    assert text.startswith("**If a child is in danger right now, call your local emergency")
    assert INHOPE in text and NCMEC in text
    assert country_menu(reply)["custom_id"] == "vigil:country:child_safety:INT"
    assert vigil.report_count() == 0


async def test_a_bad_link_refusal_for_a_threat_leads_with_the_emergency_number(vigil: Vigil):
    await vigil.setup(region="AU")
    reply = await vigil.report(
        "alice", "dave", "violent_threat", message_link="https://example.com/x"
    )
    assert "doesn't look like" in reply.content and "don't wait" in reply.content
    assert guidance(reply).startswith("**If someone is in danger right now, call 000.**")
    assert "This help is for **Australia**" in guidance(reply)
    assert vigil.report_count() == 0


async def test_a_rate_limited_critical_report_gets_the_full_guidance(vigil: Vigil):
    """The documented choice: beyond the rate limit a critical report is refused, with the full
    guidance (emergency number first, the national hotline), never a bare "wait a few minutes"."""
    await vigil.setup(region="GB")
    for target in ("bob", "carol", "dave", "erin", "maya"):
        assert "received" in (await vigil.report("alice", target)).content
    sixth = await vigil.report("alice", "milo", "child_safety", details="sent images to a kid")
    assert sixth.ephemeral and "several reports" in sixth.content
    assert "don't wait" in sixth.content
    text = guidance(sixth)
    assert text.startswith("**If a child is in danger right now, call 999.**")
    assert "<https://www.iwf.org.uk/report>" in text and "CEOP" in text
    assert vigil.report_count() == 5


async def test_reporting_oneself_for_self_harm_gets_crisis_support(vigil: Vigil):
    await vigil.setup(region="US", mod_role="Moderators")
    reply = await vigil.report("alice", "alice", "self_harm", details="I can't go on")
    assert reply.ephemeral
    assert "can't report yourself" not in reply.content
    assert "You are not alone" in reply.content
    assert "Nothing was sent to the moderators" in reply.content
    text = guidance(reply)
    assert text.startswith("**If someone is in danger right now, call 911.**")
    assert "988" in text and "741741" in text
    menu = country_menu(reply)
    assert menu["custom_id"] == "vigil:country:self_support:US"
    assert vigil.report_count() == 0 and vigil.alerts() == []
    # Another country: still crisis support, in the same message.
    message = reply.original()
    assert message is not None
    switched = await vigil.run(
        vigil.emu.build.component(
            menu["custom_id"], user="alice", message=message, component_type=3, values=["GB"]
        )
    )
    assert switched.type == 7
    text = switched.data["embeds"][0]["description"]
    assert text.startswith("**If someone is in danger right now, call 999.**")
    assert "Samaritans" in text and "116 123" in text and "Report Message" not in text
    # Reporting oneself for another reason is still refused, with that reason's guidance.
    other = await vigil.report("alice", "alice", "harassment")
    assert "can't report yourself" in other.content and "Report Message" in guidance(other)


async def test_unknown_country_gets_concrete_links_and_the_picker(vigil: Vigil):
    """Harbour has no region and its members read en-GB (worldwide English): the international
    answer, with INHOPE, NCMEC and Find A Helpline, and the country menu."""
    await vigil.setup()
    reply = await vigil.report("alice", "dave", "child_safety", details="sent images")
    text = guidance(reply)
    assert "your local emergency number" in text.splitlines()[0]
    assert "999" not in text
    assert INHOPE in text and NCMEC in text
    assert "We don't know which country you're in" in text
    menu = country_menu(reply)
    assert {o["value"] for o in menu["options"] if o.get("default")} == {"INT"}
    harm = await vigil.report("bob", "dave", "self_harm")
    assert "<https://findahelpline.com>" in guidance(harm)
    # /hotlines with no country and no region gives the same, with a menu.
    overview = await vigil.slash("hotlines", "carol")
    text = result_text(overview)
    assert INHOPE in text and NCMEC in text and "<https://findahelpline.com>" in text
    menu = country_menu(overview)
    assert menu["custom_id"] == "vigil:country:hotlines:INT"
    message = overview.original()
    assert message is not None
    switched = await vigil.run(
        vigil.emu.build.component(
            menu["custom_id"], user="carol", message=message, component_type=3, values=["NZ"]
        )
    )
    assert switched.type == 7
    embed = switched.data["embeds"][0]
    assert "New Zealand" in embed["title"] and "1737" in embed["description"]


async def test_a_us_server_without_a_region_still_gets_a_hotline(vigil: Vigil):
    """The issue's first case: an en-US server, no region, a child-safety report. en-US is every
    server's default, so no country is guessed; the answer still has NCMEC (which takes reports
    from anywhere) and INHOPE. With the region set, the US answer."""
    vigil.guild.preferred_locale = "en-US"
    await vigil.setup()
    payload = vigil.emu.build.slash(
        "report",
        user="alice",
        options={"member": "dave", "reason": "child_safety"},
        locale="en-US",
    )
    reply = await vigil.run(payload)
    text = guidance(reply)
    assert NCMEC in text and INHOPE in text
    assert "911" not in text  # not guessed from en-US
    await vigil.setup(region="US")
    payload = vigil.emu.build.slash(
        "report",
        user="bob",
        options={"member": "dave", "reason": "child_safety"},
        locale="en-US",
    )
    text = guidance(await vigil.run(payload))
    assert text.startswith("**If a child is in danger right now, call 911.**")
    assert NCMEC in text and "This help is for **United States**" in text


async def test_a_quebec_server_in_french_is_not_sent_to_17(vigil: Vigil):
    """`fr` is France, Québec, Belgium...: the international answer in French, with the menu;
    never 17 (France's police). Once the region is set to Canada, 911."""
    vigil.guild.preferred_locale = "fr"
    await vigil.setup()
    payload = vigil.emu.build.slash(
        "report",
        user="alice",
        options={"member": "dave", "reason": "violent_threat"},
        locale="fr",
    )
    reply = await vigil.run(payload)
    text = guidance(reply)
    assert "17" not in text.splitlines()[0] and "112" in text.splitlines()[0]
    assert "Choisis ton pays" in text
    assert {o["value"] for o in country_menu(reply)["options"] if o.get("default")} == {"INT"}
    await vigil.setup(region="CA")
    payload = vigil.emu.build.slash(
        "report",
        user="bob",
        options={"member": "dave", "reason": "violent_threat"},
        locale="fr",
    )
    text = guidance(await vigil.run(payload))
    assert "911" in text.splitlines()[0] and "**Canada**" in text


async def test_setup_and_config_nudge_admins_to_set_a_region(vigil: Vigil):
    setup = await vigil.setup()
    assert "No country set" in setup.content
    config = await vigil.slash("reports config", "olivia")
    assert "No country set" in (config.content or "")
    setup = await vigil.setup(region="IE")
    assert "No country set" not in setup.content
    config = await vigil.slash("reports config", "olivia")
    assert "No country set" not in (config.content or "")


async def test_the_confirmation_does_not_reveal_the_case_state(vigil: Vigil):
    """Issue 11 item 17: the third reporter (who opens the case) and the first read the same."""
    await vigil.setup()
    first = await vigil.report("alice", "dave", details="insults")
    await vigil.report("bob", "dave", details="insults")
    third = await vigil.report("carol", "dave", details="insults")
    await vigil.wait_alerts(1)
    assert first.content == third.content
    assert "alerted" not in third.content
    again = await vigil.report("alice", "dave", details="again")
    assert "already" in again.content  # their own earlier report, nothing about others'


async def test_child_safety_confirmation_never_says_nothing_else_to_do(vigil: Vigil):
    await vigil.setup(region="GB")
    reply = await vigil.report("alice", "dave", "child_safety")
    assert "anything else" not in reply.content
    assert "read the steps below" in reply.content
    text = guidance(reply)
    assert "Don't go looking for more" in text and "keep the chat as evidence" in text


async def test_export_hides_reporters_unless_asked_and_records_the_choice(vigil: Vigil):
    await vigil.setup(region="GB", mod_role="Moderators")
    await vigil.report("alice", "dave", "violent_threat", details="said they would hurt someone")
    await vigil.wait_alerts(1)
    alice = str(vigil.world.users["alice"].id)
    name = f"vigil-case-1-{vigil.guild.id}.json"
    exported = await vigil.slash("reports export", "olivia", case=1)
    assert exported.ephemeral and "include_reporters:True" in exported.content
    packet = json.loads(vigil.emu.uploads[name])
    assert alice not in json.dumps(packet)
    assert packet["reports"][0]["reporter"] == "Reporter 1"
    places = json.dumps(packet["where_to_file"])
    assert "Internet Watch Foundation" not in places and "CEOP" not in places
    assert '"999"' in places
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events WHERE action = 'note'") == [(0,)]
    full = await vigil.slash("reports export", "olivia", case=1, include_reporters=True)
    assert full.ephemeral and "includes reporter IDs" in full.content
    packet = json.loads(vigil.emu.uploads[name])
    assert packet["reports"][0]["reporter_id"] == alice
    notes = vigil.db_rows("SELECT actor_id, note FROM case_events WHERE action = 'note'")
    assert len(notes) == 1
    assert str(notes[0][0]) == str(vigil.world.users["olivia"].id)
    assert "reporter identities" in notes[0][1]


async def test_delete_messages_reminds_moderators_to_report_to_discord_first(vigil: Vigil):
    await vigil.setup(mod_role="Moderators")
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "a threat")
    link = f"https://discord.com/channels/{vigil.guild.id}/{general.id}/{message['id']}"
    await vigil.report("alice", "dave", "violent_threat", message_link=link)
    await vigil.wait_alerts(1)
    prompt = await vigil.run(
        vigil.emu.build.component(
            "vigil:case:delete_messages:1", user="maya", message=vigil.alerts()[0]
        )
    )
    # The prompt reads each reported message first, so it answers after a "thinking" defer.
    assert prompt.ephemeral
    followup = await prompt.wait_followup(timeout=10)
    content = str(followup.get("content") or "")
    assert "Report the message to Discord first" in content
    # The reminder comes first, before the list of what will be deleted.
    assert content.startswith("**Report the message to Discord first**")


async def test_a_database_error_still_answers_with_the_guidance(vigil: Vigil):
    """The store fails mid-report (its table is gone): the reporter is told it went wrong and
    still gets the emergency number first and the national hotline."""
    await vigil.setup(region="GB")
    vigil.db_rows("ALTER TABLE reports RENAME TO reports_gone")
    try:
        reply = await vigil.report("alice", "dave", "child_safety", details="images")
    finally:
        vigil.db_rows("ALTER TABLE reports_gone RENAME TO reports")
    assert reply.ephemeral and "something went wrong" in reply.content
    text = guidance(reply)
    assert text.startswith("**If a child is in danger right now, call 999.**")
    assert "<https://www.iwf.org.uk/report>" in text
    # The bot keeps serving.
    assert "received" in (await vigil.report("bob", "dave")).content


# Per covered country (FACTS.md section 1): the emergency number shown first and a route that
# must appear, for a stored child-safety report, a refused threat report and a self-harm
# self-report. Numbers and addresses are the sheet's.
COUNTRY_ROUTES = {
    "GB": ("999", "<https://www.iwf.org.uk/report>", "116 123"),
    "US": ("911", "<https://report.cybertip.org>", "988"),
    "CA": ("911", "<https://www.cybertip.ca>", "988"),
    "AU": ("000", "<https://www.esafety.gov.au/report>", "13 11 14"),
    "IE": ("112", "<https://hotline.ie/report>", "116 123"),
    "NZ": ("111", "<https://www.dia.govt.nz/", "1737"),
    "DE": ("110", "<https://www.internet-beschwerdestelle.de>", "0800 111 0 111"),
    "FR": ("17", "<https://www.pointdecontact.net>", "3114"),
    "NL": ("112", "<https://meldpunt-kinderporno.nl>", "0800-0113"),
    "ES": ("112", "017", "024"),
    "IT": ("112", "<https://stop-it.savethechildren.it>", "19696"),
    "SE": ("112", "<https://ecpat.se/hotline/>", "90101"),
    "BR": ("your local emergency number", "<https://www.safernet.org.br>", "188"),
    "IN": ("112", "<https://cybercrime.gov.in>", "14416"),
}


async def test_every_covered_country_routes_every_path(vigil: Vigil):
    reporters = ["alice", "bob", "erin", "maya", "milo", "olivia", "adam"]
    for n, (code, (emergency, hotline, crisis)) in enumerate(COUNTRY_ROUTES.items()):
        await vigil.setup(region=code)
        stored = await vigil.report(reporters[n % len(reporters)], "dave", "child_safety")
        text = guidance(stored)
        assert "received" in stored.content, code
        assert emergency in text.splitlines()[0] and hotline in text, (code, text)
        refused = await vigil.report("alice", "helperbot", "violent_threat")
        text = guidance(refused)
        assert "don't wait" in refused.content, code
        assert text.startswith("**If someone is in danger right now") and emergency in text, code
        self_report = await vigil.report("bob", "bob", "self_harm")
        text = guidance(self_report)
        assert "You are not alone" in self_report.content, code
        assert emergency in text.splitlines()[0] and crisis in text, (code, text)


async def test_every_country_of_the_second_sheet_routes_every_path(vigil: Vigil):
    """The FACTS-MORE.md countries, checked from the directory itself: every answer starts with
    the country's own emergency number and cites a sourced route of that country (or the
    section-7 fallback where the sheet gives it none)."""
    from core.hotlines import Category, HotlineDirectory

    directory = HotlineDirectory.load()
    more = [c.code for c in directory.countries() if c.covered and c.code not in COUNTRY_ROUTES]
    assert len(more) >= 17, more
    reporters = ["alice", "bob", "erin", "maya", "milo", "olivia", "adam"]

    def routes(code: str, *categories: Category) -> list[str]:
        found = []
        for category in categories:
            for entry in directory.entries(code, category):
                if entry.country == code:
                    found += [f"<{entry.url}>"] if entry.url else []
                    found += [entry.phone.split(" ")[0]] if entry.phone else []
        return found

    for n, code in enumerate(more):
        number = directory.emergency_number(code)
        assert number is not None, code
        first = number.split(" or ")[0]
        await vigil.setup(region=code)
        stored = await vigil.report(reporters[n % len(reporters)], "dave", "child_safety")
        text = guidance(stored)
        assert first in text.splitlines()[0], (code, text)
        own = routes(code, Category.CSAM_REPORT, Category.CHILD_EXPLOITATION)
        fallback = ["<https://www.inhope.org>", "CyberTipline"]
        assert any(route in text for route in own or fallback), (code, own, text)
        self_report = await vigil.report("bob", "bob", "self_harm")
        text = guidance(self_report)
        assert "You are not alone" in self_report.content, code
        assert first in text.splitlines()[0], (code, text)
        # The country's own crisis line, else Find A Helpline (FACTS.md section 7).
        crisis = routes(code, Category.CRISIS) or ["findahelpline"]
        assert any(route in text for route in crisis), (code, crisis, text)
