"""What the dashboard needs from Discord, as a protocol: the bot implements it
(ui/dashboard_side.py), tests may fake it. Every answer comes from the bot's own view of the
server (its cache, or Discord's API with the bot's token), never from the browser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from core.models import AlertData, Case, CaseAction, GuildSettings


@dataclass(frozen=True, slots=True)
class GuildAccess:
    """What one signed-in user may do in one server with Vigil, checked just now."""

    guild_id: int
    name: str
    locale: str | None  # the server's language
    can_manage: bool  # Manage Server: settings, like /reports
    can_act: bool  # what the alert's buttons require (Manage Messages or Timeout Members)


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class SetupChoices:
    """The server's text channels and roles, for the settings form (and its validation)."""

    text_channels: tuple[Choice, ...]  # those the signed-in member can see
    roles: tuple[Choice, ...]  # without @everyone
    everyone_role: int
    hidden_channels: frozenset[int] = frozenset()  # text channels the member cannot see


class DiscordUnavailable(Exception):
    """Discord could not answer just now (an error on its side, a timeout, the network):
    the page says so politely, with a 503, and nothing was changed."""


class DiscordSide(Protocol):
    async def access(
        self, guild_id: int, user_id: int, *, fresh: bool = False
    ) -> GuildAccess | None:
        """None unless the user is a member with Manage Server or the server's moderator
        role (GuildSettings.mod_role_id), as Discord said at most a few seconds ago (`fresh`:
        as Discord says now, for a change). Raises DiscordUnavailable when Discord cannot be
        asked."""
        ...

    async def vigil_guild_ids(self) -> set[int]:
        """The servers Vigil is in (any process's: the bot's cache and the database)."""
        ...

    async def serves(self, guild_id: int) -> bool:
        """Whether Vigil is in this server (one of `vigil_guild_ids()`), without asking
        Discord: a server Vigil does not know is refused before any request to Discord."""
        ...

    async def names(self, guild_id: int, user_ids: Iterable[int]) -> dict[int, str]:
        """Display names for IDs, best effort (a missing one is shown by its ID)."""
        ...

    async def setup_choices(self, guild_id: int, user_id: int) -> SetupChoices:
        """The server's channels and roles; channels the member cannot see are named
        nowhere (their IDs only, in `hidden_channels`)."""
        ...

    async def setup_warnings(
        self, guild_id: int, user_id: int, settings: GuildSettings, locale: str | None
    ) -> tuple[str, ...]:
        """What `/reports setup` and `/reports config` warn about for these settings (Vigil
        cannot post in the alert channel, everyone can read it, failed deliveries, a role
        that cannot be pinged), checked now, by the same code, naming channels `#name`
        (a channel the member cannot see is not named)."""
        ...

    def after_action(
        self, case: Case, locale: str | None, *, actor_id: int, action: CaseAction
    ) -> None:
        """What the buttons do after recording an action (the audit channel's line for this
        moderator's `action`), in the background."""
        ...

    def export_packet(
        self, data: AlertData, user_id: int, guild_name: str, *, include_reporters: bool
    ) -> bytes:
        """The escalation packet, exactly as the alert's Export button builds it (or, with
        `include_reporters`, as `/reports export include_reporters:True` does)."""
        ...
