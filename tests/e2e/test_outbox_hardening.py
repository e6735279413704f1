"""The alert outbox under attack, failure and crash (issue 11: items 4, 8, 12, 13, 14, 15)."""

from __future__ import annotations

import asyncio

import pytest

from core.i18n import tr
from emulator import Emulator
from emulator.models import Channel, Overwrite
from tests import postgres
from tests.dbquery import query
from tests.e2e.conftest import MESSAGE, MESSAGES, Vigil, alert_text, result_text


async def test_setup_and_config_warn_when_everyone_can_read_the_alert_channel(vigil: Vigil):
    done = await vigil.setup(alert_channel="general")
    assert "everyone in the server can read" in done.content
    config = await vigil.slash("reports config", "olivia")
    assert "everyone in the server can read" in config.content
    private = await vigil.setup()  # #mod-alerts: @everyone is denied View Channel
    assert "everyone in the server can read" not in private.content


async def test_upgrade_to_urgent_notifies_the_role_with_a_reply(vigil: Vigil):
    role = vigil.guild.role("Moderators")
    await vigil.setup(mod_role="Moderators")
    for reporter in ("alice", "bob", "erin"):
        await vigil.report(reporter, "dave", "harassment")
    await vigil.wait_alerts(1)
    alert = vigil.alerts()[0]
    assert not alert.get("content")  # not urgent: no mention
    await vigil.report("carol", "dave", "child_safety")
    await vigil.wait_alerts(2)
    ping = vigil.alerts()[1]
    assert (ping.get("message_reference") or {}).get("message_id") == alert["id"]
    (request,) = [
        r
        for r in vigil.emu.requests_to("POST", MESSAGES)
        if (r.body or {}).get("message_reference")
    ]
    mentions = request.body["allowed_mentions"]
    assert mentions.get("parse") in (None, [])  # no @everyone, no users
    assert [str(r) for r in mentions.get("roles", [])] == [str(role.id)]
    assert not mentions.get("replied_user") and not mentions.get("users")
    assert f"<@&{role.id}>" in ping["content"]
    # A second critical report on the now urgent case edits the alert, and pings no more.
    await vigil.report("milo", "dave", "self_harm")
    await vigil.emu.waiters.wait_for(
        lambda: "of 5)" in alert_text(vigil.alerts()[0]) or None, 10, "the alert edit"
    )
    assert len(vigil.alerts()) == 2


async def test_reported_moderator_never_sees_their_alert(vigil: Vigil):
    """maya moderates and can read #mod-alerts: her alert goes to the owner, with why."""
    await vigil.setup()
    olivia = vigil.world.users["olivia"]
    dm = vigil.world.dm_channel_for(olivia)
    await vigil.report("alice", "maya", "child_safety", details="secret about maya")
    await vigil.emu.waiters.wait_for(
        lambda: vigil.emu.channel_messages(dm.id) or vigil.alerts() or None, 10, "the alert"
    )
    assert vigil.alerts() == []  # nothing in #mod-alerts
    (alert,) = vigil.emu.channel_messages(dm.id)
    text = alert_text(alert)
    assert "Case #1" in text and "Sent to you, the server owner" in text
    # An admin channel she can read too (#audit: moderators may view it) is no way out.
    await vigil.setup(admin_channel="audit")
    await vigil.report("alice", "milo", "child_safety")
    await vigil.emu.waiters.wait_for(
        lambda: len(vigil.emu.channel_messages(dm.id)) >= 2 or None, 10, "the second alert"
    )
    assert vigil.alerts() == [] and vigil.alerts(vigil.guild.channel("audit")) == []
    # A member who cannot read #mod-alerts is alerted there as usual.
    await vigil.report("alice", "dave", "child_safety")
    await vigil.wait_alerts(1)
    assert "Sent to you" not in alert_text(vigil.alerts()[0])


async def test_a_button_pressed_on_the_owners_dm_alert_says_where_it_works(vigil: Vigil):
    """The alert about a moderator reaches the owner by DM; its buttons act only in the server,
    so a press there says so (and how to get such alerts into a channel) and changes nothing,
    instead of telling the owner that only moderators may press it."""
    await vigil.setup()
    dm = vigil.world.dm_channel_for(vigil.world.users["olivia"])
    await vigil.report("alice", "maya", "harassment")
    await vigil.report("bob", "maya", "harassment")
    await vigil.report("carol", "maya", "harassment")
    alert = await vigil.emu.waiters.wait_for(
        lambda: next(iter(vigil.emu.channel_messages(dm.id)), None), 10, "the alert"
    )
    pressed = await vigil.run(
        vigil.emu.build.component("vigil:case:acknowledge:1", user="olivia", message=alert)
    )
    text = result_text(pressed)
    assert pressed.ephemeral and "works only in the server" in text
    assert "/reports setup admin_channel:" in text and "only moderators" not in text.lower()
    assert vigil.db_rows("SELECT status FROM cases") == [("open",)]
    assert vigil.db_rows("SELECT COUNT(*) FROM case_events") == [(0,)]


async def test_reported_moderator_alert_goes_to_the_admin_channel(vigil: Vigil):
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
    await vigil.setup(admin_channel="staff-only")
    await vigil.report("alice", "milo", "child_safety", details="about milo")
    await vigil.wait_alerts(1, channel=staff)
    text = alert_text(vigil.alerts(staff)[0])
    assert "Posted here, not in the alert channel" in text
    assert vigil.alerts() == []
    config = await vigil.slash("reports config", "olivia")
    assert f"<#{staff.id}>" in config.content and "admin channel" in config.content


async def test_config_shows_only_this_servers_delivery_problems(vigil: Vigil):
    await vigil.setup()
    rule = vigil.emu.faults.add("POST", MESSAGES, 403, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety")
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "a refused alert")
    dm = vigil.world.dm_channel_for(vigil.world.users["olivia"])
    await vigil.emu.waiters.wait_for(
        lambda: vigil.emu.channel_messages(dm.id) or None, 10, "the notice (problem recorded)"
    )
    harbour = await vigil.slash("reports config", "olivia")
    assert "missing a permission" in harbour.content
    lighthouse = vigil.world.guild_b
    other = await vigil.run(
        vigil.emu.build.slash(
            "reports config", user="greta", channel=lighthouse.channel("allgemein")
        )
    )
    assert tr("problem.missing_permission", "de") not in other.content
    assert "missing a permission" not in other.content
    vigil.emu.faults.remove(rule)


async def test_retention_purge_deletes_the_purged_cases_alert(vigil: Vigil):
    await vigil.setup(retention_days=30)
    await vigil.report("alice", "dave", "violent_threat", details="quoted in the alert")
    await vigil.wait_alerts(1)
    (alert,) = vigil.alerts()
    await vigil.run(vigil.emu.build.component("vigil:case:resolve:1", user="maya", message=alert))
    vigil.db_rows("UPDATE cases SET closed_at = '2026-01-01T00:00:00.000000+00:00'")
    await vigil.restart()
    await vigil.emu.waiters.wait_for(
        lambda: vigil.alerts() == [] or None, 15, "the purged case's alert deleted"
    )
    assert any(
        r.params.get("message_id") == alert["id"] and r.status == 204
        for r in vigil.emu.requests_to("DELETE", MESSAGE)
    )
    assert vigil.db_rows("SELECT COUNT(*) FROM cases") == [(0,)]
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT COUNT(*) FROM alert_cleanup") == [(0,)] or None,
        10,
        "the cleanup done",
    )


async def test_alert_posted_before_a_crash_is_not_posted_again(vigil: Vigil):
    """SIGKILL after the POST reached Discord but before the message ID was stored, and a
    restart slower than Discord's nonce window: still exactly one alert."""
    await vigil.setup()
    vigil.emu.nonce_window = 0.0  # the restart took longer than Discord remembers a nonce
    hold = vigil.emu.faults.hold("POST", MESSAGES, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety")
    await vigil.emu.waiters.wait_for(lambda: hold.hits >= 1 or None, 10, "the alert's POST")
    assert len(vigil.alerts()) == 1  # Discord has it; Vigil never heard back
    assert vigil.proc is not None
    vigil.proc.kill()
    await vigil.proc.wait()
    hold.release()
    assert vigil.db_rows("SELECT alert_message_id FROM cases") == [(None,)]
    await vigil.start()
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows("SELECT alert_message_id FROM cases") != [(None,)] or None,
        15,
        "the alert adopted",
    )
    (alert,) = vigil.alerts()
    assert vigil.db_rows("SELECT alert_message_id FROM cases") == [(int(alert["id"]),)]


async def test_two_processes_send_each_feedback_dm_once(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """Process A sends alice's feedback DM; Discord has it but A has not heard back when a
    second process B starts and looks for feedback owed. B must not send it again."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    guild = world.guild_a
    owner = (guild.id >> 22) % 2
    env = {"DATABASE_URL": postgres_database, "SHARD_COUNT": "2", "LOG_LEVEL": "INFO"}
    first = await bot_factory(env={**env, "SHARD_IDS": str(owner)}, ready_timeout=20.0)
    await emu.interact(
        emu.build.slash("reports setup", user="olivia", options={"alert_channel": "mod-alerts"}),
        timeout=10,
    )
    await emu.interact(
        emu.build.slash("report", user="alice", options={"member": "dave", "reason": "spam"}),
        timeout=10,
    )
    await emu.interact(
        emu.build.slash("report", user="bob", options={"member": "dave", "reason": "spam"}),
        timeout=10,
    )
    await emu.interact(
        emu.build.slash("report", user="carol", options={"member": "dave", "reason": "spam"}),
        timeout=10,
    )
    alerts = guild.channel("mod-alerts")
    await emu.waiters.wait_for(lambda: emu.channel_messages(alerts.id) or None, 10, "the alert")
    alice_dm = world.dm_channel_for(world.users["alice"])
    hold = emu.faults.hold("POST", MESSAGES, channel_id=alice_dm.id)
    (alert,) = emu.channel_messages(alerts.id)
    resolve = next(
        button["custom_id"]
        for row in alert["components"]
        for button in row["components"]
        if ":resolve:" in button.get("custom_id", "")
    )
    await emu.interact(emu.build.component(resolve, user="maya", message=alert), timeout=10)
    await emu.waiters.wait_for(lambda: hold.hits >= 1 or None, 10, "alice's feedback DM")
    second = await bot_factory(env={**env, "SHARD_IDS": str(1 - owner)}, ready_timeout=20.0)
    await asyncio.sleep(1.0)  # time for a duplicate to show up, if B would send one
    hold.release()
    await emu.waiters.wait_for(
        lambda: (
            query(
                postgres_database,
                "SELECT state FROM reporter_feedback WHERE reporter_id = ?",
                (world.users["alice"].id,),
            )
            == [("sent",)]
            or None
        ),
        10,
        "alice's feedback recorded as sent",
    )
    assert len(emu.channel_messages(alice_dm.id)) == 1
    assert first.returncode is None and second.returncode is None


async def test_a_server_whose_alerts_fail_never_delays_another_servers(vigil: Vigil):
    """60 urgent alerts of Harbour wait behind a 403; Lighthouse's alert still goes out."""
    await vigil.setup()
    rule = vigil.emu.faults.add("POST", MESSAGES, 403, channel_id=vigil.alerts_channel.id)
    harbour = vigil.guild.id
    for n in range(60):  # cases opened earlier (as by a raid), their alerts not yet posted
        vigil.db_rows(
            "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
            "status, urgent, opened_at) VALUES (?, ?, ?, ?, 0, 'open', 1, ?)",
            (harbour, 100 + n, 10_000_000_000_000_000 + n, f"raider{n}", "2026-01-01T00:00:00"),
        )
    await vigil.report("alice", "dave", "child_safety")  # wakes the outbox
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 50 or None, 20, "Harbour's retries")
    moderation = await lighthouse_reports_alice(vigil.emu)
    await vigil.wait_alerts(1, channel=moderation, timeout=15)
    assert vigil.alerts() == []  # Harbour's alerts are still refused
    vigil.emu.faults.remove(rule)


@pytest.mark.parametrize(
    "status, retry_after", [(429, 5.0), (502, 0.2)], ids=["429-retry-after-5s", "502"]
)
@pytest.mark.long_scenario(seconds=12)
async def test_a_server_rate_limited_for_ever_never_delays_another_servers_alert(
    vigil: Vigil, status: int, retry_after: float
):
    """Review finding 4: Harbour's #mod-alerts answers every POST with a 429 (retry_after 5 s)
    or a 502, which discord.py retries inside the call (~25 s before the outbox heard of it).
    Lighthouse's urgent alert must go out while Harbour's first attempt is still being
    refused: before that attempt ends, Harbour has no delivery problem recorded yet."""
    await vigil.setup()
    harbour = vigil.guild.id
    rule = vigil.emu.faults.add(
        "POST", MESSAGES, status, retry_after=retry_after, channel_id=vigil.alerts_channel.id
    )
    await vigil.report("alice", "dave", "child_safety")  # Harbour's alert: refused for ever
    await vigil.emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "Harbour's POST")
    moderation = await lighthouse_reports_alice(vigil.emu)
    await vigil.wait_alerts(1, channel=moderation, timeout=60)
    problems = "SELECT problem FROM delivery_problems WHERE guild_id = ?"
    assert vigil.db_rows(problems, (harbour,)) == []  # Harbour's first attempt still runs
    assert vigil.alerts() == [] and rule.active()  # and is still being refused
    hits = rule.hits
    # Harbour's alert is not lost: the outbox keeps trying it (its own backoff), and it goes
    # out, once, when Discord takes it again.
    await vigil.emu.waiters.wait_for(
        lambda: vigil.db_rows(problems, (harbour,)) or None, 30, "Harbour's failed attempt"
    )
    vigil.emu.faults.remove(rule)
    await vigil.wait_alerts(1, timeout=60)
    await asyncio.sleep(1.0)
    assert len(vigil.alerts()) == 1 and len(vigil.alerts(channel=moderation)) == 1
    assert rule.hits >= hits


async def test_notice_is_sent_by_the_process_that_owns_the_server(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """The process that does not see Harbour leaves its alert alone (it cannot route it, nor
    tell anyone about a refusal); the owning process meets the refusal and its notice reaches
    Harbour's owner."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    guild = world.guild_a
    alerts = guild.channel("mod-alerts")
    owner = (guild.id >> 22) % 2
    rule = emu.faults.add("POST", MESSAGES, 403, channel_id=alerts.id)
    query(postgres_database, *alert_channel_row(guild.id, alerts.id))
    query(
        postgres_database, *urgent_case_row(guild.id, world.users["dave"].id, "Dave", member=False)
    )
    env = {"DATABASE_URL": postgres_database, "SHARD_COUNT": "2", "LOG_LEVEL": "INFO"}
    await bot_factory(env={**env, "SHARD_IDS": str(1 - owner)}, ready_timeout=20.0)
    await asyncio.sleep(2.0)
    assert rule.hits == 0  # not this process's server: not tried here
    dm = world.dm_channel_for(world.users["olivia"])
    await bot_factory(env={**env, "SHARD_IDS": str(owner)}, ready_timeout=20.0)
    await emu.waiters.wait_for(lambda: rule.hits >= 1 or None, 10, "the refused alert")
    await emu.waiters.wait_for(
        lambda: emu.channel_messages(dm.id) or None, 15, "the notice to Harbour's owner"
    )
    (notice,) = emu.channel_messages(dm.id)
    assert "can't post moderator alerts" in notice["content"]
    emu.faults.remove(rule)


@pytest.mark.long_scenario(seconds=4)
async def test_an_alert_waits_for_the_process_that_serves_its_server(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """While no live process serves Lighthouse, its alert waits (another process cannot
    route it); nothing is lost: it goes out, in the server's language, once its process
    runs."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    lighthouse = world.guild_b  # preferred_locale de
    moderation = lighthouse.channel("moderation")
    owner = (lighthouse.id >> 22) % 2
    env = {"DATABASE_URL": postgres_database, "SHARD_COUNT": "2", "LOG_LEVEL": "INFO"}
    first = await bot_factory(env={**env, "SHARD_IDS": str(owner)}, ready_timeout=20.0)
    await emu.waiters.wait_for(
        lambda: (
            query(
                postgres_database,
                "SELECT locale FROM guild_settings WHERE guild_id = ?",
                (lighthouse.id,),
            )
            == [("de",)]
            or None
        ),
        10,
        "Lighthouse's language stored",
    )
    await first.stop()
    query(
        postgres_database,
        "UPDATE guild_settings SET alert_channel_id = ? WHERE guild_id = ?",
        (moderation.id, lighthouse.id),
    )
    query(
        postgres_database,
        *urgent_case_row(lighthouse.id, world.users["ida"].id, "Ida", member=False),
    )
    await bot_factory(env={**env, "SHARD_IDS": str(1 - owner)}, ready_timeout=20.0)
    await asyncio.sleep(2.0)
    assert emu.channel_messages(moderation.id) == []
    pending = "SELECT alert_posted_revision < alert_revision FROM cases WHERE guild_id = ?"
    assert query(postgres_database, pending, (lighthouse.id,)) == [(True,)]
    await bot_factory(env={**env, "SHARD_IDS": str(owner)}, ready_timeout=20.0)
    await emu.waiters.wait_for(lambda: emu.channel_messages(moderation.id) or None, 15, "the alert")
    (alert,) = emu.channel_messages(moderation.id)
    assert tr("alert.footer", "de", number=1) in alert_text(alert)


@pytest.mark.long_scenario(seconds=4)
async def test_a_process_that_does_not_see_the_server_never_routes_its_alert(
    emulator: Emulator, bot_factory, postgres_database: str
):
    """Review finding 6: an urgent case about maya, a moderator who can read #mod-alerts. The
    process that does not serve Harbour (its owner is restarting) must not post the alert into
    #mod-alerts (maya would see who reported her), nor hold its claim: when the owning process
    comes up beside it, that one routes the alert (to the owner's DMs) at once."""
    postgres.empty(postgres_database)
    emu, world = emulator, emulator.world
    guild = world.guild_a
    alerts = guild.channel("mod-alerts")
    owner = (guild.id >> 22) % 2
    maya = world.users["maya"]
    query(postgres_database, *alert_channel_row(guild.id, alerts.id))
    query(postgres_database, *urgent_case_row(guild.id, maya.id, "Maya", member=True))
    env = {"DATABASE_URL": postgres_database, "SHARD_COUNT": "2", "LOG_LEVEL": "INFO"}
    other = await bot_factory(env={**env, "SHARD_IDS": str(1 - owner)}, ready_timeout=20.0)
    olivia_dm = world.dm_channel_for(world.users["olivia"])
    await asyncio.sleep(3.0)  # several passes of the other process's outbox
    assert emu.channel_messages(alerts.id) == []
    assert emu.channel_messages(olivia_dm.id) == []
    await bot_factory(env={**env, "SHARD_IDS": str(owner)}, ready_timeout=20.0)
    await emu.waiters.wait_for(
        lambda: emu.channel_messages(olivia_dm.id) or None, 15, "the alert in the owner's DMs"
    )
    (alert,) = emu.channel_messages(olivia_dm.id)
    assert "Maya" in alert_text(alert)
    await asyncio.sleep(1.0)
    assert emu.channel_messages(alerts.id) == []  # never where maya can read it
    assert other.returncode is None


async def lighthouse_reports_alice(emu: Emulator) -> Channel:
    """A second server (Lighthouse) set up, and an urgent report there; its alert channel."""
    lighthouse = emu.world.guild_b
    moderation = lighthouse.channel("moderation")
    general = lighthouse.channel("allgemein")
    await emu.interact(
        emu.build.slash(
            "reports setup", user="greta", channel=general, options={"alert_channel": moderation}
        ),
        timeout=5.0,
    )
    await emu.interact(
        emu.build.slash(
            "report",
            user="ida",
            channel=general,
            options={"member": "alice", "reason": "child_safety"},
        ),
        timeout=5.0,
    )
    return moderation


def alert_channel_row(guild_id: int, channel_id: int) -> tuple[str, tuple[object, ...]]:
    """A server's settings row naming only its alert channel (SQL and parameters)."""
    sql = "INSERT INTO guild_settings (guild_id, alert_channel_id, updated_at) VALUES (?, ?, ?)"
    return sql, (guild_id, channel_id, "2026-01-01T00:00:00")


def urgent_case_row(
    guild_id: int, target_id: int, name: str, *, member: bool
) -> tuple[str, tuple[object, ...]]:
    """Case #1, open and urgent, whose alert is not posted yet (SQL and parameters)."""
    sql = (
        "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
        "status, urgent, opened_at) VALUES (?, 1, ?, ?, ?, 'open', 1, ?)"
    )
    return sql, (guild_id, target_id, name, int(member), "2026-01-01T00:00:00")
