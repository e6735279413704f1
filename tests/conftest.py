"""Fixtures shared by the whole suite.

`store` and `database_url` are parametrised over both backends: every test using them runs on
SQLite (a temporary file) and on PostgreSQL (a throwaway database created for the session and
dropped after it, emptied before each test). tests/postgres.py finds the server or skips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import open_store
from tests import postgres

BACKENDS = ["sqlite", "postgresql"]
_PG_FIXTURES = {"postgres_database", "postgres_available"}


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgresql":
        return True
    return bool(_PG_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a server, the PostgreSQL leg is left out as a whole, reported on one line."""
    wanted = [item for item in items if _needs_postgres(item)]
    if not wanted or postgres.server_available():
        return
    config.stash[_PG_SKIPPED] = len(wanted)
    config.hook.pytest_deselected(items=wanted)
    items[:] = [item for item in items if not _needs_postgres(item)]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    skipped = config.stash.get(_PG_SKIPPED, 0)
    if skipped:
        terminalreporter.write_line(f"{postgres.SKIP_REASON} ({skipped} tests)", yellow=True)


_PG_SKIPPED = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return postgres.server_available()


@pytest.fixture(scope="session")
def postgres_database(postgres_available: bool) -> Iterator[str]:
    """The session's throwaway PostgreSQL database (migrated), dropped at the end."""
    postgres.skip_without_postgres(postgres_available)
    url = postgres.run_sync(postgres.create_database())
    try:

        async def migrate() -> None:
            from storage.postgres import PostgresStore

            await (await PostgresStore.open(url, max_size=1)).close()

        postgres.run_sync(migrate())
        yield url
    finally:
        postgres.run_sync(postgres.drop_database(url))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """This test's DATABASE_URL: a new SQLite file, or the session's PG database, emptied."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    url: str = request.getfixturevalue("postgres_database")
    postgres.run_sync(postgres.empty_tables(url))
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Any]:
    opened = await open_store(database_url)
    yield opened
    await opened.close()


from tests.emulator.fixtures import bot_factory, emulator, floor_bot  # noqa: E402, F401
