"""What Vigil keeps of a reported message: text cleaned and bounded, attachments as metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from core.evidence import MAX_EVIDENCE_TEXT, capture_evidence, decode_types, encode_types

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def test_text_is_cleaned_and_bounded() -> None:
    ev = capture_evidence(
        author_id=1, sent_at=WHEN, edited=False, text="a\x00b\u202e" + "x" * 5000, content_types=[]
    )
    assert ev.text.startswith("ab") and "\x00" not in ev.text and "\u202e" not in ev.text
    assert len(ev.text) == MAX_EVIDENCE_TEXT
    assert ev.attachments == 0 and ev.types == ()


def test_a_content_type_never_carries_a_file_name() -> None:
    forged = ["image/png", "image/png; name=secret-photo.png", "secret-photo.png", None, 7]
    ev = capture_evidence(author_id=1, sent_at=WHEN, edited=True, text=None, content_types=forged)
    assert ev.attachments == 5
    assert ev.types == ("image/png", "image/png", "unknown", "unknown", "unknown")
    assert "secret" not in encode_types(ev.types)
    assert decode_types("image/png,secret-photo.png,") == ("image/png", "unknown", "unknown")
