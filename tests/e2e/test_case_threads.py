"""A thread per case (issue 15), through the emulator on both backends: started once under the
alert when Vigil may, private by inheritance, receiving notes, the audit of actions, urgent
reminders and reporters' answers; without the permission, today's behaviour and
`/reports config` saying so; a deleted thread falls back to the alert."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator import Emulator
from tests.dbquery import query
from tests.e2e.conftest import MESSAGES, Vigil, alert_text, result_text
from tests.e2e.relay_helpers import (
    THREAD_PERMISSIONS,
    THREADS,
    allow_threads,
    ask,
    post_text,
    posts,
    threads,
    wait_dm,
    wait_post,
    wait_rows,
    wait_thread,
)
from tests.e2e.test_moderator_workflow import press, uid
from tests.e2e.test_sharding import interact_on, session_of, shared_database

__all__ = ["shared_database"]  # the fixture, for the two-process test

FAST = {"REMINDER_MINUTE_SECONDS": "1"}


async def test_a_case_thread_gets_notes_actions_reminders_and_answers(vigil: Vigil):
    await allow_threads(vigil)
    await vigil.restart(**FAST)
    role = vigil.guild.role("Moderators")
    await vigil.setup(mod_role="Moderators", urgent_reminder_minutes=1)
    await vigil.report("alice", "dave", "child_safety", details="private detail xyz")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    thread = await wait_thread(vigil)
    # Under the alert (its ID is the alert's), named by number only, private by inheritance.
    assert thread.id == int(alert["id"]) and thread.name == "Case #1"
    assert thread.parent_id == vigil.alerts_channel.id
    bob = vigil.guild.member(vigil.world.users["bob"])
    assert vigil.world.channel_permissions(vigil.guild, bob, thread) == 0
    await wait_rows(vigil, "SELECT thread_id FROM cases", [(thread.id,)])

    # A note goes to the thread, its text in an embed of its own.
    opened = await press(vigil, alert, "vigil:case:note:1", "maya")
    await vigil.run(
        vigil.emu.build.modal_submit(
            opened.data["custom_id"],
            user="maya",
            fields={"note": "Spoke to the reporter @everyone"},
        )
    )
    maya = f"<@{uid(vigil, 'maya')}>"
    note = await wait_post(vigil, thread.id, "Note by")
    assert note["content"] == f"📝 Note by {maya}:"
    assert "Spoke to the reporter" in note["embeds"][0]["description"]
    assert "@everyone" not in note["embeds"][0]["description"]  # broken: never a ping

    # The urgent reminder goes to the thread, mentioning the moderator role only.
    reminder = await wait_post(vigil, thread.id, "Reminder 1 of 3", timeout=40)
    assert reminder["content"].startswith(f"<@&{role.id}> Reminder 1 of 3")
    assert not any("Reminder" in (m.get("content") or "") for m in vigil.alerts())

    # An action's audit line goes to the thread.
    await press(vigil, alert, "vigil:case:acknowledge:1", "maya")
    await wait_post(vigil, thread.id, f"🔹 {maya} acknowledged")

    # A reporter's answer goes to the thread, as "Reporter 1", never by name.
    await ask(vigil, alert, 1, "Where did this happen?")
    question = await wait_dm(vigil, "alice")
    answer_id = next(
        c["custom_id"]
        for row in question["components"]
        for c in row["components"]
        if c["custom_id"].startswith("vigil:relay:answer:")
    )
    form = await press(vigil, question, answer_id, "alice")
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user="alice",
            fields={"answer": "In #general, yesterday"},
            channel=vigil.world.dm_channel_for(vigil.world.users["alice"]),
        )
    )
    answered = await wait_post(vigil, thread.id, "Reporter 1 answered")
    assert "In \\#general, yesterday" in post_text(answered)
    alice = vigil.world.users["alice"]
    for post in posts(vigil, thread.id):
        assert str(alice.id) not in post_text(post) and "alice" not in post_text(post).lower()
    # Nothing Vigil posted in the thread may ping but the reminder's role.
    thread_posts = [
        r
        for r in vigil.emu.requests_to("POST", MESSAGES)
        if r.params.get("channel_id") == str(thread.id) and r.status == 200
    ]
    for request in thread_posts:
        mentions = request.body["allowed_mentions"]
        assert not mentions.get("parse") and not mentions.get("users")
        if "Reminder" not in (request.body.get("content") or ""):
            assert not mentions.get("roles")
    # One thread, started once.
    assert len(threads(vigil)) == 1
    assert len([r for r in vigil.emu.requests_to("POST", THREADS) if r.status == 201]) == 1


async def test_without_the_permission_today_s_behaviour_and_config_says_so(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    config = await vigil.slash("reports config", "olivia")
    text = result_text(config)
    assert "Case threads: off" in text
    assert "Create Public Threads, Send Messages in Threads" in text
    assert f"<#{vigil.alerts_channel.id}>" in text
    # Notes stay with the case, on the alert as before; no thread is tried.
    opened = await press(vigil, alert, "vigil:case:note:1", "maya")
    await vigil.run(
        vigil.emu.build.modal_submit(opened.data["custom_id"], user="maya", fields={"note": "n1"})
    )
    await vigil.wait_alert_text("n1")
    # A reporter's answer goes under the alert instead: a reply to it.
    await ask(vigil, alert, 1, "More?")
    question = await wait_dm(vigil, "alice")
    form = await press(
        vigil, question, question["components"][0]["components"][0]["custom_id"], "alice"
    )
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user="alice",
            fields={"answer": "yes, more"},
            channel=vigil.world.dm_channel_for(vigil.world.users["alice"]),
        )
    )
    reply = await wait_post(vigil, vigil.alerts_channel.id, "Reporter 1 answered")
    assert reply["message_reference"]["message_id"] == alert["id"]
    await asyncio.sleep(1.0)  # time for a note to show up in the channel, if one would
    assert not any("Note by" in post_text(m) for m in vigil.alerts())
    assert threads(vigil) == [] and vigil.emu.requests_to("POST", THREADS) == []
    assert vigil.db_rows("SELECT thread_id FROM cases") == [(None,)]
    # Given the permission, /reports config says so, and the next change starts the thread.
    await allow_threads(vigil)
    config = await vigil.slash("reports config", "olivia")
    assert "Case threads: on" in result_text(config)
    await press(vigil, alert, "vigil:case:acknowledge:1", "maya")
    thread = await wait_thread(vigil)
    await wait_post(vigil, thread.id, "acknowledged")


async def test_a_deleted_thread_falls_back_to_the_alert(vigil: Vigil):
    await allow_threads(vigil)
    await vigil.setup()
    await vigil.report("alice", "dave", "violent_threat")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    thread = await wait_thread(vigil)
    await vigil.emu.delete_thread(thread.id)
    await ask(vigil, alert, 1, "Still there?")
    question = await wait_dm(vigil, "alice")
    form = await press(
        vigil, question, question["components"][0]["components"][0]["custom_id"], "alice"
    )
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user="alice",
            fields={"answer": "still here"},
            channel=vigil.world.dm_channel_for(vigil.world.users["alice"]),
        )
    )
    reply = await wait_post(vigil, vigil.alerts_channel.id, "Reporter 1 answered")
    assert reply["message_reference"]["message_id"] == alert["id"]
    await wait_rows(vigil, "SELECT thread_id FROM cases", [(0,)])  # never started again
    assert threads(vigil) == []
    assert "still here" in alert_text(reply) or "still here" in post_text(reply)


async def note_on(emu: Emulator, shard: int, alert: dict[str, Any], user: str, text: str) -> None:
    """A note through one process (its shard's session), from the alert's Note button."""
    opened = await interact_on(
        emu, shard, emu.build.component("vigil:case:note:1", user=user, message=alert)
    )
    form = opened.callback_data["custom_id"]
    await interact_on(emu, shard, emu.build.modal_submit(form, user=user, fields={"note": text}))


@pytest.mark.long_scenario(seconds=3)
async def test_two_processes_on_one_database_start_one_thread(
    emulator: Emulator, bot_factory: Any, shared_database: str
):
    """Both processes see the server (as while it changes hands) and both post to the case's
    thread: one thread is started, each note is posted once; and a thread Discord has but the
    database lost (a crash between the two) is adopted, not started again."""
    emu, world = emulator, emulator.world
    guild = world.guild_a
    alerts = guild.channel("mod-alerts")
    role = guild.role("Vigil")
    for overwrite in alerts.overwrites:
        if overwrite.id == role.id:
            overwrite.allow |= THREAD_PERMISSIONS
    for shard in (0, 1):
        env = {"DATABASE_URL": shared_database, "SHARD_COUNT": "2", "SHARD_IDS": str(shard)}
        await bot_factory(env=env, ready_timeout=20.0)
    owner = (guild.id >> 22) % 2
    other = 1 - owner
    await emu.interact(
        emu.build.slash(
            "reports setup", user="olivia", options={"alert_channel": "mod-alerts", "threshold": 1}
        ),
        timeout=10,
    )
    await session_of(emu, other).dispatch("GUILD_CREATE", guild.payload(), world.bot_user.id)
    await asyncio.sleep(0.5)
    await interact_on(
        emu,
        owner,
        emu.build.slash("report", user="alice", options={"member": "dave", "reason": "spam"}),
    )
    alert = await emu.waiters.wait_for(
        lambda: next(iter(emu.channel_messages(alerts.id)), None), 15, "the alert"
    )
    thread = await emu.waiters.wait_for(
        lambda: next(iter(emu.threads(alerts.id)), None), 15, "the thread"
    )
    notes = [f"note {n} from shard {shard}" for n in range(3) for shard in (owner, other)]
    for n, text in enumerate(notes):
        await note_on(emu, (owner, other)[n % 2], alert, "maya", text)

    def posted(text: str) -> int:
        return sum(
            1
            for m in emu.channel_messages(thread.id)
            for e in m["embeds"]
            if e.get("description") == text
        )

    await emu.waiters.wait_for(
        lambda: all(posted(t) for t in notes) or None, 30, "every note in the thread"
    )
    await asyncio.sleep(2.0)  # time for a duplicate to show up, if either process would post one
    assert [posted(t) for t in notes] == [1] * len(notes)
    assert len(emu.threads(alerts.id)) == 1
    assert len([r for r in emu.requests_to("POST", THREADS) if r.status == 201]) == 1

    # The database lost the thread (a crash after Discord started it): it is adopted.
    query(shared_database, "UPDATE cases SET thread_id = NULL")
    await note_on(emu, other, alert, "milo", "after the crash")
    await emu.waiters.wait_for(lambda: posted("after the crash") or None, 30, "the note")
    assert len(emu.threads(alerts.id)) == 1
    started = emu.requests_to("POST", THREADS)
    assert [r.status for r in started if r.status != 201] == [400]  # Discord: already has one
    assert len([r for r in started if r.status == 201]) == 1
    assert query(shared_database, "SELECT thread_id FROM cases") == [(thread.id,)]
