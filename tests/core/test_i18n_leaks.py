"""No English left in a non-English answer, outside proper names (offline).

Renders, in every shipped language, every catalogue message, the guidance for every country in
the directory (and an unknown one) and every reason, every refusal, and the /hotlines overview
of every country, then looks for English word pairs taken from the English catalogue and from
the directory's English texts (hours, SMS instructions, descriptions). Proper names (the
organisations' own names, "Discord", URLs, numbers) are the only English allowed; they are
listed in ``KEPT_AS_WRITTEN`` so that a new directory entry whose name is really a description
("EU emergency number") fails here until it is translated (``msgctxt "data"`` in each .po).

Everything is iterated from the catalogues and core/hotlines.json, so new keys and new entries
are checked without changing this file.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator

import pytest

from core.guidance import build_guidance, hotlines_overview
from core.hotlines import Category, HotlineDirectory, HotlineEntry
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue, tr_data, tr_name
from core.policy import RefusalCode, refuse
from core.reasons import Reason

DIRECTORY = HotlineDirectory.load()
CATALOGUE = catalogue()
OTHER_LANGUAGES = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
EN_DATA = frozenset(CATALOGUE.data.get(DEFAULT_LANGUAGE, {}))

KEPT_AS_WRITTEN = frozenset(
    {
        # Names exactly as the organisations write them (never translated).
        "Internet Watch Foundation (IWF)",
        "CEOP Safety Centre (National Crime Agency)",
        "NSPCC Helpline",
        "Childline (NSPCC)",
        "Samaritans",
        "Report Fraud",
        "NCMEC CyberTipline",
        "988 Suicide & Crisis Lifeline",
        "Childhelp National Child Abuse Hotline",
        "Crisis Text Line",
        "Cybertip.ca (Canadian Centre for Child Protection)",
        "Kids Help Phone",
        "9-8-8: Suicide Crisis Helpline",
        "Canadian Anti-Fraud Centre",
        "eSafety Commissioner",
        "Australian Centre to Counter Child Exploitation (ACCCE)",
        "Kids Helpline (yourtown)",
        "Lifeline Australia",
        "Triple Zero",
        "ReportCyber (Australian Cyber Security Centre)",
        "Hotline.ie",
        "Childline (ISPCC)",
        "Department of Internal Affairs (Digital Child Exploitation Team)",
        "Netsafe",
        "Internet-Beschwerdestelle",
        "jugendschutz.net",
        "Nummer gegen Kummer (Kinder- und Jugendtelefon)",
        "TelefonSeelsorge",
        "Point de Contact",
        "PHAROS",
        "119 Allô Enfance en Danger",
        "3114",
        "Offlimits – Meldpunt Kinderporno",
        "Politie",
        "Veilig Thuis",
        "113 Zelfmoordpreventie",
        "De Kindertelefoon",
        "017 Tu Ayuda en Ciberseguridad (INCIBE)",
        "Fundación ANAR",
        "STOP-IT (Save the Children Italia)",
        "Telefono Azzurro – 114 (Clicca e Segnala)",
        "ECPAT Hotline",
        "SOS Alarm",
        "BRIS",
        "SaferNet Brasil – Central Nacional de Denúncias",
        "Disque 100",
        "National Cyber Crime Reporting Portal",
        "INHOPE",
        "Virtual Global Taskforce (Report Abuse)",
        "Child Helpline International",
        "Find A Helpline (ThroughLine)",
        # Countries added from FACTS-MORE.md (t12-countries).
        "Línea 137",
        "Línea 102 (SENAF)",
        "Línea de Salud Mental (Ministerio de Salud)",
        "Stopline",
        "Bundeskriminalamt – Meldestelle Kinderpornografie",
        "Rat auf Draht",
        "Child Focus (stopchildporno.be)",
        "103 Écoute-Enfants",
        "Zelfmoordlijn 1813",
        "Centre de Prévention du Suicide",
        "STOPonline.cz (CZ.NIC)",
        "Red Barnet AnmeldDet",
        "Livslinien",
        "Nettivihje (Pelastakaa Lapset / Save the Children Finland)",
        "MLL Lasten ja nuorten puhelin",
        "MIELI Crisis Helpline",
        "Internet Hotline Center Japan (IHC)",
        "24時間子供SOSダイヤル (MEXT)",
        "チャイルドライン (Childline Japan)",
        "児童相談所全国共通ダイヤル",
        "よりそいホットライン",
        "Kripos",
        "Alarmtelefonen for barn og unge",
        "Mental Helse Hjelpetelefonen",
        "Kirkens SOS",
        "ECPAT Philippines eProtectKids",
        "PNP Anti-Cybercrime Group",
        "Makabata Helpline 1383 (Council for the Welfare of Children)",
        "Bantay Bata 163",
        "NCMH Crisis Hotline (National Center for Mental Health)",
        "Dyżurnet.pl (NASK)",
        "Telefon Zaufania dla Dzieci i Młodzieży (Fundacja Dajemy Dzieciom Siłę)",
        "Dziecięcy Telefon Zaufania Rzecznika Praw Dziecka",
        "Kryzysowy telefon zaufania dla dorosłych",
        "Linha Internet Segura (APAV)",
        "Linha Nacional de Prevenção do Suicídio",
        "esc_ABUZ (Salvați Copiii / Ora de Net)",
        "Online Safety Commission",
        "Korea Communications Standards Commission (KCSC)",
        "ECRM",
        "청소년전화 1388",
        "clickandstop.ch (Kinderschutz Schweiz)",
        "Pro Juventute Beratung + Hilfe 147",
        "Die Dargebotene Hand / La Main Tendue",
        "İhbar Web (BTK)",
        "ALO 183",
        "StopCrime (Magnolia)",
        "La Strada-Ukraine",
        # Names added by the merged branches (i18n-fixup); "024" is the number Spain's line is
        # known by, its bracketed description is translated (msgctxt "data").
        "CVV – Centro de Valorização da Vida",
        "3018 (e-Enfance)",
        "Tele-MANAS",
        "Telefono Azzurro 1.96.96",
        "1737 Need to Talk?",
        "Mind – Självmordslinjen",
        "024",
        # Names of other services the catalogue mentions.
        "Discord Trust & Safety",
        "Trust & Safety",  # Discord's team name, as Discord writes it in every language
        "0508 NETSAFE",
    }
)
"""Proper names that stay in English (or their own language) in every language."""

_BRACKETED = re.compile(r"(.+?) \(([^()]+)\)")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
"""A word in any alphabet ("reportó" is one word, not "report" and "ó")."""
_FRAGMENT_BREAKS = re.compile(r"[.:;!?()\[\]<>\"“”„«»·,–—/*_`|\n]+")


def _has_words(text: str) -> bool:
    """True for text with an English word in it (not just digits, codes and punctuation)."""
    return bool(re.search(r"[a-z]{2,}", text.replace(" or ", " ")))


def _name_parts(name: str) -> list[str]:
    match = _BRACKETED.fullmatch(name)
    return [match.group(1), match.group(2)] if match else []


def _directory_texts(entry: HotlineEntry) -> Iterator[str]:
    """The English texts of an entry that a reader sees besides its name."""
    for value in (entry.hours, entry.sms, entry.phone):
        if value and value != "online" and _has_words(value) and value not in KEPT_AS_WRITTEN:
            yield value


def _english_pairs(text: str) -> set[tuple[str, str]]:
    """Consecutive word pairs of a text, inside one phrase (not across punctuation).

    Words of one or two letters are left out ("a", "de", "no" are words in several of these
    languages); "use the link" still gives ("use", "the"), ("the", "link").
    """
    text = re.sub(r"\{[^}]*\}", "|", text).casefold()
    pairs: set[tuple[str, str]] = set()
    for fragment in _FRAGMENT_BREAKS.split(text):
        words = _WORD.findall(fragment)
        pairs.update(
            (first, second)
            for first, second in itertools.pairwise(words)
            if len(first) > 2 and len(second) > 2
        )
    return pairs


def _strip_names(text: str) -> str:
    """The rendered text without proper names and addresses (they are allowed in English)."""
    text = re.sub(r"<https?://[^>]+>|https?://\S+", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)  # commands such as `/reports setup`: the public contract
    for name in sorted(KEPT_AS_WRITTEN, key=len, reverse=True):
        text = text.replace(name, "|")
    return text


def _placeholder_values(template: str) -> dict[str, str]:
    return {name: "|" for _, name, _, _ in string.Formatter().parse(template) if name}


def _rendered(language: str) -> Iterator[tuple[str, str]]:
    """(where, text) for everything Vigil can say to a reader in ``language``."""
    for key in sorted(CATALOGUE.messages[DEFAULT_LANGUAGE]):
        template = CATALOGUE.template(key, language)
        yield key, template.format(**_placeholder_values(template))
    countries: list[str | None] = [None, *(c.code for c in DIRECTORY.countries())]
    for country in countries:
        for reason in Reason:
            text = build_guidance(DIRECTORY, reason, country, language).render()
            yield f"guidance {reason.value} {country}", text
        yield f"/hotlines {country}", hotlines_overview(DIRECTORY, country, language).render()
    for code in RefusalCode:
        yield f"refusal {code}", refuse(code).localised(language)
    for reason in Reason:
        yield f"reason {reason.value}", reason.label_in(language)


def _english_phrases(language: str) -> set[tuple[str, str]]:
    """English word pairs a translation into ``language`` must not contain."""
    pairs: set[tuple[str, str]] = set()
    for key in CATALOGUE.messages[DEFAULT_LANGUAGE]:
        pairs |= _english_pairs(CATALOGUE.template(key, DEFAULT_LANGUAGE))
    for english in EN_DATA:
        if CATALOGUE.data_text(english, language) != english:
            pairs |= _english_pairs(english)
    for entry in ENTRIES:
        for text in _directory_texts(entry):
            pairs |= _english_pairs(text)
    return pairs


def _untranslated_texts(language: str) -> set[str]:
    """English directory texts that, translated, must not appear as they are ("24/7, free")."""
    texts = {e for e in EN_DATA if CATALOGUE.data_text(e, language) != e}
    shown = {t for entry in ENTRIES for t in _directory_texts(entry)} | _country_texts()
    texts |= shown - EN_DATA
    return {t for t in texts if _has_words(t)}


def _country_texts() -> set[str]:
    """Emergency numbers with words in them ("911 or your provincial police line")."""
    return {
        c.emergency
        for c in DIRECTORY.countries()
        if c.emergency and _has_words(c.emergency) and c.emergency not in KEPT_AS_WRITTEN
    }


def _entries() -> list[HotlineEntry]:
    seen: dict[str, HotlineEntry] = {}
    countries: list[str | None] = [None, *(c.code for c in DIRECTORY.countries())]
    for country in countries:
        for category in Category:
            for entry in DIRECTORY.entries(country, category):
                seen.setdefault(entry.id, entry)
    for entry in DIRECTORY.platform_entries():
        seen.setdefault(entry.id, entry)
    return list(seen.values())


ENTRIES = _entries()


def test_the_directory_is_seen() -> None:
    assert len(ENTRIES) > 50
    assert {"fr-pharos", "br-disque-100", "int-112", "discord-safety-center"} <= {
        e.id for e in ENTRIES
    }


def test_every_directory_text_is_in_the_english_catalogue() -> None:
    """Hours, SMS instructions and phone notes shown to readers are listed for translation."""
    shown = {text for entry in ENTRIES for text in _directory_texts(entry)} | _country_texts()
    missing = sorted(shown - EN_DATA)
    assert missing == [], 'add these as msgctxt "data" entries to every .po file'


def test_every_name_is_kept_or_translated() -> None:
    """A name is a proper name (kept as written) or a description (translated), never unknown."""
    unknown: list[str] = []
    for entry in ENTRIES:
        name = entry.organisation
        if name in EN_DATA or name in KEPT_AS_WRITTEN:
            continue
        parts = _name_parts(name)
        if not parts or any(p not in EN_DATA and p not in KEPT_AS_WRITTEN for p in parts):
            unknown.append(name)
    assert unknown == [], 'translate (msgctxt "data") or add to KEPT_AS_WRITTEN'


def test_english_directory_texts_are_their_own_translation() -> None:
    for english in EN_DATA:
        assert CATALOGUE.data_text(english, DEFAULT_LANGUAGE) == english


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_directory_text_is_translated(language: str) -> None:
    missing = sorted(e for e in EN_DATA if not CATALOGUE.data_text(e, language))
    assert missing == [], f"{language}: no translation for these directory texts"
    unknown = sorted(set(CATALOGUE.data.get(language, {})) - EN_DATA)
    assert unknown == [], f"{language}: directory texts the English catalogue does not list"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_no_english_left_in_any_answer(language: str) -> None:
    english = _english_phrases(language)
    texts = _untranslated_texts(language)
    leaks: dict[str, list[str]] = {}
    for where, text in _rendered(language):
        stripped = _strip_names(text)
        found = {" ".join(pair) for pair in _english_pairs(stripped) & english}
        found |= {t for t in texts if t in stripped}
        if found:
            leaks[where] = sorted(found)
    assert leaks == {}, f"{language}: English left in these answers"


def test_the_leak_check_catches_english() -> None:
    """The check itself: an untranslated sentence or directory text is found."""
    english = _english_phrases("de")
    assert _english_pairs(_strip_names("Melde es bei Discord. Report the link instead.")) & english
    assert _english_pairs(_strip_names("**PHAROS (Ministry of the Interior)**")) & english
    assert "24/7, free, confidential" in _untranslated_texts("de")
    assert not _english_pairs(_strip_names("**Samaritans**: 116 123 (rund um die Uhr)")) & english


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_directory_texts_are_shown_translated(language: str) -> None:
    """The review's examples: descriptions, hours and ministries in the reader's language."""
    pharos = tr_name("PHAROS (Ministry of the Interior)", language)
    assert pharos.startswith("PHAROS (") and "Ministry" not in pharos
    disque = tr_name("Disque 100 (federal human-rights ministry)", language)
    assert disque.startswith("Disque 100 (") and "ministry" not in disque
    assert tr_data("24/7, free, confidential", language) != "24/7, free, confidential"
    assert tr_name("Samaritans", language) == "Samaritans"
    assert tr_name("Childline (NSPCC)", language) == "Childline (NSPCC)"


def test_english_keeps_the_directory_as_written() -> None:
    assert tr_name("PHAROS (Ministry of the Interior)", "en-GB") == (
        "PHAROS (Ministry of the Interior)"
    )
    assert tr_data("24/7, free", "ja") == "24/7, free"  # no catalogue: English
