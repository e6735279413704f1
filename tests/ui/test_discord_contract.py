"""What ui/interaction_http.py relies on in discord.py, checked against the installed version:
a discord.py that changes it fails here, before a reporter is left without an answer.

The lean sender answers an interaction with its own request, then records the answer the way
discord.py's own response methods do (`InteractionResponse._response_type`), so that
`response.is_done()` tells every later reply to follow up instead of answering twice.
"""

from __future__ import annotations

import ast
from pathlib import Path

import discord
from discord.enums import InteractionResponseType

import ui
from ui.interaction_http import CHANNEL_MESSAGE, DEFERRED_MESSAGE, _mark_answered


class Parent:
    def __init__(self) -> None:
        self.response = discord.InteractionResponse(self)  # type: ignore[arg-type]


def test_marking_an_answer_is_what_discord_py_checks() -> None:
    for kind in (DEFERRED_MESSAGE, CHANNEL_MESSAGE):
        parent = Parent()
        assert not parent.response.is_done()
        _mark_answered(parent, kind)  # type: ignore[arg-type]
        assert parent.response.is_done()
        assert parent.response.type is kind


def test_the_kinds_are_discords_callback_types() -> None:
    # Sent as the callback's "type": 5 is the deferred ("thinking...") answer, 4 a message.
    assert DEFERRED_MESSAGE is InteractionResponseType.deferred_channel_message
    assert DEFERRED_MESSAGE.value == 5
    assert CHANNEL_MESSAGE.value == 4


def test_only_mark_answered_touches_the_private_attribute() -> None:
    users = []
    for path in Path(ui.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "_response_type":
                users.append(path.name)
    assert users == ["interaction_http.py"]
