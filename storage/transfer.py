"""`python bot.py migrate-to postgresql://...`: copy an SQLite database into PostgreSQL.

The source is first brought to the current schema (as starting the bot would), the target is
created at the same schema version and must be empty. Every table is copied in id order,
parents before children, in one PostgreSQL transaction; identity sequences are moved past the
copied ids; per-table row counts are compared before the transaction commits. Nothing is
written to the target unless every count matches.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from storage.migrate import SchemaTooNew
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore


class TransferRefused(Exception):
    """The copy was not made; str() says why, for the operator."""


def _tables_in_dependency_order(conn: sqlite3.Connection) -> list[str]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'schema_version' ORDER BY name"
        )
    ]
    parents = {
        name: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise TransferRefused(
                f"circular foreign keys among {sorted(set(names) - set(ordered))}"
            )
        ordered += ready
    return ordered


def _last_issued_id(conn: sqlite3.Connection, table: str) -> int:
    """The highest ID an AUTOINCREMENT table ever issued (0 for other tables)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone():
        return 0
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return int(row[0]) if row else 0


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


async def copy_sqlite_to_postgres(sqlite_file: Path, target_url: str) -> dict[str, int]:
    """Copy every row; returns table -> rows copied. Raises TransferRefused if not done."""
    await (await SqliteStore.open(sqlite_file)).close()  # brought to the current schema
    target = await PostgresStore.open(target_url, max_size=1)
    await target.close()
    source = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    conn = await asyncpg.connect(target_url)
    try:
        tables = _tables_in_dependency_order(source)
        copied: dict[str, int] = {}
        async with conn.transaction():
            for table in tables:
                if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                    raise TransferRefused(
                        f"the target database already has data (table {table}); "
                        "migrate-to only fills an empty database"
                    )
            for table in tables:
                columns = _columns(source, table)
                order = "id" if "id" in columns else ", ".join(f'"{c}"' for c in columns)
                cols = ", ".join(f'"{c}"' for c in columns)
                rows: list[Any] = source.execute(
                    f'SELECT {cols} FROM "{table}" ORDER BY {order}'
                ).fetchall()
                if rows:
                    await conn.copy_records_to_table(table, records=rows, columns=columns)
                if "id" in columns:
                    # Past every ID SQLite ever gave out (AUTOINCREMENT remembers deleted
                    # ones), so no deleted case's ID comes back in PostgreSQL either.
                    issued = _last_issued_id(source, table)
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f'GREATEST(COALESCE((SELECT MAX(id) FROM "{table}"), 0), $1) + 1, false)',
                        issued,
                    )
                expected = source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                actual = await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"')
                if actual != expected or len(rows) != expected:
                    raise TransferRefused(
                        f"table {table}: {expected} rows in SQLite but {actual} copied; "
                        "nothing was written"
                    )
                copied[table] = int(actual)
        return copied
    finally:
        await conn.close()
        source.close()


def migrate_to_command(source_url: str, target_url: str) -> int:
    """The CLI: copies DATABASE_URL (SQLite, default data/vigil.db) into `target_url`."""
    import asyncio
    import sys

    from core.settings import DEFAULT_DATABASE_URL, redact_url
    from storage import UnsupportedDatabaseURL, is_postgres_url, sqlite_path

    source_url = source_url or DEFAULT_DATABASE_URL
    try:
        path = sqlite_path(source_url)
    except UnsupportedDatabaseURL:
        path = None
    if path is None:
        print(
            f"vigil: DATABASE_URL must name an SQLite file to copy from: {source_url}",
            file=sys.stderr,
        )
        return 2
    if not is_postgres_url(target_url):
        print("vigil: migrate-to needs a postgresql://user@host:5432/database URL", file=sys.stderr)
        return 2
    if not path.exists():
        print(f"vigil: migrate-to failed: no SQLite database at {path}", file=sys.stderr)
        return 1
    try:
        copied = asyncio.run(copy_sqlite_to_postgres(path, target_url))
    except (TransferRefused, SchemaTooNew, OSError, asyncpg.PostgresError) as error:
        print(f"vigil: migrate-to failed: {error}", file=sys.stderr)
        return 1
    for table, count in copied.items():
        print(f"{table}: {count} rows copied, count verified")
    print(f"Copied {path} into {redact_url(target_url)}. Set DATABASE_URL to it and restart.")
    return 0
