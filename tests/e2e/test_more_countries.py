"""The countries added from FACTS-MORE.md, end to end (the real bot.py, the emulator):
/hotlines finds them in the reader's language, the report guidance names their own channels, and
the country menu stays within Discord's 25 options however many countries are covered."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Vigil, result_text

MAX_OPTIONS = 25


def lighthouse(vigil: Vigil) -> Any:
    return vigil.world.guild_b


def country_select(result: Any) -> dict[str, Any]:
    rows = result.components if hasattr(result, "components") else result["components"]
    for row in rows:
        for component in row.get("components") or []:
            if str(component.get("custom_id", "")).startswith("vigil:country:"):
                return component
    raise AssertionError(f"no country menu in {rows!r}")


async def test_hotlines_poland_through_autocomplete(vigil: Vigil):
    guild = lighthouse(vigil)
    choices = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Polska"},
            focused="country",
            locale="en-US",
        )
    )
    assert choices.choices[0] == {"name": "Poland (PL)", "value": "PL"}
    german = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Osterr"},
            focused="country",
            locale="de",
        )
    )
    assert german.choices[0] == {"name": "Österreich (AT)", "value": "AT"}
    reply = await vigil.run(
        vigil.emu.build.slash(
            "hotlines",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"country": "Poland"},
            locale="en-US",
        )
    )
    assert reply.ephemeral
    text = result_text(reply)
    assert "Official help for Poland" in text and "**Emergency:** 112" in text
    assert "Dyżurnet.pl" in text and "<https://dyzurnet.pl>" in text
    assert "116 111" in text
    assert "No services specific to" not in text
    assert text.index("112") < text.index("Dyżurnet.pl")


async def test_romanian_server_report_and_the_capped_country_menu(vigil: Vigil):
    guild = lighthouse(vigil)
    setup = await vigil.run(
        vigil.emu.build.slash(
            "reports setup",
            user="greta",
            channel=guild.channel("allgemein"),
            options={"alert_channel": guild.channel("moderation"), "region": "RO"},
        )
    )
    assert setup.ephemeral
    reply = await vigil.run(
        vigil.emu.build.slash(
            "report",
            user="ida",
            channel=guild.channel("allgemein"),
            options={"member": "hans", "reason": "child_safety", "details": "images of a child"},
            locale="en-US",
        )
    )
    assert reply.ephemeral
    text = result_text(reply)
    assert "call 112" in text and "esc_ABUZ" in text
    form = next(line for line in text.splitlines() if "esc_ABUZ" in line)
    assert "never add images or screenshots to this form" in form
    menu = country_select(reply)
    assert menu["custom_id"] == "vigil:country:child_safety:RO"
    values = [o["value"] for o in menu["options"]]
    assert len(values) <= MAX_OPTIONS and "INT" in values
    assert [o["value"] for o in menu["options"] if o.get("default")] == ["RO"]

    original = reply.original()
    assert original is not None
    for chosen, expect in (("UA", ("102", "112")), ("SG", ("999", "not anonymous"))):
        switched = await vigil.run(
            vigil.emu.build.component(
                "vigil:country:child_safety:RO",
                user="ida",
                message=original,
                component_type=3,
                values=[chosen],
                locale="en-US",
            )
        )
        assert switched.type == 7
        description = switched.data["embeds"][0]["description"]
        first, second = expect
        assert description.index(first) < description.index(second), description
        menu = country_select(switched.data)
        assert len(menu["options"]) <= MAX_OPTIONS
        assert [o["value"] for o in menu["options"] if o.get("default")] == [chosen]
