"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.postgres import PostgresStore
from tests import postgres


@pytest.fixture
async def two_processes(postgres_database: str) -> AsyncIterator[tuple[PostgresStore, ...]]:
    """Two stores (two pools: what two bot processes are to the database), emptied tables."""
    postgres.empty(postgres_database)
    stores = (
        await PostgresStore.open(postgres_database),
        await PostgresStore.open(postgres_database),
    )
    yield stores
    for s in stores:
        await s.close()
