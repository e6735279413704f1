"""Delivery problems are codes in the database: the English sentences earlier versions used
as notice keys are removed by migration 0006, codes and other servers' rows stay."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from storage.sqlite import SqliteStore
from tests.helpers import GUILD

OLD = [
    "the alert message was deleted",
    "Vigil is missing a permission in the alert channel (View Channel, Send Messages, Embed Links)",
    "the alert channel no longer exists",
    "rate limited by Discord",
    "Discord answered 503",
    "network error (ClientOSError)",
]
CODES = ["missing_permission", "http:503", "network:ClientOSError"]


async def test_old_sentences_leave_the_notice_table_codes_stay(tmp_path: Path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    package = resources.files("storage.migrations")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    names = sorted(p.name for p in package.iterdir() if p.name.endswith(".sql") and p.name < "0006")
    for name in names:
        conn.executescript(package.joinpath(name).read_text("utf-8"))
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (int(name[:4]),))
    for problem in OLD + CODES:
        conn.execute(
            "INSERT INTO delivery_notices (guild_id, problem, sent_at) VALUES (?, ?, '2026-01-01')",
            (GUILD, problem),
        )
    conn.commit()
    conn.close()

    store = await SqliteStore.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    left = sorted(r[0] for r in conn.execute("SELECT problem FROM delivery_notices"))
    conn.close()
    assert left == sorted(CODES)
