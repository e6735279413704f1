"""Moderator-facing text follows the server's language, end to end (the real bot.py, the emulator).

Lighthouse's preferred locale is German: its alerts, the moderators' replies and the reporter's
feedback DM are German, whatever language each moderator's own app uses. Harbour (en-GB) stays
English (the other end-to-end tests check that).
"""

from __future__ import annotations

from typing import Any

from emulator.interactions import InteractionResult
from tests.e2e.conftest import Vigil, alert_text, result_text

ENGLISH = ("Case #", "reports about", "Reasons", "Distinct reporters", "Reporters (moderators")


def lighthouse(vigil: Vigil) -> Any:
    return vigil.world.guild_b


async def in_lighthouse(
    vigil: Vigil, command: str, user: str, locale: str | None = None, **options: Any
) -> InteractionResult:
    guild = lighthouse(vigil)
    return await vigil.run(
        vigil.emu.build.slash(
            command, user=user, channel=guild.channel("allgemein"), options=options, locale=locale
        )
    )


async def german_alert(vigil: Vigil) -> dict[str, Any]:
    """greta sets Lighthouse up; ida reports alice for a threat; the alert is posted."""
    moderation = lighthouse(vigil).channel("moderation")
    setup = await in_lighthouse(vigil, "reports setup", "greta", alert_channel=moderation)
    assert setup.ephemeral and "**Vigil ist eingerichtet.**" in setup.content
    assert "**Alarmkanal:**" in setup.content and "Alert channel" not in setup.content
    report = await in_lighthouse(
        vigil, "report", "ida", member="alice", reason="violent_threat", details="Drohung"
    )
    assert report.ephemeral
    await vigil.wait_alerts(1, channel=moderation)
    return vigil.alerts(moderation)[0]


def buttons(components: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["custom_id"]: c for row in components for c in row["components"]}


async def test_alerts_in_a_german_server_are_german(vigil: Vigil):
    alert = await german_alert(vigil)
    alice = vigil.world.users["alice"]
    embed = alert["embeds"][0]
    assert embed["title"].startswith("DRINGEND: Fall #1: Meldungen über")
    assert "**Status:** offen" in embed["description"]
    assert f"**Mitglied:** <@{alice.id}>" in embed["description"]
    assert "**Verschiedene Meldende:** 1 (dringend" in embed["description"]
    names = [f["name"] for f in embed["fields"]]
    assert names[0] == "Gründe" and names[1].startswith("Neueste Meldungen")
    assert "Meldende (nur für Moderation)" in names
    assert embed["fields"][0]["value"] == "- Gewaltandrohung"
    assert embed["footer"]["text"].startswith("Vigil-Fall #1")
    labels = {cid: b["label"] for cid, b in buttons(alert["components"]).items()}
    assert labels["vigil:case:acknowledge:1"] == "Übernehmen"
    assert labels["vigil:case:delete_messages:1"] == "Nachrichten löschen"
    text = alert_text(alert)
    assert "Drohung" in text  # the reporter's words, untranslated
    for english in ENGLISH:
        assert english not in text


async def test_a_press_redraws_the_alert_in_german(vigil: Vigil):
    alert = await german_alert(vigil)
    hans = vigil.world.users["hans"]
    # Hans's own app is in English: the alert still follows the server's language.
    acked = await vigil.run(
        vigil.emu.build.component(
            "vigil:case:acknowledge:1", user="hans", message=alert, locale="en-US"
        )
    )
    assert acked.type == 7
    embed = acked.data["embeds"][0]
    assert embed["title"].startswith("DRINGEND: Fall #1")
    assert f"**Status:** übernommen von <@{hans.id}>" in embed["description"]
    aktionen = next(f for f in embed["fields"] if f["name"] == "Aktionen")
    assert f"<@{hans.id}> hat übernommen" in aktionen["value"]
    labels = {cid: b for cid, b in buttons(acked.data["components"]).items()}
    assert labels["vigil:case:acknowledge:1"]["label"] == "Übernehmen"
    assert labels["vigil:case:acknowledge:1"]["disabled"] is True
    for english in ENGLISH:
        assert english not in result_text(acked) + embed["description"]


async def test_moderator_replies_follow_the_server(vigil: Vigil):
    alert = await german_alert(vigil)
    prompt = await vigil.run(
        vigil.emu.build.component(
            "vigil:case:timeout:1", user="hans", message=alert, locale="en-US"
        )
    )
    assert prompt.ephemeral and prompt.content.startswith("Wie lange soll **Alice**")
    original = prompt.original()
    assert original is not None
    select = next(c for row in original["components"] for c in row["components"])
    assert select["placeholder"] == "Dauer wählen"
    assert [o["label"] for o in select["options"]][:2] == ["10 Minuten", "1 Stunde"]
    again = await vigil.run(
        vigil.emu.build.component("vigil:case:acknowledge:1", user="hans", message=alert)
    )
    assert again.type == 7
    refused = await vigil.run(
        vigil.emu.build.component("vigil:case:acknowledge:1", user="hans", message=alert)
    )
    assert refused.ephemeral
    assert refused.content.startswith("Fall #1 ist bereits übernommen")
    queue = await in_lighthouse(vigil, "reports queue", "greta", locale="en-GB")
    assert queue.content.startswith("**Offene Fälle** (1)") and "übernommen" in queue.content


async def test_config_is_german(vigil: Vigil):
    await german_alert(vigil)
    config = await in_lighthouse(vigil, "reports config", "greta", locale="en-US")
    assert config.ephemeral
    moderation = lighthouse(vigil).channel("moderation")
    assert f"**Alarmkanal:** <#{moderation.id}>" in config.content
    assert "**Schwelle:** 3 verschiedene Meldende innerhalb von 24 Stunden" in config.content
    assert "Vigil kann Alarme im Alarmkanal posten." in config.content
    assert "Alert channel" not in config.content and "Threshold" not in config.content


async def test_feedback_dm_uses_the_servers_language(vigil: Vigil):
    alert = await german_alert(vigil)
    resolved = await vigil.run(
        vigil.emu.build.component("vigil:case:resolve:1", user="hans", message=alert)
    )
    assert resolved.type == 7
    assert "erledigt von" in resolved.data["embeds"][0]["description"]
    ida = vigil.world.users["ida"]
    dm_channel = vigil.world.dm_channel_for(ida).id
    await vigil.emu.waiters.wait_for(
        lambda: vigil.emu.channel_messages(dm_channel) or None, 10, "ida's feedback DM"
    )
    dm = vigil.emu.channel_messages(dm_channel)[0]["content"]
    assert dm.startswith("Die Moderatoren von **Lighthouse**") and "Alice" in dm
