"""The emulator's in-memory Discord state: users, guilds, channels, messages.

Everything the REST handlers and interaction builders need lives here so a test can arrange a
scenario (``world.users["alice"]``, ``world.guild_a.channel("general")``) and later inspect the
outcome (messages, timeouts, bans) without going through HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .models import Channel, Guild, Member, Role, User, iso
from .permissions import ALL_PERMISSIONS, TIMEOUT_ALLOWED, P, apply_overwrites
from .snowflake import SnowflakeFactory

FAKE_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.emulator.fake-token-accepted-offline"
#: Message flag: a thread was started from this message.
HAS_THREAD = 1 << 5


@dataclass
class Attachment:
    """An attachment to put on a user-authored message (metadata only; no CDN)."""

    filename: str = "evidence.png"
    content_type: str = "image/png"
    size: int = 24_576
    width: int | None = 640
    height: int | None = 480


@dataclass
class World:
    """Mutable Discord state shared by REST, gateway and interaction builders."""

    ids: SnowflakeFactory
    application_id: int
    bot_user: User
    users: dict[str, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    dm_channels: dict[int, Channel] = field(default_factory=dict)
    #: channel id -> message id -> message payload (insertion order = chronological).
    messages: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    #: message id -> previous versions (oldest first), recorded on every edit.
    edit_history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: names of the two default guilds (set by the default factory).
    guild_a_id: int = 0
    guild_b_id: int = 0
    token: str = FAKE_TOKEN
    owner_user_id: int | None = None
    #: installation types enabled for the application (developer portal "Installation"):
    #: 0 guild install, 1 user install; shown in ``integration_types_config``.
    install_types: tuple[int, ...] = (0, 1)

    # -- lookups -----------------------------------------------------------------------------
    @property
    def guild_a(self) -> Guild:
        return self.guilds[self.guild_a_id]

    @property
    def guild_b(self) -> Guild:
        return self.guilds[self.guild_b_id]

    def user(self, ref: str | int | User) -> User:
        """Resolve a user from a cast name, id or User."""
        if isinstance(ref, User):
            return ref
        if isinstance(ref, str):
            return self.users[ref]
        return self.user_by_id(ref)

    def user_by_id(self, user_id: int) -> User:
        if user_id == self.bot_user.id:
            return self.bot_user
        for u in self.users.values():
            if u.id == user_id:
                return u
        raise KeyError(user_id)

    def find_user(self, user_id: int) -> User | None:
        try:
            return self.user_by_id(user_id)
        except KeyError:
            return None

    def channel(self, channel_id: int) -> Channel | None:
        """A guild channel, a thread or a private channel."""
        for g in self.guilds.values():
            if channel_id in g.channels:
                return g.channels[channel_id]
            if channel_id in g.threads:
                return g.threads[channel_id]
        return self.dm_channels.get(channel_id)

    def guild_of(self, channel_id: int) -> Guild | None:
        for g in self.guilds.values():
            if channel_id in g.channels or channel_id in g.threads:
                return g
        return None

    def thread(self, thread_id: int) -> Channel | None:
        for g in self.guilds.values():
            if thread_id in g.threads:
                return g.threads[thread_id]
        return None

    def threads_of(self, channel_id: int) -> list[Channel]:
        """The threads (archived ones too) whose parent is ``channel_id``, oldest first."""
        return [
            t for g in self.guilds.values() for t in g.threads.values() if t.parent_id == channel_id
        ]

    def start_thread(
        self, parent: Channel, message: dict[str, Any], name: str, owner: User, duration: int
    ) -> Channel:
        """A public thread started from ``message`` (its ID is the message's, as on Discord);
        the message then carries it (``thread``) and the HAS_THREAD flag."""
        assert parent.guild_id is not None
        thread = Channel(
            id=int(message["id"]),
            name=name,
            type=11 if parent.type == 0 else 10,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner.id,
            auto_archive_duration=duration,
            created_at=datetime.now(UTC),
        )
        self.guilds[parent.guild_id].threads[thread.id] = thread
        message["thread"] = thread.thread_payload()
        message["flags"] = int(message.get("flags") or 0) | HAS_THREAD
        return thread

    # -- permissions -------------------------------------------------------------------------
    def base_permissions(self, guild: Guild, member: Member) -> int:
        """Guild-level permissions (owner / Administrator => everything)."""
        if member.id == guild.owner_id:
            return ALL_PERMISSIONS
        perms = guild.everyone.permissions
        for rid in member.roles:
            role = guild.roles.get(rid)
            if role:
                perms |= role.permissions
        if perms & P.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if self._timed_out(member):
            perms &= TIMEOUT_ALLOWED
        return perms

    def channel_permissions(self, guild: Guild, member: Member, channel: Channel) -> int:
        """Permissions in ``channel`` after overwrites, as Discord computes them. A thread has
        its parent channel's permissions (a public thread in a private channel is private by
        inheritance)."""
        if channel.is_thread and channel.parent_id in guild.channels:
            channel = guild.channels[channel.parent_id]
        base = self.base_permissions(guild, member)
        if base & P.ADMINISTRATOR:
            return ALL_PERMISSIONS
        ows = {o.id: o for o in channel.overwrites}
        everyone = ows.get(guild.id)
        role_ows = [(ows[r].allow, ows[r].deny) for r in member.roles if r in ows and r != guild.id]
        mem = ows.get(member.id)
        if mem is not None and mem.type != 1:
            mem = None
        perms = apply_overwrites(
            base,
            everyone_ow=(everyone.allow, everyone.deny) if everyone else None,
            role_ows=role_ows,
            member_ow=(mem.allow, mem.deny) if mem else None,
        )
        if not perms & P.VIEW_CHANNEL:
            return 0
        if self._timed_out(member) and member.id != guild.owner_id:
            perms &= TIMEOUT_ALLOWED
        return perms

    @staticmethod
    def _timed_out(member: Member) -> bool:
        until = member.communication_disabled_until
        return until is not None and until > datetime.now(UTC)

    def can_moderate(self, guild: Guild, actor: Member, target: Member) -> bool:
        """Role hierarchy check: nobody acts on the owner or on an equal/higher top role."""
        if target.id == guild.owner_id:
            return False
        if actor.id == guild.owner_id:
            return True
        return guild.top_role_position(actor) > guild.top_role_position(target)

    # -- messages ----------------------------------------------------------------------------
    def jump_url(self, channel_id: int, message_id: int) -> str:
        guild = self.guild_of(channel_id)
        gid = str(guild.id) if guild else "@me"
        return f"https://discord.com/channels/{gid}/{channel_id}/{message_id}"

    def message_payload(
        self,
        *,
        channel: Channel,
        author: User,
        content: str = "",
        message_id: int | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        flags: int = 0,
        webhook_id: int | None = None,
        interaction_meta: dict[str, Any] | None = None,
        msg_type: int = 0,
        message_reference: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A full MESSAGE_CREATE-shaped message payload."""
        mid = message_id or self.ids.now()
        data: dict[str, Any] = {
            "id": str(mid),
            "type": msg_type,
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": iso(datetime.now(UTC)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": embeds or [],
            "components": components or [],
            "pinned": False,
            "flags": flags,
        }
        if webhook_id is not None:
            data["webhook_id"] = str(webhook_id)
            data["application_id"] = str(self.application_id)
        if interaction_meta is not None:
            data["interaction_metadata"] = interaction_meta
        if message_reference is not None:
            data["message_reference"] = message_reference
        guild = self.guild_of(channel.id)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            if author.id in guild.members and webhook_id is None:
                data["member"] = guild.members[author.id].payload(include_user=False)
        return data

    def attachment_payload(self, att: Attachment, channel_id: int) -> dict[str, Any]:
        aid = self.ids.now()
        url = f"https://cdn.discordapp.com/attachments/{channel_id}/{aid}/{att.filename}"
        data: dict[str, Any] = {
            "id": str(aid),
            "filename": att.filename,
            "size": att.size,
            "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
            "content_type": att.content_type,
        }
        if att.width is not None:
            data["width"] = att.width
            data["height"] = att.height
        return data

    def store_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        cid = int(payload["channel_id"])
        self.messages.setdefault(cid, {})[int(payload["id"])] = payload
        ch = self.channel(cid)
        if ch is not None:
            ch.last_message_id = int(payload["id"])
            if ch.is_thread:
                ch.message_count += 1
                ch.total_message_sent += 1
        return payload

    def create_user_message(
        self,
        channel: Channel,
        author: User | str,
        content: str,
        attachments: list[Attachment] | None = None,
    ) -> dict[str, Any]:
        """Create (and store) a message a user posted, e.g. one to be reported later.

        Does not dispatch MESSAGE_CREATE; use ``Emulator.post_user_message`` for that.
        """
        user = self.user(author)
        if channel.is_private and not channel.has_recipient(user) and user.id != self.bot_user.id:
            raise ValueError(f"{user.username} is not in private channel {channel.id}")
        atts = [self.attachment_payload(a, channel.id) for a in attachments or []]
        payload = self.message_payload(
            channel=channel, author=user, content=content, attachments=atts
        )
        for uid in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
            mentioned = self.find_user(int(uid))
            if mentioned is not None:
                payload["mentions"].append(mentioned.payload())
        payload["mention_everyone"] = "@everyone" in content or "@here" in content
        return self.store_message(payload)

    def get_message(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        return self.messages.get(channel_id, {}).get(message_id)

    def dm_channel_for(self, user: User) -> Channel:
        """The bot's own DM with ``user`` (created on first use, like POST /users/@me/channels)."""
        for ch in self.dm_channels.values():
            if ch.with_bot and ch.recipients and ch.recipients[0].id == user.id:
                return ch
        ch = Channel(id=self.ids.now(), name=None, type=1, recipients=[user], with_bot=True)
        self.dm_channels[ch.id] = ch
        return ch

    def dm_between(self, a: User | str, b: User | str) -> Channel:
        """The DM (type 1) between two users, created on first use. The bot is not in it: it
        sees it only through interactions of a user-installed command (context 2)."""
        ua, ub = self.user(a), self.user(b)
        if self.bot_user.id in (ua.id, ub.id):
            return self.dm_channel_for(ub if ua.id == self.bot_user.id else ua)
        for ch in self.dm_channels.values():
            if ch.type == 1 and not ch.with_bot and {u.id for u in ch.recipients} == {ua.id, ub.id}:
                return ch
        ch = Channel(id=self.ids.now(), name=None, type=1, recipients=[ua, ub])
        self.dm_channels[ch.id] = ch
        return ch

    def group_dm(self, owner: User | str, *others: User | str, name: str | None = None) -> Channel:
        """The group DM (type 3) among ``owner`` and ``others`` (found by its exact member set,
        else created with ``owner`` as its owner). The bot is not a member."""
        users = [self.user(owner), *(self.user(o) for o in others)]
        ids = {u.id for u in users}
        for ch in self.dm_channels.values():
            if ch.type == 3 and {u.id for u in ch.recipients} == ids:
                return ch
        ch = Channel(id=self.ids.now(), name=name, type=3, recipients=users, owner_id=users[0].id)
        self.dm_channels[ch.id] = ch
        return ch

    def bot_can_access(self, channel: Channel) -> bool:
        """Whether the bot is in a private channel (its own DMs only; Discord answers 50001
        Missing Access for DMs and group DMs between other users). Guild channels: True here,
        permissions decide."""
        if not channel.is_private:
            return True
        return channel.with_bot or channel.has_recipient(self.bot_user)

    def mutual_guilds(self, a: User | str, b: User | str) -> list[Guild]:
        """Guilds the bot is in where both users are members (what a bot can learn through
        GET /guilds/{id}/members/{user_id}; Discord has no endpoint that answers it directly)."""
        ua, ub = self.user(a), self.user(b)
        return [
            g
            for g in self.guilds.values()
            if self.bot_user.id in g.members and ua.id in g.members and ub.id in g.members
        ]

    @property
    def dm_alice_carol(self) -> Channel:
        """Cast DM between alice and carol (they share Harbour only)."""
        return self.dm_between("alice", "carol")

    @property
    def group_dm_study(self) -> Channel:
        """Cast group DM "study group" owned by alice, with carol (Harbour) and ida
        (Lighthouse)."""
        return self.group_dm("alice", "carol", "ida", name="study group")


def _role(world: World, name: str, perms: int, position: int, **kw: Any) -> Role:
    return Role(id=world.ids.now(), name=name, permissions=int(perms), position=position, **kw)
