"""Issue 12, routing: every answer to a report carries a sourced route for its reason, in every
country (and none), whatever happened to the report; the right country; the right route per
reason in the export; words that must be true (offline)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from core.export import build_export, where_to_file_by_reason
from core.guidance import (
    MAX_CHARS,
    Guidance,
    build_guidance,
    build_self_support,
    hotlines_overview,
)
from core.hotlines import Category, HotlineDirectory
from core.i18n import tr
from core.models import (
    AlertData,
    Case,
    CaseStatus,
    GuildSettings,
    Report,
    ReportSource,
)
from core.policy import Refusal, RefusalCode, refuse
from core.reasons import Reason
from core.regions import effective_region, region_from_locale
from core.rendering import is_cry_for_help, render_refusal, render_self_support
from tests.helpers import GUILD
from ui.alert_view import describe_event, render_feedback_dm

DIRECTORY = HotlineDirectory.load()
COVERED = [c.code for c in DIRECTORY.countries() if c.covered]
EVERY_COUNTRY: list[str | None] = [None, "XX", *(c.code for c in DIRECTORY.countries())]
CRITICAL = [Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT]
LOCALES = ["en", "de", "fr", "es-ES", "pt-BR"]

LINK_RE = re.compile(r"<https://[^>\s]+>")
NUMBER_RE = re.compile(r"(?<![\w/])\d[\d ()+-]{1,16}\d(?![\w/])|\b\d{3}\b")


def routes(g: Guidance) -> list[str]:
    """The concrete routes a reader can act on: links and phone numbers."""
    text = g.render()
    return LINK_RE.findall(text) + NUMBER_RE.findall(text)


def emergency_number_line(g: Guidance) -> str:
    return g.lines[0]


# --------------------------------------------------------------------------- no dead ends


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_every_reason_in_every_country_has_a_sourced_route(reason: Reason, country: str | None):
    g = build_guidance(DIRECTORY, reason, country)
    assert routes(g), (reason, country, g.render())
    assert all(DIRECTORY.get(i) is not None for i in g.entry_ids)
    text = g.render()
    # Every cited link is one of the cited, sourced entries.
    cited = {e.url for i in g.entry_ids if (e := DIRECTORY.get(i)) is not None and e.url}
    for link in LINK_RE.findall(text):
        assert link[1:-1] in cited, (reason, country, link)
    # It always says which country the help is for.
    assert "This help is for" in text or "We don't know which country" in text
    if reason in CRITICAL:
        first = emergency_number_line(g)
        assert first.startswith(("**If a child is in danger", "**If someone is in danger")), first
        number = DIRECTORY.emergency_number(country) if country else None
        if number:
            assert number.split(" ")[0] in first
        else:
            assert "your local emergency number" in first


@pytest.mark.parametrize("code", list(RefusalCode))
@pytest.mark.parametrize("reason", list(Reason))
def test_every_refusal_carries_the_guidance_for_its_reason(code: RefusalCode, reason: Reason):
    """Whatever refused the report, the answer is the refusal text plus the reason's guidance:
    critical reasons say not to wait, and the guidance starts with the emergency number."""
    refusal = refuse(code)
    if is_cry_for_help(refusal, reason):
        assert code is RefusalCode.SELF_REPORT and reason is Reason.SELF_HARM
        return
    for locale in LOCALES:
        text = render_refusal(refusal, reason, locale)
        assert text.startswith(refusal.localised(locale))
        if reason.is_critical:
            assert tr("refusal.critical_help", locale) in text
        for country in (None, "GB", "US", "FR", "BR"):
            g = build_guidance(DIRECTORY, reason, country, locale)
            assert routes(g)
            if reason.is_critical:
                assert emergency_number_line(g).startswith("**")


@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_self_harm_self_report_gets_crisis_support_not_a_refusal(country: str | None):
    refusal = refuse(RefusalCode.SELF_REPORT)
    assert is_cry_for_help(refusal, Reason.SELF_HARM)
    assert not is_cry_for_help(refusal, Reason.HARASSMENT)
    assert not is_cry_for_help(refuse(RefusalCode.RATE_LIMITED), Reason.SELF_HARM)
    g = build_self_support(DIRECTORY, country)
    text = render_self_support(g.headline) + "\n" + g.render()
    assert "can't report yourself" not in text
    assert "You are not alone" in text
    assert emergency_number_line(g).startswith("**If someone is in danger")
    crisis = DIRECTORY.entries(country, Category.CRISIS)
    assert crisis and any(e.id in g.entry_ids for e in crisis), country
    assert routes(g)
    assert "Nothing was sent to the moderators" in text


def test_self_support_is_translated():
    for locale in LOCALES[1:]:
        g = build_self_support(DIRECTORY, "BR", locale)
        assert g.headline != build_self_support(DIRECTORY, "BR").headline
        assert "188" in g.render()


def test_unknown_country_gets_concrete_links():
    """FACTS.md section 7: INHOPE's home page, NCMEC (takes reports from anywhere), Find A
    Helpline; /hotlines with no country gives the same."""
    for country in (None, "XX", "MX"):
        cs = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, country).render()
        assert "<https://www.inhope.org>" in cs
        assert "<https://report.cybertip.org>" in cs and "takes reports from anywhere" in cs
        sh = build_guidance(DIRECTORY, Reason.SELF_HARM, country).render()
        assert "<https://findahelpline.com>" in sh
        ov = hotlines_overview(DIRECTORY, country).render()
        assert "<https://www.inhope.org>" in ov and "<https://report.cybertip.org>" in ov
        assert "<https://findahelpline.com>" in ov
    assert "We don't know which country" in build_guidance(DIRECTORY, "other", None).render()


def test_national_hotline_comes_without_the_anywhere_fallback():
    """Report once, to one place: NCMEC is offered abroad only when there is no hotline."""
    for country in ("GB", "DE", "FR", "AU"):
        g = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, country)
        assert "us-ncmec-cybertipline" not in g.entry_ids, country


def test_home_pages_where_only_a_deep_link_is_uncertain():
    assert (
        "<https://www.safernet.org.br>" in build_guidance(DIRECTORY, "child_safety", "BR").render()
    )
    inhope = DIRECTORY.get("int-inhope")
    assert inhope is not None and inhope.url == "https://www.inhope.org"


# --------------------------------------------------------------------------- the right country


@pytest.mark.parametrize(
    "locale", ["en-US", "en-GB", "fr", "es-ES", "es-419", "de", "nl", "it", "pt-BR", "sv-SE"]
)
def test_a_locale_spoken_in_several_countries_is_no_country(locale: str):
    assert region_from_locale(locale) is None
    assert effective_region(None, locale) is None
    g = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, effective_region(None, locale))
    assert "your local emergency number" in g.lines[0]


def test_the_servers_region_wins_and_one_country_locales_are_used():
    assert effective_region("CA", "fr") == "CA"
    assert effective_region(None, "ja") == "JP"
    assert effective_region(None, "pl") == "PL"
    assert effective_region(None, None) is None


def test_quebec_french_reader_is_not_sent_to_17():
    g = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, effective_region(None, "fr"), "fr")
    assert "17" not in g.lines[0] and "Choisis ton pays" in g.render()


def test_the_guidance_names_its_country_in_the_readers_language():
    g = build_guidance(DIRECTORY, Reason.SELF_HARM, "FR", "fr")
    assert "**France**" in g.render() and "Choisis ton pays" in g.render()
    g = build_guidance(DIRECTORY, Reason.VIOLENT_THREAT, "DE", "de")
    assert "**Deutschland**" in g.render()


# --------------------------------------------------------------------------- right route per reason


@pytest.mark.parametrize(
    ("country", "number", "org"),
    [
        ("ES", "024", "024"),
        ("SE", "90101", "Mind"),
        ("BR", "188", "CVV"),
        ("NZ", "1737", "1737"),
        ("IN", "14416", "Tele-MANAS"),
        ("IT", "19696", "Telefono Azzurro 1.96.96"),
    ],
)
def test_sourced_crisis_lines_reach_self_harm_reporters(country: str, number: str, org: str):
    text = build_guidance(DIRECTORY, Reason.SELF_HARM, country).render()
    assert number in text and org in text, text
    # and the emergency number still comes first
    assert text.index(number) > text.index("call ")


def test_france_3018_for_online_harassment_and_sextortion():
    assert "3018" in hotlines_overview(DIRECTORY, "FR").render()
    assert "3018" in build_guidance(DIRECTORY, Reason.SCAM, "FR").render()


@pytest.mark.parametrize(
    ("country", "name"), [("NL", "Veilig Thuis"), ("US", "Childhelp"), ("FR", "119")]
)
def test_abuse_lines_are_not_offered_to_young_people_in_crisis(country: str, name: str):
    text = build_guidance(DIRECTORY, Reason.SELF_HARM, country).render()
    young = text.split("**For young people:**")[1] if "**For young people:**" in text else ""
    assert name not in young, text
    assert name not in build_self_support(DIRECTORY, country).render()


def test_netherlands_police_number_is_for_chat_apps_and_meldpunt_for_public_content():
    text = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, "NL").render()
    header = "**Child sexual abuse material seen in a chat app or on social media (like Discord)?"
    assert header in text
    assert text.index(header) < text.index("+31 (0)6 428 346 35")
    assert "**If someone is grooming or pressuring a child:**" not in text
    meldpunt = next(line for line in text.splitlines() if "Meldpunt" in line)
    assert "public content only" in meldpunt
    pharos = next(
        line
        for line in build_guidance(DIRECTORY, Reason.CHILD_SAFETY, "FR").render().splitlines()
        if "PHAROS" in line
    )
    assert "public content only" in pharos


# ---------------------------------------------------------------- words that must be true


@pytest.mark.parametrize("country", EVERY_COUNTRY)
def test_child_safety_gives_section_3_advice(country: str | None):
    text = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, country).render()
    assert "Don't go looking for more" in text
    assert "keep the chat as evidence" in text and "never the images" in text
    assert len(text) <= MAX_CHARS


def test_sheet_is_called_compiled_not_checked():
    for locale in LOCALES:
        text = hotlines_overview(DIRECTORY, "GB", locale).render()
        assert "2026-11-28" in text
    assert (
        "Compiled from public sources on 2026-11-28." in hotlines_overview(DIRECTORY, "GB").render()
    )
    assert "Checked against" not in hotlines_overview(DIRECTORY, "GB").render()


def test_translations_keep_every_line():
    """Translated guidance is longer than English: it must never lose a line English keeps."""
    for country in EVERY_COUNTRY:
        for reason in CRITICAL:
            en = build_guidance(DIRECTORY, reason, country)
            for locale in LOCALES[1:]:
                assert len(build_guidance(DIRECTORY, reason, country, locale).lines) == len(
                    en.lines
                ), (country, reason, locale)


# --------------------------------------------------------------------------- the export

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _case() -> Case:
    return Case(
        id=1,
        guild_id=GUILD,
        number=7,
        target_id=1234567890123456789,
        target_name="Mallory",
        target_is_member=True,
        target_joined_at=NOW,
        status=CaseStatus.OPEN,
        urgent=True,
        opened_at=NOW,
    )


def _report(n: int, reporter: int, reason: Reason) -> Report:
    return Report(
        id=n,
        guild_id=GUILD,
        reporter_id=reporter,
        target_id=1234567890123456789,
        reason=reason,
        source=ReportSource.SLASH,
        created_at=NOW.replace(minute=n),
    )


def _data(region: str | None, *reasons: Reason) -> AlertData:
    reports = tuple(_report(i, 5000 + i % 2, r) for i, r in enumerate(reasons))
    settings = replace(GuildSettings(GUILD), region=region)
    return AlertData(_case(), settings, reports, len({r.reporter_id for r in reports}))


def _export(data: AlertData, **options: Any) -> dict[str, Any]:
    """The packet as the Export button builds it, with this module's directory and clock."""
    return build_export(
        data,
        guild_name="g",
        directory=DIRECTORY,
        generated_at=NOW,
        generated_by=42,
        describe=describe_event,
        **options,
    )


def test_export_omits_reporter_identities_by_default():
    data = _data("GB", Reason.HARASSMENT, Reason.HARASSMENT, Reason.HARASSMENT)
    packet = _export(data)
    text = str(packet)
    assert "5000" not in text and "5001" not in text
    assert [r["reporter"] for r in packet["reports"]] == ["Reporter 1", "Reporter 2", "Reporter 1"]
    assert packet["reporter_identities"] == "omitted"
    full = _export(data, include_reporters=True)
    assert [r["reporter_id"] for r in full["reports"]] == ["5000", "5001", "5000"]
    assert full["reporter_identities"] == "included"


def test_export_format_version_and_report_fields_move_together():
    """A field taken out of (or added to) a report is a new format_version: tools that read
    packets rely on it. Version 2 took out `counted_toward_threshold` (the packet says nothing
    of how reports counted, for any reader)."""
    data = _data("GB", Reason.HARASSMENT)
    packet = _export(data)
    assert packet["format_version"] == 2
    assert set(packet["reports"][0]) == {
        "reported_at_utc",
        "reporter",
        "reason",
        "reason_label",
        "source",
        "details",
        "message_link",
        "message_evidence",
    }


def _orgs(places: list[dict[str, object]]) -> str:
    return " | ".join(str(p["organisation"]) for p in places)


def test_export_routes_by_reason():
    by = where_to_file_by_reason(
        DIRECTORY, "GB", [Reason.VIOLENT_THREAT, Reason.SELF_HARM, Reason.CHILD_SAFETY]
    )
    threat, harm, child = by["violent_threat"], by["self_harm"], by["child_safety"]
    assert "IWF" not in _orgs(threat) and "CEOP" not in _orgs(threat)
    assert any(p.get("phone") == "999" for p in threat)
    assert "IWF" not in _orgs(harm) and "CEOP" not in _orgs(harm)
    assert "Samaritans" in _orgs(harm) and any(p.get("phone") == "999" for p in harm)
    assert "IWF" in _orgs(child) and "CEOP" in _orgs(child)
    assert any(p.get("phone") == "999" for p in child)
    for places in by.values():
        assert "Discord" in _orgs(places)


@pytest.mark.parametrize("region", [None, *COVERED])
def test_export_never_sends_self_harm_or_threats_to_an_image_hotline(region: str | None):
    packet = _export(_data(region, Reason.SELF_HARM, Reason.VIOLENT_THREAT))
    csam = {
        e.organisation
        for e in DIRECTORY.all_entries()
        if e.has(Category.CSAM_REPORT) or e.has(Category.CHILD_EXPLOITATION)
    }
    for place in packet["where_to_file"]:
        assert place["organisation"] not in csam, (region, place)
    child = _export(_data(region, Reason.CHILD_SAFETY))
    assert any(p["organisation"] in csam for p in child["where_to_file"]), region


def test_refusal_type_is_the_policy_refusal():
    assert isinstance(refuse(RefusalCode.BAD_LINK), Refusal)


def test_feedback_dm_to_a_critical_reporter_never_says_nothing_else_to_do():
    for locale in LOCALES:
        critical = render_feedback_dm("Harbour", "Mallory", locale, critical=True)
        assert critical != render_feedback_dm("Harbour", "Mallory", locale)
    assert "anything else" not in render_feedback_dm("Harbour", "Mallory", critical=True)
    assert "anything else" in render_feedback_dm("Harbour", "Mallory")


def test_country_menu_keeps_the_shown_country_and_international_past_25():
    """Discord allows 25 options; with more covered countries the one shown and
    "international" must stay in the menu."""
    from ui.country_menu import country_options

    codes = [f"{a}{b}" for a in "ABC" for b in "ABCDEFGHIJ"]  # 30 made-up codes
    data = {
        "compiled": "2026-11-28",
        "countries": {c: {"name": f"Land {c}"} for c in codes},
        "entries": [
            {
                "id": f"e-{c}",
                "country": c,
                "organisation": f"Line {c}",
                "categories": ["crisis"],
                "url": None,
                "phone": "1",
                "source_urls": ["https://example.org"],
                "verified": "2026-11-28",
            }
            for c in codes
        ],
    }
    directory = HotlineDirectory.from_data(data)
    for shown in ("CJ", None):
        code, options = country_options(directory, shown, "en")
        values = [o.value for o in options]
        assert len(options) <= 25 and values[-1] == "INT"
        if shown:
            assert shown in values and code == shown
        assert [o.value for o in options if o.default] == [shown or "INT"]
