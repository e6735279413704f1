"""Parsing Discord message links: the only evidence Vigil keeps is where a message is."""

from __future__ import annotations

import re

from core.records import hot_record, keyword_maker
from core.snowflakes import is_storable_id

_MESSAGE_LINK = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?(?:discord\.com|discordapp\.com)"
    r"/channels/(?P<guild>[1-9][0-9]{14,19}|@me)/(?P<channel>[1-9][0-9]{14,19})"
    r"/(?P<message>[1-9][0-9]{14,19})/?$",
    re.ASCII,
)

MAX_LINK_LENGTH = 200


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


make_message_link = keyword_maker(MessageLink)
"""`MessageLink(**kwargs)`, cheaper (`keyword_maker`): a report with a link builds one."""


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
    # Each part read once; no comprehension or generator (a frame each: every report with
    # a link parses it on the event loop, issue 19).
    guild_id = None if match["guild"] == PRIVATE else int(match["guild"])
    channel_id, message_id = int(match["channel"]), int(match["message"])
    if guild_id is not None and not is_storable_id(guild_id):
        return None
    if not (is_storable_id(channel_id) and is_storable_id(message_id)):
        return None
    return make_message_link(guild_id=guild_id, channel_id=channel_id, message_id=message_id)
