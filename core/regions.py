"""A server's region when moderators have not set one: guessed from its locale if unambiguous."""

from __future__ import annotations

# Only locales that name one country. "en-US" is Discord's default for every new server,
# so it says nothing about where a community is: it is deliberately absent.
_LOCALE_REGION: dict[str, str] = {
    "en-GB": "GB",
    "de": "DE",
    "fr": "FR",
    "nl": "NL",
    "it": "IT",
    "sv-SE": "SE",
    "pt-BR": "BR",
    "es-ES": "ES",
    "hi": "IN",
}


def region_from_locale(locale: str | None) -> str | None:
    return _LOCALE_REGION.get(locale or "")


def effective_region(configured: str | None, guild_locale: str | None) -> str | None:
    return configured or region_from_locale(guild_locale)
