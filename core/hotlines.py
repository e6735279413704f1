"""Directory of official reporting channels (hotlines, helplines, emergency numbers).

The data lives in ``core/hotlines.json`` and is compiled only from the sourced fact sheets
``shared/hotlines/FACTS.md`` and ``FACTS-MORE.md``. Every entry carries its source URLs and the date
it was verified.
Entries marked ``"unverified": true`` or sourced only from a research note
(``"source_quality": "R"``) are never loaded, so they can never be shown to users.

The directory is loaded once at start-up and is immutable afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().with_name("hotlines.json")

INTERNATIONAL = "INT"
"""Pseudo country code for international fallbacks and Discord's own routes."""

EU_REGION = "EU"
"""Region marker for INT entries that apply only in EU member states (112, 116 111)."""


class Category(StrEnum):
    CSAM_REPORT = "csam_report"
    CHILD_EXPLOITATION = "child_exploitation"
    CHILD_HELPLINE = "child_helpline"
    CRISIS = "crisis"
    EMERGENCY = "emergency"
    CYBERCRIME = "cybercrime"
    PLATFORM = "platform"
    DIRECTORY = "directory"


AUDIENCES = frozenset({"young_people", "adults"})


@dataclass(frozen=True)
class HotlineEntry:
    id: str
    country: str
    organisation: str
    categories: frozenset[Category]
    url: str | None
    phone: str | None
    sms: str | None
    hours: str | None
    languages: tuple[str, ...]
    anonymous: bool | None
    notes: str
    source_urls: tuple[str, ...]
    verified: date
    region: str | None = None
    """For INT entries: the region the entry is limited to (``"EU"``), or None if worldwide."""
    audience: str | None = None
    """``"young_people"``, ``"adults"`` or None (anyone)."""

    def has(self, category: Category) -> bool:
        return category in self.categories


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    covered: bool
    """True when the directory has entries specific to this country."""
    eu: bool = False
    emergency: str | None = None
    fallback_note: str | None = None
    aliases: tuple[str, ...] = ()


# --------------------------------------------------------------------------- validation helpers


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"hotlines.json: {where}: {message}")


def _req_str(obj: dict[str, Any], key: str, where: str, *, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise _fail(where, f"'{key}' must be a non-empty string, got {value!r}")
    return value


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{key}' must be a non-empty string or null, got {value!r}")
    return value


def _str_list(obj: dict[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = obj.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, f"'{key}' must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _date(value: object, where: str, key: str) -> date:
    if not isinstance(value, str):
        raise _fail(where, f"'{key}' must be an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _fail(where, f"'{key}' is not an ISO date: {value!r}") from exc


def _parse_entry(raw: object, index: int, known_codes: set[str]) -> HotlineEntry | None:
    where = f"entries[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    entry_id = _req_str(raw, "id", where)
    where = f"entry {entry_id!r}"
    if raw.get("unverified") is True or raw.get("source_quality") == "R":
        return None  # never shown to users

    country = _req_str(raw, "country", where).upper()
    if country != INTERNATIONAL and country not in known_codes:
        raise _fail(where, f"country {country!r} is not listed in 'countries'")

    cats_raw = raw.get("categories")
    if not isinstance(cats_raw, list) or not cats_raw:
        raise _fail(where, "'categories' must be a non-empty list")
    try:
        categories = frozenset(Category(c) for c in cats_raw)
    except ValueError as exc:
        allowed = ", ".join(c.value for c in Category)
        raise _fail(where, f"unknown category in {cats_raw!r} (allowed: {allowed})") from exc

    url = _opt_str(raw, "url", where)
    if url is not None and not url.startswith("https://"):
        raise _fail(where, f"url must start with https://, got {url!r}")

    anonymous = raw.get("anonymous")
    if anonymous is not None and not isinstance(anonymous, bool):
        raise _fail(where, f"'anonymous' must be true, false or null, got {anonymous!r}")

    sources = _str_list(raw, "source_urls", where, required=True)
    if not sources:
        raise _fail(where, "'source_urls' needs at least one source")
    for src in sources:
        if not src.startswith("https://"):
            raise _fail(where, f"source url must start with https://, got {src!r}")

    region = _opt_str(raw, "region", where)
    if region is not None and (region != EU_REGION or country != INTERNATIONAL):
        raise _fail(where, "'region' may only be 'EU', and only on INT entries")

    audience = _opt_str(raw, "audience", where)
    if audience is not None and audience not in AUDIENCES:
        raise _fail(where, f"'audience' must be one of {sorted(AUDIENCES)}, got {audience!r}")

    notes = raw.get("notes", "")
    if not isinstance(notes, str):
        raise _fail(where, "'notes' must be a string")

    return HotlineEntry(
        id=entry_id,
        country=country,
        organisation=_req_str(raw, "organisation", where),
        categories=categories,
        url=url,
        phone=_opt_str(raw, "phone", where),
        sms=_opt_str(raw, "sms", where),
        hours=_opt_str(raw, "hours", where),
        languages=_str_list(raw, "languages", where, required=False),
        anonymous=anonymous,
        notes=notes,
        source_urls=sources,
        verified=_date(raw.get("verified"), where, "verified"),
        region=region,
        audience=audience,
    )


def _parse_country(
    code: object, raw: object
) -> tuple[str, str, bool, str | None, str | None, tuple[str, ...]]:
    if not isinstance(code, str) or len(code) != 2 or not code.isalpha() or not code.isupper():
        raise _fail("countries", f"key {code!r} is not an upper-case ISO 3166-1 alpha-2 code")
    where = f"countries[{code}]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    name = _req_str(raw, "name", where)
    eu = raw.get("eu", False)
    if not isinstance(eu, bool):
        raise _fail(where, "'eu' must be true or false")
    emergency = _opt_str(raw, "emergency", where)
    note = _opt_str(raw, "fallback_note", where)
    aliases = _str_list(raw, "aliases", where, required=False)
    return name, code, eu, emergency, note, aliases


# --------------------------------------------------------------------------- the directory

#: Resolved path -> (text, directory): the last directory this process loaded from that file.
_LOADED: dict[str, tuple[str, HotlineDirectory]] = {}


class HotlineDirectory:
    """Immutable, validated view of ``hotlines.json``."""

    def __init__(
        self,
        compiled: date,
        countries: dict[str, Country],
        entries: tuple[HotlineEntry, ...],
    ) -> None:
        self._compiled = compiled
        self._countries = dict(countries)
        self._entries = entries
        self._by_id = {e.id: e for e in entries}
        self._sorted_countries = sorted(self._countries.values(), key=lambda c: c.name.casefold())

    # ----------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: Path | None = None) -> HotlineDirectory:
        """Load and validate the directory. Raises ValueError with a clear message if malformed.

        A file whose text this process has already loaded is not parsed again (the file is
        still read and compared): the directory is immutable, and each bot forked by the test
        suite's fork server would otherwise parse and validate all of it at start (the server
        loads it once, before forking).
        """
        path = path or DEFAULT_PATH
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"hotlines.json: cannot read {path}: {exc}") from exc
        where = str(path.resolve())
        loaded = _LOADED.get(where)
        if loaded is not None and loaded[0] == text:
            return loaded[1]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"hotlines.json: {path} is not valid JSON: {exc}") from exc
        directory = cls.from_data(data)
        _LOADED[where] = (text, directory)
        return directory

    @classmethod
    def from_data(cls, data: object) -> HotlineDirectory:
        if not isinstance(data, dict):
            raise _fail("top level", "must be an object")
        compiled = _date(data.get("compiled"), "top level", "compiled")

        raw_countries = data.get("countries")
        if not isinstance(raw_countries, dict) or not raw_countries:
            raise _fail("top level", "'countries' must be a non-empty object")
        parsed = [_parse_country(code, raw) for code, raw in raw_countries.items()]

        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list) or not raw_entries:
            raise _fail("top level", "'entries' must be a non-empty list")
        known = {code for _, code, *_ in parsed}
        loaded = [_parse_entry(raw, i, known) for i, raw in enumerate(raw_entries)]
        entries = tuple(e for e in loaded if e is not None)

        seen_ids: set[str] = set()
        seen_keys: set[tuple[str, str, Category]] = set()
        for entry in entries:
            if entry.id in seen_ids:
                raise _fail(f"entry {entry.id!r}", "duplicate id")
            seen_ids.add(entry.id)
            for cat in entry.categories:
                key = (entry.country, entry.organisation.casefold(), cat)
                if key in seen_keys:
                    raise _fail(
                        f"entry {entry.id!r}",
                        f"duplicate ({entry.country}, {entry.organisation}, {cat}) entry",
                    )
                seen_keys.add(key)

        covered = {e.country for e in entries}
        countries = {
            code: Country(
                code=code,
                name=name,
                covered=code in covered,
                eu=eu,
                emergency=emergency,
                fallback_note=note,
                aliases=aliases,
            )
            for name, code, eu, emergency, note, aliases in parsed
        }
        return cls(compiled, countries, entries)

    # ----------------------------------------------------------------- queries

    @property
    def compiled(self) -> date:
        return self._compiled

    @staticmethod
    def _norm(code: str | None) -> str | None:
        if code is None:
            return None
        code = code.strip().upper()
        return code or None

    def country(self, code: str) -> Country | None:
        norm = self._norm(code)
        return self._countries.get(norm) if norm else None

    def countries(self) -> list[Country]:
        return list(self._sorted_countries)

    def get(self, entry_id: str) -> HotlineEntry | None:
        return self._by_id.get(entry_id)

    def _is_eu(self, code: str | None) -> bool:
        c = self._countries.get(code) if code else None
        return bool(c and c.eu)

    def entries(self, country: str | None, category: Category) -> list[HotlineEntry]:
        """Entries for ``category``: the country's own first; INT fallbacks if it has none.

        INT entries limited to the EU (112, 116 111) are only used for EU member states and for
        an unknown country (``None``), where they are worded as EU-only by the caller.
        """
        code = self._norm(country)
        if code == INTERNATIONAL:
            code = None
        if code is not None and code not in self._countries:
            code = None  # unknown code: treat like an unknown country
        own = [e for e in self._entries if e.country == code and e.has(category)] if code else []
        if own:
            return own
        allow_eu = code is None or self._is_eu(code)
        return [
            e
            for e in self._entries
            if e.country == INTERNATIONAL
            and e.has(category)
            and (e.region is None or (e.region == EU_REGION and allow_eu))
        ]

    def emergency_number(self, country: str | None) -> str | None:
        """The emergency number to show for ``country``, or None if not known for certain."""
        code = self._norm(country)
        c = self._countries.get(code) if code else None
        return c.emergency if c else None

    def platform_entries(self) -> list[HotlineEntry]:
        return [e for e in self._entries if e.has(Category.PLATFORM)]

    def all_entries(self) -> list[HotlineEntry]:
        return list(self._entries)
