"""Pytest fixtures: ``emulator`` (fails the test on spec violations) and bot runners.

Import from ``tests/conftest.py`` with ``from tests.emulator.fixtures import *``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from emulator.botproc import FLOOR_BOT, BotProcess
from emulator.server import Emulator

__all__ = ["bot_factory", "emulator", "floor_bot"]

#: Settings every test's bot starts with (FOR TESTS ONLY settings: core/settings.py).
TEST_BOT_ENV = {"ALERT_EDIT_INTERVAL_SECONDS": "0.2"}


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A started emulator with the default world; the test fails if the bot broke the spec."""
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    if emu.violations:
        lines = "\n  ".join(str(v) for v in emu.violations)
        pytest.fail(f"{len(emu.violations)} Discord API spec violation(s):\n  {lines}")


@pytest_asyncio.fixture
async def bot_factory(
    emulator: Emulator, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """``await bot_factory(script=None, **kw)`` starts a BotProcess and waits for READY.

    Processes are killed at teardown. ``script`` defaults to the repo's ``bot.py``. Each is a
    new process forked from a server that has discord.py & co. imported (forkserver.py), so a
    test does not pay the import; ``VIGIL_TEST_FORKSERVER=0`` exec's plain subprocesses.
    """
    procs: list[BotProcess] = []

    async def start(
        script: str | Path | None = None, *, ready_timeout: float = 15.0, **kw: object
    ) -> BotProcess:
        kw.setdefault("db_path", tmp_path / f"vigil-{len(procs)}.sqlite3")
        kw.setdefault("log_path", tmp_path / f"bot-{len(procs)}.log")
        kw.setdefault("forked", True)  # a fresh process, forked with discord.py preloaded
        # An alert is edited at most every 0.2 s instead of every second (the coalescing
        # itself is tested in tests/core/test_outbox.py): most scenarios act on an alert and
        # then wait for its edit. A test's own env wins.
        own_env = kw.get("env") or {}
        assert isinstance(own_env, dict)
        kw["env"] = {**TEST_BOT_ENV, **own_env}
        proc = BotProcess(emulator, script, **kw)  # type: ignore[arg-type]
        procs.append(proc)
        await proc.start()
        await proc.wait_ready(ready_timeout)
        return proc

    yield start
    # The test is over and nothing is asserted about how these bots end (the tests of a
    # graceful shutdown stop their bot themselves), so they are killed rather than asked to
    # shut down: a graceful shutdown costs a bot about a tenth of its CPU and waits for work
    # in flight. A kill is also a crash the product must survive at any moment.
    for p in procs:
        p.kill()
    for p in procs:
        if p.proc is not None:  # None: its start failed
            await p.wait()


@pytest_asyncio.fixture
async def floor_bot(bot_factory: Callable[..., Awaitable[BotProcess]]) -> BotProcess:
    """The minimal floor bot, connected and synced."""
    return await bot_factory(FLOOR_BOT)
