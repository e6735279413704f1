"""User text cannot forge lines or lists where Vigil shows it (core/text.py `neutralise`)."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from core.text import _BIDI_CONTROLS, NEWLINE_MARK, neutralise, strip_control


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\u2028", "\u2029", "\n\n \t\n"])
def test_line_breaks_become_one_visible_mark(brk: str):
    shown = neutralise(f"first{brk}<t:0:R> <@1>: forged")
    assert "\n" not in shown and "\u2028" not in shown and "\u2029" not in shown
    assert shown.startswith("first" + NEWLINE_MARK)


def test_leading_and_trailing_breaks_leave_no_mark():
    assert neutralise("\n\n hello \n") == "hello"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. step", "1\\. step"),
        ("  12. step", "  12\\. step"),
        ("+ bullet", "\\+ bullet"),
        ("- dash", "\\- dash"),
        ("* star", "\\* star"),
        ("# heading", "\\# heading"),
        ("> quote", "\\> quote"),
        ("12+3 is 15", "12+3 is 15"),
        ("3.14 is pi", "3\\.14 is pi"),
    ],
)
def test_list_heading_and_quote_markers_are_escaped_at_line_starts(text: str, expected: str):
    assert neutralise(text, multiline=True) == expected
    assert neutralise(text) == expected.strip()


def test_multiline_keeps_lines_but_escapes_each_start():
    assert neutralise("a\n1. b\n+ c", multiline=True) == "a\n1\\. b\n\\+ c"


def test_strip_control_drops_exactly_controls_surrogates_and_bidi_overrides():
    """strip_control is one regex (it runs for every report); it drops exactly what the
    Unicode categories say, for every code point: Cc but tab and newline, Cs, bidi controls."""

    def dropped(ch: str) -> bool:
        return ch not in "\n\t" and (
            unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS
        )

    every = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    assert strip_control(every) == "".join(ch for ch in every if not dropped(ch))
    assert strip_control("a\x00b\tc\r\nd\u202ee\u200df\ud800") == "ab\tc\nde\u200df"
