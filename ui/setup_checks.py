"""What keeps Vigil from serving a server, checked live against Discord's view of it.

The alert channel Vigil cannot post in (or that is gone), alert channels everyone can read,
the alert deliveries that failed (stored per server, by whichever process met them), and a
moderator role urgent alerts cannot ping. `/reports setup`, `/reports config` and the web
dashboard's settings page (ui/dashboard_side.py) all ask here, so they always say the same;
each only names channels and roles its own way (a mention in Discord, `#name` on the web,
where a mention would show as `<#123>`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import discord

from core.i18n import tr
from core.models import GuildSettings
from ui.alert_view import describe_problem


@dataclass(frozen=True, slots=True)
class Naming:
    """How a warning names a channel and a role."""

    channel: Callable[[discord.abc.GuildChannel], str]
    role: Callable[[discord.Role], str]


MENTIONS = Naming(channel=lambda c: c.mention, role=lambda r: r.mention)
"""In Discord: clickable, and never a ping (replies carry no allowed mentions)."""
NAMES = Naming(channel=lambda c: f"#{c.name}", role=lambda r: f"@{r.name}")
"""On the web: plain names (the page escapes them)."""


@dataclass(frozen=True, slots=True)
class ServerView:
    """The server as the checks see it: its channels and Vigil's own member. From the bot's
    cache (`cached`), or fetched from Discord for a server another shard process holds."""

    guild: discord.Guild
    channels: Mapping[int, discord.abc.GuildChannel]
    me: discord.Member | None

    @classmethod
    def cached(cls, guild: discord.Guild) -> ServerView:
        return cls(guild, {c.id: c for c in guild.channels}, guild.me)


@dataclass(frozen=True, slots=True)
class SetupWarnings:
    """What an admin should fix, worded in the server's language."""

    problems: tuple[str, ...]  # alerts cannot be delivered (they wait until fixed)
    public: tuple[str, ...]  # alert channels everyone can read
    role: str | None  # the moderator role cannot be pinged by urgent alerts

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.problems, *self.public, *((self.role,) if self.role else ()))


def alert_channel_problems(
    view: ServerView, channel_id: int | None, locale: str | None, naming: Naming = MENTIONS
) -> list[str]:
    """Why Vigil could not post alerts, in words an admin can act on (empty: all good)."""
    if channel_id is None:
        return [tr("admin.no_alert_channel", locale)]
    channel = view.channels.get(channel_id)
    if channel is None:
        return [tr("admin.channel_gone", locale)]
    if view.me is None:
        return []
    perms = channel.permissions_for(view.me)
    missing = [
        tr(key, locale)
        for key, ok in (
            ("permission.view_channel", perms.view_channel),
            ("permission.send_messages", perms.send_messages),
            ("permission.embed_links", perms.embed_links),
        )
        if not ok
    ]
    if missing:
        return [
            tr(
                "admin.missing_permissions",
                locale,
                permissions=", ".join(missing),
                channel=naming.channel(channel),
            )
        ]
    return []


def public_channel_warnings(
    view: ServerView,
    channel_ids: Iterable[int | None],
    locale: str | None,
    naming: Naming = MENTIONS,
) -> list[str]:
    """Alert channels that @everyone can read: alerts name reporters and quote reports."""
    lines = []
    for channel_id in dict.fromkeys(channel_ids):
        channel = view.channels.get(channel_id) if channel_id is not None else None
        if channel is None:
            continue
        if channel.permissions_for(view.guild.default_role).view_channel:
            lines.append(tr("admin.everyone_readable", locale, channel=naming.channel(channel)))
    return lines


def mod_role_warning(
    view: ServerView, role_id: int | None, locale: str | None, naming: Naming = MENTIONS
) -> str | None:
    """The moderator role urgent alerts mention cannot be pinged (None: fine, or no role)."""
    role = view.guild.get_role(role_id) if role_id is not None else None
    if role is None or role.mentionable:
        return None
    if view.me is not None and view.me.guild_permissions.mention_everyone:
        return None
    return tr("admin.not_mentionable", locale, role=naming.role(role))


def setup_warnings(
    view: ServerView,
    settings: GuildSettings,
    locale: str | None,
    *,
    stored: Iterable[str] = (),
    naming: Naming = MENTIONS,
) -> SetupWarnings:
    """Everything to warn about for these settings. `stored`: the server's delivery problem
    codes from the database (any process may have met them), shown once each."""
    problems = alert_channel_problems(view, settings.alert_channel_id, locale, naming)
    problems += sorted({describe_problem(p, locale) for p in stored} - set(problems))
    return SetupWarnings(
        problems=tuple(problems),
        public=tuple(
            public_channel_warnings(
                view, [settings.alert_channel_id, settings.admin_channel_id], locale, naming
            )
        ),
        role=mod_role_warning(view, settings.mod_role_id, locale, naming),
    )
