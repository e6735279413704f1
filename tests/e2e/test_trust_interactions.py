"""Issue 11, as an attacker, a second concurrent user and a crash would try it: forged message
links, forms that collide, a reported moderator on their own case, stale confirmations, and a
slow audit channel. Every Discord call the bot makes is checked in the emulator's records."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from emulator.interactions import InteractionResult
from emulator.models import Channel, Overwrite
from tests.e2e.conftest import CALLBACK, MESSAGES, Vigil, result_text

MESSAGE = "/channels/{channel_id}/messages/{message_id}"
MEMBER = "/guilds/{guild_id}/members/{user_id}"
MANAGE_MESSAGES = 1 << 13


def uid(vigil: Vigil, name: str) -> int:
    return int(vigil.world.users[name].id)


async def press(
    vigil: Vigil, message: dict[str, Any], custom_id: str, user: str, **kw: Any
) -> InteractionResult:
    return await vigil.run(vigil.emu.build.component(custom_id, user=user, message=message, **kw))


async def settled(result: InteractionResult) -> str:
    message = await result.wait_original_edit(timeout=10)
    return str(message["content"])


def showing(message: dict[str, Any] | None, custom_id: str, values: tuple[str, ...] = ()) -> Any:
    """A copy of an ephemeral prompt that shows `custom_id` (a button, or a select with
    `values`): an old confirmation, or one shown for another case, as Discord would send it."""
    assert message is not None
    if values:
        options = [{"label": v, "value": v} for v in values]
        component = {"type": 3, "custom_id": custom_id, "options": options}
    else:
        component = {"type": 2, "style": 4, "label": "Confirm", "custom_id": custom_id}
    return {**message, "components": [{"type": 1, "components": [component]}]}


def custom_ids(message: dict[str, Any] | None) -> list[str]:
    assert message is not None
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def deletion_prompt(vigil: Vigil, alert: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Press Delete messages: Vigil defers (it reads each message first), then asks."""
    pressed = await press(vigil, alert, f"vigil:case:delete_messages:{case_id}", "maya")
    assert pressed.ephemeral and pressed.type in (4, 5), pressed.type
    if pressed.type == 4:
        shown = pressed.original()
        assert shown is not None
        return shown
    return await pressed.wait_followup(timeout=10)


def deletes(vigil: Vigil) -> set[tuple[str, str]]:
    return {
        (r.params["channel_id"], r.params["message_id"])
        for r in vigil.emu.requests_to("DELETE", MESSAGE)
    }


async def open_user_form(vigil: Vigil, reporter: str, target: str, **kw: Any) -> str:
    opened = await vigil.run(
        vigil.emu.build.user_command("Report user", user=reporter, target=target, **kw)
    )
    assert opened.type == 9, opened
    return str(opened.data["custom_id"])


def submit(vigil: Vigil, form: str, reporter: str, **kw: Any) -> dict[str, Any]:
    fields = {"reason": ["harassment"], "details": f"from {reporter}"}
    return vigil.emu.build.modal_submit(form, user=reporter, fields=fields, **kw)


async def answer_text(result: InteractionResult) -> str:
    """The reporter's answer: direct, or (deferred in a storm) the follow-up that replaces it."""
    assert result.ephemeral
    if result.type == 5:
        message = await result.wait_followup(timeout=20)
        parts = [message.get("content") or ""]
        parts += [e.get("description") or "" for e in message.get("embeds") or []]
        return "\n".join(parts)
    return result_text(result)


def stored_pairs(vigil: Vigil) -> list[tuple[int, int, int]]:
    rows = vigil.db_rows("SELECT guild_id, reporter_id, target_id FROM reports")
    return sorted((int(g), int(r), int(t)) for g, r, t in rows)


# --------------------------------------------------------------------------- 1. message links


async def test_a_link_to_another_servers_channel_is_refused(vigil: Vigil):
    """This server's ID in front of Lighthouse's channel: the guild ID alone proves nothing."""
    await vigil.setup()
    lighthouse = vigil.world.guild_b.channel("allgemein")
    theirs = await vigil.emu.post_user_message(lighthouse, "ida", "hello")
    forged = f"https://discord.com/channels/{vigil.guild.id}/{lighthouse.id}/{theirs['id']}"
    reply = await vigil.report("alice", "dave", "violent_threat", message_link=forged)
    assert reply.ephemeral and "channel of this server" in result_text(reply), reply.content
    assert vigil.report_count() == 0


async def test_delete_messages_deletes_only_what_the_target_wrote_here(vigil: Vigil):
    """Reports link dave's own message, the owner's rules post, a moderator's post in the
    staff channel and (a row stored before links were checked) a message of another server:
    only dave's message is deleted, and the moderator is told why not the others."""
    await vigil.setup()
    general = vigil.guild.channel("general")
    staff_room = vigil.guild.channel("audit")  # moderators only
    lighthouse = vigil.world.guild_b.channel("allgemein")
    own = await vigil.emu.post_user_message(general, "dave", "you will regret this")
    rules = await vigil.emu.post_user_message(general, "olivia", "Rules: be kind")
    staff = await vigil.emu.post_user_message(staff_room, "maya", "staff only")
    foreign = await vigil.emu.post_user_message(lighthouse, "ida", "elsewhere")
    link = vigil.world.jump_url
    await vigil.report("alice", "dave", "violent_threat", message_link=link(general.id, own["id"]))
    for reporter, msg in (("bob", rules), ("erin", staff)):
        channel = general if msg is rules else staff_room
        reply = await vigil.report(
            reporter, "dave", "harassment", message_link=link(channel.id, msg["id"])
        )
        assert "received" in result_text(reply), reply.content
    # A link that was stored before channels were checked: forged to this guild's ID.
    vigil.db_rows(
        "UPDATE reports SET channel_id = ?, message_id = ?, message_link = ? WHERE reporter_id = ?",
        (
            lighthouse.id,
            int(foreign["id"]),
            f"https://discord.com/channels/{vigil.guild.id}/{lighthouse.id}/{foreign['id']}",
            uid(vigil, "erin"),
        ),
    )
    await vigil.report("carol", "dave", "harassment", message_link=link(staff_room.id, staff["id"]))
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    case_id = vigil.db_rows("SELECT id FROM cases")[0][0]

    prompt = await deletion_prompt(vigil, alert, case_id)
    text = prompt["content"]
    assert link(general.id, own["id"]) in text and "Delete the 1 reported message" in text
    assert "written by someone else" in text and "not a channel of this server" in text
    confirm = f"vigil:confirm:delete_messages:{case_id}:{uid(vigil, 'dave')}:0"
    assert confirm in custom_ids(prompt)
    done = await press(vigil, prompt, confirm, "maya")
    result = await settled(done)
    assert "1 reported message(s) deleted" in result and "written by someone else" in result
    assert deletes(vigil) == {(str(general.id), own["id"])}
    assert [m["id"] for m in vigil.emu.channel_messages(general.id)] == [rules["id"]]
    assert staff["id"] in [m["id"] for m in vigil.emu.channel_messages(staff_room.id)]
    assert [m["id"] for m in vigil.emu.channel_messages(lighthouse.id)] == [foreign["id"]]


async def test_delete_needs_manage_messages_where_the_message_is(vigil: Vigil):
    """Maya may manage messages in the alert channel, not in #general: nothing there goes."""
    await vigil.setup()
    general = vigil.guild.channel("general")
    own = await vigil.emu.post_user_message(general, "dave", "threat")
    link = vigil.world.jump_url(general.id, own["id"])
    await vigil.report("alice", "dave", "violent_threat", message_link=link)
    await vigil.wait_alerts(1)
    general.overwrites.append(Overwrite(uid(vigil, "maya"), 1, deny=MANAGE_MESSAGES))
    await vigil.emu.dispatch("CHANNEL_UPDATE", general.payload(), guild_id=vigil.guild.id)

    prompt = await deletion_prompt(vigil, vigil.alerts()[0], 1)
    assert "Manage Messages" in prompt["content"] and general.mention in prompt["content"]
    confirm = f"vigil:confirm:delete_messages:1:{uid(vigil, 'dave')}:0"
    assert confirm not in custom_ids(prompt)  # nothing to confirm
    # Pressing it anyway (a forged or old confirmation) deletes nothing either.
    forged = await press(vigil, showing(prompt, confirm), confirm, "maya")
    assert "Manage Messages" in await settled(forged)
    assert deletes(vigil) == set()
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]  # nothing to record
    assert own["id"] in [m["id"] for m in vigil.emu.channel_messages(general.id)]


# --------------------------------------------------------------------------- 2. forms


async def test_two_report_forms_open_at_once_are_each_filed_about_their_own_target(
    vigil: Vigil,
):
    alice_form = await open_user_form(vigil, "alice", "dave")
    bob_form = await open_user_form(vigil, "bob", "carol")
    assert alice_form != bob_form
    # Submitted in the other order than opened.
    bob = await vigil.run(submit(vigil, bob_form, "bob"))
    alice = await vigil.run(submit(vigil, alice_form, "alice"))
    assert "carol" in (bob.content or "").lower() and "dave" in (alice.content or "").lower()
    g = vigil.guild.id
    assert stored_pairs(vigil) == sorted(
        [(g, uid(vigil, "alice"), uid(vigil, "dave")), (g, uid(vigil, "bob"), uid(vigil, "carol"))]
    )


async def test_twenty_two_forms_open_at_once_across_servers(vigil: Vigil):
    people = ["alice", "bob", "carol", "dave", "erin"]
    targets = ["olivia", "adam", "maya", "milo", "alice", "bob", "carol", "dave", "erin"]
    opened: list[tuple[str, str, str, Any]] = []
    for reporter in people:
        for target in [t for t in targets if t != reporter][:4]:
            opened.append((reporter, target, await open_user_form(vigil, reporter, target), None))
    allgemein = vigil.world.guild_b.channel("allgemein")
    for reporter, target in (("alice", "ida"), ("ida", "hans")):
        form = await open_user_form(vigil, reporter, target, channel=allgemein)
        opened.append((reporter, target, form, allgemein))
    assert len(opened) == 22
    random.Random(11).shuffle(opened)
    replies = await asyncio.gather(
        *(
            vigil.run(submit(vigil, form, reporter, channel=channel), timeout=20)
            for reporter, _target, form, channel in opened
        )
    )
    texts = [await answer_text(r) for r in replies]
    assert all("received" in t.lower() or "angekommen" in t for t in texts), texts
    expected = sorted(
        (
            (vigil.world.guild_b.id if channel else vigil.guild.id),
            uid(vigil, reporter),
            uid(vigil, target),
        )
        for reporter, target, _form, channel in opened
    )
    assert stored_pairs(vigil) == expected


async def test_two_moderators_note_forms_on_one_case(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    maya = await press(vigil, alert, "vigil:case:note:1", "maya")
    milo = await press(vigil, alert, "vigil:case:note:1", "milo")
    assert maya.type == 9 and milo.type == 9
    build = vigil.emu.build
    milo_done = await vigil.run(
        build.modal_submit(
            milo.data["custom_id"], user="milo", fields={"note": "milo's"}, message=alert
        )
    )
    maya_done = await vigil.run(
        build.modal_submit(
            maya.data["custom_id"], user="maya", fields={"note": "maya's"}, message=alert
        )
    )
    assert "Note added" in (milo_done.content or "") and "Note added" in (maya_done.content or "")
    notes = vigil.db_rows("SELECT actor_id, note FROM case_events WHERE action = 'note'")
    assert sorted(notes) == sorted([(uid(vigil, "milo"), "milo's"), (uid(vigil, "maya"), "maya's")])


async def test_a_form_submitted_after_a_restart(vigil: Vigil):
    form = await open_user_form(vigil, "alice", "dave")
    await vigil.restart()
    reply = await vigil.run(submit(vigil, form, "alice"))
    assert reply.ephemeral and "received" in result_text(reply).lower(), reply.content
    assert stored_pairs(vigil) == [(vigil.guild.id, uid(vigil, "alice"), uid(vigil, "dave"))]
    # A form this version does not know (the one custom ID of old): asked to open it again,
    # with the help for the reason chosen, and nothing is recorded.
    old = vigil.emu.build.modal_submit(
        "vigil:report-form", user="bob", fields={"reason": ["self_harm"], "details": "x"}
    )
    stale = await vigil.run(old)
    assert stale.ephemeral and "open it again" in result_text(stale), stale.content
    assert stale.embeds, "the answer carries the help for the reason"
    # A forged form whose IDs no Discord object can have: the same polite answer.
    for forged in (f"vigil:rf:u:{2**64}", "vigil:rf:u:0", f"vigil:rf:m:{uid(vigil, 'dave')}"):
        reply = await vigil.run(submit(vigil, forged, "bob"))
        assert reply.ephemeral and "open it again" in result_text(reply), (forged, reply.content)
    assert vigil.report_count() == 1
    # A moderator's note form from before the update, too.
    await vigil.setup()
    note = await vigil.run(
        vigil.emu.build.modal_submit("vigil:note-form:1", user="maya", fields={"note": "x"})
    )
    assert note.ephemeral and "open it again" in (note.content or ""), note.content


# --------------------------------------------------------------------------- 4. own case


async def staff_only_channel(vigil: Vigil) -> Any:
    """A channel only Vigil (and admins) can read: where alerts about moderators go."""
    guild = vigil.guild
    vigil_role = guild.role("Vigil")
    staff = Channel(
        max(guild.channels) + 1,
        "staff-only",
        guild_id=guild.id,
        position=3,
        overwrites=[
            Overwrite(guild.id, 0, deny=1 << 10),  # @everyone: no View Channel
            Overwrite(vigil_role.id, 0, allow=(1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)),
        ],
    )
    guild.channels[staff.id] = staff
    await vigil.restart()  # Vigil learns of the new channel
    return staff


async def test_a_reported_moderator_cannot_act_on_their_own_case(vigil: Vigil):
    # Maya can read #mod-alerts, so her case's alert goes to a channel she cannot read; the
    # presses below are what a forged interaction would send.
    staff = await staff_only_channel(vigil)
    await vigil.setup(admin_channel="staff-only")
    await vigil.report("alice", "maya", "violent_threat", details="threatened me")
    await vigil.wait_alerts(1, channel=staff)
    # Pressed from #mod-alerts, where she is a moderator: the case's own check must refuse.
    alert = dict(vigil.alerts(staff)[0], channel_id=str(vigil.alerts_channel.id))
    for key in ("dismiss", "resolve", "acknowledge", "note", "export", "delete_messages", "kick"):
        refused = await press(vigil, alert, f"vigil:case:{key}:1", "maya")
        assert refused.type == 4 and refused.ephemeral, (key, refused.type)
        assert "is about you" in (refused.content or ""), (key, refused.content)
        assert not refused.data.get("attachments"), key
    # A forged note form and dismiss confirmation for her own case change nothing either.
    forged_note = await vigil.run(
        vigil.emu.build.modal_submit(
            f"vigil:note-form:1:{uid(vigil, 'maya')}", user="maya", fields={"note": "nothing"}
        )
    )
    assert "is about you" in (forged_note.content or "")
    dismiss = f"vigil:dismiss:1:{uid(vigil, 'maya')}"
    forged = await press(
        vigil,
        showing(alert, dismiss, ("malicious",)),
        dismiss,
        "maya",
        component_type=3,
        values=["malicious"],
    )
    assert "is about you" in result_text(forged) + str(forged.data.get("content"))
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]
    # Adam (Manage Server) reported: /reports case, export and history about himself refused.
    await vigil.report("bob", "adam", "violent_threat")
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM cases") == [(2,)] or None, 10, "case 2"
    )
    for command, options in (
        ("reports case", {"number": 2}),
        ("reports export", {"case": 2}),
        ("reports history", {"member": "adam"}),
        ("reports forget", {"member": "adam"}),
    ):
        reply = await vigil.slash(command, "adam", **options)
        assert "about you" in result_text(reply) and not reply.embeds, (command, reply.content)
        assert not reply.components, command


# --------------------------------------------------------------------------- 5. confirmations


async def test_a_confirmation_for_another_target_is_refused(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.wait_alerts(1)
    prompt = await press(vigil, vigil.alerts()[0], "vigil:case:kick:1", "milo")
    shown = prompt.original()
    for forged in (
        f"vigil:confirm:kick:1:{uid(vigil, 'carol')}:0",  # case 1 now about someone else
        "vigil:confirm:kick:1:0",  # an old confirmation that names nobody
    ):
        done = await press(vigil, showing(shown, forged), forged, "milo")
        assert "out of date" in await settled(done), forged
    for forged, value in (
        (f"vigil:timeout:1:{uid(vigil, 'carol')}", "3600"),
        (f"vigil:dismiss:1:{uid(vigil, 'carol')}", "malicious"),
    ):
        done = await press(
            vigil,
            showing(shown, forged, (value,)),
            forged,
            "milo",
            component_type=3,
            values=[value],
        )
        text = result_text(done) + str(done.data.get("content") or "")
        if done.type == 6:
            text = await settled(done)
        assert "out of date" in text, (forged, text)
    assert vigil.emu.requests_to("DELETE", MEMBER) == []
    assert vigil.emu.requests_to("PATCH", MEMBER) == []
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]


# --------------------------------------------------------------------------- 16. audit channel


async def test_a_slow_audit_channel_does_not_delay_the_answer(vigil: Vigil):
    """The audit channel refuses posts (429) until the button's answer has reached Discord:
    the answer must not wait for the audit line."""
    await vigil.setup(audit_channel="audit")
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.wait_alerts(1)
    audit = vigil.guild.channel("audit")
    emu = vigil.emu
    since = len(emu.requests)

    def answered() -> bool:
        return any(
            r.template == CALLBACK and r.status is not None and r.status < 300
            for r in emu.requests[since:]
        )

    emu.faults.add("POST", MESSAGES, 429, retry_after=0.3, channel_id=audit.id, until=answered)
    result = await press(vigil, vigil.alerts()[0], "vigil:case:acknowledge:1", "maya")
    assert result.type == 7  # the alert was redrawn in place: the press was answered
    await emu.waiters.wait_for(
        lambda: emu.channel_messages(audit.id) or None, 15, "the audit line, after the answer"
    )
    log = emu.requests[since:]
    callback = next(i for i, r in enumerate(log) if r.template == CALLBACK)
    posted = next(
        i
        for i, r in enumerate(log)
        if r.template == MESSAGES
        and r.params.get("channel_id") == str(audit.id)
        and r.status == 200
    )
    assert log[callback].status is not None and log[callback].status < 300
    assert callback < posted
    assert "acknowledged" in emu.channel_messages(audit.id)[0]["content"]
