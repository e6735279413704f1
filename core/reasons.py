"""Report reasons: the public contract of the `reason` option and what each one implies."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a member reports someone. The values are a public contract (slash-command choices)."""

    CHILD_SAFETY = "child_safety"
    SELF_HARM = "self_harm"
    VIOLENT_THREAT = "violent_threat"
    HARASSMENT = "harassment"
    HATE = "hate"
    SEXUAL_CONTENT = "sexual_content"
    SCAM = "scam"
    SPAM = "spam"
    IMPERSONATION = "impersonation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]

    @property
    def is_critical(self) -> bool:
        """Critical reasons open a case on the first report: waiting could cost a life."""
        return self in CRITICAL_REASONS


REASON_LABELS: dict[Reason, str] = {
    Reason.CHILD_SAFETY: "Child safety (sexual content involving a minor, grooming)",
    Reason.SELF_HARM: "Self-harm or suicide risk",
    Reason.VIOLENT_THREAT: "Threat of violence",
    Reason.HARASSMENT: "Harassment or bullying",
    Reason.HATE: "Hate speech",
    Reason.SEXUAL_CONTENT: "Unwanted sexual content",
    Reason.SCAM: "Scam, phishing or fraud",
    Reason.SPAM: "Spam",
    Reason.IMPERSONATION: "Impersonation",
    Reason.OTHER: "Something else",
}

CRITICAL_REASONS: frozenset[Reason] = frozenset(
    {Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT}
)
