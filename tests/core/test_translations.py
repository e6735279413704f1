"""What the translation review found, checked so it stays fixed (offline).

Grooming keeps its sexual meaning, sentences put their own articles on nouns, each catalogue keeps
one register (du, tu, tú, você), Discord's own menu names are used, and Spanish for Latin America
reads as Latin-American Spanish.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import pytest

from core.guidance import build_guidance, hotlines_overview
from core.hotlines import HotlineDirectory
from core.i18n import DISCORD_LOCALES, LANGUAGES, catalogue, catalogue_locale, tr
from core.models import CaseAction, CaseEvent, EscalationTarget
from core.reasons import Reason
from ui.alert_view import describe_event

DIRECTORY = HotlineDirectory.load()
CATALOGUE = catalogue()


def _all_text(language: str) -> str:
    return "\n".join(CATALOGUE.messages[language].values())


def _escalated(target: str, locale: str) -> str:
    event = CaseEvent(
        case_id=1,
        actor_id=42,
        action=CaseAction.ESCALATE,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        detail=target,
    )
    return describe_event(event, locale)


# --------------------------------------------------------------------------- es-419


def test_latin_american_spanish_has_its_own_catalogue() -> None:
    assert "es_419" in LANGUAGES
    assert DISCORD_LOCALES["es-419"] == "es_419" and DISCORD_LOCALES["es-ES"] == "es"
    assert catalogue_locale("es-419") == "es_419"
    assert set(CATALOGUE.messages["es_419"]) == set(CATALOGUE.messages["en"])


def test_latin_american_spanish_reads_latin_american() -> None:
    text = _all_text("es_419")
    assert "celular" in text and "computadora" in text and "Hiciste" in text
    spain_only = ("móvil", "ordenador", "mantén pulsado", "Ajustes del servidor", "vosotros")
    for spain in (*spain_only, "Has "):
        assert spain not in text, spain
    assert re.search(r"\b(tenéis|podéis|habéis|os)\b", text) is None
    spain_text = _all_text("es")
    assert "móvil" in spain_text and "ordenador" in spain_text


def test_a_latin_american_reporter_reads_latin_american_guidance() -> None:
    text = build_guidance(DIRECTORY, Reason.CHILD_SAFETY, "MX", "es-419").render()
    assert text.startswith("**Gracias por contarnos. Hiciste lo correcto.**")
    assert "(celular)" in text and "(computadora)" in text
    assert build_guidance(DIRECTORY, Reason.CHILD_SAFETY, "MX", "es-ES").render() != text


# --------------------------------------------------------------------------- review fixes


def test_grooming_keeps_its_sexual_meaning() -> None:
    for key in ("cs.police", "ov.section.child_exploitation", "reason.child_safety"):
        assert "pédopiégeage" in tr(key, "fr").casefold(), key
        for spanish in ("es-ES", "es-419"):
            assert "grooming" in tr(key, spanish).casefold(), (key, spanish)
            assert "engaño" not in tr(key, spanish)
        assert "manipul" not in tr(key, "fr")
    assert "sexual" in tr("cs.police", "es-ES") and "sexual" in tr("cs.police", "es-419")
    assert "Cybergrooming" in tr("cs.police", "de") and "sexuell" in tr("cs.police", "de")
    assert "aliciando" in tr("cs.police", "pt-BR")


@pytest.mark.parametrize(
    ("locale", "police", "hotline"),
    [
        ("de", "an die Polizei", "an die nationale Meldestelle"),
        ("fr", "à la police", "au service national de signalement"),
        ("es-ES", "a la policía", "a la línea nacional de denuncia"),
        ("es-419", "a la policía", "a la línea nacional de denuncia"),
        ("pt-BR", "à polícia", "ao canal nacional de denúncia"),
        ("en-US", "to the police", "to the national hotline"),
    ],
)
def test_escalation_lines_carry_their_articles(locale: str, police: str, hotline: str) -> None:
    assert police in _escalated(EscalationTarget.POLICE.value, locale)
    assert hotline in _escalated(EscalationTarget.HOTLINE.value, locale)
    # Names stay as they are.
    assert "Discord Trust & Safety" in _escalated(EscalationTarget.DISCORD.value, locale)
    assert "NCMEC CyberTipline" in _escalated(EscalationTarget.NCMEC.value, locale)


def test_german_wording() -> None:
    assert tr("discord.report", "de").startswith("**Melde es bei Discord:**")
    assert "auch bei Discord melden" in tr("discord.report_also", "de")
    assert tr("discord.safety_center", "de", url="u").startswith("Discord-Sicherheitszentrum")
    assert tr("action.export", "de") == "Exportieren"


def test_brazilian_portuguese_wording() -> None:
    for key in ("emergency.child", "emergency.person", "cs.police"):
        assert "estiver" in tr(key, "pt-BR", number="190"), key
        assert " está " not in tr(key, "pt-BR", number="190"), key
    feedback = tr("feedback.dm", "pt-BR", guild="G", target="T")
    assert "sobre a sua denúncia sobre" not in feedback


# --------------------------------------------------------------------------- register

_FORMAL = {
    # Formal or plural address where the catalogue speaks to one person informally.
    "de": re.compile(r"\b(Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|euch|eure|nutzt|prüft|wählt)\b"),
    "fr": re.compile(
        r"\b(vous|votre|vos|transférez|utilisez|choisissez|vérifiez|signalez|appuyez|attendez)\b"
    ),
    "es": re.compile(r"\b(usted|ustedes|vosotros|vuestro|vuestra)\b"),
    "es_419": re.compile(r"\b(usted|vosotros|vuestro|vuestra|tenéis|podéis)\b"),
    "pt_BR": re.compile(r"\b(tu|teu|tua|contigo|vocês)\b"),
}


@pytest.mark.parametrize("language", sorted(_FORMAL))
def test_one_register_throughout(language: str) -> None:
    """du, tu, tú, você: the same informal address in every message, footers included."""
    offending = {
        key: text
        for key, text in CATALOGUE.messages[language].items()
        if _FORMAL[language].search(text)
    }
    assert offending == {}


def test_alert_footers_are_informal() -> None:
    assert "nutze die Links" in tr("alert.footer", "de", number=1)
    assert "utilise les liens" in tr("alert.footer", "fr", number=1)


# --------------------------------------------------------------------------- Discord's names

DISCORD_MENU = {
    "de": "Nachricht melden",
    "fr": "Signaler le message",
    "es-ES": "Reportar mensaje",
    "es-419": "Reportar mensaje",
    "pt-BR": "Denunciar mensagem",
}


@pytest.mark.parametrize(("locale", "menu"), sorted(DISCORD_MENU.items()))
def test_discords_menu_names_in_each_language(locale: str, menu: str) -> None:
    for key in ("discord.report", "discord.report_also", "ov.discord_report"):
        assert f"**{menu}**" in tr(key, locale), key
    overview = hotlines_overview(DIRECTORY, None, locale).render()
    assert menu in overview and "Report Message" not in overview


def test_latin_american_spanish_falls_back_to_spanish_before_english() -> None:
    """A key or directory text not yet in es_419 (e.g. just merged) is read in Spanish."""
    shipped = catalogue()
    messages = {**shipped.messages, "es_419": {}}
    data = {**shipped.data, "es_419": {}}
    partial = type(shipped)(messages, data)
    assert partial.tr("ack.saved_act", "es-419") == shipped.tr("ack.saved_act", "es-ES")
    assert partial.tr_data("24/7, free", "es-419") == "las 24 horas, gratis"
    assert partial.tr("ack.saved_act", "pt-BR") == shipped.tr("ack.saved_act", "pt-BR")


def test_packaging_ships_every_catalogue() -> None:
    """pyproject's package-data glob takes every language's .po into the wheel (es_419 too)."""
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["core"]
    for language in LANGUAGES:
        path = f"locales/{language}/LC_MESSAGES/vigil.po"
        assert (root / "core" / path).is_file(), path
        assert any(fnmatch(path, pattern) for pattern in patterns), path
