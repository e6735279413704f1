"""Making user text safe to show: no forged mentions, links or formatting, bounded length."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#<:-])")
# Bidirectional overrides and isolates can make text display in another order than it is
# stored (to disguise a link or a name); joiners (ZWJ, ZWNJ) are kept: emoji and scripts need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What a client may break a line at, after strip_control: newline and the Unicode separators.
_BREAK_CHARS = "\n\u2028\u2029"
_LINE_BREAKS = re.compile(r"[ \t]*[\n\u2028\u2029]+[ \t]*")
NEWLINE_MARK = " ↵ "
# "1. text" and "+ text" render as lists in Discord ("-" and "*" are escaped with the rest of
# markdown); "1\. text" and "\+ text" do not.
_LIST_AT_LINE_START = re.compile(r"(?m)^([ \t]*[0-9]*)([.+])")


# Unicode's control characters (category Cc: U+0000-U+001F and U+007F-U+009F) but tab and
# newline, the surrogates (Cs), and the bidirectional controls: what strip_control drops, as
# one character class (tests/core/test_text_lines.py checks it against the categories for
# every code point). A regex: a report's details were stripped character by character in
# Python, a cost every report paid on the event loop (issue 19).
_STRIPPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff" + "".join(sorted(_BIDI_CONTROLS)) + "]"
)


def strip_control(text: str) -> str:
    """Drop control characters (NUL included; newlines and tabs kept), lone surrogates and
    bidirectional overrides: none of them can be stored everywhere or shown honestly.

    Printable ASCII (most reports' details) has none of them: two C checks instead of the
    regex's scan, ~12,000 instructions a report on the event loop (issue 19)."""
    if text.isascii() and text.isprintable():
        return text
    return _STRIPPED.sub("", text)


def clean_user_text(text: str | None, limit: int | None = None) -> str | None:
    """User text as Vigil stores it: control characters removed, trimmed, None when empty,
    and cut to `limit` characters where a form declared one."""
    if text is None:
        return None
    cleaned = strip_control(text).strip()
    if limit is not None:
        cleaned = cleaned[:limit].rstrip()
    return cleaned or None


def neutralise(text: str, *, multiline: bool = False) -> str:
    """User text shown to moderators: markdown escaped, mentions broken, links unclickable.

    Escaping keeps `<@123>`, `@everyone`, `[x](https://...)`, headings, block quotes and
    lists from rendering as what they pretend to be; a zero-width space after `@` stops any
    client-side ping. Unless `multiline`, line breaks become a visible `↵` on one line: the
    text sits inside a line of its own ("Latest reports", a history), where a reporter's
    newline would forge further lines that look like Vigil's (another report, another
    reporter). Either way no line can start with a list number, heading or quote marker.
    """
    cleaned = strip_control(text)
    escaped = _MARKDOWN.sub(r"\\\1", cleaned)
    escaped = escaped.replace("@", "@\u200b")
    escaped = escaped.replace("://", ":\u200b//")
    if not multiline:
        escaped = _LINE_BREAKS.sub(NEWLINE_MARK, escaped.strip(_BREAK_CHARS + " \t"))
    return _LIST_AT_LINE_START.sub(_escape_list_marker, escaped)


def _escape_list_marker(match: re.Match[str]) -> str:
    digits, marker = match[1], match[2]
    if marker == "." and not digits.strip():
        return match[0]  # a line starting with "." is no list
    if marker == "+" and digits.strip():
        return match[0]  # "12+" is no list either
    return f"{digits}\\{marker}"


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def safe_name(name: str, limit: int = 64) -> str:
    """A display name in bold or in a title: escaped and short."""
    return trim(neutralise(name.replace("\n", " ")), limit)
