"""User text cannot forge lines or lists where Vigil shows it (core/text.py `neutralise`)."""

from __future__ import annotations

import pytest

from core.text import NEWLINE_MARK, neutralise


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
