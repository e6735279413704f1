"""The same note or escalation sent twice (two dashboard tabs, a double click) is recorded
once, on both backends and across processes; a different text, another moderator, or the same
text after TWIN_WINDOW is a new entry (dashboard review of stop 30, finding 1)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core.models import CaseAction
from core.service import TWIN_WINDOW, CaseService
from storage import open_store
from tests.core.test_welfare import _self_harm_case
from tests.helpers import GUILD, clock

MAYA, MILO = 501, 502


async def _entries(store: Any, case_id: int) -> list[tuple[int, str, str | None, str | None]]:
    events = await store.read(lambda tx: tx.cases.events(case_id))
    return [(e.actor_id, e.action.value, e.note, e.detail) for e in events]


async def test_a_note_or_escalation_sent_twice_at_once_is_recorded_once(
    store: Any, database_url: str
) -> None:
    case_id = await _self_harm_case(store)
    other = await open_store(database_url) if "postgresql" in database_url else store
    try:
        here, there = CaseService(store, clock()), CaseService(other, clock())
        await asyncio.gather(
            *(
                service.act(GUILD, case_id, CaseAction.NOTE, MAYA, note="called her mum")
                for service in (here, there, here)
            ),
            *(
                service.act(
                    GUILD, case_id, CaseAction.ESCALATE, MAYA, detail="police", note="ref-1"
                )
                for service in (there, here)
            ),
        )
    finally:
        if other is not store:
            await other.close()
    entries = await _entries(store, case_id)
    assert sorted(entries, key=str) == sorted(
        [(MAYA, "note", "called her mum", None), (MAYA, "escalate", "ref-1", "police")], key=str
    )


async def test_another_text_another_moderator_or_later_is_a_new_entry(store: Any) -> None:
    case_id = await _self_harm_case(store)
    c = clock()
    cases = CaseService(store, c)
    await cases.act(GUILD, case_id, CaseAction.NOTE, MAYA, note="called her mum")
    await cases.act(GUILD, case_id, CaseAction.NOTE, MAYA, note="called her dad")
    await cases.act(GUILD, case_id, CaseAction.NOTE, MILO, note="called her mum")
    c.advance(TWIN_WINDOW + timedelta(seconds=1))
    await cases.act(GUILD, case_id, CaseAction.NOTE, MAYA, note="called her mum")
    assert len(await _entries(store, case_id)) == 4
