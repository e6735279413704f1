"""Records of what the bot sent and of spec violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """One HTTP request the bot made, with how the emulator answered it."""

    method: str
    path: str
    template: str | None
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    timestamp: float
    headers: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    status: int | None = None
    response: Any = None
    fault: bool = False

    @property
    def reason(self) -> str | None:
        """The decoded ``X-Audit-Log-Reason`` header, if any."""
        from urllib.parse import unquote

        raw = self.headers.get("X-Audit-Log-Reason")
        return unquote(raw) if raw is not None else None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class Violation:
    """A request Discord would reject: unknown route or a body failing the spec schema."""

    method: str
    path: str
    template: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.template or 'no spec route'}]: {self.message}"


class ApiError(Exception):
    """Raised by handlers to answer with a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


UNKNOWN_CHANNEL = (404, 10003, "Unknown Channel")
UNKNOWN_GUILD = (404, 10004, "Unknown Guild")
UNKNOWN_MEMBER = (404, 10007, "Unknown Member")
UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
UNKNOWN_USER = (404, 10013, "Unknown User")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")
UNKNOWN_BAN = (404, 10026, "Unknown Ban")
UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
MISSING_ACCESS = (403, 50001, "Missing Access")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")
CANNOT_DM = (403, 50007, "Cannot send messages to this user")
NOT_AUTHOR = (403, 50005, "Cannot edit a message authored by another user")
ALREADY_ACKED = (400, 40060, "Interaction has already been acknowledged.")
EMPTY_MESSAGE = (400, 50006, "Cannot send an empty message")
INVALID_CHANNEL_TYPE = (400, 50024, "Cannot execute action on this channel type")
ARCHIVED_THREAD = (400, 50083, "Operation cannot be performed on an archived thread")
THREAD_ALREADY_CREATED = (400, 160004, "A thread has already been created for this message")


def fail(err: tuple[int, int, str]) -> ApiError:
    return ApiError(*err)
