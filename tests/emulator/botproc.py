"""Run a bot script (the real ``bot.py`` or the floor bot) as a subprocess against an emulator.

A subprocess, not an in-process client, so tests exercise the real entry point, env handling,
startup and shutdown (SIGTERM) exactly as deployed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from .server import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
FLOOR_BOT = Path(__file__).resolve().parent / "floor_bot.py"


class BotProcess:
    """A bot subprocess wired to ``emulator`` through environment variables."""

    def __init__(
        self,
        emulator: Emulator,
        script: str | Path | None = None,
        *,
        db_path: str | Path | None = None,
        env: dict[str, str] | None = None,
        log_path: str | Path | None = None,
        cwd: str | Path | None = None,
        python: str = sys.executable,
        args: list[str] | None = None,
    ) -> None:
        self.emu = emulator
        self.script = Path(script) if script else REPO_ROOT / "bot.py"
        # A temporary directory only when the caller did not say where files go.
        tmp = None if db_path and log_path else Path(tempfile.mkdtemp(prefix="vigil-bot-"))
        self.db_path = Path(db_path) if db_path else Path(str(tmp)) / "vigil.sqlite3"
        self.log_path = Path(log_path) if log_path else Path(str(tmp)) / "bot.log"
        self.cwd = Path(cwd) if cwd else REPO_ROOT
        self.python = python
        self.extra_env = env or {}
        self.args = list(args or [])  # command-line arguments for the script, e.g. ["--sync"]
        self.proc: asyncio.subprocess.Process | None = None
        self._log_fh: IO[bytes] | None = None
        self._ready_baseline = 0

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DISCORD_TOKEN": self.emu.token,
                "DISCORD_API_BASE_URL": self.emu.api_base,
                "DISCORD_GATEWAY_URL": self.emu.gateway_url,
                "DATABASE_URL": f"sqlite:///{self.db_path}",
                "LOG_LEVEL": "DEBUG",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    async def start(self) -> BotProcess:
        self._ready_baseline = self.emu.gateway.count("GUILD_CREATE_DONE")
        self._log_fh = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            self.python,
            str(self.script),
            *self.args,
            cwd=str(self.cwd),
            env=self.env,
            stdout=self._log_fh,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            tail = "\n".join(self.log_text().splitlines()[-40:])
            raise RuntimeError(f"bot exited with {self.proc.returncode}; log tail:\n{tail}")

    async def wait_for_log(self, needle: str, timeout: float = 10.0) -> None:
        """Wait for ``needle`` to appear in the bot's combined stdout/stderr log."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.log_text():
            self._check_alive()
            if loop.time() > deadline:
                tail = "\n".join(self.log_text().splitlines()[-40:])
                raise TimeoutError(f"log line {needle!r} not seen in {timeout}s; tail:\n{tail}")
            await asyncio.sleep(0.05)

    async def wait_ready(self, timeout: float = 15.0, log_line: str | None = None) -> None:
        """Wait until this process's session got READY + GUILD_CREATEs (and ``log_line``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.emu.gateway.count("GUILD_CREATE_DONE") <= self._ready_baseline:
            self._check_alive()
            if loop.time() > deadline:
                tail = "\n".join(self.log_text().splitlines()[-40:])
                raise TimeoutError(f"bot not ready within {timeout}s; log tail:\n{tail}")
            try:
                await self.emu.waiters.wait_for(
                    lambda: self.emu.gateway.count("GUILD_CREATE_DONE") > self._ready_baseline,
                    0.1,
                    "ready",
                )
            except TimeoutError:
                continue
        if log_line is not None:
            await self.wait_for_log(log_line, max(0.1, deadline - loop.time()))

    def kill(self) -> None:
        """SIGKILL (simulate a crash)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()

    def terminate(self) -> None:
        """SIGTERM (graceful shutdown request)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float = 10.0) -> int:
        """Wait for exit and return the exit code."""
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        return code

    async def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate, escalating to SIGKILL after ``timeout``; safe to call twice."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.terminate()
            try:
                return await self.wait(timeout)
            except TimeoutError:
                self.kill()
        return await self.wait(timeout)
