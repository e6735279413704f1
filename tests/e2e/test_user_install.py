"""Issue 16: Vigil installed by a member for themself (user install), used in DMs and group DMs.

Help needs no server: /hotlines answers anywhere. "Report message" works in DMs and group DMs
too; with no server's moderators to tell there, nothing is stored or posted and the member gets
the help for their situation and Discord's own reporting route."""

from __future__ import annotations

import asyncio

from emulator import Attachment
from tests.dbquery import query
from tests.e2e.conftest import Vigil, result_text

GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2
# The part of the answer that names Discord's own route (the key dm.report_elsewhere).
DISCORD_ROUTE = "use Discord's own **Report** option"


async def test_commands_declare_installs_and_contexts(vigil: Vigil):
    """Help and "Report message" are installable by a member and usable in DMs; everything that
    files in or runs a server stays a guild install used in a guild."""
    commands = {(c["name"], int(c["type"])): c for c in vigil.emu.all_commands()}
    for key in (("hotlines", 1), ("Report message", 3)):
        assert sorted(commands[key]["integration_types"]) == [GUILD_INSTALL, USER_INSTALL], key
        assert sorted(commands[key]["contexts"]) == [GUILD, BOT_DM, PRIVATE_CHANNEL], key
    for key in (("report", 1), ("Report user", 2), ("reports", 1)):
        assert commands[key].get("integration_types") in (None, [GUILD_INSTALL]), key
        contexts = commands[key].get("contexts")
        # Guild only: either said with contexts, or (older style) with dm_permission false.
        assert contexts == [GUILD] or (
            contexts is None and commands[key].get("dm_permission") is False
        ), key


async def test_hotlines_answers_in_dms_without_a_server(vigil: Vigil):
    """In the bot's DM and in a DM between members (user install), /hotlines answers privately
    with the overview and the country menu; the reader's locale picks the country where it
    names one (ja: Japan), as in a server without a region."""
    for context in ("bot_dm", "private_channel"):
        payload = vigil.emu.build.slash(
            "hotlines", user="alice", context=context, installed="user", locale="ja"
        )
        reply = await vigil.run(payload)
        assert reply.ephemeral and reply.embeds, context
        assert reply.components, context  # the country menu
        assert "Japan" in result_text(reply), context


async def test_report_message_in_a_dm_keeps_nothing_and_guides(vigil: Vigil):
    """A member reports a DM from zed, with whom they share no server Vigil is in: no server
    is told, nothing is stored (no report, no kept text), no message is posted anywhere; the
    answer names Discord's own route and carries help with the country menu. Never a form that
    could not be filed. (A DM from someone sharing a server: tests/e2e/test_dm_reports.py.)"""
    await vigil.setup()
    dm = vigil.world.dm_between("alice", "zed")
    message = await vigil.emu.post_user_message(
        dm, "zed", "send me a photo or else", [Attachment(filename="secret.png")]
    )
    before = len(vigil.emu.requests_to("POST", "/channels/{channel_id}/messages"))
    reply = await vigil.run(
        vigil.emu.build.message_command("Report message", user="alice", message=message)
    )
    assert reply.type == 4 and reply.ephemeral
    assert DISCORD_ROUTE in reply.content
    assert reply.embeds and reply.components  # the guidance and the country menu
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    assert len(vigil.emu.requests_to("POST", "/channels/{channel_id}/messages")) == before
    assert query(vigil.database_url, "SELECT COUNT(*) FROM reports")[0][0] == 0
    assert query(vigil.database_url, "SELECT COUNT(*) FROM pending_evidence")[0][0] == 0
    # A group DM too, with another language: the same, in the reader's language.
    group = vigil.world.group_dm_study
    message = await vigil.emu.post_user_message(group, "ida", "you will regret this")
    reply = await vigil.run(
        vigil.emu.build.message_command(
            "Report message", user="carol", message=message, locale="fr"
        )
    )
    assert reply.ephemeral and "Signaler" in reply.content and reply.embeds
    assert query(vigil.database_url, "SELECT COUNT(*) FROM reports")[0][0] == 0
    assert vigil.alerts() == []


async def test_a_report_form_submitted_from_a_dm_files_nothing(vigil: Vigil):
    """The form's custom ID is untrusted: a report form naming a Harbour message, submitted from
    a DM (user install), files nothing anywhere and still answers with help for its reason."""
    await vigil.setup()
    general = vigil.guild.channel("general")
    message = await vigil.emu.post_user_message(general, "dave", "a threat")
    dave = vigil.world.user("dave")
    forged = f"vigil:rf:m:{dave.id}:{general.id}:{message['id']}"
    reply = await vigil.run(
        vigil.emu.build.modal_submit(
            forged,
            user="alice",
            fields={"reason": ["violent_threat"], "details": "x"},
            channel=vigil.world.dm_alice_carol,
        )
    )
    assert reply.ephemeral and reply.embeds  # "open it again", with the help for the reason
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []
    assert query(vigil.database_url, "SELECT COUNT(*) FROM reports")[0][0] == 0
