"""Validation of core/hotlines.json and the HotlineDirectory API (offline)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.guidance import search_countries
from core.hotlines import DEFAULT_PATH, Category, HotlineDirectory

REPO_ROOT = Path(__file__).resolve().parents[2]
# The fact sheets live next to the checkout (../shared/hotlines/), or one level up from a worktree.
SHEETS = next(
    (
        d
        for d in (REPO_ROOT.parent / "shared/hotlines", REPO_ROOT.parent.parent / "shared/hotlines")
        if d.is_dir()
    ),
    REPO_ROOT.parent / "shared/hotlines",
)
FACTS = SHEETS / "FACTS.md"
FACTS_MORE = SHEETS / "FACTS-MORE.md"

FIRST = ["GB", "US", "CA", "AU", "IE", "NZ", "DE", "FR", "NL", "ES", "IT", "SE", "BR", "IN"]
"""Countries compiled from FACTS.md."""
MORE = [
    "PL",
    "PH",
    "TR",
    "JP",
    "KR",
    "UA",
    "AR",
    "AT",
    "CH",
    "BE",
    "PT",
    "NO",
    "DK",
    "FI",
    "CZ",
    "RO",
    "SG",
]
"""Countries compiled from FACTS-MORE.md: those of its 21 with a sourced emergency number and a
sourced reporting channel. MX and ZA have an emergency number from the research note only, CO and
CL none at all, ID and MY were not researched: they stay on the international fallbacks."""
MORE_LEFT_OUT = ["MX", "CO", "CL", "ZA", "ID", "MY"]
COVERED = FIRST + MORE
ALLOWED_CATEGORIES = {c.value for c in Category}


def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def directory() -> HotlineDirectory:
    return HotlineDirectory.load()


def facts_text(sheet: Path = FACTS) -> str:
    if not sheet.is_file():
        pytest.skip(f"fact sheet not found at {sheet}; cannot cross-check hotline facts")
    return sheet.read_text(encoding="utf-8")


def first_sheet_entries() -> list[dict[str, Any]]:
    """Entries compiled from FACTS.md (the FACTS-MORE.md countries are checked against theirs)."""
    return [e for e in raw()["entries"] if e["country"] not in MORE]


# --------------------------------------------------------------------------- the JSON file


def test_top_level_shape() -> None:
    data = raw()
    assert data["compiled"] == "2026-11-28"
    assert data["sheet"] == "shared/hotlines/FACTS.md"
    assert isinstance(data["countries"], dict)
    assert isinstance(data["entries"], list) and data["entries"]


def test_every_entry_is_sourced_and_dated() -> None:
    for e in raw()["entries"]:
        assert e["source_urls"], e["id"]
        assert all(u.startswith("https://") for u in e["source_urls"]), e["id"]
        # FACTS.md: its research date, or its section 7 resolutions (home pages, 2026-11-30);
        # FACTS-MORE.md was compiled on 2026-11-28/30.
        allowed = (
            {date(2026, 11, 30)}
            if e["country"] in MORE
            else {date(2026, 11, 28), date(2026, 11, 30)}
        )
        assert date.fromisoformat(e["verified"]) in allowed, e["id"]


def test_urls_are_https_or_null() -> None:
    for e in raw()["entries"]:
        assert e["url"] is None or e["url"].startswith("https://"), e["id"]


def test_no_unverified_or_research_note_only_entries_shipped() -> None:
    for e in raw()["entries"]:
        assert e.get("unverified") is not True, e["id"]
        assert e.get("source_quality") != "R", e["id"]


def test_categories_are_allowed() -> None:
    for e in raw()["entries"]:
        assert e["categories"], e["id"]
        assert set(e["categories"]) <= ALLOWED_CATEGORIES, e["id"]


def test_no_duplicate_ids_or_entries() -> None:
    entries = raw()["entries"]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    keys = [(e["country"], e["organisation"], c) for e in entries for c in e["categories"]]
    assert len(keys) == len(set(keys))


def test_every_entry_country_is_listed() -> None:
    data = raw()
    for e in data["entries"]:
        assert e["country"] == "INT" or e["country"] in data["countries"], e["id"]


def test_country_codes_and_names() -> None:
    for code, c in raw()["countries"].items():
        assert re.fullmatch(r"[A-Z]{2}", code)
        assert c["name"]
        assert "fallback_note" in c and "emergency" in c


def test_every_covered_country_has_csam_and_emergency(directory: HotlineDirectory) -> None:
    countries = raw()["countries"]
    for code in COVERED:
        c = directory.country(code)
        assert c is not None and c.covered, code
        own = {cat for e in directory.all_entries() if e.country == code for cat in e.categories}
        note = countries[code]["fallback_note"]
        assert Category.CSAM_REPORT in own or note, f"{code}: no csam_report entry or note"
        assert Category.EMERGENCY in own or note, f"{code}: no emergency entry or note"


def test_country_emergency_numbers_match_entries(directory: HotlineDirectory) -> None:
    for code in COVERED:
        number = directory.emergency_number(code)
        own = [e for e in directory.entries(code, Category.EMERGENCY) if e.country == code]
        if number is None or not own:
            assert raw()["countries"][code]["fallback_note"], code
            continue
        digits = " ".join(e.phone or "" for e in own)
        for token in re.findall(r"\d+", number):
            assert token in digits, f"{code}: {token} not in {digits}"


def test_uncovered_countries_have_no_specific_entries(directory: HotlineDirectory) -> None:
    codes = {e.country for e in directory.all_entries()}
    for c in directory.countries():
        assert c.covered == (c.code in codes)
        if not c.covered:
            assert c.fallback_note
            assert c.emergency in (None, "112")
            assert (c.emergency == "112") == c.eu


def test_many_uncovered_countries_listed(directory: HotlineDirectory) -> None:
    for code in [*MORE_LEFT_OUT, "PE", "SK", "IS", "TH"]:
        c = directory.country(code)
        assert c is not None and not c.covered, code


# --------------------------------------------------------------------------- facts cross-check


def test_every_phone_and_url_appears_in_fact_sheet() -> None:
    facts = facts_text()
    for e in first_sheet_entries():
        if e["url"]:
            assert e["url"] in facts, f"{e['id']}: url {e['url']} not in FACTS.md"
        if e["phone"]:
            assert e["phone"] in facts, f"{e['id']}: phone {e['phone']!r} not in FACTS.md"
        for number in re.findall(r"\d[\d ]*\d", e.get("sms") or ""):
            assert number in facts, f"{e['id']}: sms number {number!r} not in FACTS.md"


def test_every_source_appears_in_fact_sheet() -> None:
    """Each source is in the sheet: its address, or (for a stored news page the sheet cites by
    name, e.g. "RTVE 2022-05-09") the publisher named in its host."""
    facts = facts_text()
    compact = re.sub(r"[\s-]", "", facts).casefold()
    for e in first_sheet_entries():
        for src in e["source_urls"]:
            bare = src.removeprefix("https://").rstrip("/")
            if bare in facts:
                continue
            host = bare.split("/")[0].removeprefix("www.")
            parts = [p for label in host.split(".")[:-1] for p in label.split("-") if len(p) >= 4]
            assert any(p.casefold() in compact for p in parts), (
                f"{e['id']}: source {src} not in FACTS.md"
            )


@pytest.mark.parametrize(
    "forbidden",
    [
        "inhope.org/EN/report",
        "dis.gd/request",
        "dis.gd/report",
        "childhelplineinternational.org/helplines",
        "report.iwf.org.uk",
        "uk-report",
        "incibe.es/menores/hotline",
        "new.safernet.org.br/denuncie",
        "meldpunt.offlimits.nl",
        "policia.es",
        "0508 638 723",
        "1-800-668-6868",
        "88858",
        "ic3.gov",
        "lifeline.org.au",
        "anar.org",
        "114.it/segnalazioni",
        "actionfraud",
        "Press 3",
        "1-800-891-4416",
        "18 0091 4416",
        "1-800-422-2253",
        "8:30",
    ],
)
def test_unverified_facts_left_out(forbidden: str) -> None:
    assert forbidden.casefold() not in DEFAULT_PATH.read_text(encoding="utf-8").casefold()


def test_unverified_numbers_not_used_as_emergency(directory: HotlineDirectory) -> None:
    assert directory.emergency_number("BR") is None  # 190 is research-note only
    assert directory.emergency_number("IT") == "112"  # 113 is research-note only
    assert directory.emergency_number("ES") == "112"  # 091/062 not found


def test_disputed_facts_follow_sheet_handling(directory: HotlineDirectory) -> None:
    cybertip = directory.get("ca-cybertip")
    assert cybertip is not None and cybertip.hours == "hours vary; call 911 if urgent"
    nspcc = directory.get("gb-nspcc")
    assert nspcc is not None and nspcc.hours is not None and "8am–10pm" in nspcc.hours
    childline_ie = directory.get("ie-childline")
    assert childline_ie is not None and childline_ie.sms == "text 50101"
    assert childline_ie.hours == "Phone 24/7"
    childhelp = directory.get("us-childhelp")
    assert childhelp is not None and childhelp.phone == "1-800-422-4453"
    ceop = directory.get("gb-ceop")
    assert ceop is not None and ceop.anonymous is False


# --------------------------------------------------------------------------- directory API


def test_load_builds_typed_entries(directory: HotlineDirectory) -> None:
    iwf = directory.get("gb-iwf")
    assert iwf is not None
    assert iwf.categories == frozenset({Category.CSAM_REPORT})
    assert iwf.verified == date(2026, 11, 28)
    assert isinstance(iwf.source_urls, tuple) and isinstance(iwf.languages, tuple)
    assert len(directory.all_entries()) == len({e.id for e in directory.all_entries()})


def test_country_lookup_is_case_insensitive(directory: HotlineDirectory) -> None:
    gb = directory.country("gb")
    assert gb is not None and gb.name == "United Kingdom" and gb.covered
    assert directory.country(" Us ") == directory.country("US")
    assert directory.country("XX") is None
    assert directory.country("") is None


def test_countries_sorted_by_name(directory: HotlineDirectory) -> None:
    names = [c.name.casefold() for c in directory.countries()]
    assert names == sorted(names)
    assert {c.code for c in directory.countries() if c.covered} == set(COVERED)


def test_entries_country_specific_first(directory: HotlineDirectory) -> None:
    gb = directory.entries("GB", Category.CSAM_REPORT)
    assert [e.id for e in gb] == ["gb-iwf"]
    us = directory.entries("us", Category.CSAM_REPORT)
    assert [e.id for e in us] == ["us-ncmec-cybertipline"]


def test_fallback_to_int_for_uncovered_country(directory: HotlineDirectory) -> None:
    mx = directory.entries("MX", Category.CSAM_REPORT)
    assert mx and all(e.country == "INT" for e in mx)
    assert "int-inhope" in {e.id for e in mx}
    # EU-only numbers are not offered outside the EU
    assert directory.entries("MX", Category.EMERGENCY) == []
    assert "int-116111" not in {e.id for e in directory.entries("MX", Category.CHILD_HELPLINE)}
    assert directory.emergency_number("MX") is None


def test_fallback_for_eu_member_includes_112_and_116111(directory: HotlineDirectory) -> None:
    assert [e.id for e in directory.entries("SK", Category.EMERGENCY)] == ["int-112"]
    helplines = {e.id for e in directory.entries("sk", Category.CHILD_HELPLINE)}
    assert "int-116111" in helplines
    assert directory.emergency_number("SK") == "112"


def test_covered_country_falls_back_per_category(directory: HotlineDirectory) -> None:
    ie_cyber = directory.entries("IE", Category.CYBERCRIME)
    assert ie_cyber == []  # no INT cybercrime fallback
    au_young = directory.entries("AU", Category.CHILD_HELPLINE)
    assert [e.id for e in au_young] == ["au-kids-helpline"]
    nl_crisis = directory.entries("NL", Category.CRISIS)
    assert [e.id for e in nl_crisis] == ["nl-113"]
    it_crisis = directory.entries("IT", Category.CRISIS)
    assert [e.id for e in it_crisis] == ["int-find-a-helpline"]
    assert directory.entries("US", Category.CYBERCRIME) == []


def test_unknown_country_uses_int(directory: HotlineDirectory) -> None:
    for code in (None, "XX", "INT"):
        entries = directory.entries(code, Category.CSAM_REPORT)
        assert entries and all(e.country == "INT" for e in entries)
    assert directory.emergency_number(None) is None


def test_emergency_numbers(directory: HotlineDirectory) -> None:
    expected = {"GB": "999", "US": "911", "CA": "911", "AU": "000", "NZ": "111", "NL": "112"}
    for code, number in expected.items():
        assert directory.emergency_number(code) == number
        assert directory.emergency_number(code.lower()) == number


def test_platform_entries(directory: HotlineDirectory) -> None:
    platform = directory.platform_entries()
    ids = {e.id for e in platform}
    assert {"discord-report-message", "discord-safety-center"} <= ids
    assert all(e.country == "INT" for e in platform)
    assert "https://discord.com/safety" in {e.url for e in platform}


def test_search_countries_by_code_and_name(directory: HotlineDirectory) -> None:
    assert search_countries(directory, "gb")[0].code == "GB"
    assert search_countries(directory, "uk")[0].code == "GB"
    assert search_countries(directory, "united")[0].code in {"GB", "US", "AE"}
    assert {"GB", "US", "AE"} <= {c.code for c in search_countries(directory, "united")}
    assert search_countries(directory, "GERM")[0].code == "DE"
    assert search_countries(directory, "zealand")[0].code == "NZ"
    assert search_countries(directory, "de")[0].code == "DE"
    assert search_countries(directory, "zzzz") == []
    assert len(search_countries(directory, "", limit=25)) == 25
    assert search_countries(directory, "", limit=25)[0].covered
    assert len(search_countries(directory, "a", limit=3)) == 3
    assert search_countries(directory, "a", limit=0) == []


# --------------------------------------------------------------------------- malformed input


def write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "hotlines.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def minimal() -> dict[str, Any]:
    return {
        "compiled": "2026-11-28",
        "countries": {"GB": {"name": "United Kingdom", "emergency": "999", "fallback_note": None}},
        "entries": [
            {
                "id": "gb-x",
                "country": "GB",
                "organisation": "X",
                "categories": ["csam_report"],
                "url": "https://example.org",
                "phone": None,
                "hours": None,
                "languages": [],
                "anonymous": True,
                "notes": "",
                "source_urls": ["https://example.org"],
                "verified": "2026-11-28",
            }
        ],
    }


def test_minimal_loads(tmp_path: Path) -> None:
    d = HotlineDirectory.load(write(tmp_path, minimal()))
    assert [e.id for e in d.all_entries()] == ["gb-x"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["entries"][0].update(url="http://example.org"), "https://"),
        (lambda d: d["entries"][0].update(source_urls=[]), "source"),
        (lambda d: d["entries"][0].update(verified="yesterday"), "verified"),
        (lambda d: d["entries"][0].update(categories=["nonsense"]), "category"),
        (lambda d: d["entries"][0].update(country="ZZ"), "countries"),
        (lambda d: d["entries"][0].update(anonymous="yes"), "anonymous"),
        (lambda d: d["entries"].append(dict(d["entries"][0])), "duplicate"),
        (lambda d: d["entries"].append({**d["entries"][0], "id": "gb-y"}), "duplicate"),
        (lambda d: d.update(countries={"gbr": {"name": "x"}}), "ISO"),
        (lambda d: d.pop("entries"), "entries"),
    ],
)
def test_malformed_raises_clear_value_error(tmp_path: Path, mutate: Any, message: str) -> None:
    data = minimal()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        HotlineDirectory.load(write(tmp_path, data))


def test_not_json_raises_value_error(tmp_path: Path) -> None:
    p = tmp_path / "hotlines.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        HotlineDirectory.load(p)


def test_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        HotlineDirectory.load(tmp_path / "missing.json")


def test_unverified_entries_are_never_loaded(tmp_path: Path) -> None:
    data = minimal()
    data["entries"].append({**data["entries"][0], "id": "gb-u", "unverified": True})
    data["entries"].append({**data["entries"][0], "id": "gb-r", "source_quality": "R"})
    d = HotlineDirectory.load(write(tmp_path, data))
    assert [e.id for e in d.all_entries()] == ["gb-x"]


# ------------------------------------------------------------------ FACTS-MORE.md countries

REPORTING = {Category.CSAM_REPORT, Category.CHILD_EXPLOITATION}

NAME_ONLY = {"CZ": "section 3 item 8: stoponline.cz vs stopline.cz, to confirm live"}
"""Countries whose only reporting channel is shown by name: the sheet leaves its address open."""


def more_entries() -> list[dict[str, Any]]:
    return [e for e in raw()["entries"] if e["country"] in MORE]


def bare(url: str) -> str:
    return url.removeprefix("https://").removeprefix("www.").rstrip("/")


def numbers(phone: str) -> list[str]:
    """The numbers in a phone field ("112 (police), 113 (medical emergency)" -> 112, 113)."""
    return [re.sub(r"\s*\(.*?\)\s*$", "", part).strip() for part in phone.split(", ")]


def test_new_countries_have_emergency_number_and_reporting_channel(
    directory: HotlineDirectory,
) -> None:
    for code in MORE:
        c = directory.country(code)
        assert c is not None and c.covered, code
        assert directory.emergency_number(code), code
        # An entry (its own, or the EU's 112), or a note on why there is none (CH, PH, SG: the
        # sheet's source for the number has no address, as for IN in FACTS.md).
        assert directory.entries(code, Category.EMERGENCY) or c.fallback_note, code
        channels = [
            e for e in directory.all_entries() if e.country == code and e.categories & REPORTING
        ]
        assert channels, f"{code}: no reporting channel"
        if code in NAME_ONLY:
            assert all(e.url is None and e.phone is None for e in channels), code
        else:
            assert any(e.url or e.phone for e in channels), f"{code}: no URL or phone"


def test_left_out_countries_stay_on_international_fallbacks(directory: HotlineDirectory) -> None:
    for code in MORE_LEFT_OUT:
        c = directory.country(code)
        assert c is not None and not c.covered, code
        assert directory.emergency_number(code) is None, code  # MX 911, ZA 10111: [R] only


def test_every_new_entry_is_from_facts_more() -> None:
    """Each URL, number and source of a FACTS-MORE.md country appears in that sheet: nothing is
    filled in from memory."""
    sheet = facts_text(FACTS_MORE)
    plain = sheet.replace("**", "")
    for e in more_entries():
        assert e["source_urls"], e["id"]
        for src in e["source_urls"]:
            assert bare(src) in sheet, f"{e['id']}: source {src} not in FACTS-MORE.md"
        if e["url"]:
            assert bare(e["url"]) in sheet, f"{e['id']}: url {e['url']} not in FACTS-MORE.md"
        if e["phone"]:
            for number in numbers(e["phone"]):
                assert number in plain, f"{e['id']}: {number!r} not in FACTS-MORE.md"
        for number in re.findall(r"\d[\d ]*\d", e.get("sms") or ""):
            assert number in plain, f"{e['id']}: sms number {number!r} not in FACTS-MORE.md"
        assert e["source_note"].startswith("["), e["id"]


def test_new_emergency_numbers_are_from_facts_more(directory: HotlineDirectory) -> None:
    plain = facts_text(FACTS_MORE).replace("**", "")
    for code in MORE:
        number = directory.emergency_number(code)
        assert number is not None
        for token in re.findall(r"\d+", number):
            assert token in plain, f"{code}: {token}"


@pytest.mark.parametrize(
    "forbidden",
    [
        "800 70 2222",  # PL ITAKA: current operation not confirmed (section 3, 12)
        "7333",  # Lifeline Ukraine: free only for one network (section 3, 11)
        "0800 148 148",  # ZA FPB: 2008 source only (section 3, 10)
        "10111",  # ZA police: research note only
        "0570-0-78310",  # JP: superseded by the MEXT number (section 4)
        "0960-377-9863",  # PH Makabata Smart numbers disagree (section 4)
        "0919-354-1383",
        "989-8727",  # PH NCMH: older number (section 4)
        "5275-1135",  # AR CAS: provincial lines disagree (section 4)
        "55 5242 5100",  # MX: Mexico City only
        "argentina.gob.ar/linea-102",  # quoted only by a charity (section 3, 8)
        "stoponline.cz/",  # to confirm live (section 3, 8)
        "https://www.stoponline.cz",
        "apps.fpb.org.za",
        "teprotejo",
        "http://",
        "1393",  # KR: replaced by 109 (section 4)
        "0800 96 116 (",
    ],
)
def test_more_unverified_facts_left_out(forbidden: str) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    if forbidden == "1393":
        # Only as history ("Replaced 1393"), never as a number to call.
        assert all(e.get("phone") != "1393" for e in raw()["entries"])
        return
    assert forbidden.casefold() not in text.casefold()


def test_more_disputed_facts_follow_sheet_handling(directory: HotlineDirectory) -> None:
    def entry(entry_id: str) -> Any:
        found = directory.get(entry_id)
        assert found is not None, entry_id
        return found

    assert entry("pl-116111").hours == "24/7, free"  # newer sources win
    assert entry("jp-sos-dial").phone == "0120-0-78310"  # the MEXT number
    assert entry("ph-makabata").phone == "1383"  # 1383 only
    assert entry("ph-ncmh").phone == "1553"  # newest
    assert entry("kr-109").phone == "109"  # replaced 1393
    assert entry("ar-salud-mental").phone == "0800-999-0091"  # national, not 135
    assert entry("dk-livslinien").hours is None  # hours unresolved
    assert directory.emergency_number("FI") == "112"  # not the 911 of an old page
    assert directory.emergency_number("UA") == "102 or 112"  # 102 first
    assert directory.emergency_number("PH") == "911"  # unified since Sep 2025
    assert directory.emergency_number("MX") is None  # 911 is in the research note only
    jp_childline = entry("jp-childline")
    assert jp_childline.hours == "afternoons and evenings"  # days disputed


def test_anonymity_as_the_sheet_says(directory: HotlineDirectory) -> None:
    not_anonymous = {"sg-osc", "kr-ecrm"}
    not_confirmed = {"tr-ihbarweb", "kr-kcsc", "cz-stoponline", "pt-linha-internet-segura"}
    for entry_id in not_anonymous:
        e = directory.get(entry_id)
        assert e is not None and e.anonymous is False, entry_id
    for entry_id in not_confirmed:
        e = directory.get(entry_id)
        assert e is not None and e.anonymous is None, entry_id


def test_romania_form_carries_the_no_upload_warning(directory: HotlineDirectory) -> None:
    e = directory.get("ro-esc-abuz")
    assert e is not None and "Never add images or screenshots" in e.notes


def test_ukraine_police_number_comes_first(directory: HotlineDirectory) -> None:
    number = directory.emergency_number("UA")
    assert number is not None and number.index("102") < number.index("112")
    own = [e for e in directory.entries("UA", Category.EMERGENCY) if e.country == "UA"]
    assert own and own[0].phone is not None and own[0].phone.startswith("102")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Polska", "PL"),
        ("México", "MX"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Belgique", "BE"),
        ("België", "BE"),
        ("Česko", "CZ"),
        ("Österreich", "AT"),
        ("Suomi", "FI"),
        ("Norge", "NO"),
        ("Danmark", "DK"),
        ("România", "RO"),
        ("Україна", "UA"),
        ("日本", "JP"),
        ("대한민국", "KR"),
        ("Pilipinas", "PH"),
    ],
)
def test_own_language_aliases_find_the_country(
    directory: HotlineDirectory, query: str, code: str
) -> None:
    assert search_countries(directory, query)[0].code == code


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each bot forked by the test suite's fork server finds the directory already loaded."""
    path = write(tmp_path, minimal())
    first = HotlineDirectory.load(path)
    parsed: list[object] = []
    monkeypatch.setattr(HotlineDirectory, "from_data", classmethod(lambda c, d: parsed.append(d)))
    assert HotlineDirectory.load(path) is first
    assert parsed == []


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    data = minimal()
    path = write(tmp_path, data)
    first = HotlineDirectory.load(path)
    data["entries"][0]["id"] = "gb-z"
    path = write(tmp_path, data)
    second = HotlineDirectory.load(path)
    assert second is not first
    assert [e.id for e in second.all_entries()] == ["gb-z"]
    assert HotlineDirectory.load(path) is second


def test_a_file_that_fails_is_never_kept(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())
    good = HotlineDirectory.load(path)
    broken = minimal()
    broken["entries"][0].update(url="http://example.org")
    path = write(tmp_path, broken)
    with pytest.raises(ValueError, match="https://"):
        HotlineDirectory.load(path)
    with pytest.raises(ValueError, match="https://"):
        HotlineDirectory.load(path)  # refused again, not served from before
    path = write(tmp_path, minimal())
    assert HotlineDirectory.load(path) is good  # the same text as the good one
