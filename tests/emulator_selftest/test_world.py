"""The default world's cast and permission maths (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emulator import P, build_default_world
from emulator.permissions import ALL_PERMISSIONS


def test_cast_ages_and_guilds() -> None:
    w = build_default_world()
    now = datetime.now(UTC)
    assert now - w.users["carol"].created_at < timedelta(days=2, minutes=1)
    assert now - w.users["alice"].created_at > timedelta(days=365)
    assert now - w.guild_a.member(w.users["dave"]).joined_at < timedelta(hours=1, minutes=1)
    assert w.guild_a.preferred_locale == "en-GB" and w.guild_b.preferred_locale == "de"
    shared = set(w.guild_a.members) & set(w.guild_b.members)
    assert {w.users[n].id for n in ("alice", "erin", "vigil")} <= shared
    assert w.users["greta"].id not in w.guild_a.members


def test_role_order_and_permissions() -> None:
    w = build_default_world()
    g = w.guild_a
    pos = {r.name: r.position for r in g.roles.values()}
    assert pos["Moderators"] > pos["Vigil"] > pos["Regulars"] > pos["@everyone"]
    bot = g.member(w.bot_user)
    alerts = g.channel("mod-alerts")
    assert w.channel_permissions(g, bot, alerts) & P.SEND_MESSAGES
    assert w.channel_permissions(g, g.member(w.users["bob"]), alerts) == 0
    assert w.base_permissions(g, g.member(w.users["adam"])) == ALL_PERMISSIONS
    assert w.can_moderate(g, bot, g.member(w.users["carol"]))
    assert not w.can_moderate(g, bot, g.member(w.users["maya"]))
    assert not w.can_moderate(g, bot, g.member(w.users["olivia"]))
    # erin is a moderator in Lighthouse only.
    erin_b = w.guild_b.member(w.users["erin"])
    erin_a = g.member(w.users["erin"])
    assert w.base_permissions(w.guild_b, erin_b) & P.BAN_MEMBERS
    assert not w.base_permissions(g, erin_a) & P.BAN_MEMBERS


def test_timeout_strips_permissions() -> None:
    w = build_default_world()
    g = w.guild_a
    bob = g.member(w.users["bob"])
    general = g.channel("general")
    assert w.channel_permissions(g, bob, general) & P.SEND_MESSAGES
    bob.communication_disabled_until = datetime.now(UTC) + timedelta(minutes=5)
    perms = w.channel_permissions(g, bob, general)
    assert perms & P.VIEW_CHANNEL and not perms & P.SEND_MESSAGES


def test_user_message_jump_url_and_mentions() -> None:
    w = build_default_world()
    ch = w.guild_a.channel("general")
    msg = w.create_user_message(ch, "carol", f"hey {w.bot_user.mention}")
    assert msg["guild_id"] == str(w.guild_a.id)
    assert msg["mentions"][0]["id"] == str(w.bot_user.id)
    url = w.jump_url(ch.id, int(msg["id"]))
    assert url == f"https://discord.com/channels/{w.guild_a.id}/{ch.id}/{msg['id']}"
