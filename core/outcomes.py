"""Outcomes as values: a refusal, failure or event is a catalogue key and its parameters.

Core code decides *what* happened and returns it as an :class:`Outcome`; the message is
worded once, where it is built (ui/), in the reader's language. A parameter that is itself a
catalogue key (a permission's name) is a :class:`Term`, translated before it is inserted.
Nothing here is English: the catalogues (core/locales) hold every word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self


class Term(str):
    """A parameter that names a catalogue key, worded in the reader's language too."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened, as a value: ``code`` is a catalogue key, ``params`` its placeholders."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


class Vocabulary(StrEnum):
    """A StrEnum whose values arrive as untrusted text (custom IDs, stored rows)."""

    @classmethod
    def parse(cls, value: object) -> Self | None:
        """The member named ``value``; None for anything else (never raises)."""
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None
