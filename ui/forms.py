"""Stateless forms (modals): every submission is answered from its custom ID alone.

discord.py keeps one open modal per custom ID for the whole bot, so two people with the same
form open would get each other's submissions, and a form that outlived a restart would be
dropped in silence. Vigil's forms are therefore never stored: each is sent already stopped,
its custom ID names what the submission is about (``vigil:rf:u:<target>`` ...), and one
``on_interaction`` listener parses it, re-checks every ID in it (a custom ID is untrusted
input) and hands the answers to the handler registered for its kind. A submit that no handler
claims (an old form from before an update) gets a polite "please open the form again".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from core.i18n import tr
from core.snowflakes import is_storable_id
from ui.app import VigilBot
from ui.country_menu import answer_failure
from ui.replies import send_private

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VigilBot]
FORM_PREFIX = "vigil:"
MAX_CUSTOM_ID = 100  # Discord's limit for a modal's custom_id


@dataclass(frozen=True, slots=True)
class FormSubmit:
    """A parsed submission: the named parts of its custom ID and the answers by field.

    Every all-digit part has been checked to be a storable Discord ID; ``values`` maps a
    select's custom ID to its chosen values and a text input's custom ID to [its text]."""

    kind: str
    parts: Mapping[str, str]
    values: Mapping[str, list[str]]

    def id(self, name: str) -> int | None:
        part = self.parts.get(name)
        return int(part) if part is not None else None

    def first(self, field: str) -> str | None:
        chosen = self.values.get(field) or []
        return chosen[0] if chosen else None


FormHandler = Callable[[Interaction, FormSubmit], Awaitable[None]]

# kind -> (the custom ID after "vigil:<kind>:", handler). Name the pattern's groups.
_HANDLERS: dict[str, tuple[re.Pattern[str], FormHandler]] = {}
_FORM_ID = re.compile(r"vigil:(?P<kind>[a-z_-]{1,20}):(?P<rest>[a-z0-9:_]{1,90})", re.ASCII)


_STALE: list[FormHandler] = []  # the answer to a submit no handler claims, if one was set


def set_stale_answer(handler: FormHandler | None) -> None:
    """Who answers a form Vigil no longer knows (its submit still has the answers)."""
    _STALE.clear()
    if handler is not None:
        _STALE.append(handler)


def register_form(kind: str, pattern: str, handler: FormHandler) -> None:
    """Answer submits of ``vigil:<kind>:<pattern>`` with ``handler``."""
    _HANDLERS[kind] = (re.compile(pattern, re.ASCII), handler)


def unregister_form(kind: str) -> None:
    _HANDLERS.pop(kind, None)


def form_custom_id(kind: str, *parts: str | int) -> str:
    custom_id = ":".join(["vigil", kind, *(str(p) for p in parts)])
    assert len(custom_id) <= MAX_CUSTOM_ID, custom_id
    return custom_id


def stateless(modal: discord.ui.Modal) -> discord.ui.Modal:
    """The modal, stopped so that discord.py does not keep it: the listener answers it."""
    modal.stop()
    return modal


def parse_form(custom_id: str, components: Any) -> FormSubmit | None:
    """The submission, if its custom ID is one of ours with valid IDs; None otherwise."""
    match = _FORM_ID.fullmatch(custom_id)
    if match is None:
        return None
    entry = _HANDLERS.get(match["kind"])
    if entry is None:
        return None
    parts = entry[0].fullmatch(match["rest"])
    if parts is None:
        return None
    named = {k: v for k, v in parts.groupdict().items() if v is not None}
    if not all(is_storable_id(int(v)) for v in named.values() if v.isdigit()):
        return None
    return FormSubmit(kind=match["kind"], parts=named, values=_answers(components))


def _answers(components: Any) -> dict[str, list[str]]:
    """Field custom ID -> answers, from a submit's component tree (labels or action rows)."""
    found: dict[str, list[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        custom_id = node.get("custom_id")
        if isinstance(custom_id, str):
            if isinstance(node.get("values"), list):
                found[custom_id] = [str(v) for v in node["values"]]
            elif isinstance(node.get("value"), str):
                found[custom_id] = [node["value"]]
        walk(node.get("components"))
        walk(node.get("component"))

    walk(components)
    return found


async def answer_stale_form(interaction: Interaction, components: Any) -> None:
    """A form Vigil no longer knows (sent before an update, or forged): ask to open it again."""
    if _STALE:
        await _STALE[0](interaction, FormSubmit("", {}, _answers(components)))
    elif not interaction.response.is_done():
        await send_private(interaction, tr("form.open_again", interaction.locale.value))


async def answer_failed_form(interaction: Interaction) -> None:
    """A form whose handler failed: the error line with the general help and the country menu
    (a reporter's answer or details may come from a person in danger; review of stop 27,
    finding 4). A report form is answered by its own handler with its reason's help."""
    await answer_failure(interaction, with_help=True)


async def dispatch(interaction: Interaction, submit: FormSubmit) -> None:
    """Hand a parsed submission to the handler registered for its kind."""
    await _HANDLERS[submit.kind][1](interaction, submit)
