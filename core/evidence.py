"""Evidence: the text of a reported message, kept with the report ("Report message" only).

A member who uses "Report message" hands Vigil the message as Discord resolved it for that
interaction (no privileged intent). Vigil keeps its text, who wrote it, when, whether it was
edited, and how many attachments it had with their content types: never the attachments, their
URLs or their file names. The text is captured when the menu opens (the form is stateless), held
as pending evidence until the form is submitted, and deleted after `PENDING_EVIDENCE_TTL` if the
form never is.

A message in a DM or group DM is held under no server (`DM_EVIDENCE_GUILD`) until the reporter
chooses one, and it is a third person's private message: it is held for `DM_PENDING_EVIDENCE_TTL`
only (purged by the sweep, and refused and dropped when claimed later), and each reporter has at
most `MAX_DM_HOLDS` such texts held at once (holding one more drops their oldest).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.text import strip_control

MAX_EVIDENCE_TEXT = 4000
MAX_EVIDENCE_TYPES = 10
PENDING_EVIDENCE_TTL = timedelta(hours=1)
# Pending evidence of a message in a DM or group DM is held under this "server": the reporter
# chooses the server when submitting the form, and the text is claimed for it (or discarded).
DM_EVIDENCE_GUILD = 0
DM_PENDING_EVIDENCE_TTL = timedelta(minutes=10)
MAX_DM_HOLDS = 5  # per reporter: forms from DMs open at once (each holds one message's text)


def pending_ttl(guild_id: int) -> timedelta:
    """How long held text waits for its form: a DM's (held under no server) only briefly."""
    return DM_PENDING_EVIDENCE_TTL if guild_id == DM_EVIDENCE_GUILD else PENDING_EVIDENCE_TTL


# A content type as Discord reports it ("image/png"); anything else (a forged or odd value that
# could carry a file name) is kept only as "unknown".
_CONTENT_TYPE = re.compile(r"[a-z]{1,20}/[a-z0-9.+-]{1,60}")
UNKNOWN_TYPE = "unknown"


@dataclass(frozen=True, slots=True)
class MessageEvidence:
    """What Vigil keeps of a reported message."""

    author_id: int
    sent_at: datetime
    edited: bool
    text: str  # cleaned of control characters, at most MAX_EVIDENCE_TEXT characters; may be ""
    attachments: int  # how many; the files themselves are never kept
    types: tuple[str, ...]  # their content types ("image/png"), never names or URLs


def clean_content_type(value: object) -> str:
    if isinstance(value, str):
        lowered = value.split(";", 1)[0].strip().lower()
        if _CONTENT_TYPE.fullmatch(lowered):
            return lowered
    return UNKNOWN_TYPE


def capture_evidence(
    *,
    author_id: int,
    sent_at: datetime,
    edited: bool,
    text: str | None,
    content_types: Iterable[object],
) -> MessageEvidence:
    """The evidence to keep of a message: its text cleaned and bounded, attachments counted."""
    types = [clean_content_type(t) for t in content_types]
    cleaned = strip_control(text or "").strip()[:MAX_EVIDENCE_TEXT].rstrip()
    return MessageEvidence(
        author_id=author_id,
        sent_at=sent_at,
        edited=edited,
        text=cleaned,
        attachments=len(types),
        types=tuple(types[:MAX_EVIDENCE_TYPES]),
    )


def encode_types(types: tuple[str, ...]) -> str:
    return ",".join(types)


def decode_types(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(clean_content_type(t) for t in value.split(","))[:MAX_EVIDENCE_TYPES]
