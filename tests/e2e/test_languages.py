"""Every language end to end: Latin-American Spanish, translated directory texts, /reports in
the admin's language, and no English left in what a non-English reader is told."""

from __future__ import annotations

from typing import Any

from tests.core.test_i18n_leaks import (
    _english_pairs,
    _english_phrases,
    _strip_names,
    _untranslated_texts,
)
from tests.e2e.conftest import SYNC, Vigil, result_text
from tests.e2e.test_localisation import lighthouse, setup_lighthouse

LOCALISED = {"de", "fr", "es-ES", "es-419", "pt-BR"}


def english_in(text: str, language: str) -> set[str]:
    """English phrases (outside proper names) in ``text``, read as ``language``."""
    stripped = _strip_names(text)
    found = {" ".join(p) for p in _english_pairs(stripped) & _english_phrases(language)}
    return found | {t for t in _untranslated_texts(language) if t in stripped}


async def report_as(vigil: Vigil, reporter: str, target: str, reason: str, locale: str) -> Any:
    guild = lighthouse(vigil)
    return await vigil.run(
        vigil.emu.build.slash(
            "report",
            user=reporter,
            channel=guild.channel("allgemein"),
            options={"member": target, "reason": reason},
            locale=locale,
        )
    )


async def hotlines_as(vigil: Vigil, country: str, locale: str) -> str:
    guild = lighthouse(vigil)
    reply = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": country},
            locale=locale,
        )
    )
    assert reply.ephemeral
    return result_text(reply)


async def test_a_latin_american_reporter_gets_latin_american_spanish(vigil: Vigil):
    await setup_lighthouse(vigil)  # a German server, region DE
    reply = await report_as(vigil, "ida", "hans", "child_safety", "es-419")
    assert reply.ephemeral
    text = result_text(reply)
    assert "Gracias por contarnos. Hiciste lo correcto." in text
    assert "confidencial" in text and "Qué puedes hacer ahora" in text
    assert "(celular)" in text and "(computadora)" in text and "**Reportar mensaje**" in text
    assert "110 o 112" in text and "Internet-Beschwerdestelle (FSM y eco)" in text
    assert english_in(text, "es_419") == set()
    # The same report from Spain reads Spanish from Spain.
    spain = result_text(await report_as(vigil, "alice", "hans", "child_safety", "es-ES"))
    assert "(móvil)" in spain and "(ordenador)" in spain
    assert english_in(spain, "es") == set()


async def test_directory_texts_reach_the_reader_translated(vigil: Vigil):
    await setup_lighthouse(vigil)
    crisis = result_text(await report_as(vigil, "ida", "hans", "self_harm", "es-419"))
    assert "TelefonSeelsorge" in crisis and "las 24 horas, todos los días" in crisis
    assert "24/7" not in crisis and english_in(crisis, "es_419") == set()
    france = await hotlines_as(vigil, "FR", "pt-BR")
    assert "PHAROS (Ministério do Interior da França)" in france
    assert "Ministry of the Interior" not in france and english_in(france, "pt_BR") == set()
    brazil = await hotlines_as(vigil, "BR", "es-419")
    assert "Disque 100 (ministerio federal de derechos humanos)" in brazil
    assert "las 24 horas, gratis" in brazil and "24/7, free" not in brazil
    assert english_in(brazil, "es_419") == set()
    spain = await hotlines_as(vigil, "ES", "fr")
    assert "Fundación ANAR" in spain and "24/7, free, confidential" not in spain
    assert english_in(spain, "fr") == set()


async def test_a_refusal_in_latin_american_spanish_has_no_english(vigil: Vigil):
    guild = lighthouse(vigil)
    refused = await vigil.run(
        vigil.emu.build.slash(
            "report",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"member": "ida", "reason": "other"},
            locale="es-419",
        )
    )
    assert refused.ephemeral
    text = result_text(refused)
    assert "reportar" in text and english_in(text, "es_419") == set()


async def test_reports_descriptions_are_synced_in_every_language(vigil: Vigil):
    body = vigil.emu.requests_to("PUT", SYNC)[0].body
    reports = next(c for c in body if c["name"] == "reports")
    assert not reports.get("name_localizations")
    assert set(reports["description_localizations"]) >= LOCALISED
    assert reports["description_localizations"]["de"].startswith("Vigil einrichten")
    subcommands = {o["name"]: o for o in reports["options"]}
    assert set(subcommands) >= {"setup", "config", "queue", "case", "export", "history", "forget"}
    for name, sub in subcommands.items():
        assert set(sub["description_localizations"]) >= LOCALISED, name
        assert not sub.get("name_localizations"), name
        for option in sub.get("options") or []:
            assert set(option["description_localizations"]) >= LOCALISED, (name, option)
            assert not option.get("name_localizations"), (name, option)
    setup = {o["name"]: o for o in subcommands["setup"]["options"]}
    assert setup["alert_channel"]["description_localizations"]["es-419"] == (
        "Canal privado donde los moderadores reciben las alertas"
    )
    assert subcommands["export"]["description_localizations"]["fr"] == (
        "Dossier de signalement d'un cas (JSON, privé)"
    )
