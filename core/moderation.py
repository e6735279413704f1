"""Whether a moderator (and Vigil) may take an action on a member: checked before acting.

Discord enforces the same rules, but answering "you can't, because ..." before trying is what
lets a moderator fix the problem (raise Vigil's role, ask an admin) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import tr
from core.models import CaseAction

# The Discord permission each action needs, by discord.py's attribute name and a human name.
REQUIRED_PERMISSION: dict[CaseAction, tuple[str, str]] = {
    CaseAction.TIMEOUT: ("moderate_members", "Timeout Members"),
    CaseAction.KICK: ("kick_members", "Kick Members"),
    CaseAction.BAN: ("ban_members", "Ban Members"),
    CaseAction.DELETE_MESSAGES: ("manage_messages", "Manage Messages"),
}

NEEDS_MEMBERSHIP = frozenset({CaseAction.TIMEOUT, CaseAction.KICK})
HIERARCHY_ACTIONS = frozenset({CaseAction.TIMEOUT, CaseAction.KICK, CaseAction.BAN})


@dataclass(frozen=True, slots=True)
class Actor:
    """A member as far as permission checks go."""

    name: str
    permissions: frozenset[str]  # discord.py permission attribute names that are granted
    top_role_position: int
    is_owner: bool = False


@dataclass(frozen=True, slots=True)
class TargetMember:
    name: str
    is_member: bool
    top_role_position: int = 0
    is_owner: bool = False


PERMISSION_LABEL_KEYS: dict[CaseAction, str] = {
    CaseAction.TIMEOUT: "permission.moderate_members",
    CaseAction.KICK: "permission.kick_members",
    CaseAction.BAN: "permission.ban_members",
    CaseAction.DELETE_MESSAGES: "permission.manage_messages",
}
"""Catalogue keys of the permissions' names as Discord shows them in each language."""


def refusal_for(
    action: CaseAction,
    moderator: Actor,
    bot: Actor,
    target: TargetMember,
    locale: str | None = None,
) -> str | None:
    """None if the action may go ahead; otherwise exactly why not, in a moderator's words.

    ``locale`` is the server's (a Discord locale code); English when unknown.
    """
    permission, _label = REQUIRED_PERMISSION[action]
    label = tr(PERMISSION_LABEL_KEYS[action], locale)
    if not moderator.is_owner and permission not in moderator.permissions:
        return tr("mod.need_permission", locale, permission=label)
    if permission not in bot.permissions:
        return tr("mod.bot_needs_permission", locale, permission=label)
    if action in NEEDS_MEMBERSHIP and not target.is_member:
        return tr("mod.not_member", locale, name=target.name)
    if action in HIERARCHY_ACTIONS and target.is_member:
        if target.is_owner:
            return tr("mod.owner", locale)
        if not moderator.is_owner and moderator.top_role_position <= target.top_role_position:
            return tr("mod.role_too_low", locale, name=target.name)
        if bot.top_role_position <= target.top_role_position:
            return tr("mod.bot_role_too_low", locale, name=target.name)
    return None
