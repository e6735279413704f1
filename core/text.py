"""Making user text safe to show: no forged mentions, links or formatting, bounded length."""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#<:-])")
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def strip_control(text: str) -> str:
    """Drop control and invisible format characters (keeping newlines and tabs as spaces)."""
    out = []
    for ch in text:
        if ch in "\n\t" or unicodedata.category(ch) not in _CONTROL:
            out.append(ch)
    return "".join(out)


def neutralise(text: str) -> str:
    """User text shown to moderators: markdown escaped, mentions broken, links unclickable.

    Escaping keeps `<@123>`, `@everyone`, `[x](https://...)` and headings from rendering as
    what they pretend to be; a zero-width space after `@` stops any client-side ping.
    """
    cleaned = strip_control(text)
    escaped = _MARKDOWN.sub(r"\\\1", cleaned)
    escaped = escaped.replace("@", "@\u200b")
    return escaped.replace("://", ":\u200b//")


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def safe_name(name: str, limit: int = 64) -> str:
    """A display name in bold or in a title: escaped and short."""
    return trim(neutralise(name.replace("\n", " ")), limit)
