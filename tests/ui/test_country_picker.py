"""The "Another country?" menu under a report's guidance: never more than Discord's 25 options,
always the country being shown, and every covered country reachable through /hotlines."""

from __future__ import annotations

import pytest

from core.country_picker import COUNTRY_SLOTS, MAX_OPTIONS, picker_countries
from core.guidance import localised_name
from core.hotlines import INTERNATIONAL, HotlineDirectory
from ui.country_menu import country_choices, country_options

DIRECTORY = HotlineDirectory.load()
COVERED = [c for c in DIRECTORY.countries() if c.covered]
DISCORD_LOCALES = [
    "id",
    "da",
    "de",
    "en-GB",
    "en-US",
    "es-ES",
    "es-419",
    "fr",
    "hr",
    "it",
    "lt",
    "hu",
    "nl",
    "no",
    "pl",
    "pt-BR",
    "ro",
    "fi",
    "sv-SE",
    "vi",
    "tr",
    "cs",
    "el",
    "bg",
    "ru",
    "uk",
    "hi",
    "th",
    "zh-CN",
    "ja",
    "zh-TW",
    "ko",
]
SHOWN: list[str | None] = [None, "XX", *(c.code for c in DIRECTORY.countries())]


def test_more_countries_are_covered_than_a_menu_can_hold() -> None:
    # The reason this module exists; if it stops being true the menu could list them all.
    assert len(COVERED) + 1 > MAX_OPTIONS


@pytest.mark.parametrize("locale", DISCORD_LOCALES)
def test_menu_never_exceeds_25_and_always_holds_the_country_shown(locale: str) -> None:
    for shown in SHOWN:
        code, options = country_options(DIRECTORY, shown, locale)
        values = [o.value for o in options]
        assert len(options) <= MAX_OPTIONS, (shown, locale)
        assert len(values) == len(set(values)), (shown, locale)
        assert values[-1] == INTERNATIONAL  # the international help is always offered
        defaults = [o.value for o in options if o.default]
        current = DIRECTORY.country(shown) if shown else None
        if current is not None:
            assert code == current.code and defaults == [current.code], (shown, locale)
        else:
            assert code == INTERNATIONAL and defaults == [INTERNATIONAL], (shown, locale)
        labels = [o.label for o in options[:-1]]
        assert labels == sorted(labels, key=str.casefold)  # sorted in the reader's names
        assert all(len(o.label) <= 100 for o in options)


def test_reader_language_and_region_come_first() -> None:
    de = {c.code for c in picker_countries(DIRECTORY, DIRECTORY.country("DE"), "de")}
    assert {"DE", "AT", "CH"} <= de
    assert {"GB", "FR", "PL", "UA", "RO"} <= de  # Europe before other regions
    es = {c.code for c in picker_countries(DIRECTORY, DIRECTORY.country("AR"), "es-419")}
    assert {"AR", "ES", "US", "BR"} <= es
    ja = {c.code for c in picker_countries(DIRECTORY, None, "ja")}
    assert "JP" in ja
    en = {c.code for c in picker_countries(DIRECTORY, None, "en-US")}
    assert {"US", "GB", "CA", "AU", "IE", "NZ", "IN", "PH", "SG"} <= en


def test_uncovered_country_shown_is_still_in_the_menu() -> None:
    mx = DIRECTORY.country("MX")
    assert mx is not None and not mx.covered
    picked = picker_countries(DIRECTORY, mx, "en-US")
    assert picked[0] == mx and len(picked) == COUNTRY_SLOTS


@pytest.mark.parametrize("locale", ["en-US", "de", "fr", "es-ES", "es-419", "pt-BR", "pl", "ja"])
def test_every_covered_country_autocompletes_in_the_readers_language(locale: str) -> None:
    for c in COVERED:
        name = localised_name(c, locale)
        choices = country_choices(DIRECTORY, name, locale)
        assert 0 < len(choices) <= MAX_OPTIONS
        assert choices[0].value == c.code, (locale, name, [ch.value for ch in choices])
        assert choices[0].name.startswith(name)


@pytest.mark.parametrize(
    ("typed", "locale", "code"),
    [
        ("Polska", "en-US", "PL"),
        ("Mexico", "es-419", "MX"),  # without the accent
        ("Osterreich", "de", "AT"),
        ("Turkiye", "en-US", "TR"),
        ("Cesko", "en-US", "CZ"),
        ("Belgie", "nl", "BE"),
    ],
)
def test_autocomplete_ignores_accents(typed: str, locale: str, code: str) -> None:
    assert country_choices(DIRECTORY, typed, locale)[0].value == code
