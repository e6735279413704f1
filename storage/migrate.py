"""Apply the numbered SQL files in storage/migrations/ that a database has not seen yet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import aiosqlite

_NAME = re.compile(r"^(?P<number>\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str


def _scan(package: str) -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match["number"]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.number)
    return found


def available_migrations(dialect: str = "sqlite") -> list[Migration]:
    """SQLite's files live in storage/migrations/; PostgreSQL's, with the same numbers and
    names, in storage/migrations/postgresql/ (its DDL differs: BIGINT snowflakes, identities)."""
    found = _scan("storage.migrations")
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    if dialect == "sqlite":
        return found
    if dialect != "postgresql":
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    dialect_found = _scan("storage.migrations.postgresql")
    if [m.name for m in dialect_found] != [m.name for m in found]:
        missing = sorted({m.name for m in found} ^ {m.name for m in dialect_found})
        raise RuntimeError(
            "storage/migrations/postgresql/ must hold a PostgreSQL version of every migration, "
            f"with the same file name; mismatched: {missing}"
        )
    return dialect_found


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Vigil than this one.

    Serving it anyway would write rows the way an older schema wants them while newer code
    relies on more (a case's kept reporter count, say): a rolling upgrade would leave the old
    processes quietly wrong. So an older process refuses to start and says why."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the database's schema is at version {found}, newer than this Vigil's ({known}): "
            "a newer Vigil has upgraded it; run that version (going back needs a backup taken "
            "before the upgrade)"
        )
        self.found = found
        self.known = known


def refuse_newer(found: int, migrations: list[Migration]) -> None:
    """Raise SchemaTooNew when `found` is beyond every migration this code has."""
    known = migrations[-1].number if migrations else 0
    if found > known:
        raise SchemaTooNew(found, known)


async def current_version(conn: aiosqlite.Connection) -> int:
    await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema up to date, one transaction per migration. Returns the new version.

    Foreign keys are off while migrations run (SQLite ignores the pragma inside a
    transaction), so a migration can rebuild a referenced table the way SQLite documents it;
    each migration commits only if `PRAGMA foreign_key_check` then finds nothing broken.
    """
    version = await current_version(conn)
    migrations = available_migrations()
    refuse_newer(version, migrations)
    async with conn.execute("PRAGMA foreign_keys") as cur:
        row = await cur.fetchone()
    enforced = bool(row and row[0])
    await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for migration in migrations:
            if migration.number <= version:
                continue
            await conn.executescript("BEGIN IMMEDIATE;\n" + migration.sql)
            async with conn.execute("PRAGMA foreign_key_check") as cur:
                broken = list(await cur.fetchall())
            if broken:
                await conn.rollback()
                raise RuntimeError(
                    f"migration {migration.name} would break foreign keys: {broken[:5]}"
                )
            await conn.execute(
                "INSERT INTO schema_version (version) VALUES (?)", (migration.number,)
            )
            await conn.commit()
            version = migration.number
    finally:
        if enforced:
            await conn.execute("PRAGMA foreign_keys = ON")
    return version
