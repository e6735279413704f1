"""Validation of core/hotlines.json and the HotlineDirectory API (offline)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.hotlines import DEFAULT_PATH, Category, HotlineDirectory

REPO_ROOT = Path(__file__).resolve().parents[2]
FACTS = REPO_ROOT.parent / "shared/hotlines/FACTS.md"

COVERED = ["GB", "US", "CA", "AU", "IE", "NZ", "DE", "FR", "NL", "ES", "IT", "SE", "BR", "IN"]
ALLOWED_CATEGORIES = {c.value for c in Category}


def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def directory() -> HotlineDirectory:
    return HotlineDirectory.load()


def facts_text() -> str:
    if not FACTS.is_file():
        pytest.skip(f"fact sheet not found at {FACTS}; cannot cross-check hotline facts")
    return FACTS.read_text(encoding="utf-8")


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
        # The sheet's research date, or its section 7 resolutions (home pages, 2026-11-30).
        assert date.fromisoformat(e["verified"]) in (date(2026, 11, 28), date(2026, 11, 30)), e[
            "id"
        ]


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
    for code in ["PL", "PT", "BE", "AT", "CH", "DK", "FI", "NO", "MX", "AR", "JP", "KR", "PH"]:
        c = directory.country(code)
        assert c is not None and not c.covered, code


# --------------------------------------------------------------------------- facts cross-check


def test_every_phone_and_url_appears_in_fact_sheet() -> None:
    facts = facts_text()
    for e in raw()["entries"]:
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
    for e in raw()["entries"]:
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
    jp = directory.entries("JP", Category.CSAM_REPORT)
    assert jp and all(e.country == "INT" for e in jp)
    assert "int-inhope" in {e.id for e in jp}
    # EU-only numbers are not offered outside the EU
    assert directory.entries("JP", Category.EMERGENCY) == []
    assert "int-116111" not in {e.id for e in directory.entries("JP", Category.CHILD_HELPLINE)}
    assert directory.emergency_number("JP") is None


def test_fallback_for_eu_member_includes_112_and_116111(directory: HotlineDirectory) -> None:
    assert [e.id for e in directory.entries("PL", Category.EMERGENCY)] == ["int-112"]
    helplines = {e.id for e in directory.entries("pl", Category.CHILD_HELPLINE)}
    assert "int-116111" in helplines
    assert directory.emergency_number("PL") == "112"


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
    assert directory.search_countries("gb")[0].code == "GB"
    assert directory.search_countries("uk")[0].code == "GB"
    assert directory.search_countries("united")[0].code in {"GB", "US", "AE"}
    assert {"GB", "US", "AE"} <= {c.code for c in directory.search_countries("united")}
    assert directory.search_countries("GERM")[0].code == "DE"
    assert directory.search_countries("zealand")[0].code == "NZ"
    assert directory.search_countries("de")[0].code == "DE"
    assert directory.search_countries("zzzz") == []
    assert len(directory.search_countries("", limit=25)) == 25
    assert directory.search_countries("", limit=25)[0].covered
    assert len(directory.search_countries("a", limit=3)) == 3
    assert directory.search_countries("a", limit=0) == []


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
