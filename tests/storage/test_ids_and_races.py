"""Never-reused case IDs and numbers, and moderator/reporter races, on both backends.

A button or an open confirmation names a case by ID (and shows its number): if a deleted
case's ID or number came back for another member's case, an old button would act on the new
one. The races run with real concurrency: `asyncio.gather` of many service calls through one
store, which on PostgreSQL is a pool of several connections (what several moderators, or
several processes, are to the database).
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from core.models import CaseAction, CaseStatus, GuildSettings
from core.policy import RateLimit, Refusal, RefusalCode
from core.reasons import Reason
from core.retention import RetentionService
from core.service import CaseActionRefused, CaseService, ReportAccepted, ReportService
from storage.sqlite import SqliteStore
from tests.helpers import GUILD, clock, count_rows, submission, user


async def _configure(store: Any, threshold: int = 1) -> None:
    settings = GuildSettings(guild_id=GUILD, alert_channel_id=777, threshold=threshold)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))


async def _open_case(reports: ReportService, target: int, reporter: int = 1) -> ReportAccepted:
    outcome = await reports.submit(submission(reporter, target, Reason.CHILD_SAFETY))
    assert isinstance(outcome, ReportAccepted) and outcome.case_opened, outcome
    return outcome


async def test_erasure_never_recycles_a_case_id_or_number(store: Any):
    await _configure(store)
    c = clock()
    reports = ReportService(store, c, RateLimit(max_reports=100))
    first = await _open_case(reports, target=50)
    second = await _open_case(reports, target=51)
    # The newest case goes (the one SQLite would hand out again), then a new one is opened.
    erased = await RetentionService(store, c).forget(GUILD, user(51).id, actor_id=5)
    assert erased.counts.cases == 1
    third = await _open_case(reports, target=52)
    assert third.case_id is not None and second.case_id is not None
    assert first.case_id is not None and third.case_id > second.case_id > first.case_id
    assert third.case_number == 3, "a case number was handed out twice"


async def test_retention_purge_never_recycles_a_case_id_or_number(store: Any):
    await _configure(store)
    c = clock()
    reports = ReportService(store, c, RateLimit(max_reports=100))
    cases = CaseService(store, c)
    opened = await _open_case(reports, target=60)
    assert opened.case_id is not None
    await cases.act(GUILD, opened.case_id, CaseAction.RESOLVE, actor_id=5)
    c.advance(timedelta(days=400))  # past the default 180 days
    purged = await RetentionService(store, c).sweep()
    assert purged.cases == 1
    assert await store.read(lambda tx: tx.cases.get(opened.case_id)) is None
    again = await _open_case(reports, target=61)
    assert again.case_id is not None and again.case_id > opened.case_id
    assert again.case_number is not None and opened.case_number is not None
    assert again.case_number > opened.case_number


async def test_concurrent_openings_get_distinct_consecutive_numbers(store: Any):
    await _configure(store)
    reports = ReportService(store, clock(), RateLimit(max_reports=100))
    outcomes = await asyncio.gather(
        *(reports.submit(submission(1, 200 + n, Reason.CHILD_SAFETY)) for n in range(12))
    )
    numbers = sorted(o.case_number for o in outcomes if isinstance(o, ReportAccepted))
    assert numbers == list(range(1, 13))


async def test_rate_limit_holds_for_simultaneous_reports_about_different_targets(store: Any):
    """20 reports by one member about 20 members at once: exactly the limit is stored."""
    await _configure(store, threshold=3)
    limit = RateLimit()
    reports = ReportService(store, clock(), limit)
    outcomes = await asyncio.gather(*(reports.submit(submission(7, 300 + n)) for n in range(20)))
    accepted = [o for o in outcomes if isinstance(o, ReportAccepted)]
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(accepted) == limit.max_reports
    assert {r.code for r in refused} == {RefusalCode.RATE_LIMITED}
    stored = await count_rows(store, "reports", GUILD)
    assert stored == limit.max_reports


async def test_concurrent_dismiss_and_acknowledge_never_reopen_a_case(store: Any):
    """Two moderators press Dismiss and Acknowledge at once, on many cases at once."""
    await _configure(store)
    c = clock()
    reports = ReportService(store, c, RateLimit(max_reports=1000))
    cases = CaseService(store, c)
    case_ids = []
    for n in range(30):
        opened = await _open_case(reports, target=400 + n)
        assert opened.case_id is not None
        case_ids.append(opened.case_id)

    async def press(case_id: int, action: CaseAction) -> str:
        detail = "not_violation" if action is CaseAction.DISMISS else None
        try:
            await cases.act(GUILD, case_id, action, actor_id=5, detail=detail)
        except CaseActionRefused:
            return "refused"
        return "applied"

    results = await asyncio.gather(
        *(
            press(case_id, action)
            for case_id in case_ids
            for action in (CaseAction.ACKNOWLEDGE, CaseAction.DISMISS)
        )
    )
    for i, case_id in enumerate(case_ids):
        acked, dismissed = results[2 * i], results[2 * i + 1]
        case = await store.read(lambda tx, case_id=case_id: tx.cases.get(case_id))
        events = await store.read(lambda tx, case_id=case_id: tx.cases.events(case_id))
        assert case is not None and case.status is CaseStatus.DISMISSED, (case_id, results)
        assert dismissed == "applied"
        actions = [e.action for e in events]
        if acked == "applied":  # only possible before the dismissal
            assert actions == [CaseAction.ACKNOWLEDGE, CaseAction.DISMISS], actions
        else:
            assert actions == [CaseAction.DISMISS], actions


async def test_enforcement_after_a_dismissal_is_recorded_without_reopening(store: Any):
    """A ban confirmed while another moderator dismissed the case: Discord banned the member,
    so the history says so; the case stays dismissed."""
    await _configure(store)
    c = clock()
    reports = ReportService(store, c, RateLimit(max_reports=100))
    cases = CaseService(store, c)
    opened = await _open_case(reports, target=70)
    assert opened.case_id is not None
    await cases.act(GUILD, opened.case_id, CaseAction.DISMISS, actor_id=6, detail="duplicate")
    recorded = await cases.record_enforcement(GUILD, opened.case_id, CaseAction.BAN, 5, "0")
    assert recorded is not None and not recorded.status_moved
    assert recorded.case.status is CaseStatus.DISMISSED
    events = await store.read(lambda tx: tx.cases.events(opened.case_id))
    assert [(e.action, e.actor_id) for e in events] == [
        (CaseAction.DISMISS, 6),
        (CaseAction.BAN, 5),
    ]
    # The usual path still moves the status.
    other = await _open_case(reports, target=71)
    assert other.case_id is not None
    moved = await cases.record_enforcement(GUILD, other.case_id, CaseAction.KICK, 5, "0")
    assert moved is not None and moved.status_moved
    assert moved.case.status is CaseStatus.RESOLVED
    # Erased meanwhile: nothing to record in, and no other guild's case is touched.
    assert await cases.record_enforcement(GUILD, 10**15, CaseAction.KICK, 5, "0") is None


async def test_sqlite_migration_rebuilds_cases_keeping_rows_keys_and_indexes(tmp_path: Path):
    """A database made by the previous release: cases, reports, events and feedback survive
    the rebuild, foreign keys still hold, and numbering continues after the highest number."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    package = resources.files("storage.migrations")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for n, name in enumerate(
        ["0001_initial.sql", "0002_moderation.sql", "0003_retention.sql"], start=1
    ):
        conn.executescript(package.joinpath(name).read_text("utf-8"))
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (n,))
    conn.execute(
        "INSERT INTO cases (id, guild_id, number, target_id, target_name, target_is_member, "
        "status, opened_at, dismiss_reason) VALUES "
        "(7, ?, 4, 1, 'a', 1, 'open', '2026-01-01', NULL), "
        "(9, ?, 6, 2, 'b', 1, 'dismissed', '2026-01-02', 'malicious')",
        (GUILD, GUILD),
    )
    conn.execute(
        "INSERT INTO reports (guild_id, reporter_id, reporter_name, target_id, target_name, "
        "reason, source, created_at, case_id) VALUES (?, 3, 'r', 1, 'a', 'spam', 'slash', "
        "'2026-01-01', 7)",
        (GUILD,),
    )
    conn.execute(
        "INSERT INTO case_events (case_id, actor_id, action, created_at) "
        "VALUES (9, 5, 'dismiss', '2026-01-02')"
    )
    conn.execute(
        "INSERT INTO reporter_feedback (case_id, reporter_id, state, updated_at) "
        "VALUES (7, 3, 'pending', '2026-01-02')"
    )
    conn.commit()
    conn.close()

    store = await SqliteStore.open(path)
    try:
        raw = store._conn
        async with raw.execute("SELECT sql FROM sqlite_master WHERE name = 'cases'") as cur:
            row = await cur.fetchone()
        assert row is not None and "AUTOINCREMENT" in row[0]
        async with raw.execute("PRAGMA foreign_key_check") as cur:
            assert list(await cur.fetchall()) == []
        async with raw.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 1
        async with raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' "
            "AND name NOT LIKE 'sqlite_%'"
        ) as cur:
            indexes = {r[0] for r in await cur.fetchall()}
        assert indexes >= {  # later migrations may add more
            "ux_cases_active_target",
            "ix_cases_alert_pending",
            "ix_cases_target",
            "ix_cases_dismissed",
            "ix_cases_closed",
        }
        old = await store.read(lambda tx: tx.cases.get(9))
        assert old is not None and old.dismiss_reason is not None and old.number == 6
        assert len(await store.read(lambda tx: tx.reports.for_case(7))) == 1
        await _configure(store)
        opened = await _open_case(ReportService(store, clock()), target=80)
        assert opened.case_number == 7 and opened.case_id == 10
    finally:
        await store.close()
