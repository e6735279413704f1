"""A database upgraded by a newer Vigil is refused, not served the old way (both backends)."""

from __future__ import annotations

import pytest

from storage import open_store
from storage.migrate import SchemaTooNew, available_migrations
from tests.dbquery import query


def _versions(url: str) -> list[int]:
    return [int(r[0]) for r in query(url, "SELECT version FROM schema_version ORDER BY version")]


async def test_a_schema_newer_than_the_code_is_refused_and_left_alone(database_url: str):
    await (await open_store(database_url)).close()
    known = len(available_migrations())
    newer = known + 1
    await _write_version(database_url, newer)
    try:
        before = _versions(database_url)
        with pytest.raises(SchemaTooNew) as refused:
            await open_store(database_url)
        assert refused.value.found == newer and refused.value.known == known
        assert f"version {newer}" in str(refused.value) and f"({known})" in str(refused.value)
        assert _versions(database_url) == before  # nothing migrated, nothing rewritten
    finally:
        await _delete_version(database_url, newer)
    # The same database at this code's version opens again.
    await (await open_store(database_url)).close()


async def _write_version(url: str, version: int) -> None:
    store = await open_store(url)
    try:
        await store.write(lambda tx: _execute(tx, "INSERT INTO schema_version VALUES (?)", version))
    finally:
        await store.close()


async def _delete_version(url: str, version: int) -> None:
    # Opening would refuse: the row goes through a connection of the test's own.
    query(url, "DELETE FROM schema_version WHERE version = ? RETURNING version", (version,))


async def _execute(tx: object, sql: str, version: int) -> None:
    await tx.reports._db.execute(sql, (version,))  # type: ignore[attr-defined]
