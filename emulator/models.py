"""Plain data models of Discord objects plus their gateway/REST payload shapes.

Payload functions produce exactly what Discord sends so discord.py parses the objects the same
way it would in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .snowflake import snowflake_time


def iso(dt: datetime | None) -> str | None:
    """Discord's ISO8601 timestamp format (with +00:00 offset)."""
    return dt.isoformat() if dt is not None else None


@dataclass
class User:
    """A Discord user account (the id encodes the account creation time)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    system: bool = False
    locale: str = "en-US"  # the client language (OAuth2 /users/@me shows it to the user)

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        if self.system:
            data["system"] = True
        return data


@dataclass
class Role:
    """A guild role; ``position`` orders the hierarchy (higher outranks lower)."""

    id: int
    name: str
    permissions: int
    position: int
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite; ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


#: Channel types of threads (announcement, public, private).
THREAD_TYPES = (10, 11, 12)


@dataclass
class Channel:
    """A guild text channel (type 0), category (4), DM (1), group DM (3) or thread (10-12).

    Private channels (DM, group DM) have no ``guild_id``. ``recipients`` lists the users in
    them: for the bot's own DM with a user (``with_bot``) just that user, as Discord shows it
    to the bot; for a DM between two users or a group DM, every user in it (the bot is not a
    member of those, so it can only reach them through a user-installed command).

    A thread (``Guild.threads``, never ``Guild.channels``) has its text channel as
    ``parent_id`` and its creator as ``owner_id``; one started from a message has that
    message's ID as its own. Its permissions are its parent's (``World.channel_permissions``).
    """

    id: int
    name: str | None
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    recipients: list[User] = field(default_factory=list)
    last_message_id: int | None = None
    #: private channels only: True for the bot's own DM with ``recipients[0]``.
    with_bot: bool = False
    #: group DMs only: the user who created the group; threads: the user who started it.
    owner_id: int | None = None
    #: threads only: Discord's thread metadata.
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    created_at: datetime | None = None
    archived_at: datetime | None = None
    message_count: int = 0
    total_message_sent: int = 0

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_private(self) -> bool:
        """A DM or group DM (no guild, no permission overwrites)."""
        return self.type in (1, 3)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def thread_payload(self) -> dict[str, Any]:
        """A thread channel object (the spec's ThreadResponse; also THREAD_CREATE's data)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "owner_id": str(self.owner_id),
            "name": self.name or "",
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "message_count": self.message_count,
            "member_count": 1,
            "total_message_sent": self.total_message_sent,
            "thread_metadata": {
                "archived": self.archived,
                "archive_timestamp": iso(self.archived_at or self.created_at),
                "auto_archive_duration": self.auto_archive_duration,
                "locked": self.locked,
                "create_timestamp": iso(self.created_at),
            },
        }

    def has_recipient(self, user: User | int) -> bool:
        uid = user if isinstance(user, int) else user.id
        return any(u.id == uid for u in self.recipients)

    def payload(self, viewer: User | int | None = None) -> dict[str, Any]:
        """The channel object. For private channels, ``viewer`` is left out of ``recipients``
        (Discord lists the *other* people in a DM / group DM to whoever looks at it)."""
        if self.is_thread:
            return self.thread_payload()
        if self.is_private:
            vid = viewer if isinstance(viewer, int) or viewer is None else viewer.id
            others = [u for u in self.recipients if u.id != vid] or list(self.recipients)
            data: dict[str, Any] = {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [u.payload() for u in others],
            }
            if self.type == 3:
                data.update(
                    {
                        "name": self.name,
                        "icon": None,
                        "owner_id": str(self.owner_id or self.recipients[0].id),
                    }
                )
            return data
        data = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.type == 0:
            data.update(
                {
                    "topic": self.topic,
                    "nsfw": self.nsfw,
                    "rate_limit_per_user": 0,
                    "last_message_id": (
                        str(self.last_message_id) if self.last_message_id else None
                    ),
                }
            )
        return data

    def partial_payload(
        self, permissions: int | None = None, viewer: User | int | None = None
    ) -> dict[str, Any]:
        """The partial channel Discord puts in interactions / resolved data."""
        data = self.payload(viewer)
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Member:
    """A user's membership in one guild."""

    user: User
    guild_id: int
    roles: list[int]
    joined_at: datetime
    nick: str | None = None
    communication_disabled_until: datetime | None = None
    pending: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, *, include_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": self.pending,
            "flags": 0,
            "communication_disabled_until": iso(self.communication_disabled_until),
        }
        if include_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class Guild:
    """A guild with its roles, channels, members and bans."""

    id: int
    name: str
    owner_id: int
    preferred_locale: str
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bans: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: thread id -> thread (kept apart from ``channels``, as Discord lists them apart).
    threads: dict[int, Channel] = field(default_factory=dict)

    # -- lookups -----------------------------------------------------------------------------
    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def role(self, name: str) -> Role:
        """Role by name (``"@everyone"`` works too)."""
        for r in self.roles.values():
            if r.name == name:
                return r
        raise KeyError(f"no role {name!r} in {self.name}")

    def channel(self, name: str) -> Channel:
        """Channel by name, with or without the leading ``#``."""
        name = name.lstrip("#")
        for c in self.channels.values():
            if c.name == name:
                return c
        raise KeyError(f"no channel {name!r} in {self.name}")

    def member(self, user: User | int) -> Member:
        uid = user if isinstance(user, int) else user.id
        return self.members[uid]

    def top_role_position(self, member: Member) -> int:
        return max((self.roles[r].position for r in member.roles if r in self.roles), default=0)

    # -- payloads ----------------------------------------------------------------------------
    def payload(self) -> dict[str, Any]:
        """The GUILD_CREATE shape (full guild including members and channels)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "joined_at": None,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in self.members.values()],
            "channels": [c.payload() for c in self.channels.values()],
            # Active threads only, as in Discord's GUILD_CREATE.
            "threads": [t.thread_payload() for t in self.threads.values() if not t.archived],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
            "nsfw": False,
        }
