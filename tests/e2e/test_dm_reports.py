"""Issue 16, step 2: "Report message" from a DM or group DM, filed in the server the reporter
chooses among those Vigil shares with both the reporter and the message's author.

The cast: alice and carol share Harbour; alice and ida share Lighthouse; alice and erin share
both; alice and zed share none. Vigil is in Harbour and Lighthouse."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator import Attachment
from emulator.interactions import InteractionResult
from tests.e2e.conftest import CALLBACK, MESSAGES, Vigil, alert_text
from tests.e2e.test_moderator_workflow import press

DISCORD_ROUTE = "use Discord's own **Report** option"  # dm.discord_route, dm.told_nobody, ...
NONE = "none"


def table_counts(vigil: Vigil) -> dict[str, int]:
    """Rows per table, every table of the database (what "none" must leave untouched)."""
    sqlite = vigil.database_url.startswith("sqlite")
    tables = [
        r[0]
        for r in vigil.db_rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            if sqlite
            else "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    ]
    assert "reports" in tables and "pending_evidence" in tables
    return {t: int(vigil.db_rows(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in tables}


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait (polling) until ``check`` holds: work done after the reply was sent."""
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def dm_message(
    vigil: Vigil, author: str = "carol", to: str = "alice", text: str = "send me a photo or else"
) -> dict[str, Any]:
    dm = vigil.world.dm_between(author, to)
    return await vigil.emu.post_user_message(dm, author, text, [Attachment(filename="x.png")])


async def open_form(
    vigil: Vigil, message: dict[str, Any], user: str = "alice", locale: str | None = None
) -> InteractionResult:
    return await vigil.run(
        vigil.emu.build.message_command("Report message", user=user, message=message, locale=locale)
    )


def select(opened: InteractionResult, custom_id: str) -> dict[str, Any]:
    for label in opened.data["components"]:
        component = label.get("component") or {}
        if component.get("custom_id") == custom_id:
            return {
                **component,
                "label": label.get("label"),
                "description": label.get("description"),
            }
    raise AssertionError(f"no {custom_id} in the form")


def server_choices(opened: InteractionResult) -> list[tuple[str, str]]:
    assert opened.type == 9, opened
    return [(o["label"], o["value"]) for o in select(opened, "server")["options"]]


async def submit(
    vigil: Vigil,
    custom_id: str,
    server: str,
    *,
    user: str = "alice",
    reason: str = "harassment",
    channel: Any = None,
    details: str = "it keeps happening",
) -> InteractionResult:
    channel = channel if channel is not None else vigil.world.dm_between("alice", "carol")
    return await vigil.run(
        vigil.emu.build.modal_submit(
            custom_id,
            user=user,
            fields={"reason": [reason], "server": [server], "details": details},
            channel=channel,
        )
    )


async def answer(result: InteractionResult) -> dict[str, Any]:
    """The reporter's answer, whether it came at once or after "thinking...": never assert
    timings (a slow machine may defer)."""
    if result.type == 5:
        return await result.wait_original_edit()
    assert result.type == 4, result
    return result.data


def harbour(vigil: Vigil) -> str:
    return str(vigil.world.guild_a.id)


def lighthouse(vigil: Vigil) -> str:
    return str(vigil.world.guild_b.id)


async def dm_report(
    vigil: Vigil,
    author: str = "carol",
    reporter: str = "alice",
    reason: str = "harassment",
    server: str | None = None,
    text: str = "send me a photo or else",
) -> dict[str, Any]:
    message = await dm_message(vigil, author, reporter, text)
    opened = await open_form(vigil, message, reporter)
    reply = await answer(
        await submit(
            vigil,
            opened.data["custom_id"],
            server or harbour(vigil),
            user=reporter,
            reason=reason,
            channel=vigil.world.dm_between(author, reporter),
        )
    )
    return reply


async def setup_lighthouse(vigil: Vigil) -> Any:
    guild = vigil.world.guild_b
    result = await vigil.run(
        vigil.emu.build.slash(
            "reports setup",
            user="greta",
            channel=guild.channel("allgemein"),
            options={"alert_channel": "moderation"},
        )
    )
    assert result.ephemeral
    return guild.channel("moderation")


# ------------------------------------------------------------------------------ the form
async def test_the_form_offers_only_servers_shared_with_the_author(vigil: Vigil):
    """alice+carol: Harbour only; alice+erin: both; alice+ida in the group DM: Lighthouse;
    alice+zed: no server, so no form (help and Discord's route, nothing kept). Each form also
    asks the reason and details, and says who will see the report."""
    await vigil.setup()
    world = vigil.world
    opened = await open_form(vigil, await dm_message(vigil, "carol"))
    assert server_choices(opened) == [
        ("Harbour", harbour(vigil)),
        ("None, just tell me where to report", NONE),
    ]
    server = select(opened, "server")
    assert server["label"] == "Which server should hear about it?"
    assert "your name, the author's and the message" in server["description"]
    assert [o["value"] for o in select(opened, "reason")["options"]]  # the reasons
    carol = world.users["carol"]
    dm = world.dm_alice_carol
    prefix = f"vigil:rf:d:{carol.id}:{dm.id}:"
    assert opened.data["custom_id"].startswith(prefix)
    # The text is held (under no server yet) until the form is submitted.
    held = vigil.db_rows(
        "SELECT guild_id, reporter_id, author_id, channel_id FROM pending_evidence"
    )
    assert held == [(0, world.users["alice"].id, carol.id, dm.id)]

    both = await open_form(vigil, await dm_message(vigil, "erin"))
    assert server_choices(both) == [
        ("Harbour", harbour(vigil)),
        ("Lighthouse", lighthouse(vigil)),
        ("None, just tell me where to report", NONE),
    ]
    group = world.group_dm_study
    from_ida = await vigil.emu.post_user_message(group, "ida", "you will regret this")
    in_group = await open_form(vigil, from_ida)
    assert server_choices(in_group) == [
        ("Lighthouse", lighthouse(vigil)),
        ("None, just tell me where to report", NONE),
    ]

    before = table_counts(vigil)
    from_zed = await open_form(vigil, await dm_message(vigil, "zed"))
    assert from_zed.type == 4 and from_zed.ephemeral
    assert DISCORD_ROUTE in (from_zed.content or "")
    assert from_zed.embeds and from_zed.components  # help and the country menu
    assert table_counts(vigil) == before  # nothing held for a form that never opened
    # The lookups went through the API: Vigil's servers, then members per server.
    assert vigil.emu.requests_to("GET", "/users/@me/guilds")
    assert vigil.emu.requests_to("GET", "/guilds/{guild_id}/members/{user_id}")


# ------------------------------------------------------------------------------ filing
async def test_a_dm_report_counts_with_in_server_reports_once_per_reporter(vigil: Vigil):
    """alice reports carol's DM to Harbour, then reports carol in Harbour too: one reporter.
    bob's and erin's reports in Harbour reach the threshold (3): the alert shows alice's report
    as made from a DM, names only the reporter(s) and carol, and nothing is posted anywhere but
    Harbour's alert channel."""
    await vigil.setup()
    reply = await dm_report(vigil)
    content = reply["content"]
    assert "went to the moderators of **Harbour**" in content
    assert DISCORD_ROUTE in content
    assert reply["embeds"] and reply["components"]  # the guidance and the country menu
    assert reply["flags"] & 64
    carol = vigil.world.users["carol"]
    rows = vigil.db_rows(
        "SELECT guild_id, target_id, source, message_link, channel_id, message_id, "
        "evidence_text, evidence_attachments, reporter_joined_at FROM reports"
    )
    dm = vigil.world.dm_alice_carol
    assert len(rows) == 1
    guild_id, target_id, source, link, channel_id, message_id, text, attachments, joined = rows[0]
    assert (guild_id, target_id, source) == (vigil.guild.id, carol.id, "dm_message")
    assert link.startswith(f"https://discord.com/channels/@me/{dm.id}/")
    assert (channel_id, message_id) == (None, None)  # nothing in Harbour acts on a DM
    assert (text, attachments) == ("send me a photo or else", 1)
    assert joined is not None  # alice as a member of Harbour (recent-joiner signal)
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]  # claimed

    again = await vigil.report("alice", "carol")
    assert again.ephemeral and "already" in (again.content or "")  # ack.duplicate
    await vigil.report("bob", "carol")
    await asyncio.sleep(0.3)
    assert vigil.alerts() == []  # alice counted once: 2 distinct reporters
    await vigil.report("erin", "carol")
    await vigil.wait_alerts(1)
    text = alert_text(vigil.alerts()[0])
    assert "**Distinct reporters:** 3" in text
    assert "💬 DM" in text
    alice = vigil.world.users["alice"]
    assert f"<@{alice.id}> · 💬 DM" in text
    # Posted only to Harbour's alert channel; nothing to the DM (Vigil is not in it).
    channels = {r.params["channel_id"] for r in vigil.emu.requests_to("POST", MESSAGES)}
    assert channels == {str(vigil.alerts_channel.id)}
    assert [m["content"] for m in vigil.emu.channel_messages(dm.id)] == ["send me a photo or else"]


async def test_a_critical_dm_report_alerts_at_once(vigil: Vigil):
    """Child safety from a DM: one report is enough; the alert is urgent and pings the
    moderator role; the reporter gets the child-safety help and Discord's route."""
    await vigil.setup(mod_role="Moderators")
    reply = await dm_report(vigil, reason="child_safety", text="how old are you? send pics")
    assert DISCORD_ROUTE in reply["content"] and reply["embeds"]
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    text = alert_text(alert)
    assert "URGENT" in text and "💬 DM" in text
    role = vigil.guild.role("Moderators")
    assert (alert.get("content") or "").startswith(f"<@&{role.id}>")
    assert "how old are you" not in text  # the text is kept, shown only on demand
    # The export for authorities says where the message is (a DM, its @me link).
    await press(vigil, alert, "vigil:case:export:1", "maya")
    packet = json.loads(vigil.emu.uploads[f"vigil-case-1-{vigil.guild.id}.json"])
    (report,) = packet["reports"]
    assert report["source"] == "dm_message"
    assert report["message_link"].startswith("https://discord.com/channels/@me/")
    assert report["message_evidence"]["text"] == "how old are you? send pics"
    assert packet["reported_messages"] == []  # none in this server
    # A DM's message is no server's to delete: Delete messages stays off.
    buttons = [c for row in alert["components"] for c in row["components"]]
    delete = next(c for c in buttons if c["custom_id"].startswith("vigil:case:delete_messages:"))
    assert delete.get("disabled") is True


async def test_a_group_dm_report_names_only_reporter_and_author(vigil: Vigil):
    """alice reports ida's message in the study group to Lighthouse: the alert there names
    alice and ida, never carol (the third member) or the group; nothing reaches Harbour."""
    await vigil.setup()
    moderation = await setup_lighthouse(vigil)
    group = vigil.world.group_dm_study
    message = await vigil.emu.post_user_message(group, "ida", "you will regret this")
    opened = await open_form(vigil, message)
    reply = await answer(
        await submit(
            vigil,
            opened.data["custom_id"],
            lighthouse(vigil),
            reason="violent_threat",
            channel=group,
        )
    )
    assert "**Lighthouse**" in reply["content"]
    await vigil.wait_alerts(1, moderation)
    alert = vigil.alerts(moderation)[0]
    sent = json.dumps(alert, ensure_ascii=False)
    world = vigil.world
    assert str(world.users["alice"].id) in sent and str(world.users["ida"].id) in sent
    assert str(world.users["carol"].id) not in sent and "study group" not in sent
    assert "Direktnachricht" in alert_text(alert)  # Lighthouse speaks German
    assert vigil.alerts() == []


# ------------------------------------------------------------------------------ "none"
async def test_none_stores_nothing_and_still_guides(vigil: Vigil):
    """ "None, just tell me where to report": no report, no case, no held text, no post; the
    answer carries the help for the reason (self-harm: crisis lines), the country menu and
    Discord's route."""
    await vigil.setup()
    before = table_counts(vigil)
    message = await dm_message(vigil)
    opened = await open_form(vigil, message)
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(1,)]
    posts = len(vigil.emu.requests_to("POST", MESSAGES))
    reply = await answer(await submit(vigil, opened.data["custom_id"], NONE, reason="self_harm"))
    assert reply["flags"] & 64
    assert "You chose not to tell a server" in reply["content"]
    assert DISCORD_ROUTE in reply["content"]
    assert reply["embeds"] and reply["components"]
    await eventually(lambda: table_counts(vigil) == before, "the held text is gone too")
    assert len(vigil.emu.requests_to("POST", MESSAGES)) == posts
    assert vigil.alerts() == []


# ------------------------------------------------------------------------------ attackers
async def test_a_forged_server_choice_is_refused_and_stores_nothing(vigil: Vigil):
    """The server is the reporter's answer, checked again through the API at submit: a server
    carol is not in (Lighthouse), one Vigil is not in, one zed (the reporter) is not in, and a
    DM form submitted from a server are all refused politely with help; nothing is stored.
    zed cannot claim or drop alice's held text by naming it; alice then files normally."""
    await vigil.setup()
    world = vigil.world
    carol, alice = world.users["carol"], world.users["alice"]
    message = await dm_message(vigil)
    custom_id = (await open_form(vigil, message)).data["custom_id"]
    evidence_id = custom_id.rsplit(":", 1)[1]

    refused = await answer(await submit(vigil, custom_id, lighthouse(vigil)))
    assert "can't file this report in that server" in refused["content"]
    assert DISCORD_ROUTE in refused["content"] and refused["embeds"] and refused["components"]
    assert vigil.report_count() == 0
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]  # dropped

    custom_id = (await open_form(vigil, message)).data["custom_id"]
    evidence_id = custom_id.rsplit(":", 1)[1]
    # Not a server ID: other digits ("²", Arabic-Indic, full-width) that str.isdigit and int
    # accept, a number too long to be a snowflake, signs, spaces: refused politely, with help.
    odd = ("²", "٣٣٣", "１２３４５６７８９０１２３４５６７８", "9" * 25, "-1", " 1", "1e5", "")
    for server in ("999999999999999999", "0", "x" * 5, *odd):
        out = await answer(await submit(vigil, custom_id, server))
        assert "can't file" in out["content"] and out["embeds"], server
        assert DISCORD_ROUTE in out["content"] and out["components"], server
        custom_id = (await open_form(vigil, message)).data["custom_id"]
        evidence_id = custom_id.rsplit(":", 1)[1]

    zed_dm = world.dm_between("zed", "carol")
    forged = f"vigil:rf:d:{carol.id}:{zed_dm.id}:{message['id']}:{evidence_id}"
    out = await answer(await submit(vigil, forged, harbour(vigil), user="zed", channel=zed_dm))
    assert "can't file" in out["content"] and out["embeds"]
    from_guild = await vigil.run(
        vigil.emu.build.modal_submit(
            custom_id,
            user="alice",
            fields={"reason": ["harassment"], "server": [harbour(vigil)]},
            channel=vigil.guild.channel("general"),
        )
    )
    assert (await answer(from_guild))["embeds"]
    # alice's text is still held for her own form (the others' were dropped), and it files.
    await eventually(
        lambda: (
            vigil.db_rows("SELECT id, reporter_id FROM pending_evidence")
            == [(int(evidence_id), alice.id)]
        ),
        "only alice's current held text is left",
    )
    assert vigil.report_count() == 0 and vigil.alerts() == []
    filed = await answer(await submit(vigil, custom_id, harbour(vigil)))
    assert "**Harbour**" in filed["content"]
    assert vigil.db_rows("SELECT reporter_id, evidence_text FROM reports") == [
        (alice.id, "send me a photo or else")
    ]


async def test_rate_limits_and_signals_span_dms_and_the_server(vigil: Vigil):
    """One limiter per reporter and server, whatever the entry point: two reports in Harbour
    use up REPORT_RATE_LIMIT=2, so a DM report to Harbour is refused (with help and Discord's
    route), and nothing of it is kept. A new account's DM report is kept but not counted, as
    in the server (minimum account age)."""
    await vigil.restart(REPORT_RATE_LIMIT="2")
    await vigil.setup(min_account_age_days=7)
    assert (await vigil.report("alice", "dave")).ephemeral
    assert (await vigil.report("alice", "bob")).ephemeral
    refused = await dm_report(vigil)
    assert "several reports in a short time" in refused["content"]
    assert DISCORD_ROUTE in refused["content"] and refused["embeds"] and refused["components"]
    assert vigil.db_rows("SELECT COUNT(*) FROM reports WHERE source = 'dm_message'") == [(0,)]
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]
    # carol's account is 2 days old: her DM report about alice is kept, not counted.
    reply = await dm_report(vigil, author="alice", reporter="carol")
    assert "**Harbour**" in reply["content"]
    assert vigil.db_rows(
        "SELECT counts_toward_threshold FROM reports WHERE source = 'dm_message'"
    ) == [(0,)]


# ------------------------------------------------------------------------------ restart, races
async def test_a_form_opened_before_a_restart_is_filed_after_it(vigil: Vigil):
    """Forms are stateless: the custom ID names the author, the DM message and the held text;
    the server choice is in the answers. A restart in between loses nothing."""
    await vigil.setup()
    message = await dm_message(vigil)
    custom_id = (await open_form(vigil, message)).data["custom_id"]
    await vigil.restart()
    reply = await answer(await submit(vigil, custom_id, harbour(vigil)))
    assert "**Harbour**" in reply["content"] and DISCORD_ROUTE in reply["content"]
    assert vigil.db_rows("SELECT source, evidence_text FROM reports") == [
        ("dm_message", "send me a photo or else")
    ]


async def test_two_reporters_at_once(vigil: Vigil):
    """alice and bob each report their own DM from carol to Harbour at the same moment: two
    reports, each with its own message's text, two distinct reporters; erin's report in the
    server completes the threshold and the alert shows both DM reports."""
    await vigil.setup()
    to_alice = await dm_message(vigil, "carol", "alice", "alice: pay or else")
    to_bob = await dm_message(vigil, "carol", "bob", "bob: pay or else")
    forms = await asyncio.gather(
        open_form(vigil, to_alice, "alice"), open_form(vigil, to_bob, "bob")
    )
    assert [server_choices(f)[0][0] for f in forms] == ["Harbour", "Harbour"]
    replies = await asyncio.gather(
        submit(vigil, forms[0].data["custom_id"], harbour(vigil), user="alice"),
        submit(
            vigil,
            forms[1].data["custom_id"],
            harbour(vigil),
            user="bob",
            channel=vigil.world.dm_between("carol", "bob"),
        ),
    )
    for reply in replies:
        assert "**Harbour**" in (await answer(reply))["content"]
    users = vigil.world.users
    assert sorted(vigil.db_rows("SELECT reporter_id, evidence_text FROM reports")) == sorted(
        [(users["alice"].id, "alice: pay or else"), (users["bob"].id, "bob: pay or else")]
    )
    await vigil.report("erin", "carol")
    await vigil.wait_alerts(1)
    assert alert_text(vigil.alerts()[0]).count("💬 DM") == 2


# ------------------------------------------------------------------ review: lookups under load
MEMBER = "/guilds/{guild_id}/members/{user_id}"
COULD_NOT_CHECK = "couldn't check in time"  # dm.lookup_timeout
TOO_OFTEN = "opened this form many times"  # dm.lookup_limited


def guided(result: InteractionResult, needle: str) -> None:
    """An immediate, private answer that says ``needle``, with Discord's route, the help for
    the situation and the country menu: never a bare error, never a wait."""
    assert result.type == 4 and result.ephemeral, result.data
    content = result.content or ""
    assert needle in content, content
    assert DISCORD_ROUTE in content, content
    assert result.embeds and result.components


async def test_a_lookup_that_does_not_finish_in_time_asks_to_try_again(vigil: Vigil):
    """Discord does not answer the member lookups in time: the reporter is told Vigil could not
    check in time and to try again (not that no server is shared), with help and Discord's
    route, and nothing is held. Trying again once Discord answers opens the form."""
    await vigil.setup()
    message = await dm_message(vigil)
    held = vigil.emu.faults.hold("GET", MEMBER, count=2)  # alice in Harbour and Lighthouse
    try:
        first = await open_form(vigil, message)
    finally:
        held.release()
    guided(first, COULD_NOT_CHECK)
    assert "try again" in (first.content or "")
    assert "Vigil files reports only in servers where it is installed" not in first.content
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]
    again = await open_form(vigil, message)
    assert server_choices(again)[0] == ("Harbour", harbour(vigil))


async def test_a_dropped_connection_while_looking_up_still_guides(vigil: Vigil):
    """The connection to Discord drops (discord.py raises an aiohttp error, not an HTTP one):
    listing Vigil's servers, or asking about members. Either way the reporter gets "try again"
    with help and Discord's route, never the command tree's bare error."""
    await vigil.setup()
    message = await dm_message(vigil)
    listing = vigil.emu.faults.add("GET", "/users/@me/guilds", disconnect=True)
    guided(await open_form(vigil, message), COULD_NOT_CHECK)
    vigil.emu.faults.remove(listing)
    members = vigil.emu.faults.add("GET", MEMBER, disconnect=True)
    guided(await open_form(vigil, message), COULD_NOT_CHECK)
    vigil.emu.faults.remove(members)
    assert server_choices(await open_form(vigil, message))[0][0] == "Harbour"


async def test_a_form_that_fails_to_open_still_guides(vigil: Vigil):
    """Discord refuses the form itself (the modal callback): the reporter still gets help and
    Discord's route, in the answer Vigil can still give."""
    await vigil.setup()
    message = await dm_message(vigil)
    vigil.emu.faults.add(
        "POST", CALLBACK, 400, count=1, predicate=lambda r: (r.body or {}).get("type") == 9
    )
    result = await open_form(vigil, message)
    guided(result, "something went wrong")
    # The text held for the form that never opened is dropped at once.
    await eventually(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)],
        "the held text dropped",
    )


async def test_each_reporter_may_look_up_only_a_few_times_a_minute(vigil: Vigil):
    """alice opens the form on messages from five people (each needs Discord's answers): the
    sixth person in the same minute is not looked up; alice is asked to wait, with help and
    Discord's route. A form whose answer is cached still opens, and bob is not limited by
    alice."""
    await vigil.setup()
    for author in ("carol", "erin", "ida", "bob", "dave"):
        opened = await open_form(vigil, await dm_message(vigil, author))
        assert opened.type == 9, author
    asked = len(vigil.emu.requests_to("GET", MEMBER))
    limited = await open_form(vigil, await dm_message(vigil, "maya"))
    guided(limited, TOO_OFTEN)
    assert len(vigil.emu.requests_to("GET", MEMBER)) == asked  # nothing was asked
    assert vigil.db_rows(
        "SELECT COUNT(*) FROM pending_evidence WHERE author_id = ?",
        (vigil.world.users["maya"].id,),
    ) == [(0,)]
    cached = await open_form(vigil, await dm_message(vigil, "carol"))
    assert server_choices(cached)[0][0] == "Harbour"
    from_bob = await dm_message(vigil, "carol", "bob")
    assert server_choices(await open_form(vigil, from_bob, "bob"))[0][0] == "Harbour"


# ------------------------------------------------------------------ review: what is kept
async def test_a_forged_dm_form_keeps_no_unverifiable_link(vigil: Vigil):
    """A form Vigil never opened names any DM channel and message, with no held text (or
    someone else's): the report may be filed (alice and carol share Harbour) but no link is
    kept, so no moderator sees a "Message" Discord never showed alice."""
    await vigil.setup()
    world = vigil.world
    carol = world.users["carol"]
    nowhere = f"vigil:rf:d:{carol.id}:{world.ids.now()}:{world.ids.now()}"
    reply = await answer(await submit(vigil, nowhere, harbour(vigil)))
    assert "**Harbour**" in reply["content"]
    # bob's held text named by alice's forged form claims nothing either.
    to_bob = await dm_message(vigil, "carol", "bob")
    bobs = (await open_form(vigil, to_bob, "bob")).data["custom_id"].rsplit(":", 1)[1]
    dm = world.dm_between("carol", "bob")
    forged = f"vigil:rf:d:{carol.id}:{dm.id}:{to_bob['id']}:{bobs}"
    reply = await answer(await submit(vigil, forged, harbour(vigil), details="second"))
    assert "text could not be kept" in reply["content"]
    rows = vigil.db_rows("SELECT message_link, evidence_text FROM reports ORDER BY id")
    assert rows == [(None, None), (None, None)]
    assert vigil.db_rows("SELECT reporter_id FROM pending_evidence") == [(world.users["bob"].id,)]


async def test_a_dms_held_text_lives_minutes_and_a_reporter_holds_only_a_few(vigil: Vigil):
    """A third person's DM text waits for its form 10 minutes at most: a form submitted later
    files without it (and says so), and the row is gone; the sweep purges older DM texts
    while a server's held text keeps its hour. Opening form after form holds at most five
    DM texts per reporter."""
    await vigil.setup()
    message = await dm_message(vigil)
    custom_id = (await open_form(vigil, message)).data["custom_id"]
    eleven_minutes_ago = (datetime.now(UTC) - timedelta(minutes=11)).isoformat(
        timespec="microseconds"
    )
    vigil.db_rows("UPDATE pending_evidence SET created_at = ?", (eleven_minutes_ago,))
    reply = await answer(await submit(vigil, custom_id, harbour(vigil)))
    assert "**Harbour**" in reply["content"]
    assert vigil.db_rows("SELECT message_link, evidence_text FROM reports") == [(None, None)]
    assert vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(0,)]

    # The sweep (it runs at start): a DM's 11-minute-old text goes, a server's stays.
    await open_form(vigil, await dm_message(vigil, "erin"))
    general = vigil.guild.channel("general")
    in_server = await vigil.emu.post_user_message(general, "dave", "see you outside")
    opened = await vigil.run(
        vigil.emu.build.message_command("Report message", user="alice", message=in_server)
    )
    assert opened.type == 9
    vigil.db_rows("UPDATE pending_evidence SET created_at = ?", (eleven_minutes_ago,))
    await vigil.restart()
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM pending_evidence") == [(1,)] or None,
        10,
        "the DM text purged",
    )
    assert vigil.db_rows("SELECT guild_id FROM pending_evidence") == [(vigil.guild.id,)]

    for n in range(7):
        opened = await open_form(vigil, await dm_message(vigil, text=f"message {n}"))
        assert opened.type == 9
    held = vigil.db_rows(
        "SELECT text FROM pending_evidence WHERE guild_id = 0 ORDER BY id",
    )
    assert held == [(f"message {n}",) for n in range(2, 7)]


# ------------------------------------------------------------------ review: one's own message
async def test_reporting_ones_own_dm_for_self_harm_gets_crisis_support(vigil: Vigil):
    """alice reports her own message in her DM with carol: as in a server, the form opens
    (nothing to choose but the reason; no server is looked up, nothing is held), and self-harm
    is answered with crisis support, not a refusal; another reason is refused with its help.
    Nothing is stored or sent."""
    await vigil.setup(region="US")
    before = table_counts(vigil)
    own = await dm_message(vigil, "alice", "carol", "I don't want to be here anymore")
    opened = await open_form(vigil, own)
    assert opened.type == 9
    assert [c["component"]["custom_id"] for c in opened.data["components"]] == ["reason"]
    assert vigil.emu.requests_to("GET", MEMBER) == []
    assert table_counts(vigil) == before

    reply = await answer(
        await submit(vigil, opened.data["custom_id"], NONE, reason="self_harm", details="")
    )
    assert "You are not alone" in reply["content"]
    assert "Nothing was sent to the moderators" in reply["content"]
    assert "can't report yourself" not in reply["content"]
    menu = reply["components"][0]["components"][0]
    assert menu["custom_id"].startswith("vigil:country:self_support:")
    assert reply["embeds"]

    other = await answer(await submit(vigil, opened.data["custom_id"], NONE, reason="harassment"))
    assert "can't report yourself" in other["content"] and other["embeds"]
    assert table_counts(vigil) == before and vigil.alerts() == []


# ------------------------------------------------------------------ review: the server's name
async def test_the_confirmation_names_the_server_from_another_process(vigil: Vigil):
    """The form is opened, then submitted to a process whose shards hold neither server (its
    guild cache has no Harbour, and it never listed Vigil's servers): the confirmation still
    names Harbour, as Discord names it."""
    await vigil.setup()
    message = await dm_message(vigil)
    custom_id = (await open_form(vigil, message)).data["custom_id"]
    owners = {(g.id >> 22) % 3 for g in (vigil.world.guild_a, vigil.world.guild_b)}
    shard = min({0, 1, 2} - owners)
    await vigil.restart(SHARD_COUNT="3", SHARD_IDS=str(shard))
    reply = await answer(await submit(vigil, custom_id, harbour(vigil)))
    assert "went to the moderators of **Harbour**" in reply["content"]
    assert vigil.db_rows("SELECT guild_id, source FROM reports") == [(vigil.guild.id, "dm_message")]
