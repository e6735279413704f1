"""Discord's message limits, in one place: every message Vigil sends is fitted here.

Discord refuses (400) a message whose embeds break any of these, and the alert outbox would
retry a refused alert forever, so nothing is left to chance: each part is cut to its own limit,
then, if all embeds of the message together exceed 6,000 characters, the longest parts are
shortened first (evenly, line by line where possible) until they fit. Short parts (status,
titles, labels) keep their text; long lists (reports, events, notes) lose their tail, marked
with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
EMBED_TOTAL = 6000  # across all embeds of one message
EMBEDS = 10
CONTENT = 2000
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class EmbedText:
    """The characters of one embed that Discord counts (title, description, fields, footer)."""

    title: str | None = None
    description: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    footer: str | None = None

    @property
    def size(self) -> int:
        return (
            len(self.title or "")
            + len(self.description or "")
            + sum(len(name) + len(value) for name, value in self.fields)
            + len(self.footer or "")
        )


def shorten(text: str, limit: int, *, keep_end: bool = False) -> str:
    """`text` in at most `limit` characters, with an ellipsis where it was cut; whole lines are
    kept when a line break falls in the cut's last half (no half-cut mention or link).

    `keep_end` keeps the last lines instead of the first: Vigil's lists (reports, actions,
    notes) run oldest to newest, and the newest matter most."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    room = limit - len(ELLIPSIS) - 1
    if keep_end and "\n" in text and room > 0:
        cut = text[len(text) - room :]
        newline = cut.find("\n")
        if 0 <= newline <= len(cut) // 2:
            cut = cut[newline + 1 :]
        return ELLIPSIS + "\n" + cut
    cut = text[: limit - len(ELLIPSIS)]
    newline = cut.rfind("\n")
    if newline >= len(cut) // 2:
        cut = cut[:newline]
    return cut.rstrip() + ELLIPSIS


def fit_content(text: str | None) -> str | None:
    return None if text is None else shorten(text, CONTENT)


def fit_embeds(embeds: Sequence[EmbedText], total: int = EMBED_TOTAL) -> list[EmbedText]:
    """The embeds of one message, each part within its limit and all within `total`."""
    clamped = [
        EmbedText(
            title=None if e.title is None else shorten(e.title, TITLE),
            description=None if e.description is None else shorten(e.description, DESCRIPTION),
            fields=tuple(
                (shorten(name, FIELD_NAME) or "-", _shorten_value(value, FIELD_VALUE) or "-")
                for name, value in e.fields[:FIELDS]
            ),
            footer=None if e.footer is None else shorten(e.footer, FOOTER),
        )
        for e in embeds[:EMBEDS]
    ]
    # Every part as (embed, slot, text); a slot is "title", "description", "footer" or
    # (field index, 0 for name / 1 for value).
    parts: list[tuple[int, object, str]] = []
    for i, e in enumerate(clamped):
        if e.title is not None:
            parts.append((i, "title", e.title))
        if e.description is not None:
            parts.append((i, "description", e.description))
        for f, (name, value) in enumerate(e.fields):
            parts.append((i, (f, 0), name))
            parts.append((i, (f, 1), value))
        if e.footer is not None:
            parts.append((i, "footer", e.footer))
    sizes = _water_fill([len(text) for _, _, text in parts], total)
    cut = [
        (i, slot, _shorten_value(text, n) if _is_value(slot) else shorten(text, n))
        for (i, slot, text), n in zip(parts, sizes, strict=True)
    ]
    return _rebuild(clamped, cut)


def _is_value(slot: object) -> bool:
    return isinstance(slot, tuple) and slot[1] == 1


def _shorten_value(text: str, limit: int) -> str:
    """A field value: a list of lines keeps its newest (last) lines."""
    return shorten(text, limit, keep_end="\n" in text)


def _water_fill(lengths: list[int], total: int) -> list[int]:
    """New lengths summing to at most `total`: the longest are lowered first, to a common
    level, so short parts are left whole. (Every part keeps at least one character.)"""
    limits = list(lengths)
    excess = sum(limits) - total
    while excess > 0:
        top = max(limits)
        if top <= 1:
            break
        tallest = [i for i, n in enumerate(limits) if n == top]
        below = max((n for n in limits if n < top), default=1)
        step = min(top - max(below, 1), -(-excess // len(tallest)))
        for i in tallest:
            limits[i] = top - step
        excess -= step * len(tallest)
    return limits


def _rebuild(embeds: list[EmbedText], parts: list[tuple[int, object, str]]) -> list[EmbedText]:
    out = list(embeds)
    fields = [list(e.fields) for e in embeds]
    for i, slot, text in parts:
        if slot == "title":
            out[i] = replace(out[i], title=text)
        elif slot == "description":
            out[i] = replace(out[i], description=text)
        elif slot == "footer":
            out[i] = replace(out[i], footer=text)
        else:
            assert isinstance(slot, tuple)
            f, which = slot
            name, value = fields[i][f]
            fields[i][f] = (text or "-", value) if which == 0 else (name, text or "-")
    return [replace(e, fields=tuple(fields[i])) for i, e in enumerate(out)]
