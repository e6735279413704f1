"""discord.py's richer request shapes (groups, modals, buttons, deferrals, files, moderation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from emulator import BotProcess, Emulator

EXERCISER = Path(__file__).with_name("exerciser_bot.py")


async def _start(
    emulator: Emulator, bot_factory: Callable[..., Awaitable[BotProcess]]
) -> BotProcess:
    env = {"DM_USER_ID": str(emulator.world.users["alice"].id)}
    return await bot_factory(EXERCISER, env=env)


async def test_exerciser_flows(
    emulator: Emulator, bot_factory: Callable[..., Awaitable[BotProcess]]
) -> None:
    await _start(emulator, bot_factory)
    world = emulator.world
    g = world.guild_a
    alerts = g.channel("mod-alerts")

    # DM sent on ready (POST /users/@me/channels then a message to the DM channel).
    dm = await emulator.wait_for_request(
        lambda r: r.template == "/channels/{channel_id}/messages" and r.method == "POST"
    )
    assert dm.status == 200

    # Subcommand group + defer + edit original + follow-up with a file + channel send.
    res = await emulator.interact(
        emulator.build.slash(
            "reports setup alert_channel", user="olivia", options={"channel": alerts}
        )
    )
    assert res.type == 5 and res.ephemeral
    original = await res.wait_original_edit()
    assert original["content"].startswith("alerts -> <#")
    follow = await res.wait_followup(0)
    assert follow["content"] == "second" and follow["attachments"][0]["filename"] == "a.txt"
    posted = emulator.channel_messages(alerts.id)
    assert posted[-1]["embeds"][0]["title"] == "Alerts configured"
    assert posted[-1]["components"][0]["components"][0]["custom_id"] == "claim"

    # Button click on that message -> UPDATE_MESSAGE edits it in place.
    click = await emulator.interact(
        emulator.build.component("claim", user="maya", message=posted[-1])
    )
    assert click.type == 7
    assert emulator.channel_messages(alerts.id)[-1]["content"] == "claimed by maya"

    # User command -> modal (Label + Select + TextInput) -> modal submit.
    modal = await emulator.interact(
        emulator.build.user_command("Report user", user="alice", target="carol")
    )
    assert modal.type == 9
    assert [c["type"] for c in modal.data["components"]] == [18, 18]
    submit = await emulator.interact(
        emulator.build.modal_submit(
            modal.data["custom_id"], user="alice", fields={"reason": ["spam"], "details": "ads"}
        )
    )
    assert submit.content == "got spam: ads"

    # Autocomplete.
    auto = await emulator.interact(
        emulator.build.autocomplete("pick", user="bob", options={"fruit": "ap"}, focused="fruit")
    )
    assert auto.type == 8 and [c["value"] for c in auto.choices] == ["apple", "apricot"]

    # Moderation: timeout below the bot works, above it is refused with 50013.
    ok = await emulator.interact(
        emulator.build.slash(
            "timeout", user="maya", options={"member": world.users["carol"], "minutes": 10}
        )
    )
    assert ok.content == "done"
    assert g.member(world.users["carol"]).communication_disabled_until is not None
    patch = emulator.requests_to("PATCH", "/guilds/{guild_id}/members/{user_id}")[0]
    assert patch.reason == "exerciser"
    refused = await emulator.interact(
        emulator.build.slash(
            "timeout", user="olivia", options={"member": world.users["milo"], "minutes": 10}
        )
    )
    assert refused.content == "forbidden 50013"

    banned = await emulator.interact(
        emulator.build.slash("ban", user="maya", options={"member": "dave"})
    )
    assert banned.content == "banned"
    assert world.users["dave"].id in g.bans
