"""Discord permission bits and the documented permission-resolution algorithm.

The bot reads ``member.permissions`` / ``app_permissions`` and Discord refuses actions the bot
lacks permission for; both must come from the same computation so tests see consistent results.
"""

from __future__ import annotations

from enum import IntFlag


class P(IntFlag):
    """Permission bits (subset Vigil cares about, values from the Discord docs)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone gets in a freshly created guild (close to Discord's default).
DEFAULT_EVERYONE = (
    P.CREATE_INSTANT_INVITE
    | P.ADD_REACTIONS
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.USE_EXTERNAL_EMOJIS
    | P.CHANGE_NICKNAME
    | P.USE_APPLICATION_COMMANDS
    | P.SEND_MESSAGES_IN_THREADS
)

#: While timed out, Discord strips everything except these (unless admin/owner).
TIMEOUT_ALLOWED = P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY


def apply_overwrites(
    base: int,
    *,
    everyone_ow: tuple[int, int] | None,
    role_ows: list[tuple[int, int]],
    member_ow: tuple[int, int] | None,
) -> int:
    """Apply channel overwrites in Discord's order: @everyone, roles (merged), then member."""
    perms = base
    if everyone_ow:
        allow, deny = everyone_ow
        perms = (perms & ~deny) | allow
    if role_ows:
        allow = 0
        deny = 0
        for a, d in role_ows:
            allow |= a
            deny |= d
        perms = (perms & ~deny) | allow
    if member_ow:
        allow, deny = member_ow
        perms = (perms & ~deny) | allow
    return perms
