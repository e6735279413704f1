"""Which countries the "Another country?" menu under a report's guidance offers.

Discord allows at most 25 options in a select menu, and the directory covers more countries than
that. The menu keeps one option for the international help and fills the other 24 with the
countries most likely to matter to this reader, always including the country being shown:

1. the country shown (even if the directory has no entries of its own for it);
2. covered countries where the reader's Discord language is spoken;
3. covered countries in the same part of the world as the country shown;
4. the other covered countries, in the order the fact sheets list them (the sheets were compiled
   in order of need).

The options are then shown sorted by the reader's own country names. Every country with an entry
stays reachable through ``/hotlines``, which autocompletes any of them.

The language and region tables below only rank countries in a menu; they carry no hotline facts.
"""

from __future__ import annotations

from core.hotlines import Country, HotlineDirectory

MAX_OPTIONS = 25
"""Discord's limit for a select menu's options."""

COUNTRY_SLOTS = MAX_OPTIONS - 1
"""One option is kept for the international help."""

# Discord locale -> countries where that language is widely spoken.
_LANGUAGE_COUNTRIES: dict[str, frozenset[str]] = {
    "en-US": frozenset({"US", "CA", "GB", "IE", "AU", "NZ", "IN", "PH", "SG", "ZA"}),
    "en-GB": frozenset({"GB", "IE", "US", "CA", "AU", "NZ", "IN", "PH", "SG", "ZA"}),
    "de": frozenset({"DE", "AT", "CH"}),
    "fr": frozenset({"FR", "BE", "CH", "CA"}),
    "es-ES": frozenset({"ES", "MX", "AR", "CO", "CL", "PE"}),
    "es-419": frozenset({"MX", "AR", "CO", "CL", "PE", "ES"}),
    "pt-BR": frozenset({"BR", "PT"}),
    "it": frozenset({"IT", "CH"}),
    "nl": frozenset({"NL", "BE"}),
    "sv-SE": frozenset({"SE", "FI"}),
    "pl": frozenset({"PL"}),
    "ja": frozenset({"JP"}),
    "ko": frozenset({"KR"}),
    "tr": frozenset({"TR"}),
    "uk": frozenset({"UA"}),
    "da": frozenset({"DK"}),
    "fi": frozenset({"FI"}),
    "no": frozenset({"NO"}),
    "cs": frozenset({"CZ"}),
    "ro": frozenset({"RO"}),
    "hi": frozenset({"IN"}),
}

_EUROPE = frozenset(
    [
        "GB",
        "IE",
        "DE",
        "FR",
        "NL",
        "ES",
        "IT",
        "SE",
        "PL",
        "TR",
        "UA",
        "AT",
        "CH",
        "BE",
        "PT",
        "NO",
        "DK",
        "FI",
        "CZ",
        "RO",
        "BG",
        "HR",
        "CY",
        "EE",
        "GR",
        "HU",
        "LV",
        "LT",
        "LU",
        "MT",
        "SK",
        "SI",
        "IS",
        "RU",
    ]
)
_AMERICAS = frozenset(["US", "CA", "BR", "MX", "AR", "CO", "CL", "PE"])
_ASIA_PACIFIC = frozenset(
    ["AU", "NZ", "IN", "PH", "JP", "KR", "SG", "CN", "TW", "HK", "MY", "TH", "VN", "ID", "PK", "BD"]
)
_REGIONS = (_EUROPE, _AMERICAS, _ASIA_PACIFIC)


def _region(code: str | None) -> frozenset[str]:
    return next((r for r in _REGIONS if code in r), frozenset())


def _sheet_order(directory: HotlineDirectory) -> dict[str, int]:
    """Covered countries in the order their entries first appear in the directory."""
    order: dict[str, int] = {}
    for entry in directory.all_entries():
        order.setdefault(entry.country, len(order))
    return order


def picker_countries(
    directory: HotlineDirectory, current: Country | None, locale: str | None
) -> list[Country]:
    """At most :data:`COUNTRY_SLOTS` countries for the menu, most relevant first; ``current``
    (the country shown) is always the first when given."""
    language = _LANGUAGE_COUNTRIES.get(locale or "", frozenset())
    near = _region(current.code if current else None)
    order = _sheet_order(directory)
    candidates = [c for c in directory.countries() if c.covered and c != current]
    candidates.sort(
        key=lambda c: (
            c.code not in language,
            c.code not in near,
            order.get(c.code, len(order)),
        )
    )
    chosen = [current] if current is not None else []
    return [*chosen, *candidates][:COUNTRY_SLOTS]
