"""The report's path through storage, made cheaper per report (issue 19) without changing what
is stored or returned: `Executor.insert` reads the new id back each backend's cheapest way, a
report joining a case gets the case's count without reading it back on SQLite, and a server's
settings are built once per distinct row. Both backends unless a test says otherwise."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.evidence import MessageEvidence
from core.models import GuildSettings
from core.policy import RateLimit
from core.ports import CaseJoin
from core.service import ReportAccepted, ReportService
from storage.guild_settings import settings_from_row
from tests.helpers import GUILD, START, clock, new_report, scalar, submission, user

CHANNEL = 777


async def configure(store: Any, threshold: int = 3) -> None:
    settings = GuildSettings(GUILD, alert_channel_id=CHANNEL, threshold=threshold)
    await store.write(lambda tx: tx.settings.save(settings, START))


async def open_case(store: Any) -> ReportAccepted:
    """Three reporters about user 99: the case opens (threshold 3)."""
    await configure(store)
    reports = ReportService(store, clock(), RateLimit(max_reports=100))
    outcome: Any = None
    for n in (1, 2, 3):
        outcome = await reports.submit(submission(n))
    assert isinstance(outcome, ReportAccepted) and outcome.case_opened
    return outcome


async def test_insert_takes_a_plain_insert_and_returns_the_new_rows_id(store):
    """No RETURNING in the statement: SQLite reads its last rowid, PostgreSQL adds RETURNING."""

    async def add_two(tx: Any) -> tuple[int, int]:
        sql = (
            "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        first = await tx.reports._db.insert(sql, (GUILD, 1, 2, 3, "2026-03-01"))
        second = await tx.reports._db.insert(sql, (GUILD, 4, 5, 6, "2026-03-02"))
        return first, second

    first, second = await store.write(add_two)
    assert first != second
    assert await scalar(store, "SELECT actor_id FROM erasures WHERE id = ?", (first,)) == 1
    assert await scalar(store, "SELECT actor_id FROM erasures WHERE id = ?", (second,)) == 4


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_insert_that_inserted_nothing_is_refused_not_guessed(store):
    """The last rowid would still name the previous row: an error, never that id."""

    async def add_then_nothing(tx: Any) -> int:
        await tx.reports._db.insert(
            "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (GUILD, 1, 2, 3, "2026-03-01"),
        )
        return int(
            await tx.reports._db.insert(
                "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
                "SELECT guild_id, actor_id, reports, cases, created_at FROM erasures WHERE 0"
            )
        )

    with pytest.raises(RuntimeError, match="expected one inserted row"):
        await store.write(add_then_nothing)


@pytest.mark.parametrize(
    "upsert",
    [
        "INSERT INTO erasures (id, guild_id, actor_id, reports, cases, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET reports = excluded.reports",
        "INSERT OR REPLACE INTO erasures (id, guild_id, actor_id, reports, cases, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
    ],
    ids=["on-conflict", "or-replace"],
)
async def test_an_upsert_is_refused_by_insert_on_both_backends(
    store: Any, database_url: str, upsert: str
) -> None:
    """An upsert that updates changes one row and leaves SQLite's last rowid at the previous
    insert's: insert() refuses any upsert (review of issue 19's lastrowid), on both backends
    alike, before running it."""

    async def upsert_after_an_insert(tx: Any) -> int:
        first = await tx.reports._db.insert(
            "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (GUILD, 1, 2, 3, "2026-03-01"),
        )
        await tx.reports._db.insert(
            "INSERT INTO erasures (guild_id, actor_id, reports, cases, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (GUILD, 1, 2, 3, "2026-03-01"),
        )
        return int(await tx.reports._db.insert(upsert, (first, GUILD, 1, 9, 3, "2026-03-01")))

    if database_url.startswith("postgresql") and "OR REPLACE" in upsert:
        pytest.skip("INSERT OR REPLACE is SQLite's syntax")
    with pytest.raises(ValueError, match="not an upsert"):
        await store.write(upsert_after_an_insert)


async def test_report_context_reads_the_case_kept_count(store):
    opened = await open_case(store)
    assert opened.case_id is not None

    async def context(tx: Any) -> Any:
        return await tx.reports.report_context(
            GUILD, user(4).id, user(99).id, rate_since=START, window_floor=START
        )

    read = await store.read(context)
    assert read.case is not None and read.case.id == opened.case_id
    assert read.case_reporters == 3
    kept = await scalar(store, "SELECT counted_reporters FROM cases WHERE id = ?", (read.case.id,))
    assert read.case_reporters == kept


async def test_a_joining_report_returns_the_count_after_it_read_or_known(store):
    """With the count this transaction read (`reporters_before`) or without it, the report
    joins the case the same way, the count returned is the one stored."""
    opened = await open_case(store)
    case_id = opened.case_id
    assert case_id is not None

    async def join(tx: Any, reporter: int, before: int | None) -> tuple[int, int]:
        result: tuple[int, int] = await tx.reports.add_to_case(
            new_report(reporter, case_id=case_id),
            CaseJoin(
                case_id=case_id,
                target=user(99),
                urgent=False,
                reminder_at=None,
                new_reporter=True,
                reporters_before=before,
            ),
        )
        return result

    _, known = await store.write(lambda tx: join(tx, 4, 3))
    assert known == 4
    _, read_back = await store.write(lambda tx: join(tx, 5, None))
    assert read_back == 5
    assert await scalar(store, "SELECT counted_reporters FROM cases WHERE id = ?", (case_id,)) == 5


async def test_a_joining_report_about_a_case_gone_stores_nothing(store):
    opened = await open_case(store)
    assert opened.case_id is not None
    gone = opened.case_id + 1000
    before = await scalar(store, "SELECT COUNT(*) FROM reports")

    async def join(tx: Any) -> Any:
        return await tx.reports.add_to_case(
            new_report(4),
            CaseJoin(
                case_id=gone,
                target=user(99),
                urgent=False,
                reminder_at=None,
                new_reporter=True,
                reporters_before=3,
            ),
        )

    with pytest.raises(LookupError):
        await store.write(join)
    assert await scalar(store, "SELECT COUNT(*) FROM reports") == before


def test_settings_are_built_once_per_distinct_row():
    row = (CHANNEL, 3, 24, None, None, None, 0, 1, 90, None, "fr", 15)
    first = settings_from_row(GUILD, row)
    assert settings_from_row(GUILD, list(row)) is first
    changed = settings_from_row(GUILD, (CHANNEL, 2, *row[2:]))
    assert changed is not first and changed.threshold == 2 and first.threshold == 3
    assert settings_from_row(GUILD + 1, row).guild_id == GUILD + 1
    assert settings_from_row(GUILD, None) == GuildSettings(GUILD)


async def test_a_reports_read_gives_the_settings_as_stored(store):
    """The report's read carries the settings row as one JSON array (storage/reports.py):
    every field, big IDs and text included, decodes to what `settings.get` reads; a server
    never set up reads as the defaults."""

    async def read(tx: Any) -> Any:
        context = await tx.reports.report_context(
            GUILD, user(4).id, user(99).id, rate_since=START, window_floor=START
        )
        return context.settings, await tx.settings.get(GUILD)

    from_report, from_get = await store.read(read)
    assert from_report == from_get == GuildSettings(GUILD)
    stored = GuildSettings(
        GUILD,
        alert_channel_id=(1 << 63) - 1,
        threshold=7,
        window_hours=720,
        region="de",
        mod_role_id=1234567890123456789,
        audit_channel_id=2234567890123456789,
        min_account_age_days=30,
        reporter_feedback=False,
        retention_days=0,
        admin_channel_id=3234567890123456789,
        locale='pt-BR "quoted" \\ é',
        urgent_reminder_minutes=0,
    )
    await store.write(lambda tx: tx.settings.save(stored, START))
    from_report, from_get = await store.read(read)
    assert from_report == from_get == stored


async def test_a_changed_setting_decides_the_next_report(store):
    """The settings a report is decided with are the stored ones, however often read."""
    await configure(store, threshold=3)
    reports = ReportService(store, clock(), RateLimit(max_reports=100))
    for n in (1, 2):
        outcome = await reports.submit(submission(n))
        assert isinstance(outcome, ReportAccepted) and not outcome.case_opened
        assert outcome.threshold == 3
    await configure(store, threshold=2)
    outcome = await reports.submit(submission(3))
    assert isinstance(outcome, ReportAccepted)
    assert outcome.threshold == 2 and outcome.case_opened


async def test_a_report_with_or_without_kept_text_reads_back_whole(store):
    """Without evidence the INSERT leaves the six evidence columns out (NULL); with it, it
    binds them: either way the row reads back as it was given."""
    evidence = MessageEvidence(
        author_id=user(99).id,
        sent_at=START,
        edited=True,
        text="pay or else",
        attachments=2,
        types=("image/png",),
    )
    plain = new_report(1, details="d", not_counted_reason="muted")
    kept = replace(plain, reporter=user(2), evidence=evidence, message_link="https://x/1")

    async def add(tx: Any) -> tuple[Any, Any]:
        first = await tx.reports.get(await tx.reports.add(plain))
        second = await tx.reports.get(await tx.reports.add(kept))
        return first, second

    first, second = await store.write(add)
    assert first.evidence is None and second.evidence == evidence
    for report, row in ((plain, first), (kept, second)):
        assert (row.reporter_id, row.details, row.message_link, row.not_counted_reason) == (
            report.reporter.id,
            report.details,
            report.message_link,
            report.not_counted_reason,
        )
        assert row.case_id is None and row.created_at == START


async def test_a_sqlite_without_json_functions_is_refused_at_open_saying_why(tmp_path):
    """The report's read needs json_array: a SQLite built without it would fail every report,
    so opening the store fails instead, naming the fix."""
    import sqlite3

    import aiosqlite

    from storage.sqlite import SqliteTooOld, require_json_functions

    class NoJson:
        async def execute(self, sql: str) -> None:
            raise sqlite3.OperationalError("no such function: json_array")

    with pytest.raises(SqliteTooOld, match=r"3\.38 or later"):
        await require_json_functions(NoJson())  # type: ignore[arg-type]
    async with aiosqlite.connect(tmp_path / "ok.db") as conn:
        await require_json_functions(conn)  # this machine's SQLite has them
