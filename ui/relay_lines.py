"""The relay's lines in one place (t15-followup): a question to a reporter, their answer,
details they added, their "stop messages". The case's thread (ui/relay_view.py) and the record
of `/reports case` (ui/alert_view.py) word them here; the dashboard words them from the same
keys (dashboard/words.py, kept equal by tests/dashboard/test_dashboard_units.py).

A reporter is only ever "Reporter 2", numbered as the alert lists them; `who` is the moderator
who asked, as the reader's view shows a moderator (a mention that never pings, a name).
"""

from __future__ import annotations

from core.i18n import tr
from core.models import DeliveryState, RelayKind

RELAY_KEYS: dict[RelayKind, str] = {
    RelayKind.QUESTION: "feed.question",
    RelayKind.ANSWER: "feed.answer",
    RelayKind.DETAILS: "feed.details",
    RelayKind.STOPPED: "feed.stopped",
}
UNDELIVERED_KEYS: dict[DeliveryState, str] = {
    DeliveryState.DMS_CLOSED: "feed.question_dms_closed",
    DeliveryState.FAILED: "feed.question_failed",
}
"""A question that did not reach the reporter says so in its own line."""


def relay_key(kind: RelayKind, delivery: DeliveryState | None) -> str:
    if kind is RelayKind.QUESTION and delivery in UNDELIVERED_KEYS:
        return UNDELIVERED_KEYS[delivery]
    return RELAY_KEYS[kind]


def relay_line(
    kind: RelayKind,
    reporter: int | None,
    who: str,
    delivery: DeliveryState | None,
    locale: str | None,
) -> str:
    """Vigil's line for one relay message (the user text goes apart, neutralised)."""
    return tr(relay_key(kind, delivery), locale, who=who, reporter=reporter)
