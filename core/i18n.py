"""Member-facing text in the reader's language: gettext catalogues read with Babel.

The catalogues live in ``core/locales/<lang>/LC_MESSAGES/vigil.po``. Each ``msgid`` is a stable
key (``ack.received``), each ``msgstr`` the text with named ``{placeholders}``. The English
catalogue is the source of truth; every other language falls back to it, key by key, and an
unknown locale falls back to English as a whole. The .po files are read as they are (no compile
step) once, into an immutable :class:`Catalogue`.

Texts from the hotline directory (``core/hotlines.json``: opening hours, SMS instructions, the
description in brackets after a service's name) are translated by their English text: entries
with ``msgctxt "data"`` whose ``msgid`` is the English text (:func:`tr_data`). The same phrase
("24/7, free") is translated once for every entry that uses it; a phrase without a translation
is shown in English, as the directory has it. Service names stay as the organisation writes them.

Discord names languages with its own locale codes (``es-ES``, ``pt-BR``, ``en-GB``);
:func:`catalogue_locale` maps them to a catalogue. No discord import here: the cogs pass
``str(interaction.locale)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

DOMAIN = "vigil"
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "es_419", "pt_BR")
"""The catalogues Vigil ships, English first."""

DISCORD_LOCALES: Mapping[str, str] = MappingProxyType(
    {
        "en-US": "en",
        "en-GB": "en",
        "de": "de",
        "fr": "fr",
        "es-ES": "es",
        "es-419": "es_419",
        "pt-BR": "pt_BR",
    }
)
"""Discord locale code -> catalogue, for every Discord locale Vigil has a catalogue for."""

FALLBACKS: Mapping[str, str] = MappingProxyType({"es_419": "es"})
"""A catalogue's closer fallback before English: a message not yet translated for Latin America
is better read in Spanish from Spain than in English (tests still require every key in each)."""


def catalogue_locale(locale: str | None) -> str:
    """The catalogue for a Discord (or catalogue) locale code; English when there is none."""
    if not locale:
        return DEFAULT_LANGUAGE
    if locale in DISCORD_LOCALES:
        return DISCORD_LOCALES[locale]
    if locale in LANGUAGES:
        return locale
    norm = locale.replace("_", "-").casefold()
    for code in LANGUAGES:
        if code.replace("_", "-").casefold() == norm:
            return code
    base = norm.split("-", 1)[0]
    for code in LANGUAGES:  # "de-AT" -> de, "es-MX" -> es, "pt-PT" -> pt_BR
        if code.split("_", 1)[0] == base:
            return code
    return DEFAULT_LANGUAGE


def _locales_dir() -> Traversable:
    return resources.files("core").joinpath("locales")


DATA_CONTEXT = "data"
"""The ``msgctxt`` of directory texts, translated by their English text (see :func:`tr_data`)."""


def _read_catalogue(source: Traversable, language: str) -> tuple[dict[str, str], dict[str, str]]:
    """(keyed messages, directory texts by English text) of one .po file."""
    with source.open("rb") as handle:
        parsed = read_po(handle, locale=language, domain=DOMAIN)
    messages: dict[str, str] = {}
    data: dict[str, str] = {}
    for message in parsed:
        if not message.id or message.fuzzy or not isinstance(message.id, str):
            continue
        if not isinstance(message.string, str) or not message.string:
            continue
        if message.context == DATA_CONTEXT:
            data[message.id] = message.string
        elif message.context is None:
            messages[message.id] = message.string
    return messages, data


@dataclass(frozen=True)
class Catalogue:
    """All languages' messages, immutable. ``tr`` is the only way text leaves it."""

    messages: Mapping[str, Mapping[str, str]]
    data: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    """Directory texts by language, then by English text (``msgctxt "data"`` entries)."""

    @classmethod
    def load(cls, directory: Traversable | None = None) -> Catalogue:
        """Read ``<directory>/<lang>/LC_MESSAGES/vigil.po`` for every shipped language."""
        root = directory or _locales_dir()
        loaded: dict[str, Mapping[str, str]] = {}
        data: dict[str, Mapping[str, str]] = {}
        for language in LANGUAGES:
            source = root.joinpath(language, "LC_MESSAGES", f"{DOMAIN}.po")
            if not source.is_file():
                if language == DEFAULT_LANGUAGE:
                    raise ValueError(f"the English catalogue is missing: {source}")
                continue
            messages, texts = _read_catalogue(source, language)
            loaded[language] = MappingProxyType(messages)
            data[language] = MappingProxyType(texts)
        return cls(MappingProxyType(loaded), MappingProxyType(data))

    def get(self, key: str, language: str) -> str | None:
        """The untranslated template of ``key`` in exactly ``language``, or None."""
        return self.messages.get(language, {}).get(key)

    def template(self, key: str, locale: str | None = None) -> str:
        """The template for ``key`` in ``locale``'s catalogue, else English.

        Raises KeyError for a key the English catalogue does not have (a programming error,
        caught by tests/core/test_i18n.py).
        """
        language = catalogue_locale(locale)
        found = self.get(key, language)
        if found is None and language in FALLBACKS:
            found = self.get(key, FALLBACKS[language])
        if found is None:
            found = self.messages[DEFAULT_LANGUAGE][key]
        return found

    def tr(self, key: str, locale: str | None = None, **params: object) -> str:
        return self.template(key, locale).format(**params)

    def data_text(self, english: str, language: str) -> str | None:
        """The translation of the directory text ``english`` in exactly ``language``, or None."""
        return self.data.get(language, {}).get(english)

    def tr_data(self, english: str, locale: str | None = None) -> str:
        """A directory text in ``locale``'s language; the English text itself when untranslated."""
        language = catalogue_locale(locale)
        if language == DEFAULT_LANGUAGE:
            return english
        found = self.data_text(english, language)
        if found is None and language in FALLBACKS:
            found = self.data_text(english, FALLBACKS[language])
        return found or english

    def tr_name(self, name: str, locale: str | None = None) -> str:
        """A service's name as the organisation writes it, with its description translated.

        A name that is itself a description ("EU emergency number") is translated whole; in
        "PHAROS (Ministry of the Interior)" the name stays and the part in brackets is
        translated. Anything without a translation stays as written.
        """
        whole = self.tr_data(name, locale)
        if whole != name:
            return whole
        match = _BRACKETED.fullmatch(name)
        if match is None:
            return name
        head, gloss = match.group(1), match.group(2)
        return f"{self.tr_data(head, locale)} ({self.tr_data(gloss, locale)})"

    def __iter__(self) -> Iterator[str]:
        return iter(self.messages)


_BRACKETED = re.compile(r"(.+?) \(([^()]+)\)")
"""A name followed by a description in brackets: "PHAROS (Ministry of the Interior)"."""


@functools.cache
def catalogue() -> Catalogue:
    """The shipped catalogue, loaded once."""
    return Catalogue.load()


def tr(key: str, locale: str | None = None, **params: object) -> str:
    """The message ``key`` for ``locale`` (a Discord locale code), English if missing."""
    return catalogue().tr(key, locale, **params)


def tr_data(english: str, locale: str | None = None) -> str:
    """A directory text (hours, SMS instructions, a description) for ``locale``, else English."""
    return catalogue().tr_data(english, locale)


def tr_name(name: str, locale: str | None = None) -> str:
    """A service's name for ``locale``: the name as written, its description translated."""
    return catalogue().tr_name(name, locale)


@functools.cache
def _babel_locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


def country_name(code: str, english_name: str, locale: str | None) -> str:
    """A country's name in the reader's language (Babel's CLDR territory names).

    English keeps the directory's own name (as the fact sheet spells it).
    """
    language = catalogue_locale(locale)
    if language == DEFAULT_LANGUAGE:
        return english_name
    babel_locale = _babel_locale(language)
    if babel_locale is None:
        return english_name
    name = babel_locale.territories.get(code.upper())
    return name if isinstance(name, str) and name else english_name


def language_name(language: str | None, locale: str | None) -> str:
    """The name of the catalogue ``language`` (a Discord locale code) is read in, in the
    reader's language (``locale``): "German", "Deutsch", "alemán"."""
    written = catalogue_locale(language)
    babel_locale = _babel_locale(written)
    reader = _babel_locale(catalogue_locale(locale))
    if babel_locale is None or reader is None:
        return written
    return babel_locale.get_display_name(reader) or written
