"""Whether a moderator (and Vigil) may take an action on a member: checked before acting.

Discord enforces the same rules, but answering "you can't, because ..." before trying is what
lets a moderator fix the problem (raise Vigil's role, ask an admin) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def refusal_for(
    action: CaseAction, moderator: Actor, bot: Actor, target: TargetMember
) -> str | None:
    """None if the action may go ahead; otherwise exactly why not, in a moderator's words."""
    permission, label = REQUIRED_PERMISSION[action]
    if not moderator.is_owner and permission not in moderator.permissions:
        return f"You need the **{label}** permission to do that."
    if permission not in bot.permissions:
        return f"Vigil needs the **{label}** permission; ask an admin to grant it to Vigil's role."
    if action in NEEDS_MEMBERSHIP and not target.is_member:
        return f"{target.name} is not a member of this server any more."
    if action in HIERARCHY_ACTIONS and target.is_member:
        if target.is_owner:
            return "Nobody can do that to the server owner."
        if not moderator.is_owner and moderator.top_role_position <= target.top_role_position:
            return f"Your highest role must be above {target.name}'s highest role."
        if bot.top_role_position <= target.top_role_position:
            return (
                f"Vigil's highest role must be above {target.name}'s highest role; "
                "move Vigil's role up in Server Settings > Roles."
            )
    return None
