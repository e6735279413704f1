"""Parsing Discord message links: the only evidence Vigil keeps is where a message is."""

from __future__ import annotations

import re

from core.records import hot_record
from core.snowflakes import is_storable_id

_MESSAGE_LINK = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?(?:discord\.com|discordapp\.com)"
    r"/channels/(?P<guild>[1-9][0-9]{14,19}|@me)/(?P<channel>[1-9][0-9]{14,19})"
    r"/(?P<message>[1-9][0-9]{14,19})/?$",
    re.ASCII,
)

MAX_LINK_LENGTH = 200
_PARTS = ("guild", "channel", "message")


PRIVATE = "@me"  # where a DM's or group DM's link has a server ID


@hot_record
class MessageLink:
    """Where a message is. ``guild_id`` None: a DM or group DM (its link says ``@me``)."""

    guild_id: int | None
    channel_id: int
    message_id: int

    @property
    def url(self) -> str:
        """The canonical form, so the same message is always stored the same way."""
        where = PRIVATE if self.guild_id is None else str(self.guild_id)
        return f"https://discord.com/channels/{where}/{self.channel_id}/{self.message_id}"


def parse_message_link(text: str, *, private: bool = False) -> MessageLink | None:
    """A message link from discord.com, discordapp.com, ptb or canary; None for anything else.

    A DM's link (``/channels/@me/...``) is accepted only with ``private``: only a report made
    from a DM ("Report message" there) names one; a server's report never does."""
    candidate = text.strip()
    if len(candidate) > MAX_LINK_LENGTH:
        return None
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1]
    match = _MESSAGE_LINK.match(candidate)
    if match is None or (match["guild"] == PRIVATE and not private):
        return None
    parts = [p for p in _PARTS if match[p] != PRIVATE]
    if not all(is_storable_id(int(match[part])) for part in parts):
        return None
    return MessageLink(
        guild_id=None if match["guild"] == PRIVATE else int(match["guild"]),
        channel_id=int(match["channel"]),
        message_id=int(match["message"]),
    )
