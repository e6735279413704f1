"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "vigil.db")
    yield opened
    await opened.close()


from tests.emulator.fixtures import bot_factory, emulator, floor_bot  # noqa: E402, F401
