"""`python bot.py migrate-to postgresql://...`: SQLite -> PostgreSQL, counts verified."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.models import CaseAction, GuildSettings
from core.reasons import Reason
from core.service import CaseService, ReportAccepted, ReportService
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore
from tests import postgres
from tests.dbquery import query
from tests.helpers import GUILD, clock, submission

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def target_url(postgres_available: bool) -> AsyncIterator[str]:
    postgres.skip_without_postgres(postgres_available)
    url = await postgres.create_database("vigil_test_transfer")
    yield url
    await postgres.drop_database(url)


def migrate_to(source: Path, target: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{source}"}
    env.pop("DISCORD_TOKEN", None)  # not needed to copy a database
    return subprocess.run(
        [sys.executable, "bot.py", "migrate-to", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_copies_everything_and_ids_continue(tmp_path: Path, target_url: str):
    source = tmp_path / "vigil.db"
    lite = await SqliteStore.open(source)
    c = clock()
    settings = GuildSettings(GUILD, alert_channel_id=777, threshold=2, region="GB")
    await lite.write(lambda tx: tx.settings.save(settings, c.now()))
    await lite.write(lambda tx: tx.meta.set("command_tree_hash", "abc"))
    reports = ReportService(lite, c)
    outcomes = [await reports.submit(submission(n, target=50 + n % 3)) for n in range(1, 10)]
    case_id = next(o.case_id for o in outcomes if isinstance(o, ReportAccepted) and o.case_id)
    await CaseService(lite, c).act(GUILD, case_id, CaseAction.ACKNOWLEDGE, actor_id=5)
    await lite.close()
    tables = ("meta", "guild_settings", "cases", "reports", "case_events")
    before = {t: query(f"sqlite:///{source}", f"SELECT * FROM {t} ORDER BY 1") for t in tables}

    done = migrate_to(source, target_url)
    assert done.returncode == 0, done.stderr
    assert "reports: 9 rows copied, count verified" in done.stdout
    for table in tables:
        assert query(target_url, f"SELECT * FROM {table} ORDER BY 1") == before[table], table

    pg = await PostgresStore.open(target_url)
    new = await ReportService(pg, c).submit(submission(20, target=99, reason=Reason.SELF_HARM))
    assert isinstance(new, ReportAccepted)
    assert new.report_id == 10 and new.case_number == len(before["cases"]) + 1  # ids continue
    await pg.close()

    again = migrate_to(source, target_url)
    assert again.returncode == 1 and "already has data" in again.stderr


async def test_refuses_a_non_postgres_target(tmp_path: Path):
    await (await SqliteStore.open(tmp_path / "vigil.db")).close()
    done = migrate_to(tmp_path / "vigil.db", "mysql://x/y")
    assert done.returncode == 2 and "postgresql://" in done.stderr


async def test_refuses_a_source_upgraded_by_a_newer_vigil(tmp_path: Path, target_url: str):
    await (await SqliteStore.open(tmp_path / "vigil.db")).close()
    query(f"sqlite:///{tmp_path / 'vigil.db'}", "INSERT INTO schema_version VALUES (999)")
    done = migrate_to(tmp_path / "vigil.db", target_url)
    assert done.returncode == 1 and "newer than this Vigil's" in done.stderr
    assert "Traceback" not in done.stderr
    assert query(target_url, "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'reports'") == [
        (0,)
    ]  # nothing made in the target


async def test_ids_of_deleted_cases_stay_retired_in_postgresql(tmp_path: Path, target_url: str):
    """SQLite's AUTOINCREMENT remembers the newest case was erased; so does the copy."""
    from core.retention import RetentionService
    from tests.helpers import user

    source = tmp_path / "vigil.db"
    lite = await SqliteStore.open(source)
    c = clock()
    settings = GuildSettings(GUILD, alert_channel_id=777, threshold=1)
    await lite.write(lambda tx: tx.settings.save(settings, c.now()))
    reports = ReportService(lite, c)
    opened = [await reports.submit(submission(1, target=60 + n)) for n in range(2)]
    newest = opened[-1]
    assert isinstance(newest, ReportAccepted) and newest.case_id is not None
    await RetentionService(lite, c).forget(GUILD, user(61).id, actor_id=5)
    await lite.close()

    done = migrate_to(source, target_url)
    assert done.returncode == 0, done.stderr
    pg = await PostgresStore.open(target_url)
    again = await ReportService(pg, c).submit(submission(2, target=70))
    await pg.close()
    assert isinstance(again, ReportAccepted) and again.case_id is not None
    assert again.case_id > newest.case_id and again.case_number == 3
