"""What discord.py logs at DEBUG loses its tokens and payloads (core/settings RedactingFilter)."""

from __future__ import annotations

import logging

from core.settings import RedactingFilter

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6"


def render(name: str, msg: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, None)
    RedactingFilter(["bot-token"]).filter(record)
    return record.getMessage()


def test_gateway_events_keep_their_name_but_not_their_data():
    payload = {
        "op": 0,
        "t": "INTERACTION_CREATE",
        "s": 7,
        "d": {"token": TOKEN, "member": {"user": {"id": "42"}}, "data": {"value": "my story"}},
    }
    text = render("discord.gateway", "For Shard ID %s: WebSocket Event: %s", 0, payload)
    assert "INTERACTION_CREATE" in text and "s: 7" in text
    assert TOKEN not in text and "my story" not in text and "42" not in text


def test_http_bodies_are_withheld_and_tokens_cut_from_urls():
    url = f"https://discord.com/api/v10/interactions/123/{TOKEN}/callback"
    body = '{"type": 4, "data": {"content": "my story"}}'
    text = render("discord.http", "%s %s with %s has returned %s", "POST", url, body, 204)
    assert TOKEN not in text and "my story" not in text
    assert "/interactions/123/[redacted]/callback" in text and "204" in text
    hook = f"https://discord.com/api/v10/webhooks/99/{TOKEN}/messages/@original"
    assert TOKEN not in render("discord.webhook.async_", "%s %s", "PATCH", hook)


def test_tokens_in_any_logger_and_postgres_row_details_are_redacted():
    text = render("vigil", "payload {'token': '" + TOKEN + "'} and the bot-token")
    assert TOKEN not in text and "bot-token" not in text
    failing = render("ui.app", "DETAIL:  Failing row contains (1, 2, my story).")
    assert "my story" not in failing
