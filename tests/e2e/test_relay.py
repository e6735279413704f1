"""Ask the reporter, with both sides anonymous (issue 15), through the emulator on both
backends: the question reaches the right reporter by DM as "the moderators of {server}", the
answer reaches the case's thread as "Reporter 2", across a restart; forged presses, "Stop
messages", closed DMs, the hourly limit, Add details, own-case and erasure rules."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.e2e.conftest import MESSAGES, Vigil, alert_text, result_text
from tests.e2e.relay_helpers import (
    allow_threads,
    ask,
    button_ids,
    dms,
    post_text,
    posts,
    send_ask_form,
    wait_dm,
    wait_post,
    wait_rows,
    wait_thread,
)
from tests.e2e.test_erasure_races import forget
from tests.e2e.test_fuzz_inputs import forged_message
from tests.e2e.test_moderator_workflow import press, uid


async def two_reporter_case(vigil: Vigil, *, threads: bool = True) -> dict[str, Any]:
    """alice (Reporter 1) and bob (Reporter 2) report dave: one case, its alert."""
    if threads:
        await allow_threads(vigil)
    await vigil.setup(threshold=2)
    await vigil.report("alice", "dave", "harassment", details="he follows me around")
    await vigil.report("bob", "dave", "harassment")
    await vigil.wait_alerts(1)
    return vigil.alerts()[0]


def answer_button(dm: dict[str, Any]) -> str:
    return next(i for i in button_ids(dm) if i.startswith("vigil:relay:answer:"))


def stop_button(dm: dict[str, Any]) -> str:
    return next(i for i in button_ids(dm) if i.startswith("vigil:relay:stop:"))


async def answer(vigil: Vigil, dm: dict[str, Any], user: str, text: str) -> Any:
    form = await press(vigil, dm, answer_button(dm), user)
    assert form.type == 9, form.content
    return await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"],
            user=user,
            fields={"answer": text},
            channel=vigil.world.dm_channel_for(vigil.world.users[user]),
        )
    )


async def test_a_question_reaches_the_right_reporter_and_the_answer_the_thread_after_a_restart(
    vigil: Vigil,
):
    alert = await two_reporter_case(vigil)
    bob, alice = vigil.world.users["bob"], vigil.world.users["alice"]
    shown = alert_text(alert)
    assert f"**1** <@{alice.id}>, **2** <@{bob.id}>" in shown  # numbered as the form asks
    thread = await wait_thread(vigil)
    opened = await press(vigil, alert, "vigil:case:ask_reporter:1", "maya")
    assert opened.type == 9
    labels = [
        o["label"]
        for c in opened.data["components"]
        for o in (c.get("component") or {}).get("options") or []
    ]
    assert labels == ["Reporter 1", "Reporter 2"]
    _, told = await ask(vigil, alert, 2, "Where did this happen? @everyone")
    assert told["flags"] & 64  # told privately
    assert "Sent to Reporter 2" in told["content"] and "your name is not shown" in told["content"]
    assert f"<#{thread.id}>" in told["content"]

    dm = await wait_dm(vigil, "bob")
    assert dms(vigil, "alice") == []  # the other reporter gets nothing
    text = post_text(dm)
    assert "The moderators of Harbour" in text and "Dave" in text
    assert "Where did this happen?" in text and "@everyone" not in text
    maya = vigil.world.users["maya"]
    assert str(maya.id) not in str(dm) and "maya" not in text.lower()  # never the moderator
    assert dm["allowed_mentions"] == {"parse": []}
    assert [i.split(":")[2] for i in button_ids(dm) if i.startswith("vigil:relay:")] == [
        "answer",
        "stop",
    ]
    asked = await wait_post(vigil, thread.id, "asked Reporter 2")
    assert f"<@{maya.id}>" in asked["content"]  # moderators see who asked, not the reporter

    await vigil.restart()  # the DM's buttons and the question outlive the process

    answered = await answer(vigil, dm, "bob", "At the meetup, with @here and <@123>")
    assert answered.ephemeral
    assert "Your answer went to the moderators of Harbour only" in result_text(answered)
    assert answered.embeds  # with the help for the report's reason, as every answer
    post = await wait_post(vigil, thread.id, "Reporter 2 answered")
    body = post_text(post)
    assert "At the meetup" in body and "@here" not in body and "<@123>" not in body
    for message in posts(vigil, thread.id):  # never the reporters' names or IDs
        for who in (bob, alice):
            assert str(who.id) not in str(message) and who.username not in post_text(message)
    rows = vigil.db_rows("SELECT kind, reporter_id, author_id FROM relay_messages ORDER BY id")
    assert rows == [("question", bob.id, maya.id), ("answer", bob.id, bob.id)]
    # One answer per question: a second is refused, with help, and changes nothing.
    again = await press(vigil, dm, answer_button(dm), "bob")
    assert "already answered" in result_text(again) and again.embeds
    assert len(vigil.db_rows("SELECT id FROM relay_messages")) == 2


async def test_a_forged_answer_by_another_user_is_refused(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    await ask(vigil, alert, 2, "Anything else?")
    dm = await wait_dm(vigil, "bob")
    custom_id = answer_button(dm)
    question_id = int(custom_id.rsplit(":", 1)[1])
    # carol presses bob's Answer (a copy in her own DM): told it is not hers, no form.
    carol_dm = vigil.world.dm_channel_for(vigil.world.users["carol"])
    forged = {**dm, "channel_id": str(carol_dm.id)}
    refused = await press(vigil, forged_message(forged, custom_id, 2, []), custom_id, "carol")
    assert refused.type == 4 and refused.ephemeral
    assert "This button is for someone else" in result_text(refused)
    assert "Anything else?" not in str(refused.data)  # nothing of the question leaks
    # A forged answer form by carol (and by alice, the other reporter) stores nothing.
    for user in ("carol", "alice"):
        sent = await vigil.run(
            vigil.emu.build.modal_submit(
                f"vigil:relay-answer:{question_id}",
                user=user,
                fields={"answer": "forged"},
                channel=vigil.world.dm_channel_for(vigil.world.users[user]),
            )
        )
        assert "This button is for someone else" in result_text(sent)
    # Stop messages by someone else changes nothing either.
    stop = stop_button(dm)
    refused = await press(vigil, forged_message(forged, stop, 2, []), stop, "carol")
    assert "This button is for someone else" in result_text(refused)
    assert vigil.db_rows("SELECT kind FROM relay_messages") == [("question",)]
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_optouts") == [(0,)]
    # Junk and unknown questions are answered politely.
    for junk in ("vigil:relay:answer:0", "vigil:relay:answer:99999"):
        answered = await press(vigil, forged_message(forged, junk, 2, []), junk, "bob")
        assert answered.ephemeral


async def test_stop_messages_is_honoured(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    await ask(vigil, alert, 2, "First question")
    dm = await wait_dm(vigil, "bob")
    stopped = await press(vigil, dm, stop_button(dm), "bob")
    assert "can't send you more questions about this report" in result_text(stopped)
    assert stopped.embeds  # with help
    await wait_post(vigil, thread.id, "Reporter 2 asked for no more messages")
    _, told = await ask(vigil, alert, 2, "Second question")
    assert "asked for no more messages about this report" in told["content"]
    assert len(dms(vigil, "bob")) == 1  # never asked again
    # The other reporter can still be asked; pressing Stop twice tells the thread once.
    await ask(vigil, alert, 1, "Question for alice")
    await wait_dm(vigil, "alice")
    await press(vigil, dm, stop_button(dm), "bob")
    await wait_post(vigil, thread.id, "asked Reporter 1")
    stops = [m for m in posts(vigil, thread.id) if "no more messages" in post_text(m)]
    assert len(stops) == 1


async def test_closed_dms_are_reported_to_the_moderator_at_once(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    vigil.emu.dm_closed.add(vigil.world.users["bob"].id)
    _, told = await ask(vigil, alert, 2, "Can you tell us more?")
    assert told["flags"] & 64
    assert "doesn't accept direct messages from Vigil" in told["content"]
    assert "not delivered" in told["content"]
    await wait_rows(vigil, "SELECT state FROM relay_messages", [("dms_closed",)])
    await wait_post(vigil, thread.id, "they don't accept direct messages")
    # An undelivered question does not count toward the hour's limit.
    vigil.emu.dm_closed.clear()
    for n in range(3):
        _, told = await ask(vigil, alert, 2, f"Question {n}")
        assert "Sent to Reporter 2" in told["content"]


FAST_MINUTE = {"REMINDER_MINUTE_SECONDS": "0.25"}  # a question is unconfirmed after 1.25 s
OPEN_DM = "/users/@me/channels"


async def submit_question(vigil: Vigil, alert: dict[str, Any], reporter: int, text: str) -> None:
    """The Ask reporter form, submitted; its answer to the moderator is not waited for."""
    opened = await press(vigil, alert, "vigil:case:ask_reporter:1", "maya")
    assert opened.type == 9, opened.content
    submitted = await send_ask_form(vigil, opened, reporter, text)
    assert submitted.type == 5  # deferred: stored, now being sent


async def question_dm_held(vigil: Vigil) -> tuple[Any, Any, Any]:
    """A question to Reporter 2 (bob) whose DM reached Discord, and Discord's answer held
    back: (the case's thread, bob's DM channel, the hold). A "minute" lasts 0.25 s."""
    await vigil.restart(**FAST_MINUTE)
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    bob_dm = vigil.world.dm_channel_for(vigil.world.users["bob"])
    held = vigil.emu.faults.hold("POST", MESSAGES, channel_id=bob_dm.id)
    await submit_question(vigil, alert, 2, "Where did this happen?")
    await vigil.emu.waiters.wait_for(lambda: held.hits >= 1 or None, 10, "the question's DM")
    return thread, bob_dm, held


async def test_a_question_whose_process_died_before_its_dm_is_told_not_delivered(vigil: Vigil):
    """The process stored the question and died while opening the reporter's DM: after a
    restart the question is settled as not delivered, in the thread, and never sent late."""
    await vigil.restart(**FAST_MINUTE)
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    held = vigil.emu.faults.hold("POST", OPEN_DM)
    await submit_question(vigil, alert, 2, "Where did this happen?")
    await vigil.emu.waiters.wait_for(lambda: held.hits >= 1 or None, 10, "the DM being opened")
    assert vigil.db_rows("SELECT state FROM relay_messages") == [("sending",)]
    await vigil.restart(kill=True, **FAST_MINUTE)
    await wait_rows(vigil, "SELECT state FROM relay_messages", [("failed",)])
    post = await wait_post(vigil, thread.id, "Discord did not deliver the question")
    assert "asked Reporter 2" in post_text(post)
    assert dms(vigil, "bob") == []  # not sent late
    # Not counted: the moderator may ask again, and this time it goes.
    _, told = await ask(vigil, alert, 2, "Where did this happen?")
    assert "Sent to Reporter 2" in told["content"]
    assert len(dms(vigil, "bob")) == 1


async def test_a_question_whose_process_died_after_its_dm_is_found_and_not_sent_twice(
    vigil: Vigil,
):
    """The DM reached the reporter but the process died before recording it: after a restart
    it is found in the reporter's DM channel and recorded as delivered (so an erasure can
    delete it); the reporter gets it once."""
    thread, bob_dm, _ = await question_dm_held(vigil)
    await vigil.restart(kill=True, **FAST_MINUTE)
    (dm,) = dms(vigil, "bob")
    await wait_rows(
        vigil,
        "SELECT state, dm_channel_id, dm_message_id FROM relay_messages",
        [("sent", bob_dm.id, int(dm["id"]))],
    )
    await wait_post(vigil, thread.id, "asked Reporter 2")
    assert len(dms(vigil, "bob")) == 1
    answered = await answer(vigil, dm, "bob", "At the meetup")  # its buttons work
    assert "Your answer went to the moderators of Harbour only" in result_text(answered)


@pytest.mark.long_scenario(seconds=3)
async def test_a_question_discord_is_slow_to_send_is_left_to_its_process(vigil: Vigil):
    """Discord holds the question's DM longer than a question may stay unconfirmed, while
    the process sending it is alive: the look for abandoned questions leaves it alone, and
    the thread gets the one true outcome, once."""
    thread, _, held = await question_dm_held(vigil)
    await asyncio.sleep(2.5)  # twice the unconfirmed time: looks come every 0.25 s
    assert vigil.db_rows("SELECT state FROM relay_messages") == [("sending",)]
    held.release()
    await wait_rows(vigil, "SELECT state FROM relay_messages", [("sent",)])
    await wait_post(vigil, thread.id, "asked Reporter 2")
    await asyncio.sleep(0.5)  # time for a second post to show up, if one would
    questions = [m for m in posts(vigil, thread.id) if "asked Reporter 2" in post_text(m)]
    assert len(questions) == 1 and "did not deliver" not in post_text(questions[0])
    assert len(dms(vigil, "bob")) == 1


async def test_at_most_three_questions_per_case_per_hour(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    for n, reporter in enumerate((1, 2, 1)):
        _, told = await ask(vigil, alert, reporter, f"Question {n}")
        assert "Sent to Reporter" in told["content"]
    _, told = await ask(vigil, alert, 2, "A fourth", moderator="milo")
    assert "already had 3 questions to reporters in the last hour" in told["content"]
    assert "<t:" in told["content"]  # when the next one may go
    assert len(dms(vigil, "alice")) == 2 and len(dms(vigil, "bob")) == 1
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_messages WHERE kind = 'question'") == [(3,)]


async def test_a_reported_moderator_cannot_ask_on_their_own_case(vigil: Vigil):
    await allow_threads(vigil)
    await vigil.setup(threshold=1)
    await vigil.report("alice", "milo", "harassment")  # milo moderates: rerouted to the owner
    owner_dm = vigil.world.dm_channel_for(vigil.world.users["olivia"])
    alert = await vigil.emu.waiters.wait_for(
        lambda: next(iter(vigil.emu.channel_messages(owner_dm.id)), None), 10, "the alert"
    )
    forged = forged_message(
        {**alert, "channel_id": str(vigil.alerts_channel.id)}, "vigil:case:ask_reporter:1", 2, []
    )
    refused = await press(vigil, forged, "vigil:case:ask_reporter:1", "milo")
    assert "is about you" in result_text(refused)
    sent = await vigil.run(
        vigil.emu.build.modal_submit(
            f"vigil:ask-form:1:{uid(vigil, 'milo')}",
            user="milo",
            fields={"reporter": ["1"], "question": "Who are you?"},
            channel=vigil.alerts_channel,
        )
    )
    told = await sent.wait_followup(timeout=10)
    assert "is about you" in told["content"]
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_messages") == [(0,)]
    assert dms(vigil, "alice") == []
    # Nor may a member who is no moderator.
    refused = await press(vigil, forged, "vigil:case:ask_reporter:1", "bob")
    assert "moderators" in result_text(refused).lower()


async def test_add_details_after_a_restart_reaches_the_thread(vigil: Vigil):
    await allow_threads(vigil)
    await vigil.setup(threshold=2)
    confirmation = await vigil.report("alice", "dave", "harassment")
    details_id = next(
        c["custom_id"]
        for row in confirmation.components
        for c in row["components"]
        if (c.get("custom_id") or "").startswith("vigil:relay:details:")
    )
    message = confirmation.original()
    assert message is not None
    await vigil.restart()
    # Before any case: kept with the report.
    form = await press(vigil, message, details_id, "alice")
    assert form.type == 9
    added = await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"], user="alice", fields={"details": "It started last week."}
        )
    )
    assert "Added to your report" in result_text(added) and added.embeds
    # Someone else's press on it is refused; nothing is added.
    refused = await press(vigil, forged_message(message, details_id, 2, []), details_id, "carol")
    assert "This button is for someone else" in result_text(refused)
    forged_form = await vigil.run(
        vigil.emu.build.modal_submit(
            f"vigil:relay-details:{details_id.rsplit(':', 1)[1]}",
            user="carol",
            fields={"details": "forged"},
        )
    )
    assert "This button is for someone else" in result_text(forged_form)
    assert vigil.db_rows("SELECT kind, case_id FROM relay_messages") == [("details", None)]
    # The second report opens the case: the details join it and go to its thread.
    await vigil.report("bob", "dave", "harassment")
    await vigil.wait_alerts(1)
    thread = await wait_thread(vigil)
    post = await wait_post(vigil, thread.id, "Reporter 1 added details")
    assert "It started last week." in post_text(post)
    assert "alice" not in post_text(post).lower()
    # At most three additions per report per hour.
    for n in range(2):
        form = await press(vigil, message, details_id, "alice")
        await vigil.run(
            vigil.emu.build.modal_submit(
                form.data["custom_id"], user="alice", fields={"details": f"more {n}"}
            )
        )
    form = await press(vigil, message, details_id, "alice")
    limited = await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"], user="alice", fields={"details": "too many"}
        )
    )
    assert "the most Vigil takes" in result_text(limited) and limited.embeds
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_messages") == [(3,)]


async def test_erasing_a_reporter_erases_their_questions_and_answers(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    await ask(vigil, alert, 2, "Please tell us more")
    dm = await wait_dm(vigil, "bob")
    await answer(vigil, dm, "bob", "secret answer text")
    await wait_post(vigil, thread.id, "Reporter 2 answered")
    bob = vigil.world.users["bob"]
    asked = await vigil.slash("reports forget", "olivia", member="bob")
    message = asked.original()
    assert message is not None
    await vigil.run(
        vigil.emu.build.component(f"vigil:forget:{bob.id}", user="olivia", message=message)
    )
    await wait_rows(vigil, "SELECT COUNT(*) FROM relay_messages", [(0,)])
    # The question's DM and the posted answer are deleted from Discord too.
    await vigil.emu.waiters.wait_for(
        lambda: (
            (
                not dms(vigil, "bob")
                and not any("secret answer" in post_text(m) for m in posts(vigil, thread.id))
            )
            or None
        ),
        15,
        "the relay's messages deleted",
    )
    assert vigil.db_rows("SELECT COUNT(*) FROM case_feed") == [(0,)]


async def send_form(vigil: Vigil, opened: Any, reporter: int, question: str) -> dict[str, Any]:
    """maya sends an Ask reporter form opened earlier; the answer she is given."""
    return await (await send_ask_form(vigil, opened, reporter, question)).wait_followup(timeout=10)


async def test_a_form_opened_before_an_erasure_never_asks_whoever_has_the_number_now(
    vigil: Vigil,
):
    """maya opens Ask reporter (1 alice, 2 bob, 3 carol) and writes to Reporter 2 about what
    bob said; meanwhile alice is erased, so bob is Reporter 1 now and carol Reporter 2. The
    question is refused (the form is out of date): neither carol nor anyone gets it (review
    of stop 30, finding 3). A reporter who joins meanwhile renumbers nobody: a form opened
    before erin reports still asks bob as Reporter 1."""
    await vigil.setup(threshold=2)  # carol's new account does not count; she is listed
    for reporter in ("alice", "bob", "carol"):
        await vigil.report(reporter, "dave", "harassment")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    opened = await press(vigil, alert, "vigil:case:ask_reporter:1", "maya")
    assert opened.type == 9, opened.content
    await forget(vigil, "alice")
    await wait_rows(
        vigil, "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE case_id IS NOT NULL", [(2,)]
    )
    told = await send_form(vigil, opened, 2, "Bob, was it on Tuesday?")
    assert "changed since you opened this form" in told["content"], told
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_messages") == [(0,)]
    assert dms(vigil, "carol") == [] and dms(vigil, "bob") == []
    # A new reporter (erin) is appended: bob is still Reporter 1 on a form opened now.
    opened = await press(vigil, alert, "vigil:case:ask_reporter:1", "maya")
    await vigil.report("erin", "dave", "harassment")
    await wait_rows(
        vigil, "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE case_id IS NOT NULL", [(3,)]
    )
    await send_form(vigil, opened, 1, "Was it on Tuesday?")
    dm = await wait_dm(vigil, "bob")
    assert "Was it on Tuesday?" in json.dumps(dm)
    assert dms(vigil, "carol") == []


async def test_retention_purge_removes_the_relay_and_clears_the_thread(vigil: Vigil):
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    await ask(vigil, alert, 1, "A question")
    dm = await wait_dm(vigil, "alice")
    await answer(vigil, dm, "alice", "an answer")
    await wait_post(vigil, thread.id, "Reporter 1 answered")
    await vigil.slash("reports setup", "olivia", alert_channel="mod-alerts", retention_days=30)
    await press(vigil, alert, "vigil:case:resolve:1", "maya")
    await wait_post(vigil, thread.id, "resolved")
    old = "2020-01-01T00:00:00.000000+00:00"
    vigil.db_rows("UPDATE cases SET closed_at = ?", (old,))
    await vigil.restart()  # the purge runs at start
    await wait_rows(vigil, "SELECT COUNT(*) FROM cases", [(0,)])
    assert vigil.db_rows("SELECT COUNT(*) FROM relay_messages") == [(0,)]
    me = str(vigil.world.bot_user.id)
    await vigil.emu.waiters.wait_for(
        lambda: (
            (
                not any(m["author"]["id"] == me for m in posts(vigil, thread.id))
                and not any("A question" in post_text(m) for m in dms(vigil, "alice"))
            )
            or None
        ),
        15,
        "Vigil's messages in the thread and the question's DM deleted",
    )
    assert [r for r in vigil.emu.requests_to("POST", MESSAGES) if r.status >= 400] == []


async def test_an_archived_thread_is_cleared_when_its_case_is_purged(vigil: Vigil):
    """A case closed long ago has an archived thread (a week without posts): it is reopened
    so that Vigil's messages in it can be deleted."""
    alert = await two_reporter_case(vigil)
    thread = await wait_thread(vigil)
    await vigil.slash("reports setup", "olivia", alert_channel="mod-alerts", retention_days=30)
    await press(vigil, alert, "vigil:case:resolve:1", "maya")
    await wait_post(vigil, thread.id, "resolved")
    await vigil.emu.archive_thread(thread.id)
    vigil.db_rows("UPDATE cases SET closed_at = ?", ("2020-01-01T00:00:00.000000+00:00",))
    await vigil.restart()
    me = str(vigil.world.bot_user.id)
    await vigil.emu.waiters.wait_for(
        lambda: not any(m["author"]["id"] == me for m in posts(vigil, thread.id)) or None,
        15,
        "Vigil's messages in the archived thread deleted",
    )
    await wait_rows(vigil, "SELECT COUNT(*) FROM alert_cleanup", [(0,)])


# ------------------------------------------------------------------- t15-followup: the record

QA_FIELD = "Questions to reporters and their answers"


def embed_size(embed: dict[str, Any]) -> int:
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len((embed.get("footer") or {}).get("text") or "")
    )


async def test_reports_case_and_the_packet_carry_the_exchange_by_number(vigil: Vigil):
    """`/reports case` shows the relay exchange, compact and within Discord's limits, and the
    escalation packet carries it: reporters as "Reporter N" only (their IDs only with
    include_reporters), the moderator who asked, the delivery, answers as written (text)."""
    await allow_threads(vigil)
    await vigil.setup(threshold=2)
    confirmation = await vigil.report("alice", "dave", "harassment")
    await vigil.report("bob", "dave", "harassment")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    alice, bob, maya = (vigil.world.users[n] for n in ("alice", "bob", "maya"))
    vigil.emu.dm_closed.add(alice.id)
    await ask(vigil, alert, 1, "Are you safe?")
    vigil.emu.dm_closed.clear()
    await ask(vigil, alert, 2, "Where did this happen?")
    dm = await wait_dm(vigil, "bob")
    written = "At the meetup @everyone <@123> **loud** " + "x" * 900
    await answer(vigil, dm, "bob", written)
    await press(vigil, dm, stop_button(dm), "bob")
    message = confirmation.original()
    assert message is not None
    details = next(i for i in button_ids(message) if i.startswith("vigil:relay:details:"))
    form = await press(vigil, message, details, "alice")
    await vigil.run(
        vigil.emu.build.modal_submit(
            form.data["custom_id"], user="alice", fields={"details": "It was in #general"}
        )
    )
    await wait_rows(
        vigil,
        "SELECT kind, state FROM relay_messages ORDER BY id",
        [
            ("question", "dms_closed"),
            ("question", "sent"),
            ("answer", "kept"),
            ("stopped", "kept"),
            ("details", "kept"),
        ],
    )
    [(stored,)] = vigil.db_rows("SELECT text FROM relay_messages WHERE kind = 'answer'")

    record = await vigil.slash("reports case", "olivia", number=1)
    assert record.ephemeral and record.allowed_mentions == {"parse": []}
    fields = [f for e in record.embeds for f in e.get("fields") or []]
    qa = next(f["value"] for f in fields if f["name"] == QA_FIELD)
    assert f"<@{maya.id}> asked Reporter 1, but they don't accept direct messages" in qa
    assert f"<@{maya.id}> asked Reporter 2:" in qa and "Where did this happen?" in qa
    assert "Reporter 2 answered:" in qa and "At the meetup" in qa
    assert "Reporter 2 asked for no more messages" in qa
    assert "Reporter 1 added details to their report:" in qa and "It was in" in qa
    assert "@everyone" not in qa and "<@123>" not in qa and "**loud**" not in qa
    for who in (alice, bob):  # the relay never names a reporter
        assert str(who.id) not in qa and who.username not in qa.lower()
    assert len(qa) <= 1024 and "x" * 300 not in qa  # compact: the answer is cut short
    assert sum(embed_size(e) for e in record.embeds) <= 6000

    name = f"vigil-case-1-{vigil.guild.id}.json"
    exported = await vigil.slash("reports export", "olivia", case=1)
    assert exported.ephemeral
    packet = json.loads(vigil.emu.uploads[name])
    steps = packet["reporter_messages"]
    assert [(s["kind"], s["reporter"]) for s in steps] == [
        ("question", "Reporter 1"),
        ("question", "Reporter 2"),
        ("answer", "Reporter 2"),
        ("stopped", "Reporter 2"),
        ("details", "Reporter 1"),
    ]
    assert [s.get("delivery") for s in steps[:2]] == ["dms_closed", "sent"]
    assert steps[0]["moderator_id"] == str(maya.id) and "moderator_id" not in steps[2]
    assert steps[2]["text"] == stored and "<@123> **loud**" in steps[2]["text"]  # as written
    assert steps[2]["question_asked_at_utc"] == steps[1]["at_utc"]
    assert [r["reporter"] for r in packet["reports"]] == ["Reporter 1", "Reporter 2"]
    dumped = json.dumps(packet)
    assert '"reporter_id"' not in dumped and str(alice.id) not in dumped
    assert str(bob.id) not in dumped
    # With reporters' IDs: only when asked for (Manage Server), recorded, as today's rule.
    await vigil.slash("reports export", "olivia", case=1, include_reporters=True)
    steps = json.loads(vigil.emu.uploads[name])["reporter_messages"]
    assert [s["reporter_id"] for s in steps] == [str(alice.id), *[str(bob.id)] * 3, str(alice.id)]
