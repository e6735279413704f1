"""Guidance a reporter sees after reporting: where to get official help outside the server.

All hotline facts come from :mod:`core.hotlines` (sourced, dated entries). This module only
writes the sentences around them. Wording follows the fact sheet's public guidance: emergency
number first when someone is in immediate danger; never download, screenshot, save or share
abusive images; report the link, once, to one place; you do not need to be sure; never ask the
reporter to send content to the bot or to moderators; never urge others to report.

Text is English for now. Every phrase lives in :data:`MESSAGES` under a message key with named
placeholders, so translations can be added as another locale; missing keys fall back to English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.hotlines import Category, HotlineDirectory, HotlineEntry
from core.reasons import Reason

MAX_CHARS = 1800
"""Upper bound for the whole rendered guidance (Discord's message limit is 2,000)."""

DEFAULT_LOCALE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # headlines
        "headline.child_safety": "**Thank you for telling us. You did the right thing.**",
        "headline.self_harm": "**Thank you for looking out for someone. You are not alone.**",
        "headline.violent_threat": "**Thank you for reporting this. Safety comes first.**",
        "headline.default": "**Thank you for your report.**",
        "headline.overview": "**Official help for {country}**",
        "headline.overview_unknown": "**Official help (international)**",
        # emergency
        "emergency.child": "**If a child is in danger right now, call {number}.**",
        "emergency.child_unknown": "**If a child is in danger right now, call your local "
        "emergency number.**",
        "emergency.child_unknown_eu": "**If a child is in danger right now, call your local "
        "emergency number** (112 in the EU).",
        "emergency.person": "**If someone is in danger right now, call {number}.**",
        "emergency.person_unknown": "**If someone is in danger right now, call your local "
        "emergency number.**",
        "emergency.person_unknown_eu": "**If someone is in danger right now, call your local "
        "emergency number** (112 in the EU).",
        # child safety
        "cs.warn_no_share": "**Do not download, screenshot, save or share the images.** Sharing "
        "them is a crime, even to warn others. Report the link instead.",
        "cs.no_send": "Please don't send the images to this bot or to the moderators.",
        "cs.not_sure": "You do not need to be sure. Trained people will check it.",
        "cs.hotline_one": "**Report the link to the hotline, once:**",
        "cs.hotline_many": "**Report the link to one of these hotlines, once:**",
        "cs.hotline_unknown": "**Report the link to the hotline in your country, once:**",
        "cs.police": "**If someone is grooming or pressuring a child:**",
        "cs.received": "If the images were sent to you directly, follow the hotline's or "
        "police's advice.",
        "cs.talk": "**Upset by what you saw? You can talk to someone:**",
        # self-harm
        "sh.crisis": "**You can talk to someone now:**",
        "sh.young": "**For young people:**",
        # violent threat
        "vt.police": "If the threat seems real, contact your local police.",
        # scams
        "scam.cyber": "**You can also report the scam here:**",
        # sexual content
        "sc.minor": "If anyone shown might be under 18, please report it as **Child safety** "
        "instead.",
        # Discord
        "discord.report": "**Report it to Discord:** press and hold the message (phone) or "
        "right-click it (computer), choose **Report Message**, then pick the reason. One report "
        "is enough.",
        "discord.report_also": "You can also report the message to Discord: press and hold it "
        "(phone) or right-click it (computer), then choose **Report Message**.",
        "discord.safety_center": "Discord Safety Center: <{url}>",
        # entry formatting
        "entry.anonymous": "you can stay anonymous",
        "entry.not_anonymous": "not anonymous",
        "entry.inhope": "look up your country's hotline in the INHOPE network",
        "entry.incibe": "call **017** to be directed to it",
        "entry.search": "search for its official website",
        # overview
        "ov.emergency": "**Emergency:** {number}",
        "ov.emergency_unknown": "**Emergency:** your local emergency number",
        "ov.emergency_unknown_eu": "**Emergency:** your local emergency number (112 in the EU)",
        "ov.fallback": "No services specific to {country} are listed yet, so these are "
        "international.",
        "ov.section.csam_report": "**Report child sexual abuse images:**",
        "ov.section.child_exploitation": "**Grooming or exploitation of a child:**",
        "ov.section.child_helpline": "**Child helplines:**",
        "ov.section.crisis": "**Someone to talk to (crisis lines):**",
        "ov.section.cybercrime": "**Scams and online crime:**",
        "ov.section.platform": "**Discord:**",
        "ov.checked": "Checked against official sources on {date}.",
        "ov.discord_report": "- In the app: select the message, choose **Report Message**",
    },
}

_ENTRY_HINTS = {"int-inhope": "entry.inhope", "es-incibe-hotline": "entry.incibe"}

_DISCORD_REPORT_ID = "discord-report-message"
_DISCORD_SAFETY_ID = "discord-safety-center"


def t(key: str, locale: str = DEFAULT_LOCALE, **params: str) -> str:
    """The message ``key`` in ``locale`` (English if missing), with named placeholders filled."""
    template = MESSAGES.get(locale, {}).get(key) or MESSAGES[DEFAULT_LOCALE][key]
    return template.format(**params)


@dataclass(frozen=True)
class Guidance:
    headline: str
    lines: tuple[str, ...]
    entry_ids: tuple[str, ...]
    """Which directory entries were cited, in order of first appearance."""

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

    def build(self, limit: int = MAX_CHARS) -> Guidance:
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
        return Guidance(self.headline, tuple(text for _, text, _ in lines), tuple(ids))


def _contact_parts(entry: HotlineEntry) -> list[str]:
    parts: list[str] = []
    if entry.phone:
        parts.append(entry.phone)
    if entry.sms:
        parts.append(entry.sms)
    if entry.url:
        parts.append(f"<{entry.url}>")
    return parts


def _entry_line(entry: HotlineEntry, locale: str, *, show_anonymity: bool = False) -> str | None:
    """One bullet for an entry, or None if it has nothing a reader could act on."""
    parts = _contact_parts(entry)
    hint = _ENTRY_HINTS.get(entry.id)
    if hint:
        parts.append(t(hint, locale))
    if not parts:
        return None
    extras: list[str] = []
    if entry.phone and entry.hours and entry.hours != "online":
        extras.append(entry.hours)
    if show_anonymity and entry.anonymous is True:
        extras.append(t("entry.anonymous", locale))
    elif show_anonymity and entry.anonymous is False:
        extras.append(t("entry.not_anonymous", locale))
    line = f"- **{entry.organisation}**: " + " · ".join(parts)
    if extras:
        line += " (" + "; ".join(extras) + ")"
    return line


def _name_only_line(entry: HotlineEntry, locale: str, *, show_anonymity: bool) -> str:
    """A bullet for an entry without a verified address: its name and a neutral hint."""
    line = f"- **{entry.organisation}**: {t('entry.search', locale)}"
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
    """Emergency sentence and the entry ids it rests on. ``kind`` is "child" or "person"."""
    number = directory.emergency_number(code) if code else None
    own = directory.entries(code, Category.EMERGENCY) if code else []
    if number:
        return t(f"emergency.{kind}", locale, number=number), tuple(e.id for e in own)
    country = directory.country(code) if code else None
    if code is None or (country is not None and country.eu):
        eu_ids = tuple(e.id for e in directory.entries(None, Category.EMERGENCY))
        return t(f"emergency.{kind}_unknown_eu", locale), eu_ids
    return t(f"emergency.{kind}_unknown", locale), ()


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
    """Guidance for a reporter, for the report ``reason`` and the server's ``country``."""
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
        b.add(t("vt.police", locale))
        _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
        return b.build()

    b = _Builder(t("headline.default", locale))
    _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
    if r is Reason.SCAM and code is not None:
        own = [e for e in directory.entries(code, Category.CYBERCRIME) if e.country == code]
        if own:
            b.add(t("scam.cyber", locale), _Builder.USEFUL)
            _add_entries(b, own, locale, _Builder.USEFUL)
    if r is Reason.SEXUAL_CONTENT:
        b.add(t("sc.minor", locale))
    return b.build()


def _child_safety(directory: HotlineDirectory, code: str | None, locale: str) -> Guidance:
    b = _Builder(t("headline.child_safety", locale))
    line, ids = _emergency_line(directory, code, locale, "child")
    b.add(line, ids=ids)

    hotlines = directory.entries(code, Category.CSAM_REPORT)
    specific = bool(hotlines) and code is not None and hotlines[0].country == code
    if not specific:
        header = "cs.hotline_unknown"
    else:
        header = "cs.hotline_one" if len(hotlines) == 1 else "cs.hotline_many"
    b.add(t(header, locale))
    _add_entries(b, hotlines, locale, _Builder.REQUIRED, show_anonymity=True, name_only_ok=True)

    # Only a national police / child-protection channel; no international fallback here, so the
    # reporter is not sent to several places for the same thing.
    hotline_ids = {e.id for e in hotlines}
    police = [
        e
        for e in directory.entries(code, Category.CHILD_EXPLOITATION)
        if e.id not in hotline_ids and code is not None and e.country == code
    ]
    if police:
        b.add(t("cs.police", locale), _Builder.USEFUL)
        _add_entries(b, police, locale, _Builder.USEFUL, show_anonymity=True, name_only_ok=True)

    b.add(t("cs.warn_no_share", locale))
    b.add(t("cs.no_send", locale))
    b.add(t("cs.not_sure", locale))
    _discord_lines(b, directory, locale, also=False, priority=_Builder.REQUIRED)
    b.add(t("cs.received", locale), _Builder.OPTIONAL)

    helplines = _young_people(directory.entries(code, Category.CHILD_HELPLINE))
    lines = [ln for e in helplines[:1] if (ln := _entry_line(e, locale))]
    if lines:
        b.add(t("cs.talk", locale), _Builder.OPTIONAL)
        b.add(lines[0], _Builder.OPTIONAL, (helplines[0].id,))
    return b.build()


def _self_harm(directory: HotlineDirectory, code: str | None, locale: str) -> Guidance:
    b = _Builder(t("headline.self_harm", locale))
    line, ids = _emergency_line(directory, code, locale, "person")
    b.add(line, ids=ids)
    crisis = directory.entries(code, Category.CRISIS)
    if crisis:
        b.add(t("sh.crisis", locale))
        _add_entries(b, crisis, locale, _Builder.REQUIRED)
    young = _young_people(directory.entries(code, Category.CHILD_HELPLINE))
    young_lines = [(e, ln) for e in young if (ln := _entry_line(e, locale))]
    if young_lines:
        b.add(t("sh.young", locale), _Builder.USEFUL)
        for e, ln in young_lines:
            b.add(ln, _Builder.USEFUL, (e.id,))
    _discord_lines(b, directory, locale, also=True, priority=_Builder.USEFUL)
    return b.build()


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
        b = _Builder(t("headline.overview", locale, country=c.name))
    else:
        b = _Builder(t("headline.overview_unknown", locale))

    number = directory.emergency_number(code)
    if number:
        ids = tuple(e.id for e in directory.entries(code, Category.EMERGENCY) if e.country == code)
        if not ids and c is not None and c.eu:
            ids = tuple(e.id for e in directory.entries(code, Category.EMERGENCY))
        b.add(t("ov.emergency", locale, number=number), ids=ids)
    elif c is None or c.eu:
        ids = tuple(e.id for e in directory.entries(None, Category.EMERGENCY))
        b.add(t("ov.emergency_unknown_eu", locale), ids=ids)
    else:
        b.add(t("ov.emergency_unknown", locale))

    if c is not None and not c.covered:
        b.add(t("ov.fallback", locale, country=c.name))

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
        b.add(t(f"ov.section.{category.value}", locale), priority)
        for e, ln in lines:
            b.add(ln, priority, (e.id,))
            cited.add(e.id)

    b.add(t("ov.section.platform", locale))
    report = directory.get(_DISCORD_REPORT_ID)
    b.add(t("ov.discord_report", locale), ids=(report.id,) if report else ())
    for e in directory.platform_entries():
        if e.url:
            b.add(f"- {e.organisation}: <{e.url}>", _Builder.OPTIONAL, (e.id,))
    b.add(t("ov.checked", locale, date=directory.compiled.isoformat()), _Builder.OPTIONAL)
    return b.build()
