"""Whether a moderator (and Vigil) may take an action on a member: checked before acting.

Discord enforces the same rules, but answering "you can't, because ..." before trying is what
lets a moderator fix the problem (raise Vigil's role, ask an admin) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import CaseAction
from core.outcomes import Outcome, Term

# The Discord permission each action needs, by discord.py's attribute name (its name as
# Discord shows it is a catalogue key: PERMISSION_LABEL_KEYS).
REQUIRED_PERMISSION: dict[CaseAction, str] = {
    CaseAction.TIMEOUT: "moderate_members",
    CaseAction.KICK: "kick_members",
    CaseAction.BAN: "ban_members",
    CaseAction.DELETE_MESSAGES: "manage_messages",
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
    action: CaseAction, moderator: Actor, bot: Actor, target: TargetMember
) -> Outcome | None:
    """None if the action may go ahead; otherwise exactly why not, as a value that ui/
    words in the server's language (``ui.alert_view.describe_outcome``)."""
    permission = REQUIRED_PERMISSION[action]
    label = Term(PERMISSION_LABEL_KEYS[action])
    if not moderator.is_owner and permission not in moderator.permissions:
        return Outcome("mod.need_permission", {"permission": label})
    if permission not in bot.permissions:
        return Outcome("mod.bot_needs_permission", {"permission": label})
    if action in NEEDS_MEMBERSHIP and not target.is_member:
        return Outcome("mod.not_member", {"name": target.name})
    if action in HIERARCHY_ACTIONS and target.is_member:
        if target.is_owner:
            return Outcome("mod.owner")
        if not moderator.is_owner and moderator.top_role_position <= target.top_role_position:
            return Outcome("mod.role_too_low", {"name": target.name})
        if bot.top_role_position <= target.top_role_position:
            return Outcome("mod.bot_role_too_low", {"name": target.name})
    return None
