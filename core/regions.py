"""Which country's help a reporter sees: the server's region, else a careful guess, else none.

A guess must never put a wrong emergency number in front of someone. A server's Discord locale
says nothing about where its members are (``en-US`` is every new server's default; ``fr`` is
France and Québec and Belgium; ``en-GB`` is Australia's English too), so it is never used. The
reporter's own client language is used only where it is the national language of exactly one
country: a Japanese-speaking reporter is very likely in Japan, a French-speaking one may be
anywhere. Every other reporter gets the international answer, with the country picker, and the
guidance always says which country it is for.
"""

from __future__ import annotations

# Discord locales whose language is the national language of one country only. Absent on
# purpose: en-GB/en-US (worldwide), es-ES/es-419 (Spain and Latin America), fr (FR, BE, CH,
# CA...), de (DE, AT, CH), nl (NL, BE), it (IT, CH), pt-BR (Discord's only Portuguese: Portugal
# too), sv-SE (also Finland), el (GR, CY), tr (TR, CY), ro (RO, MD), hr (HR, BA), ru, zh-*.
_LOCALE_REGION: dict[str, str] = {
    "bg": "BG",
    "cs": "CZ",
    "da": "DK",
    "fi": "FI",
    "hi": "IN",
    "hu": "HU",
    "id": "ID",
    "ja": "JP",
    "ko": "KR",
    "lt": "LT",
    "no": "NO",
    "pl": "PL",
    "th": "TH",
    "uk": "UA",
    "vi": "VN",
}


def region_from_locale(locale: str | None) -> str | None:
    """The one country a reporter's Discord locale names, or None when it names several."""
    return _LOCALE_REGION.get(locale or "")


def effective_region(configured: str | None, reporter_locale: str | None) -> str | None:
    """The server's region when moderators set one, else the reporter's locale's country only
    when it names exactly one; None means the international answer with the picker."""
    return configured or region_from_locale(reporter_locale)
