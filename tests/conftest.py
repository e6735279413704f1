"""Fixtures shared by the whole suite.

`store` and `database_url` are parametrised over both backends: every test using them runs on
SQLite (a temporary file) and on PostgreSQL (a throwaway database created for the session and
dropped after it, emptied before each test). tests/postgres.py finds the server or skips.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bytecode import cache_bytecode_outside_the_tree

# Before the product and the test modules are imported, so their bytecode is kept too.
cache_bytecode_outside_the_tree()

from emulator.botproc import share_fork_server  # noqa: E402
from storage import open_store  # noqa: E402
from tests import postgres  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]
_PG_FIXTURES = {"postgres_database", "postgres_available"}


#: Folders whose tests start bots (through the fork server, emulator/botproc.py).
_BOT_FOLDERS = ("e2e", "emulator", "emulator_selftest", "ui")


def _runs_bots(config: pytest.Config) -> bool:
    """Whether this run's paths include a folder whose tests start bots."""
    tests = Path(__file__).resolve().parent
    folders = [tests / name for name in _BOT_FOLDERS]
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if any(path == f or f in path.parents or path in f.parents for f in folders):
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """The pytest-xdist controller starts one fork server for all its workers (they would each
    start one otherwise); it preloads while the workers start and collect."""
    is_controller = not hasattr(config, "workerinput") and config.getoption("numprocesses", 0)
    if is_controller and _runs_bots(config):
        share_fork_server()


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session (per xdist worker), closed and checkpointed.

    Why: migrating a new file costs ~45 ms of CPU, paid by every test that starts a bot on
    SQLite; a copy of this file is the same database without that cost, as the PostgreSQL leg
    migrates its database once and empties it per test. Migrations themselves are tested from
    an empty file in tests/storage (their own paths, not this fixture).
    """
    path = tmp_path_factory.mktemp("sqlite-template") / "vigil.db"

    async def migrate() -> None:
        await (await open_store(f"sqlite:///{path}")).close()

    postgres.run_sync(migrate())
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"the template must be one closed file, found {leftovers}"
    return path


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """This test's DATABASE_URL: a copy of the migrated SQLite template, or the session's
    PostgreSQL database, emptied."""
    if backend == "sqlite":
        path = tmp_path / "vigil.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    postgres.empty(url)
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Any]:
    opened = await open_store(database_url)
    yield opened
    await opened.close()


from tests.emulator.fixtures import bot_factory, emulator, floor_bot  # noqa: E402, F401
