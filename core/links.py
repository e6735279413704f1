"""Parsing Discord message links: the only evidence Vigil keeps is where a message is."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.snowflakes import is_storable_id

_MESSAGE_LINK = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?(?:discord\.com|discordapp\.com)"
    r"/channels/(?P<guild>[1-9][0-9]{14,19})/(?P<channel>[1-9][0-9]{14,19})"
    r"/(?P<message>[1-9][0-9]{14,19})/?$",
    re.ASCII,
)

MAX_LINK_LENGTH = 200
_PARTS = ("guild", "channel", "message")


@dataclass(frozen=True, slots=True)
class MessageLink:
    guild_id: int
    channel_id: int
    message_id: int

    @property
    def url(self) -> str:
        """The canonical form, so the same message is always stored the same way."""
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"


def parse_message_link(text: str) -> MessageLink | None:
    """A message link from discord.com, discordapp.com, ptb or canary; None for anything else."""
    candidate = text.strip()
    if len(candidate) > MAX_LINK_LENGTH:
        return None
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1]
    match = _MESSAGE_LINK.match(candidate)
    if match is None or not all(is_storable_id(int(match[part])) for part in _PARTS):
        return None
    return MessageLink(
        guild_id=int(match["guild"]),
        channel_id=int(match["channel"]),
        message_id=int(match["message"]),
    )
