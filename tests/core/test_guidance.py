"""Content rules for the guidance shown to reporters (offline)."""

from __future__ import annotations

import re

import pytest

from core import i18n
from core.guidance import MAX_CHARS, Guidance, build_guidance, hotlines_overview, t
from core.hotlines import Category, HotlineDirectory
from core.reasons import Reason

DIRECTORY = HotlineDirectory.load()
COUNTRIES: list[str | None] = [None, "XX", *(c.code for c in DIRECTORY.countries())]
REASONS = [r.value for r in Reason]

URL_RE = re.compile(r"https?://[^\s>)]+")
# Phrases that would urge other people to report (mass reporting). The guidance must discourage
# this, never ask for it.
URGING_RE = re.compile(
    r"\b(ask|tell|get|encourage|invite|have)\b[^.\n]*\b(others|friends|everyone|people|members)"
    r"\b[^.\n]*\breport|\bmass[- ]report|\beveryone (should|must) report|\bspread the word",
    re.IGNORECASE,
)


def text(reason: str, country: str | None) -> str:
    return build_guidance(DIRECTORY, reason, country).render()


def index(haystack: str, needle: str) -> int:
    i = haystack.find(needle)
    assert i >= 0, f"{needle!r} not found in:\n{haystack}"
    return i


# --------------------------------------------------------------------------- child safety


def test_child_safety_gb() -> None:
    g = text("child_safety", "GB")
    assert "IWF" in g and "<https://www.iwf.org.uk/report>" in g
    assert "999" in g
    assert "Do not download, screenshot, save or share" in g
    assert "Report the link instead" in g
    assert index(g, "999") < index(g, "IWF"), "emergency number must come before the hotline"
    assert "CEOP" in g and "not anonymous" in g
    assert "You do not need to be sure" in g
    assert "Report Message" in g and "<https://discord.com/safety>" in g
    assert "once" in g


def test_child_safety_us() -> None:
    g = text("child_safety", "US")
    assert "NCMEC CyberTipline" in g and "<https://report.cybertip.org>" in g
    assert "1-800-843-5678" in g
    assert "911" in g and index(g, "911") < index(g, "NCMEC")


def test_child_safety_cites_entries() -> None:
    g = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, "gb")
    assert g.entry_ids[0] == "gb-emergency"
    assert {"gb-iwf", "gb-ceop", "discord-report-message"} <= set(g.entry_ids)
    assert all(DIRECTORY.get(i) is not None for i in g.entry_ids)


def test_child_safety_canada_hours_are_hedged() -> None:
    g = text("child_safety", "CA")
    assert "Cybertip.ca" in g and "hours vary; call 911 if urgent" in g
    assert "24/7" not in g.split("Cybertip.ca")[1].split("\n")[0]


def test_child_safety_never_asks_for_the_content() -> None:
    for country in COUNTRIES:
        g = text("child_safety", country)
        assert "Please don't send the images to this bot or to the moderators." in g
        rest = g.replace("Please don't send the images to this bot or to the moderators.", "")
        rest = rest.lower()
        for phrase in ("send us", "send it to", "send them to", "upload", "attach", "paste"):
            assert phrase not in rest, (country, phrase)


def test_child_safety_unknown_country() -> None:
    for country in (None, "XX"):
        g = text("child_safety", country).replace("116 111", "")  # EU child helpline number
        assert "your local emergency number" in g and "112 in the EU" in g
        assert "INHOPE" in g
        for number in ("999", "911", "000", "111", "110"):
            assert not re.search(rf"(?<!\d){number}(?!\d)", g), number
        assert "Report Message" in g
        assert "Do not download, screenshot, save or share" in g


def test_child_safety_non_eu_uncovered_country_has_no_112() -> None:
    g = text("child_safety", "MX")
    assert "your local emergency number" in g and "112" not in g


def test_child_safety_eu_uncovered_country_gets_112() -> None:
    g = build_guidance(DIRECTORY, "child_safety", "SK")
    assert "call 112" in g.render()
    assert "int-112" in g.entry_ids


def test_child_safety_police_channel_only_when_national() -> None:
    for country in ("DE", "ES", "IN", "JP", None):
        g = text("child_safety", country)
        assert "Virtual Global Taskforce" not in g, country
        assert "**If someone is grooming or pressuring a child:**" not in g, country
    assert "Disque 100" in text("child_safety", "BR")
    assert "politie" in text("child_safety", "NL")


def test_child_safety_brazil_has_no_unverified_190() -> None:
    g = text("child_safety", "BR")
    assert "190" not in g and "your local emergency number" in g
    assert "SaferNet" in g


# --------------------------------------------------------------------------- other reasons


def test_self_harm_us() -> None:
    g = text("self_harm", "US")
    assert "988" in g and "911" in g
    assert index(g, "911") < index(g, "988")
    assert "741741" in g


def test_crisis_text_line_only_in_us() -> None:
    for country in COUNTRIES:
        if country != "US":
            assert "741741" not in text("self_harm", country), country


def test_self_harm_gb_young_people() -> None:
    g = text("self_harm", "GB")
    assert "Samaritans" in g and "116 123" in g
    assert "Childline" in g
    assert "NSPCC Helpline" not in g  # for adults worried about a child, not for young people


def test_child_safety_talk_line_prefers_young_people_helpline() -> None:
    g = text("child_safety", "NL")
    assert "Kindertelefoon" in g and "Veilig Thuis" not in g


def test_self_harm_unknown_country() -> None:
    g = text("self_harm", None)
    assert "your local emergency number" in g
    assert "<https://findahelpline.com>" in g


def test_violent_threat() -> None:
    g = text("violent_threat", "AU")
    assert "000" in g and "Report Message" in g
    assert index(g, "000") < index(g, "Report Message")


def test_scam_uses_country_cybercrime_entry() -> None:
    g = build_guidance(DIRECTORY, "scam", "GB")
    assert "Report Fraud" in g.render() and "gb-report-fraud" in g.entry_ids
    assert "Report Message" in text("scam", "US")  # no verified US cybercrime entry


@pytest.mark.parametrize(
    "reason", ["harassment", "hate", "sexual_content", "spam", "impersonation", "other"]
)
def test_other_reasons_route_to_discord(reason: str) -> None:
    g = build_guidance(DIRECTORY, reason, "GB")
    assert "Report Message" in g.render()
    assert "discord-report-message" in g.entry_ids


def test_unknown_reason_falls_back_to_other() -> None:
    assert build_guidance(DIRECTORY, "nonsense", "GB") == build_guidance(DIRECTORY, "other", "GB")


# --------------------------------------------------------------------------- rules for every combo


def all_guidance() -> list[tuple[str, Guidance]]:
    out = [
        (f"{reason}/{country}", build_guidance(DIRECTORY, reason, country))
        for reason in REASONS
        for country in COUNTRIES
    ]
    out += [(f"overview/{c}", hotlines_overview(DIRECTORY, c)) for c in COUNTRIES]
    return out


@pytest.mark.parametrize(("name", "guidance"), all_guidance())
def test_rules_hold_for_every_combination(name: str, guidance: Guidance) -> None:
    rendered = guidance.render()
    assert len(rendered) <= MAX_CHARS, f"{name}: {len(rendered)} chars"
    assert "@everyone" not in rendered and "@here" not in rendered
    for match in URL_RE.finditer(rendered):
        start, end = match.span()
        assert rendered[start - 1 : start] == "<" and rendered[end : end + 1] == ">", (
            f"{name}: URL not wrapped in <>: {match.group()}"
        )
        assert match.group().startswith("https://"), name
    assert not URGING_RE.search(rendered), f"{name}: urges others to report"
    for line in guidance.lines:
        assert len(line) <= 300, f"{name}: line too long: {line}"
    for entry_id in guidance.entry_ids:
        entry = DIRECTORY.get(entry_id)
        assert entry is not None, f"{name}: cites unknown entry {entry_id}"
        if entry.url:
            assert f"<{entry.url}>" in rendered


def test_every_cited_url_is_from_a_cited_entry() -> None:
    for name, g in all_guidance():
        entries = [DIRECTORY.get(i) for i in g.entry_ids]
        cited = {e.url for e in entries if e is not None}
        for url in URL_RE.findall(g.render()):
            assert url in cited, f"{name}: {url} not from a cited entry"


def test_critical_guidance_fits_for_covered_countries() -> None:
    for country in (c.code for c in DIRECTORY.countries() if c.covered):
        for reason in ("child_safety", "self_harm", "violent_threat"):
            g = build_guidance(DIRECTORY, reason, country)
            # nothing required was dropped to fit the limit
            assert len(g.render()) < MAX_CHARS - 200, (reason, country)


# --------------------------------------------------------------------------- overview


def test_overview_gb_groups_by_category() -> None:
    g = hotlines_overview(DIRECTORY, "gb")
    rendered = g.render()
    assert "United Kingdom" in g.headline
    assert index(rendered, "999") < index(rendered, "IWF") < index(rendered, "Samaritans")
    assert "Report Fraud" in rendered and "Discord" in rendered
    assert "2026-11-28" in rendered


def test_overview_uncovered_country_says_international() -> None:
    g = hotlines_overview(DIRECTORY, "MX").render()
    assert "Mexico" in g and "international" in g
    assert "112" not in g


# --------------------------------------------------------------------------- localisation


def test_locale_falls_back_to_english() -> None:
    en = build_guidance(DIRECTORY, "child_safety", "GB")
    assert build_guidance(DIRECTORY, "child_safety", "GB", locale="xx") == en


def test_translations_can_override_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guidance reads the one catalogue (core.i18n); a key missing in a language is English."""
    shipped = i18n.catalogue()
    partial = i18n.Catalogue(
        {**shipped.messages, "de": {"headline.default": "**Danke für deine Meldung.**"}}
    )
    monkeypatch.setattr(i18n, "catalogue", lambda: partial)
    g = build_guidance(DIRECTORY, "spam", "DE", locale="de")
    assert g.headline == "**Danke für deine Meldung.**"
    assert "Report Message" in g.render()  # missing keys fall back to English


def test_message_placeholders_are_named() -> None:
    for key, template in i18n.catalogue().messages["en"].items():
        assert "{}" not in template, key
    assert t("emergency.child", number="999") == "**If a child is in danger right now, call 999.**"


# ------------------------------------------------------------------ FACTS-MORE.md countries

MORE = ["PL", "PH", "TR", "JP", "KR", "UA", "AR", "AT", "CH", "BE", "PT", "NO", "DK", "FI", "CZ"]
MORE += ["RO", "SG"]
CRITICAL = ("child_safety", "self_harm", "violent_threat")
LOCALES = ("en", "de", "fr", "es-ES", "pt-BR")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", CRITICAL)
@pytest.mark.parametrize("country", MORE)
def test_new_country_critical_guidance(country: str, reason: str, locale: str) -> None:
    g = build_guidance(DIRECTORY, reason, country, locale)
    rendered = g.render()
    assert len(rendered) < MAX_CHARS - 200, len(rendered)  # nothing had to be dropped
    number = DIRECTORY.emergency_number(country)
    assert number is not None
    first_number = number.split(" or ")[0]
    assert first_number in g.lines[0], g.lines[0]  # the emergency number comes first
    cited = [e for i in g.entry_ids if (e := DIRECTORY.get(i)) is not None]
    assert len(cited) == len(g.entry_ids)
    # NCMEC's CyberTipline takes reports from anywhere (FACTS.md section 7): offered where a
    # country has no child-abuse-image hotline of its own.
    anywhere = {"us-ncmec-cybertipline"}
    assert all(e.country in (country, "INT") or e.id in anywhere for e in cited), (
        country,
        g.entry_ids,
    )
    own = [e for e in cited if e.country == country]
    if reason == "child_safety":
        reporting = {Category.CSAM_REPORT, Category.CHILD_EXPLOITATION}
        assert any(e.categories & reporting for e in own), (country, g.entry_ids)
    if reason == "self_harm" and DIRECTORY.entries(country, Category.CRISIS)[0].country == country:
        assert any(e.has(Category.CRISIS) for e in own), (country, g.entry_ids)


def test_ukraine_shows_102_before_112() -> None:
    for g in (text("child_safety", "UA"), text("self_harm", "UA"), text("violent_threat", "UA")):
        assert index(g, "102") < index(g, "112")
    overview = hotlines_overview(DIRECTORY, "UA").render()
    assert index(overview, "102") < index(overview, "112")


@pytest.mark.parametrize("locale", LOCALES)
def test_korea_and_singapore_reports_are_shown_as_not_anonymous(locale: str) -> None:
    not_anonymous = t("entry.not_anonymous", locale)
    sg = build_guidance(DIRECTORY, "child_safety", "SG", locale).render()
    assert "Online Safety Commission" in sg
    line = next(ln for ln in sg.splitlines() if "Online Safety Commission" in ln)
    assert not_anonymous in line
    kr = build_guidance(DIRECTORY, "child_safety", "KR", locale).render()
    line = next(ln for ln in kr.splitlines() if "ECRM" in ln)
    assert not_anonymous in line
    for code, name in (("SG", "Online Safety Commission"), ("KR", "ECRM")):
        ov = hotlines_overview(DIRECTORY, code, locale).render()
        assert not_anonymous in next(ln for ln in ov.splitlines() if name in ln)


@pytest.mark.parametrize("locale", LOCALES)
def test_romania_form_is_shown_with_the_no_upload_warning(locale: str) -> None:
    warning = t("entry.no_upload", locale)
    for g in (
        build_guidance(DIRECTORY, "child_safety", "RO", locale),
        hotlines_overview(DIRECTORY, "RO", locale),
    ):
        line = next(ln for ln in g.lines if "esc_ABUZ" in ln)
        assert warning in line
    assert "never" in t("entry.no_upload").casefold()


def test_name_only_channels_say_to_look_them_up() -> None:
    for code, name in (("CZ", "STOPonline.cz"), ("PH", "ECPAT Philippines")):
        g = text("child_safety", code)
        line = next(ln for ln in g.splitlines() if name in ln)
        assert t("entry.search") in line


def test_new_countries_leave_the_international_fallback() -> None:
    for code in MORE:
        g = hotlines_overview(DIRECTORY, code).render()
        assert "No services specific to" not in g, code
