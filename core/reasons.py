"""Report reasons: the public contract of the `reason` option and what each one implies."""

from __future__ import annotations

from core.i18n import DEFAULT_LANGUAGE, tr
from core.outcomes import Vocabulary


class Reason(Vocabulary):
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
        """The English label (moderator-facing text that has not been localised yet)."""
        return tr(REASON_LABEL_KEYS[self], DEFAULT_LANGUAGE)

    def label_in(self, locale: str | None) -> str:
        """The label in the reader's language (a Discord locale code; English if unknown)."""
        return tr(REASON_LABEL_KEYS[self], locale)

    @property
    def is_critical(self) -> bool:
        """Critical reasons open a case on the first report: waiting could cost a life."""
        return self in CRITICAL_REASONS


REASON_LABEL_KEYS: dict[Reason, str] = {
    Reason.CHILD_SAFETY: "reason.child_safety",
    Reason.SELF_HARM: "reason.self_harm",
    Reason.VIOLENT_THREAT: "reason.violent_threat",
    Reason.HARASSMENT: "reason.harassment",
    Reason.HATE: "reason.hate",
    Reason.SEXUAL_CONTENT: "reason.sexual_content",
    Reason.SCAM: "reason.scam",
    Reason.SPAM: "reason.spam",
    Reason.IMPERSONATION: "reason.impersonation",
    Reason.OTHER: "reason.other",
}
"""Catalogue keys of the plain-language labels (texts in ``core/locales/``)."""

CRITICAL_REASONS: frozenset[Reason] = frozenset(
    {Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT}
)
