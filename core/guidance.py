"""Guidance a reporter sees after reporting: where to get official help outside the server.

All hotline facts come from :mod:`core.hotlines` (sourced, dated entries). This module only
writes the sentences around them. Wording follows the fact sheet's public guidance: emergency
number first when someone is in immediate danger; never download, screenshot, save or share
abusive images; report the link, once, to one place; you do not need to be sure; never ask the
reporter to send content to the bot or to moderators; never urge others to report.

Every phrase lives in the gettext catalogues (``core/locales/<lang>/LC_MESSAGES/vigil.po``, see
:mod:`core.i18n`) under a message key with named placeholders; ``locale`` is a Discord locale code
(``de``, ``pt-BR``, ...) and missing keys or languages fall back to English.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.hotlines import Category, Country, HotlineDirectory, HotlineEntry
from core.i18n import country_name, tr, tr_data, tr_name
from core.reasons import Reason

MAX_CHARS = 2600
"""Upper bound for the whole rendered guidance. It is sent as an embed description (Discord's
limit: 4,096); kept well below so a reader on a phone still finds the emergency line first and
the translated texts (longer than English) never lose a line the English keeps."""

DEFAULT_LOCALE = "en"

_ENTRY_HINTS = {
    "int-inhope": "entry.inhope",
    "es-incibe-hotline": "entry.incibe",
    # The fact sheet: both take public content only (a URL on the open web; PHAROS sends
    # private matters to a police station), so a reporter knows a Discord DM belongs elsewhere.
    "nl-offlimits-meldpunt": "entry.public_only",
    "fr-pharos": "entry.public_only",
}

_CHAT_POLICE_IDS = frozenset({"nl-politie"})
"""Police channels the fact sheet gives for abuse material seen in chat apps or social media
(not for grooming): shown under their own heading, in the sheet's words."""

_ANYWHERE_CSAM_ID = "us-ncmec-cybertipline"
"""FACTS.md section 7: NCMEC's CyberTipline takes reports from anywhere; the concrete link
beside INHOPE's directory when the reporter's country has no hotline of its own."""
_ENTRY_HINTS["ro-esc-abuz"] = "entry.no_upload"  # its form offers an upload (FACTS-MORE.md §3, §4)

_EMERGENCY_KEYS: dict[str, tuple[str, str, str]] = {
    "child": ("emergency.child", "emergency.child_unknown_eu", "emergency.child_unknown"),
    "person": ("emergency.person", "emergency.person_unknown_eu", "emergency.person_unknown"),
    # t15-welfare: said to the member at risk themselves, in a check-in.
    "self": ("checkin.emergency", "checkin.emergency_unknown_eu", "checkin.emergency_unknown"),
}

_SECTION_KEYS: dict[Category, str] = {
    Category.CSAM_REPORT: "ov.section.csam_report",
    Category.CHILD_EXPLOITATION: "ov.section.child_exploitation",
    Category.CHILD_HELPLINE: "ov.section.child_helpline",
    Category.CRISIS: "ov.section.crisis",
    Category.CYBERCRIME: "ov.section.cybercrime",
}

GUIDANCE_TITLE_KEY = "guidance.title"
"""The title of the guidance embed under a report's acknowledgement ("What you can do now")."""

_DISCORD_REPORT_ID = "discord-report-message"
_DISCORD_SAFETY_ID = "discord-safety-center"


def t(key: str, locale: str = DEFAULT_LOCALE, **params: str) -> str:
    """The message ``key`` in ``locale`` (English if missing), with named placeholders filled.

    The one translation path is :func:`core.i18n.tr`; this is its short name here."""
    return tr(key, locale, **params)


def _or(text: str, locale: str) -> str:
    """Numbers joined with "or" in the directory ("110 or 112"), with "or" in the reader's words."""
    return text.replace(" or ", f" {t('guidance.or', locale)} ")


def _phone(text: str, locale: str) -> str:
    """A phone field in the reader's words: "110 (police), 112" translated whole when the
    catalogue has it, else just its "or"."""
    translated = tr_data(text, locale)
    return translated if translated != text else _or(text, locale)


def localised_name(country: Country, locale: str = DEFAULT_LOCALE) -> str:
    """The country's name in the reader's language."""
    return country_name(country.code, country.name, locale)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, so "Osterreich" finds "Österreich" and "Mexico" finds
    "México" on any keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_countries(
    directory: HotlineDirectory, query: str, locale: str = DEFAULT_LOCALE, limit: int = 25
) -> list[Country]:
    """Countries matching ``query`` by code, name in the reader's language, English name or
    alias; best match first, sorted by the reader's names."""
    if limit <= 0:
        return []
    q = _fold(query)
    by_name = sorted(directory.countries(), key=lambda c: localised_name(c, locale).casefold())
    if not q:
        return sorted(by_name, key=lambda c: not c.covered)[:limit]
    scored: list[tuple[int, int, Country]] = []
    for position, c in enumerate(by_name):
        own = _fold(localised_name(c, locale))
        names = [own, _fold(c.name), *(_fold(a) for a in c.aliases)]
        if c.code.casefold() == q:
            rank = 0
        elif q in names:
            rank = 1
        elif own.startswith(q):
            rank = 2
        elif any(n.startswith(q) for n in names[1:]):
            rank = 3
        elif any(w.startswith(q) for n in names for w in n.split()):
            rank = 4
        elif any(q in n for n in names):
            rank = 5
        else:
            continue
        scored.append((rank, position, c))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in scored[:limit]]


def find_country(
    directory: HotlineDirectory, text: str, locale: str = DEFAULT_LOCALE
) -> Country | None:
    """A country by code, or by its exact name in the reader's language, English or an alias."""
    found = directory.country(text.strip())
    if found is not None:
        return found
    best = search_countries(directory, text, locale, limit=1)
    if best and _fold(text) in {
        _fold(localised_name(best[0], locale)),
        _fold(best[0].name),
        *(_fold(a) for a in best[0].aliases),
    }:
        return best[0]
    return None


@dataclass(frozen=True)
class Guidance:
    headline: str
    lines: tuple[str, ...]
    entry_ids: tuple[str, ...]
    """Which directory entries were cited, in order of first appearance."""
    country: str | None = None
    """The country the guidance is for (ISO code), or None for the international answer."""

    def render(self) -> str:
        return "\n".join((self.headline, *self.lines))


# --------------------------------------------------------------------------- building blocks


class _Builder:
    """Collects lines with a priority; lower-priority lines are dropped first if too long."""

    REQUIRED = 0
    USEFUL = 1
    OPTIONAL = 2

    def __init__(self, headline: str) -> None:
        self.headline = headline
        self._lines: list[tuple[int, str, tuple[str, ...]]] = []

    def add(self, text: str, priority: int = REQUIRED, ids: Iterable[str] = ()) -> None:
        self._lines.append((priority, text, tuple(ids)))

    def build(self, limit: int = MAX_CHARS, country: str | None = None) -> Guidance:
        lines = list(self._lines)

        def size(items: Sequence[tuple[int, str, tuple[str, ...]]]) -> int:
            return len(self.headline) + sum(len(text) + 1 for _, text, _ in items)

        for level in (self.OPTIONAL, self.USEFUL):
            while size(lines) > limit and any(p == level for p, _, _ in lines):
                idx = max(i for i, (p, _, _) in enumerate(lines) if p == level)
                del lines[idx]
        while size(lines) > limit and lines:
            del lines[-1]  # last resort; never reached with the shipped data (tested)
        ids: list[str] = []
        for _, _, line_ids in lines:
            ids.extend(i for i in line_ids if i not in ids)
        return Guidance(
            self.headline, tuple(text for _, text, _ in lines), tuple(ids), country=country
        )


def _contact_parts(entry: HotlineEntry, locale: str) -> list[str]:
    parts: list[str] = []
    if entry.phone:
        parts.append(_phone(entry.phone, locale))
    if entry.sms:
        parts.append(tr_data(entry.sms, locale))
    if entry.url:
        parts.append(f"<{entry.url}>")
    return parts


def _entry_line(entry: HotlineEntry, locale: str, *, show_anonymity: bool = False) -> str | None:
    """One bullet for an entry, or None if it has nothing a reader could act on."""
    parts = _contact_parts(entry, locale)
    hint = _ENTRY_HINTS.get(entry.id)
    if hint:
        parts.append(t(hint, locale))
    if not parts:
        return None
    extras: list[str] = []
    if entry.phone and entry.hours and entry.hours != "online":
        extras.append(tr_data(entry.hours, locale))
    if show_anonymity and entry.anonymous is True:
        extras.append(t("entry.anonymous", locale))
    elif show_anonymity and entry.anonymous is False:
        extras.append(t("entry.not_anonymous", locale))
    line = f"- **{tr_name(entry.organisation, locale)}**: " + " · ".join(parts)
    if extras:
        line += " (" + "; ".join(extras) + ")"
    return line


def _name_only_line(entry: HotlineEntry, locale: str, *, show_anonymity: bool) -> str:
    """A bullet for an entry without a verified address: its name and a neutral hint."""
    line = f"- **{tr_name(entry.organisation, locale)}**: {t('entry.search', locale)}"
    if show_anonymity and entry.anonymous is True:
        line += f" ({t('entry.anonymous', locale)})"
    return line


def _add_entries(
    b: _Builder,
    entries: Sequence[HotlineEntry],
    locale: str,
    priority: int,
    *,
    show_anonymity: bool = False,
    name_only_ok: bool = False,
) -> int:
    added = 0
    for entry in entries:
        line = _entry_line(entry, locale, show_anonymity=show_anonymity)
        if line is None and name_only_ok:
            line = _name_only_line(entry, locale, show_anonymity=show_anonymity)
        if line is None:
            continue
        b.add(line, priority, (entry.id,))
        added += 1
    return added


def _norm_country(directory: HotlineDirectory, country: str | None) -> str | None:
    """Upper-case ISO code if the directory knows it, else None (unknown)."""
    if not country:
        return None
    c = directory.country(country)
    return c.code if c else None


def _emergency_line(
    directory: HotlineDirectory, code: str | None, locale: str, kind: str
) -> tuple[str, tuple[str, ...]]:
    """Emergency sentence and the entry ids it rests on. ``kind`` is "child", "person" or
    "self" (addressed to the person at risk)."""
    known, unknown_eu, unknown = _EMERGENCY_KEYS[kind]
    number = directory.emergency_number(code) if code else None
    own = directory.entries(code, Category.EMERGENCY) if code else []
    if number:
        return t(known, locale, number=_phone(number, locale)), tuple(e.id for e in own)
    country = directory.country(code) if code else None
    if code is None or (country is not None and country.eu):
        eu_ids = tuple(e.id for e in directory.entries(None, Category.EMERGENCY))
        return t(unknown_eu, locale), eu_ids
    return t(unknown, locale), ()


def _discord_lines(
    b: _Builder, directory: HotlineDirectory, locale: str, *, also: bool, priority: int
) -> None:
    report = directory.get(_DISCORD_REPORT_ID)
    safety = directory.get(_DISCORD_SAFETY_ID)
    key = "discord.report_also" if also else "discord.report"
    b.add(t(key, locale), priority, (report.id,) if report else ())
    if safety and safety.url:
        b.add(t("discord.safety_center", locale, url=safety.url), _Builder.OPTIONAL, (safety.id,))


def _young_people(entries: Iterable[HotlineEntry]) -> list[HotlineEntry]:
    """Helplines a young person can use; those made for young people first."""
    usable = [e for e in entries if e.audience != "adults"]
    return sorted(usable, key=lambda e: e.audience != "young_people")


def _youth_lines(entries: Iterable[HotlineEntry]) -> list[HotlineEntry]:
    """Only helplines whose source says they serve young people: an abuse-reporting line
    (Veilig Thuis, Childhelp, 119) is no place to send a young person in crisis."""
    return [e for e in entries if e.audience == "young_people"]


def _country_line(directory: HotlineDirectory, code: str | None, locale: str) -> str:
    """Which country the help is for, and how to pick another: a guess must never hide that
    the numbers above belong to one country."""
    c = directory.country(code) if code else None
    if c is None:
        return t("guidance.for_unknown", locale)
    return t("guidance.for_country", locale, country=localised_name(c, locale))


# --------------------------------------------------------------------------- public API


def _reason(reason: str | Reason) -> Reason:
    try:
        return Reason(reason)
    except ValueError:
        return Reason.OTHER


def build_guidance(
    directory: HotlineDirectory,
    reason: str | Reason,
    country: str | None,
    locale: str = DEFAULT_LOCALE,
) -> Guidance:
    """Guidance for a reporter, for the report ``reason`` and the reporter's ``country``.

    Every answer to a report carries it, whatever happened to the report (stored, refused,
    rate-limited, failed): for the critical reasons the emergency number comes first, then a
    line saying which country the help is for, so a wrong guess can be corrected at once.
    """
    r = _reason(reason)
    code = _norm_country(directory, country)

    if r is Reason.CHILD_SAFETY:
        return _child_safety(directory, code, locale)
    if r is Reason.SELF_HARM:
        return _self_harm(directory, code, locale)
    if r is Reason.VIOLENT_THREAT:
        b = _Builder(t("headline.violent_threat", locale))
        line, ids = _emergency_line(directory, code, locale, "person")
        b.add(line, ids=ids)
        b.add(_country_line(directory, code, locale))
        b.add(t("vt.police", locale))
        _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
        return b.build(country=code)

    b = _Builder(t("headline.default", locale))
    _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
    if r is Reason.SCAM and code is not None:
        own = [e for e in directory.entries(code, Category.CYBERCRIME) if e.country == code]
        if own:
            b.add(t("scam.cyber", locale), _Builder.USEFUL)
            _add_entries(b, own, locale, _Builder.USEFUL)
    if r is Reason.SEXUAL_CONTENT:
        b.add(t("sc.minor", locale))
    b.add(_country_line(directory, code, locale))
    return b.build(country=code)


def build_self_support(
    directory: HotlineDirectory, country: str | None, locale: str = DEFAULT_LOCALE
) -> Guidance:
    """Crisis support for a member who reported themselves for self-harm: a cry for help,
    never a refusal. The emergency number first, then the crisis lines and youth lines."""
    code = _norm_country(directory, country)
    b = _Builder(t("headline.self_support", locale))
    line, ids = _emergency_line(directory, code, locale, "person")
    b.add(line, ids=ids)
    b.add(_country_line(directory, code, locale))
    crisis = directory.entries(code, Category.CRISIS)
    if crisis:
        b.add(t("sh.crisis", locale))
        _add_entries(b, crisis, locale, _Builder.REQUIRED)
    young = [
        (e, ln)
        for e in _youth_lines(directory.entries(code, Category.CHILD_HELPLINE))
        if (ln := _entry_line(e, locale))
    ]
    if young:
        b.add(t("sh.young", locale), _Builder.USEFUL)
        for e, ln in young:
            b.add(ln, _Builder.USEFUL, (e.id,))
    b.add(t("sh.self_not_alone", locale))
    return b.build(country=code)


def build_check_in(
    directory: HotlineDirectory, country: str | None, locale: str = DEFAULT_LOCALE
) -> Guidance:
    """Who to talk to now, for a member a moderator checks in on (issue 15): the emergency
    number first, addressed to them ("if you feel you might not be safe"), which country the
    help is for, the crisis lines (Find A Helpline when the country has none or is unknown,
    FACTS.md section 7) and the lines for young people.

    Nothing else: no reporting route, no word about reports or moderators. The member was
    reported by someone worried about them and must not learn that from this message."""
    code = _norm_country(directory, country)
    b = _Builder(t("checkin.title", locale))
    line, ids = _emergency_line(directory, code, locale, "self")
    b.add(line, ids=ids)
    b.add(_country_line(directory, code, locale))
    crisis = directory.entries(code, Category.CRISIS)
    if crisis:
        b.add(t("sh.crisis", locale))
        _add_entries(b, crisis, locale, _Builder.REQUIRED)
    young = [
        (e, ln)
        for e in _youth_lines(directory.entries(code, Category.CHILD_HELPLINE))
        if (ln := _entry_line(e, locale))
    ]
    if young:
        b.add(t("sh.young", locale), _Builder.USEFUL)
        for e, ln in young:
            b.add(ln, _Builder.USEFUL, (e.id,))
    return b.build(country=code)


def _child_safety(directory: HotlineDirectory, code: str | None, locale: str) -> Guidance:
    b = _Builder(t("headline.child_safety", locale))
    line, ids = _emergency_line(directory, code, locale, "child")
    b.add(line, ids=ids)
    b.add(_country_line(directory, code, locale))

    hotlines = directory.entries(code, Category.CSAM_REPORT)
    specific = bool(hotlines) and code is not None and hotlines[0].country == code
    if not specific:
        header = "cs.hotline_unknown"
    else:
        header = "cs.hotline_one" if len(hotlines) == 1 else "cs.hotline_many"
    b.add(t(header, locale))
    _add_entries(b, hotlines, locale, _Builder.REQUIRED, show_anonymity=True, name_only_ok=True)
    # A national hotline shown by name only (its address awaits a live check) is no route a
    # reporter can follow now: the section-7 fallbacks with a link come with it.
    reachable = any(e.url or e.phone for e in hotlines)
    if specific and not reachable:
        shown = {e.id for e in hotlines}
        fallbacks = [e for e in directory.entries(None, Category.CSAM_REPORT) if e.id not in shown]
        _add_entries(b, fallbacks, locale, _Builder.REQUIRED, show_anonymity=True)
    anywhere = directory.get(_ANYWHERE_CSAM_ID)
    if (not specific or not reachable) and anywhere is not None:
        b.add(t("cs.anywhere", locale))
        _add_entries(b, [anywhere], locale, _Builder.REQUIRED, show_anonymity=True)

    # Only a national police / child-protection channel; no international fallback here, so the
    # reporter is not sent to several places for the same thing.
    hotline_ids = {e.id for e in hotlines}
    police = [
        e
        for e in directory.entries(code, Category.CHILD_EXPLOITATION)
        if e.id not in hotline_ids and code is not None and e.country == code
    ]
    chat_police = [e for e in police if e.id in _CHAT_POLICE_IDS]
    grooming_police = [e for e in police if e.id not in _CHAT_POLICE_IDS]
    if chat_police:
        b.add(t("cs.police_chat", locale), _Builder.USEFUL)
        _add_entries(b, chat_police, locale, _Builder.USEFUL, name_only_ok=True)
    if grooming_police:
        b.add(t("cs.police", locale), _Builder.USEFUL)
        _add_entries(
            b, grooming_police, locale, _Builder.USEFUL, show_anonymity=True, name_only_ok=True
        )

    b.add(t("cs.warn_no_share", locale))
    b.add(t("cs.no_send", locale))
    b.add(t("cs.no_search", locale))
    b.add(t("cs.not_sure", locale))
    b.add(t("cs.grooming_evidence", locale), _Builder.USEFUL)
    _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
    b.add(t("cs.received", locale), _Builder.OPTIONAL)

    helplines = _young_people(directory.entries(code, Category.CHILD_HELPLINE))
    lines = [ln for e in helplines[:1] if (ln := _entry_line(e, locale))]
    if lines:
        b.add(t("cs.talk", locale), _Builder.OPTIONAL)
        b.add(lines[0], _Builder.OPTIONAL, (helplines[0].id,))
    return b.build(country=code)


def _self_harm(directory: HotlineDirectory, code: str | None, locale: str) -> Guidance:
    b = _Builder(t("headline.self_harm", locale))
    line, ids = _emergency_line(directory, code, locale, "person")
    b.add(line, ids=ids)
    b.add(_country_line(directory, code, locale))
    crisis = directory.entries(code, Category.CRISIS)
    if crisis:
        b.add(t("sh.crisis", locale))
        _add_entries(b, crisis, locale, _Builder.REQUIRED)
    young = _youth_lines(directory.entries(code, Category.CHILD_HELPLINE))
    young_lines = [(e, ln) for e in young if (ln := _entry_line(e, locale))]
    if young_lines:
        b.add(t("sh.young", locale), _Builder.USEFUL)
        for e, ln in young_lines:
            b.add(ln, _Builder.USEFUL, (e.id,))
    _discord_lines(b, directory, locale, also=True, priority=_Builder.USEFUL)
    return b.build(country=code)


_OVERVIEW_SECTIONS = (
    Category.CSAM_REPORT,
    Category.CHILD_EXPLOITATION,
    Category.CHILD_HELPLINE,
    Category.CRISIS,
    Category.CYBERCRIME,
)


def hotlines_overview(
    directory: HotlineDirectory, country: str | None, locale: str = DEFAULT_LOCALE
) -> Guidance:
    """All official channels for ``country`` grouped by category (for the /hotlines command)."""
    code = _norm_country(directory, country)
    c = directory.country(code) if code else None
    if c is not None:
        b = _Builder(t("headline.overview", locale, country=localised_name(c, locale)))
    else:
        b = _Builder(t("headline.overview_unknown", locale))

    number = directory.emergency_number(code)
    if number:
        ids = tuple(e.id for e in directory.entries(code, Category.EMERGENCY) if e.country == code)
        if not ids and c is not None and c.eu:
            ids = tuple(e.id for e in directory.entries(code, Category.EMERGENCY))
        b.add(t("ov.emergency", locale, number=_phone(number, locale)), ids=ids)
    elif c is None or c.eu:
        ids = tuple(e.id for e in directory.entries(None, Category.EMERGENCY))
        b.add(t("ov.emergency_unknown_eu", locale), ids=ids)
    else:
        b.add(t("ov.emergency_unknown", locale))

    b.add(_country_line(directory, code, locale))
    if c is not None and not c.covered:
        b.add(t("ov.fallback", locale, country=localised_name(c, locale)))

    cited: set[str] = set()
    for category in _OVERVIEW_SECTIONS:
        entries = [e for e in directory.entries(code, category) if e.id not in cited]
        safety_related = category in (Category.CSAM_REPORT, Category.CHILD_EXPLOITATION)
        lines = [
            (e, ln)
            for e in entries
            if (ln := _entry_line(e, locale, show_anonymity=safety_related))
            or (
                safety_related
                and e.country == code
                and (ln := _name_only_line(e, locale, show_anonymity=True))
            )
        ]
        if not lines:
            continue
        priority = _Builder.REQUIRED if safety_related else _Builder.USEFUL
        b.add(t(_SECTION_KEYS[category], locale), priority)
        for e, ln in lines:
            b.add(ln, priority, (e.id,))
            cited.add(e.id)
        anywhere = directory.get(_ANYWHERE_CSAM_ID)
        if (
            category is Category.CSAM_REPORT
            and anywhere is not None
            and all(e.country != code for e, _ in lines)
        ):
            anywhere_line = _entry_line(anywhere, locale, show_anonymity=True)
            if anywhere_line:
                b.add(t("cs.anywhere", locale), priority)
                b.add(anywhere_line, priority, (anywhere.id,))
                cited.add(anywhere.id)

    b.add(t("ov.section.platform", locale))
    report = directory.get(_DISCORD_REPORT_ID)
    b.add(t("ov.discord_report", locale), ids=(report.id,) if report else ())
    for e in directory.platform_entries():
        if e.url:
            b.add(f"- {tr_name(e.organisation, locale)}: <{e.url}>", _Builder.OPTIONAL, (e.id,))
    b.add(t("ov.checked", locale, date=directory.compiled.isoformat()), _Builder.OPTIONAL)
    return b.build(country=code)
