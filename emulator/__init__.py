"""Offline Discord API v10 + gateway emulator for Vigil's end-to-end tests.

See README.md in this directory for the cast, scenario examples and the fault API.
"""

from .botproc import BotProcess
from .cast import build_default_world
from .faults import FaultRule, Faults
from .interactions import EPHEMERAL, InteractionResult
from .models import Channel, Guild, Member, Overwrite, Role, User
from .permissions import P
from .recording import RecordedRequest, Violation
from .server import Emulator
from .world import FAKE_TOKEN, Attachment, World

__all__ = [
    "EPHEMERAL",
    "FAKE_TOKEN",
    "Attachment",
    "BotProcess",
    "Channel",
    "Emulator",
    "FaultRule",
    "Faults",
    "Guild",
    "InteractionResult",
    "Member",
    "Overwrite",
    "P",
    "RecordedRequest",
    "Role",
    "User",
    "Violation",
    "World",
    "build_default_world",
]
