"""Erasure (`/reports forget`) racing the alert outbox, or a crash: whatever the order, the
erased member's alert leaves Discord, and no alert is posted twice (end to end, both backends).

The emulator drives each window: a held response (the request reached Discord, the bot has not
heard back), a 429 (discord.py sleeps and retries inside the call), a 503, a SIGKILL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.conftest import MESSAGE, MESSAGES, Vigil, alert_text


async def forget(vigil: Vigil, user: str) -> dict[str, Any]:
    """`/reports forget member:<user>` by olivia, confirmed; the answer's final edit."""
    member = vigil.world.users[user]
    asked = await vigil.slash("reports forget", "olivia", member=user)
    done = await vigil.run(
        vigil.emu.build.component(
            f"vigil:forget:{member.id}", user="olivia", message=asked.original()
        )
    )
    final: dict[str, Any] = await done.wait_original_edit(timeout=10)
    return final


async def wait_no_alerts(vigil: Vigil, timeout: float = 10.0) -> None:
    await vigil.emu.waiters.wait_for(
        lambda: not vigil.alerts() or None, timeout, "no alert left in #mod-alerts"
    )


async def test_erasure_while_the_first_post_is_in_flight_deletes_the_posted_alert(
    vigil: Vigil,
):
    """Finding 1: the POST reaches Discord, the erasure commits, then the POST's answer comes
    back to a case that is gone: the message it names is deleted (queued, so retried)."""
    await vigil.setup()
    hold = vigil.emu.faults.hold("POST", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety", details="alice says dave did X")
    await vigil.emu.waiters.wait_for(lambda: hold.hits >= 1 or None, 10, "the alert's POST")
    assert len(vigil.alerts()) == 1  # on Discord; the bot has not heard back
    final = await forget(vigil, "dave")
    assert "Erased: 1 report(s) and 1 case(s)" in final["content"]
    hold.release()
    await wait_no_alerts(vigil)
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM alert_cleanup") == [(0,)] or None,
        10,
        "the cleanup row done",
    )
    await asyncio.sleep(1.0)
    assert vigil.alerts() == []


async def test_crash_between_post_and_record_then_erasure_deletes_the_alert(vigil: Vigil):
    """Finding 1, crash variant: the POST reached Discord, the process died before storing the
    message ID, and the erasure runs before the restart: no case is left to adopt the message,
    so the erasure itself has the channel searched for it and the alert deleted."""
    await vigil.setup()
    hold = vigil.emu.faults.hold("POST", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety", details="alice says dave did X")
    await vigil.emu.waiters.wait_for(lambda: hold.hits >= 1 or None, 10, "the alert's POST")
    assert vigil.proc is not None
    vigil.proc.kill()
    await vigil.proc.wait()
    hold.release()
    assert len(vigil.alerts()) == 1
    assert vigil.db_rows("SELECT alert_message_id, alert_post_started FROM cases") == [(None, 1)]
    # Discord's later answers are held again, so the restarted outbox cannot adopt the message
    # before the erasure (a nonce-matched POST): the erasure comes first, as after a long outage.
    again = vigil.emu.faults.hold("GET", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.start()
    await vigil.emu.waiters.wait_for(lambda: again.hits >= 1 or None, 10, "the search")
    final = await forget(vigil, "dave")
    assert "Erased: 1 report(s) and 1 case(s)" in final["content"]
    again.release()
    await wait_no_alerts(vigil, timeout=15)
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]


@pytest.mark.long_scenario(seconds=6)
async def test_erasure_while_an_alert_edit_is_in_flight_posts_nothing_again(vigil: Vigil):
    """Finding 2: the edit meets a 429, the erasure deletes the case and its alert, the retried
    edit gets 404: that is not "a moderator deleted it", and nothing is posted again."""
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety", details="alice says dave did X")
    await vigil.wait_alerts(1)
    rule = vigil.emu.faults.add(
        "PATCH", MESSAGE, 429, count=1, retry_after=3.0, channel_id=vigil.alerts_channel.id
    )
    await vigil.report("bob", "dave", "harassment", details="bob says dave did Y")
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "the edit's 429")
    final = await forget(vigil, "dave")
    assert "Erased: 2 report(s) and 1 case(s)" in final["content"]
    await wait_no_alerts(vigil)
    await asyncio.sleep(5.0)  # the retried edit's 404 came and went
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]
    left = [alert_text(m) for m in vigil.alerts()]
    assert left == [], "the erased case's alert was posted again"
    assert len(vigil.alert_posts()) == 1


async def test_erasure_whose_alert_delete_fails_deletes_it_later(vigil: Vigil):
    """Finding 3: the erasure's DELETE is refused and the bot restarts: the alert is queued in
    the erasure's transaction, so the outbox deletes it once Discord takes it."""
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety", details="alice says dave did X")
    await vigil.wait_alerts(1)
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT alert_message_id FROM cases") != [(None,)] or None,
        10,
        "the alert recorded",
    )
    rule = vigil.emu.faults.add("DELETE", MESSAGE, 503, channel_id=vigil.alerts_channel.id)
    final = await forget(vigil, "dave")
    assert "1 alert message(s) being deleted" in final["content"]
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "a refused DELETE")
    assert len(vigil.alerts()) == 1
    assert vigil.db_rows("SELECT COUNT(*) FROM alert_cleanup WHERE kind = 'message'") == [(1,)]
    vigil.emu.faults.remove(rule)  # Discord is back
    await vigil.restart()
    await wait_no_alerts(vigil, timeout=15)
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM alert_cleanup") == [(0,)] or None,
        10,
        "the cleanup row done",
    )


async def test_crash_right_after_reposting_a_deleted_alert_posts_it_once(vigil: Vigil):
    """Finding 5: a moderator deleted the alert; the outbox posts it again and dies before
    storing the new message: the re-post was recorded as started, so the restart finds it in
    the channel and adopts it rather than posting a second one."""
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety")
    await vigil.wait_alerts(1)
    (alert,) = vigil.alerts()
    vigil.world.messages[vigil.alerts_channel.id].pop(int(alert["id"]))  # a moderator
    assert vigil.alerts() == []
    hold = vigil.emu.faults.hold("POST", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.report("bob", "dave", "harassment")  # the edit meets 404: posted again
    await vigil.emu.waiters.wait_for(lambda: hold.hits >= 1 or None, 10, "the re-POST")
    assert len(vigil.alerts()) == 1  # Discord has it; Vigil never heard back
    assert vigil.db_rows("SELECT alert_message_id, alert_post_started FROM cases") == [(None, 1)]
    assert vigil.proc is not None
    vigil.proc.kill()
    await vigil.proc.wait()
    hold.release()
    await vigil.start()
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT alert_message_id FROM cases") != [(None,)] or None,
        10,
        "the alert adopted",
    )
    await asyncio.sleep(1.0)
    assert len(vigil.alerts()) == 1, "the alert was posted twice"
    ((message_id,),) = vigil.db_rows("SELECT alert_message_id FROM cases")
    assert int(message_id) == int(vigil.alerts()[0]["id"])
    assert "2" in alert_text(vigil.alerts()[0])  # both reports shown
