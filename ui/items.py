"""The one base every persistent component of Vigil's derives from.

A component's custom ID is the only state a press carries, and anyone can forge it. So every
item does the same three things, once, here:

* parse: the template's named groups become typed constructor arguments through `fields`
  (group name -> parser); a parser raises ValueError on junk (`snowflake` refuses a number no
  Discord ID or database row can have), and such a press is answered politely, changing nothing;
* check the presser: `access` says who may press (anyone, a moderator, a server manager),
  re-checked from the interaction's permissions at click time, never from the message;
* answer: `on_press` runs only for a valid, permitted press.

`CaseItem` adds the case re-read: `load_case` loads the case for this guild and refuses, in the
server's language, when it doesn't exist, isn't this guild's or is about the presser.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

import discord

from core.i18n import tr
from core.models import Case, CaseAction
from core.service import CaseActionRefused
from core.snowflakes import is_storable_id
from ui.alert_view import describe_refusal
from ui.app import VigilBot
from ui.case_common import MODERATORS_ONLY, is_moderator, reply_or_edit, server_locale
from ui.replies import send_private

log = logging.getLogger(__name__)

#: `Interaction.extras` key: time.monotonic() when the press reached its item's checks.
ARRIVED = "vigil_arrived"

Interaction = discord.Interaction[VigilBot]
ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])
Parser = Callable[[str], object]

STALE = "act.stale_button"
# A server's button pressed in a DM (an alert sent to the owner): where it does work instead.
SERVER_ONLY = "act.server_only_button"


class Access(enum.Enum):
    """Who may press an item (checked again at every press)."""

    ANYONE = "anyone"
    MODERATOR = "moderator"  # Manage Messages or Timeout Members
    MANAGE_SERVER = "manage_server"


def allowed(access: Access, interaction: discord.Interaction[Any]) -> bool:
    if access is Access.ANYONE:
        return True
    if access is Access.MODERATOR:
        return is_moderator(interaction)
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def snowflake(text: str) -> int:
    """A Discord ID or row ID from a custom ID; ValueError when no ID can be that number."""
    value = int(text)
    if not is_storable_id(value):
        raise ValueError(f"not a storable ID: {text!r}")
    return value


def groups(**parsers: Parser) -> Mapping[str, Parser]:
    """An item's `fields`, read-only: template group name -> its parser."""
    return MappingProxyType(parsers)


class VigilItem(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """Parse, check, answer. The base's own template matches nothing: it is never registered.

    Subclasses set `template`, `fields` (each named group -> its parser; the constructor takes
    the groups as keyword arguments), `access` and `denied` (the refusal's catalogue key), and
    implement `on_press`."""

    fields: ClassVar[Mapping[str, Parser]] = {}
    access: ClassVar[Access] = Access.ANYONE
    denied: ClassVar[str] = MODERATORS_ONLY

    @classmethod
    def parse(cls, match: re.Match[str]) -> dict[str, Any] | None:
        """The typed constructor arguments the custom ID names, or None if one is junk."""
        values: dict[str, Any] = {}
        for name, parser in cls.fields.items():
            raw = match[name]
            try:
                values[name] = None if raw is None else parser(raw)
            except ValueError:
                return None
        return values

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        values = cls.parse(match)
        if values is not None:
            return cls(**values)
        # A forged ID whose fields cannot be real: an inert instance around the pressed item,
        # so the press is still answered (politely) instead of timing out.
        inert = cls.__new__(cls)
        discord.ui.DynamicItem.__init__(inert, item)
        inert.junk = True
        return inert

    junk: bool = False

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Refuses (privately, in the server's language) a press its presser may not make.
        Notes when the press arrived (ARRIVED), on this process's own clock: how much of
        Discord's 3 s is left is counted from it (ui.case_actions.route_budget)."""
        interaction.extras.setdefault(ARRIVED, time.monotonic())
        if allowed(self.access, interaction):
            return True
        in_dm = interaction.guild_id is None and self.access is not Access.ANYONE
        key = SERVER_ONLY if in_dm else self.denied
        await send_private(interaction, tr(key, server_locale(interaction)))
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if self.junk:
            if self.access is Access.ANYONE:  # perhaps a reporter: never a bare line
                from ui.country_menu import answer_failure

                await answer_failure(interaction, with_help=True, key=STALE)
                return
            await send_private(interaction, tr(STALE, server_locale(interaction)))
            return
        try:
            await self.on_press(interaction)
        except Exception:
            # discord.py's View.on_error only logs: the presser would see "This interaction
            # failed". A press open to anyone (a reporter's Answer, Stop, Add details, the
            # support offer) is answered with help, so nobody in danger is left bare by a
            # database that fails (review of stop 27, finding 4).
            log.exception("a press on %s failed", type(self).__name__)
            # Imported here: ui.country_menu's own items build on this module.
            from ui.country_menu import answer_failure

            await answer_failure(interaction, with_help=self.access is Access.ANYONE)

    async def on_press(self, interaction: Interaction) -> None:
        """What a valid, permitted press does."""
        raise NotImplementedError


class CaseItem(VigilItem[ItemT], template=r"(?!)"):
    """An item that names a case: only moderators press it, and it re-reads the case."""

    access = Access.MODERATOR
    case_id: int

    async def load_case(self, interaction: Interaction, action: CaseAction) -> Case | None:
        """The case, if `action` is allowed on it for this presser in this guild; otherwise
        the moderator is told why (privately, in the server's language) and None returned."""
        assert interaction.guild_id is not None
        try:
            return await interaction.client.services.cases.require(
                interaction.guild_id, self.case_id, action, interaction.user.id
            )
        except CaseActionRefused as refused:
            await reply_or_edit(interaction, describe_refusal(refused, server_locale(interaction)))
            return None
