"""Reporters read Vigil in their own language, end to end (the real bot.py, the emulator)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import SYNC, Vigil, result_text

LOCALISED = {"de", "fr", "es-ES", "es-419", "pt-BR"}


def lighthouse(vigil: Vigil) -> Any:
    return vigil.world.guild_b


async def setup_lighthouse(vigil: Vigil) -> None:
    """greta (owner) sets up the German server with region DE, from #allgemein."""
    guild = lighthouse(vigil)
    result = await vigil.run(
        vigil.emu.build.slash(
            "reports setup",
            user="greta",
            channel=guild.channel("allgemein"),
            options={"alert_channel": guild.channel("moderation"), "region": "DE"},
        )
    )
    assert result.ephemeral


async def report_in_lighthouse(
    vigil: Vigil, reporter: str, target: str, reason: str, locale: str
) -> Any:
    guild = lighthouse(vigil)
    return await vigil.run(
        vigil.emu.build.slash(
            "report",
            user=reporter,
            channel=guild.channel("allgemein"),
            options={"member": target, "reason": reason, "details": "Bilder an ein Kind"},
            locale=locale,
        )
    )


def country_select(result: Any) -> dict[str, Any]:
    for row in result.components:
        for component in row.get("components") or []:
            if str(component.get("custom_id", "")).startswith("vigil:country:"):
                return component
    raise AssertionError(f"no country menu in {result.components!r}")


async def test_german_reporter_in_a_german_server_reads_german(vigil: Vigil):
    await setup_lighthouse(vigil)
    reply = await report_in_lighthouse(vigil, "ida", "hans", "child_safety", "de")
    assert reply.ephemeral
    text = result_text(reply)
    assert "Danke" in text and "vertraulich" in text
    assert "Was du jetzt tun kannst" in text
    assert "Internet-Beschwerdestelle" in text and "110 oder 112" in text
    assert text.index("110") < text.index("Internet-Beschwerdestelle")
    assert "mach keine Screenshots" in text
    assert "Thank you" not in text and "Report the link" not in text
    menu = country_select(reply)
    assert menu["custom_id"] == "vigil:country:child_safety:DE"
    labels = {o["value"]: o for o in menu["options"]}
    assert labels["DE"]["label"] == "Deutschland" and labels["DE"].get("default") is True
    assert labels["GB"]["label"] == "Vereinigtes Königreich"
    assert menu["placeholder"].startswith("Anderes Land")


async def test_english_reporter_in_the_same_server_reads_english(vigil: Vigil):
    await setup_lighthouse(vigil)
    reply = await report_in_lighthouse(vigil, "alice", "hans", "child_safety", "en-US")
    text = result_text(reply)
    assert "Thank you" in text and "confidential" in text
    assert "What you can do now" in text
    # Same country (the server's region), English sentences, the German hotline's own name.
    assert "110 or 112" in text and "Internet-Beschwerdestelle" in text
    assert "Do not download, screenshot, save or share" in text
    assert "Danke" not in text
    labels = {o["value"]: o["label"] for o in country_select(reply)["options"]}
    assert labels["DE"] == "Germany"


async def test_the_country_menu_switches_the_guidance(vigil: Vigil):
    await setup_lighthouse(vigil)
    reply = await report_in_lighthouse(vigil, "ida", "hans", "child_safety", "de")
    original = reply.original()
    assert original is not None
    switched = await vigil.run(
        vigil.emu.build.component(
            "vigil:country:child_safety:DE",
            user="ida",
            message=original,
            component_type=3,
            values=["FR"],
            locale="de",
        )
    )
    assert switched.type == 7  # the ephemeral message itself changes
    embed = switched.data["embeds"][0]
    assert embed["title"] == "Was du jetzt tun kannst"
    assert "17 oder 112" in embed["description"]
    assert "Point de Contact" in embed["description"]
    assert "Internet-Beschwerdestelle" not in embed["description"]
    menu = next(
        c for row in switched.data["components"] for c in row["components"] if "custom_id" in c
    )
    assert menu["custom_id"] == "vigil:country:child_safety:FR"
    assert {o["value"] for o in menu["options"] if o.get("default")} == {"FR"}
    assert switched.data["allowed_mentions"]["parse"] == []
    # Nothing about the country choice is stored.
    assert vigil.report_count() == 1


async def test_the_country_menu_works_after_a_restart(vigil: Vigil):
    await setup_lighthouse(vigil)
    reply = await report_in_lighthouse(vigil, "ida", "hans", "self_harm", "de")
    original = reply.original()
    assert original is not None
    await vigil.restart()
    switched = await vigil.run(
        vigil.emu.build.component(
            "vigil:country:self_harm:DE",
            user="ida",
            message=original,
            component_type=3,
            values=["INT"],
            locale="de",
        )
    )
    assert switched.type == 7
    assert "Notrufnummer deines Landes" in switched.data["embeds"][0]["description"]


async def test_synced_commands_carry_translations(vigil: Vigil):
    body = vigil.emu.requests_to("PUT", SYNC)[0].body
    commands = {(c["name"], int(c.get("type", 1))): c for c in body}
    report = commands[("report", 1)]
    assert report["name"] == "report" and not report.get("name_localizations")
    assert set(report["description_localizations"]) >= LOCALISED
    assert report["description_localizations"]["de"] == (
        "Ein Mitglied vertraulich den Moderatoren melden"
    )
    options = {o["name"]: o for o in report["options"]}
    assert options["member"]["description_localizations"]["pt-BR"] == (
        "Quem você está denunciando?"
    )
    assert not options["member"].get("name_localizations")
    child = next(c for c in options["reason"]["choices"] if c["value"] == "child_safety")
    assert set(child["name_localizations"]) >= LOCALISED
    assert child["name_localizations"]["fr"].startswith("Protection de l'enfance")
    hotlines = commands[("hotlines", 1)]
    assert set(hotlines["description_localizations"]) >= LOCALISED
    assert hotlines["options"][0]["description_localizations"]["es-ES"].startswith("País")


async def test_hotlines_autocomplete_and_reply_in_german(vigil: Vigil):
    guild = lighthouse(vigil)
    choices = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Deu"},
            focused="country",
            locale="de",
        )
    )
    assert choices.choices[0] == {"name": "Deutschland (DE)", "value": "DE"}
    spain = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Spa"},
            focused="country",
            locale="de",
        )
    )
    assert any(c["name"] == "Spanien (ES)" for c in spain.choices)
    reply = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "DE"},
            locale="de",
        )
    )
    text = result_text(reply)
    assert "Offizielle Hilfe – Deutschland" in text and "**Notruf:** 110 oder 112" in text
    unknown = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Atlantis"},
            locale="de",
        )
    )
    assert unknown.ephemeral and unknown.content.startswith("Dieses Land kenne ich nicht")


async def test_refusals_are_in_the_readers_language(vigil: Vigil):
    guild = lighthouse(vigil)
    refused = await vigil.run(
        vigil.emu.build.slash(
            "report",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"member": "ida", "reason": "other"},
            locale="pt-BR",
        )
    )
    assert refused.ephemeral
    assert refused.content.startswith("Você não pode denunciar a própria conta")
