"""Discord's message limits that its OpenAPI spec cannot express, checked on every body.

The spec bounds each embed part (title 256, description 4096, 25 fields, field name 256 and
value 1024, footer 2048) but not the sum Discord also enforces: at most 6,000 characters across
all titles, descriptions, field names and values, footers and author names of one message's
embeds (Discord answers 50035 "Embed size exceeds maximum size of 6000"), nor the 2,000
characters of `content`. A bot that only satisfies the spec would get a 400 in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_CONTENT = 2000
MAX_EMBED_TOTAL = 6000


def _messages(body: Any) -> Iterator[dict[str, Any]]:
    """The message-shaped parts of a body: the body itself, and an interaction callback's data."""
    if not isinstance(body, dict):
        return
    yield body
    data = body.get("data")
    if isinstance(data, dict):
        yield data


def _text(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward the 6,000 of a message."""
    size = _text(embed.get("title")) + _text(embed.get("description"))
    for field in embed.get("fields") or []:
        if isinstance(field, dict):
            size += _text(field.get("name")) + _text(field.get("value"))
    for part, key in (("footer", "text"), ("author", "name")):
        holder = embed.get(part)
        if isinstance(holder, dict):
            size += _text(holder.get(key))
    return size


def limits_error(body: Any) -> str | None:
    """A readable error if the body breaks a limit Discord enforces beyond the spec."""
    for message in _messages(body):
        content = message.get("content")
        if isinstance(content, str) and len(content) > MAX_CONTENT:
            return f"content: {len(content)} characters, Discord allows {MAX_CONTENT}"
        embeds = message.get("embeds")
        if isinstance(embeds, list):
            total = sum(embed_size(e) for e in embeds if isinstance(e, dict))
            if total > MAX_EMBED_TOTAL:
                return (
                    f"embeds: {total} characters in all, Discord allows {MAX_EMBED_TOTAL} "
                    "(MAX_EMBED_SIZE_EXCEEDED)"
                )
    return None
