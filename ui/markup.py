"""Discord markup, built in one place: mentions, channel links, message URLs and timestamps.

Everything else in ui/ asks here, so the syntax (and what may ping) is reviewed once. A
mention in message text only notifies if the message's allowed mentions let it; Vigil's
default allows none (ui/app.py), and only the moderator role on urgent alerts is ever allowed.
"""

from __future__ import annotations

from datetime import datetime

import discord

from core.links import MessageLink


def mention_user(user_id: int) -> str:
    return f"<@{user_id}>"


def mention_role(role_id: int) -> str:
    return f"<@&{role_id}>"


def mention_channel(channel_id: int) -> str:
    return f"<#{channel_id}>"


def relative(when: datetime) -> str:
    """A Discord timestamp ("3 hours ago"): each moderator sees it in their own time zone."""
    return discord.utils.format_dt(when, "R")


def absolute(when: datetime) -> str:
    """A Discord timestamp with date and time, in the reader's time zone."""
    return discord.utils.format_dt(when, "f")


def message_url(guild_id: int, channel_id: int, message_id: int) -> str:
    """A message's link, in the canonical form reports store (core/links.py)."""
    return MessageLink(guild_id=guild_id, channel_id=channel_id, message_id=message_id).url
