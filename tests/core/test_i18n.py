"""The message catalogues: complete, used, consistent between languages (offline)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import discord
import pytest

from core.guidance import GUIDANCE_TITLE_KEY, build_guidance, hotlines_overview, search_countries
from core.hotlines import HotlineDirectory
from core.i18n import (
    DEFAULT_LANGUAGE,
    DISCORD_LOCALES,
    LANGUAGES,
    Catalogue,
    catalogue,
    catalogue_locale,
    country_name,
    tr,
)
from core.policy import RefusalCode, refuse
from core.reasons import Reason

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("core", "ui", "cogs", "dashboard")
TEMPLATE_KEY = re.compile(r"""\bt\(\s*["']([a-z][a-z0-9_.]+)["']""")
DIRECTORY = HotlineDirectory.load()
CATALOGUE = catalogue()
EN_KEYS = set(CATALOGUE.messages[DEFAULT_LANGUAGE])
NAMESPACES = {key.split(".", 1)[0] for key in EN_KEYS}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

# Discord's limits for the strings that are sent in component or command payloads.
LIMITS = {
    "cmd.": 100,  # descriptions
    "reason.": 100,  # choice names and select option labels
    "modal.reason_label": 45,
    "modal.details_label": 45,
    "modal.details_description": 100,
    "modal.details_placeholder": 100,
    "modal.reason_placeholder": 150,
    "select.country": 150,
    "select.international": 100,
    # Moderator-facing components (alerts, confirmations, modals).
    "action.": 80,  # alert button labels
    "act.cancel": 80,
    "admin.erase_button": 80,
    "admin.previous": 80,
    "admin.next": 80,
    "act.note_title": 38,  # modal titles (45) with room for the case number
    "act.escalate_title": 38,
    "act.note_label": 45,
    "act.escalate_where": 45,
    "act.escalate_reference": 45,
    "act.note_placeholder": 100,
    "act.escalate_placeholder": 100,
    "act.choose_duration": 150,
    "act.dismiss_placeholder": 150,
    "duration.": 100,  # select option labels
    "dismiss.": 100,
    "escalation.": 100,
    # t15-relay: the relay's buttons, forms and the thread's name.
    "relay.answer_button": 80,
    "relay.stop_button": 80,
    "relay.details_button": 80,
    "relay.ask_title": 38,
    "relay.answer_title": 45,
    "relay.details_title": 45,
    "relay.ask_who": 45,
    "relay.ask_question": 45,
    "relay.answer_label": 45,
    "relay.details_label": 45,
    "relay.ask_help": 100,
    "relay.reporter_n": 95,  # select option labels, with the number
    "relay.dm_question_title": 256,
    "thread.name": 90,
}


def _code_keys() -> set[str]:
    """Every string literal in core/ and cogs/ that names a catalogue key."""
    found: set[str] = set()
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and KEY_RE.match(node.value)
                    and not node.value.endswith((".html", ".css", ".png"))  # dashboard files
                    and node.value.split(".", 1)[0] in NAMESPACES
                ):
                    found.add(node.value)
    # The dashboard's templates name their keys as t("dash.title").
    for path in (ROOT / "dashboard" / "templates").glob("*.html"):
        for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
            if KEY_RE.match(key) and key.split(".", 1)[0] in NAMESPACES:
                found.add(key)
    return found


CODE_KEYS = _code_keys()


def test_every_language_ships_a_catalogue() -> None:
    assert set(CATALOGUE.messages) == set(LANGUAGES)
    for language in LANGUAGES:
        assert (ROOT / "core" / "locales" / language / "LC_MESSAGES" / "vigil.po").is_file()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_is_translated(language: str) -> None:
    keys = set(CATALOGUE.messages[language])
    assert sorted(EN_KEYS - keys) == [], f"missing in {language}"
    assert sorted(keys - EN_KEYS) == [], f"not in the English catalogue ({language})"
    for key in keys:
        assert CATALOGUE.get(key, language), f"{language}: {key} is empty"


def test_every_key_used_in_the_code_exists() -> None:
    assert sorted(CODE_KEYS - EN_KEYS) == []


def test_no_unused_keys() -> None:
    assert sorted(EN_KEYS - CODE_KEYS) == []


def placeholders(template: str) -> frozenset[str]:
    """The named ``{placeholders}`` of a message."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE])
def test_placeholders_match_english(language: str) -> None:
    for key in EN_KEYS:
        english = placeholders(CATALOGUE.get(key, DEFAULT_LANGUAGE) or "")
        translated = placeholders(CATALOGUE.get(key, language) or "")
        assert translated == english, f"{language}: {key} has {translated}, English {english}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_texts_fit_discords_limits(language: str) -> None:
    for key in CATALOGUE.messages[language]:
        for prefix, limit in LIMITS.items():
            if key.startswith(prefix):
                text = CATALOGUE.get(key, language) or ""
                assert len(text) <= limit, f"{language}: {key} is {len(text)} > {limit}"


def test_every_discord_locale_maps_to_a_catalogue_or_english() -> None:
    for code in (locale.value for locale in discord.Locale):
        assert catalogue_locale(code) in LANGUAGES
    assert {code: catalogue_locale(code) for code in DISCORD_LOCALES} == {
        "en-US": "en",
        "en-GB": "en",
        "de": "de",
        "fr": "fr",
        "es-ES": "es",
        "es-419": "es_419",
        "pt-BR": "pt_BR",
    }
    assert catalogue_locale("ja") == "en" and catalogue_locale(None) == "en"
    assert catalogue_locale("xx-YY") == "en"
    assert set(DISCORD_LOCALES.values()) == set(LANGUAGES)


def test_fallback_to_english() -> None:
    assert tr("ack.saved", "ja") == tr("ack.saved", "en")
    partial = Catalogue({"en": {"a.b": "Hello {name}"}, "de": {}})
    assert partial.tr("a.b", "de", name="Ida") == "Hello Ida"
    with pytest.raises(KeyError):
        tr("no.such_key", "de")


def test_refusals_and_reasons_are_localised() -> None:
    refusal = refuse(RefusalCode.DETAILS_TOO_LONG)
    assert "1000" in refusal.message and refusal.message.startswith("Your details")
    assert refusal.localised("de").startswith("Deine Angaben") and "1000" in refusal.localised("de")
    assert refusal.localised("ko") == refusal.message
    assert Reason.SELF_HARM.label == "Self-harm or suicide risk"
    assert Reason.SELF_HARM.label_in("fr") == "Automutilation ou risque de suicide"


def test_german_child_safety_guidance_for_germany() -> None:
    text = build_guidance(DIRECTORY, "child_safety", "DE", "de").render()
    assert text.startswith("**Danke")
    assert "110 oder 112" in text
    assert text.index("110") < text.index("Internet-Beschwerdestelle")
    assert (
        "Internet-Beschwerdestelle" in text and "https://www.internet-beschwerdestelle.de" in text
    )
    assert "Screenshots" in text and "teile sie nicht" in text
    assert "Melde stattdessen den Link" in text
    assert "Nachricht melden" in text
    for english in ("Report the link", "Do not download", "If a child"):
        assert english not in text


@pytest.mark.parametrize("locale", ["de", "fr", "es-ES", "pt-BR"])
@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_translated_guidance_keeps_the_facts(locale: str, reason: str) -> None:
    """The same entries and contact details in every language: facts never change."""
    for country in ("GB", "US", "DE", "FR", "ES", "BR", None):
        en = build_guidance(DIRECTORY, reason, country)
        other = build_guidance(DIRECTORY, reason, country, locale)
        assert other.entry_ids == en.entry_ids
        urls = re.findall(r"<(https?://[^>]+)>", en.render())
        assert urls == re.findall(r"<(https?://[^>]+)>", other.render())
        assert other.render() != en.render()


def test_overview_names_the_country_in_the_readers_language() -> None:
    assert hotlines_overview(DIRECTORY, "DE", "fr").headline == "**Aide officielle – Allemagne**"
    assert (
        hotlines_overview(DIRECTORY, "GB", "en").headline == "**Official help for United Kingdom**"
    )


def test_country_names_and_search_in_the_readers_language() -> None:
    assert country_name("DE", "Germany", "de") == "Deutschland"
    assert country_name("DE", "Germany", "pt-BR") == "Alemanha"
    assert country_name("TR", "Türkiye", "en-GB") == "Türkiye"
    assert [c.code for c in search_countries(DIRECTORY, "Deutsch", "de")][:1] == ["DE"]
    assert [c.code for c in search_countries(DIRECTORY, "Espa", "es-ES")][:1] == ["ES"]
    assert [c.code for c in search_countries(DIRECTORY, "Germ", "de")][:1] == ["DE"]
    first = search_countries(DIRECTORY, "", "de", limit=3)
    assert all(c.covered for c in first)


def test_guidance_title_key() -> None:
    assert tr(GUIDANCE_TITLE_KEY, "de") == "Was du jetzt tun kannst"


def test_moderator_text_follows_the_servers_language() -> None:
    """Alerts and moderator replies use the server's locale, with the same fallback rules."""
    assert tr("alert.title", "de", number=1, name="Ida") == "Fall #1: Meldungen über Ida"
    assert tr("action.acknowledge", "de") == "Übernehmen"
    assert tr("action.acknowledge", "ko") == "Acknowledge"
    assert tr("alert.title", "fr", number=1, name="Ida").startswith("Cas #1")
