"""The relay's lines in one place (t15-followup): a question to a reporter, their answer,
details they added, their "stop messages". The case's thread (ui/relay_view.py) and the record
of `/reports case` (ui/alert_view.py) word them here; the dashboard words them from the same
keys (core/case_words.py).

A reporter is only ever "Reporter 2", numbered as the alert lists them; `who` is the moderator
who asked, as the reader's view shows a moderator (a mention that never pings, a name).
"""

from __future__ import annotations

# The keys live in core/case_words.py; named here too, as the views that use them know them.
from core.case_words import (
    RELAY_KEYS as RELAY_KEYS,
    UNDELIVERED_KEYS as UNDELIVERED_KEYS,
    relay_key,
)
from core.i18n import tr
from core.models import DeliveryState, RelayKind


def relay_line(
    kind: RelayKind,
    reporter: int | None,
    who: str,
    delivery: DeliveryState | None,
    locale: str | None,
) -> str:
    """Vigil's line for one relay message (the user text goes apart, neutralised)."""
    return tr(relay_key(kind, delivery), locale, who=who, reporter=reporter)
