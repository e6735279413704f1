"""t18-sec: exporting a case records what the packet reveals before it can leave, and case
numbers past what the database holds name no case (both backends)."""

from __future__ import annotations

from typing import Any

import pytest

from core.evidence import capture_evidence
from core.models import CaseAction, ReportSource
from core.ports import NewReport
from core.reasons import Reason
from core.service import MAX_CASE_NUMBER, CaseService, OwnCaseRefused
from storage.codec import to_db
from tests.helpers import GUILD, OTHER_GUILD, START, clock, user

REPORTER, TARGET, MODERATOR = user(1), user(2), user(3)


async def open_case(store: Any, *, kept_text: bool, urgent: bool = False) -> int:
    async def write(tx: Any) -> int:
        case = await tx.cases.open(GUILD, TARGET, urgent, START)
        evidence = (
            capture_evidence(
                author_id=TARGET.id, sent_at=START, edited=False, text="kept", content_types=[]
            )
            if kept_text
            else None
        )
        await tx.reports.add(
            NewReport(
                guild_id=GUILD,
                reporter=REPORTER,
                target=TARGET,
                reason=Reason.VIOLENT_THREAT,
                source=ReportSource.MESSAGE_MENU,
                created_at=START,
                details=None,
                message_link=None,
                channel_id=None,
                message_id=None,
                case_id=case.id,
                evidence=evidence,
            )
        )
        return int(case.id)

    return int(await store.write(write))


async def events(store: Any, case_id: int) -> list[tuple[CaseAction, int]]:
    found = await store.read(lambda tx: tx.cases.events(case_id))
    return [(e.action, e.actor_id) for e in found]


async def test_an_export_with_kept_text_is_recorded_in_the_same_read(store):
    changes: list[int] = []
    cases = CaseService(store, clock(), on_alert_change=lambda: changes.append(1))
    case_id = await open_case(store, kept_text=True, urgent=True)
    due = to_db(START)  # an urgent reminder is due (set when the alert was posted)
    await store.write(
        lambda tx: tx.cases._db.execute("UPDATE cases SET next_reminder_at = ?", (due,))
    )
    data = await cases.export_case(GUILD, case_id, MODERATOR.id)
    # The data the file is built from already holds its own record.
    assert [(e.action, e.actor_id) for e in data.events] == [(CaseAction.EXPORTED, MODERATOR.id)]
    assert data.reports[0].evidence is not None and data.reports[0].evidence.text == "kept"
    assert changes == []  # nothing on the alert changes
    case = await store.read(lambda tx: tx.cases.get(case_id))
    assert case.next_reminder_at is not None  # an export is not handling the case
    note = "Exported the escalation packet with reporter identities."
    data = await cases.export_case(GUILD, case_id, MODERATOR.id, reporters_note=note)
    assert [e.action for e in data.events][-2:] == [CaseAction.NOTE, CaseAction.EXPORTED]
    assert data.events[-2].note == note and changes == [1]


async def test_an_export_without_kept_text_records_nothing(store):
    cases = CaseService(store, clock())
    case_id = await open_case(store, kept_text=False)
    data = await cases.export_case(GUILD, case_id, MODERATOR.id)
    assert data.events == () and await events(store, case_id) == []


async def test_the_target_and_another_server_export_nothing(store):
    cases = CaseService(store, clock())
    case_id = await open_case(store, kept_text=True)
    with pytest.raises(OwnCaseRefused):
        await cases.export_case(GUILD, case_id, TARGET.id, reporters_note="n")
    with pytest.raises(Exception, match="no_case"):
        await cases.export_case(OTHER_GUILD, case_id, MODERATOR.id)
    assert await events(store, case_id) == []


@pytest.mark.parametrize(
    "number", [0, -1, MAX_CASE_NUMBER + 1, 9_999_999_999, 2**63 - 1, 2**63, 10**30]
)
async def test_case_numbers_past_the_database_name_no_case(store, number):
    cases = CaseService(store, clock())
    await open_case(store, kept_text=False)
    assert await cases.by_number(GUILD, number) is None
    assert (await cases.by_number(GUILD, 1)) is not None
    assert await cases.by_number(GUILD, MAX_CASE_NUMBER) is None
