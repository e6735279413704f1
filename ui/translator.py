"""Command descriptions and choice names in Discord's languages, from the same catalogues.

Strings that should be localised are ``locale_str`` with a ``key`` extra (see :func:`L`): the
English text (the catalogue's) is what Discord shows by default, and on sync discord.py asks
:class:`VigilTranslator` for every other locale, which fills ``description_localizations`` and
``name_localizations``. Command and option names have no key, so they stay English: they are
the public contract.
"""

from __future__ import annotations

import discord
from discord import app_commands

from core.i18n import DEFAULT_LANGUAGE, DISCORD_LOCALES, FALLBACKS, catalogue, tr


def L(key: str) -> app_commands.locale_str:
    """A translatable command string: English from the catalogue, other languages on sync."""
    return app_commands.locale_str(tr(key, DEFAULT_LANGUAGE), key=key)


class VigilTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        language = DISCORD_LOCALES.get(locale.value)
        if not isinstance(key, str) or language is None or language == DEFAULT_LANGUAGE:
            return None  # names, unknown languages and English keep the default text
        found = catalogue().get(key, language)
        if found is None and language in FALLBACKS:  # es-419 not yet translated: Spanish
            found = catalogue().get(key, FALLBACKS[language])
        return found
