"""Run a bot script (the real ``bot.py`` or the floor bot) as a subprocess against an emulator.

A subprocess, not an in-process client, so tests exercise the real entry point, env handling,
startup and shutdown (SIGTERM) exactly as deployed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Emulator

REPO_ROOT = Path(__file__).resolve().parents[1]
FLOOR_BOT = Path(__file__).resolve().parent / "floor_bot.py"
FORKSERVER = Path(__file__).resolve().parent / "forkserver.py"


#: The socket of a fork server shared by every pytest-xdist worker, set by the controller
#: (tests/conftest.py) before it starts them: one server's imports (~2 s of CPU) instead of
#: one per worker, and no worker's first test waits for its own.
SHARED_SOCKET_ENV = "VIGIL_TEST_FORKSERVER_SOCKET"

#: How long a worker waits for the shared server to listen (it preloads while workers collect).
SHARED_START_TIMEOUT = 60.0


class _ForkServer:
    """This pytest process's fork server (see forkserver.py): its own, started on first use,
    or the controller's shared one when SHARED_SOCKET_ENV names it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.path = ""

    def _popen(self, stdout: int) -> subprocess.Popen[bytes]:
        self.path = os.path.join(tempfile.mkdtemp(prefix="vigil-fork-"), "fork.sock")
        atexit.register(self.close)
        return subprocess.Popen(
            [sys.executable, str(FORKSERVER), self.path, *_product_root()],
            cwd=str(REPO_ROOT),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=stdout,
        )

    def start_shared(self) -> str:
        """Start a server for other processes without waiting for it; returns its socket."""
        self.proc = self._popen(subprocess.DEVNULL)
        return self.path

    def socket_path(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            return self.path
        shared = os.environ.get(SHARED_SOCKET_ENV, "")
        if shared:
            return shared
        self.proc = self._popen(subprocess.PIPE)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the bot fork server did not start")
        return self.path

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the server; a shared one may still be preloading, so wait for it."""
        path = self.socket_path()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHARED_START_TIMEOUT
        while True:
            try:
                return await asyncio.open_unix_connection(path)
            except (FileNotFoundError, ConnectionRefusedError):
                if path != os.environ.get(SHARED_SOCKET_ENV) or loop.time() > deadline:
                    raise
                await asyncio.sleep(0.05)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the server exits on EOF
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.path:
            shutil.rmtree(os.path.dirname(self.path), ignore_errors=True)


_FORK_SERVER = _ForkServer()


def _product_root() -> list[str]:
    """The repository to preload in the fork server, when the emulator runs from a checkout."""
    return [str(REPO_ROOT)] if (REPO_ROOT / "bot.py").is_file() else []


def fork_server_enabled() -> bool:
    return os.environ.get("VIGIL_TEST_FORKSERVER", "1") != "0"


def share_fork_server() -> None:
    """In the pytest-xdist controller, before it starts workers: one fork server for all."""
    if fork_server_enabled() and not os.environ.get(SHARED_SOCKET_ENV):
        os.environ[SHARED_SOCKET_ENV] = _FORK_SERVER.start_shared()


class ForkedProcess:
    """A bot forked by the fork server, with the parts of ``asyncio.subprocess.Process`` used
    here: ``pid``, ``returncode``, ``kill()``, ``send_signal()``, ``terminate()``, ``wait()``."""

    def __init__(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.pid = pid
        self.returncode: int | None = None
        self._writer = writer
        self._done = asyncio.get_running_loop().create_future()
        self._task = asyncio.ensure_future(self._watch(reader))

    @classmethod
    async def spawn(cls, request: dict[str, Any]) -> ForkedProcess:
        reader, writer = await _FORK_SERVER.connect()
        writer.write((json.dumps(request) + "\n").encode())
        await writer.drain()
        line = await reader.readline()
        if not line:
            writer.close()
            raise RuntimeError("the bot fork server did not start the bot")
        return cls(int(json.loads(line)["pid"]), reader, writer)

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        line = await reader.readline()
        # No answer means the fork server died; report that as a crash rather than hang.
        self.returncode = int(json.loads(line)["returncode"]) if line else -signal.SIGKILL
        self._writer.close()
        if not self._done.done():
            self._done.set_result(self.returncode)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    async def wait(self) -> int:
        return int(await asyncio.shield(self._done))


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
        forked: bool = False,
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
        #: Fork from the preloaded fork server (the test fixtures) instead of exec'ing a new
        #: interpreter (benchmarks keep the default: a bot exactly as deployed).
        self.forked = forked and python == sys.executable and fork_server_enabled()
        self.proc: asyncio.subprocess.Process | ForkedProcess | None = None
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
        if self.forked:  # see forkserver.py
            self.proc = await ForkedProcess.spawn(
                {
                    "script": str(self.script),
                    "args": self.args,
                    "env": self.env,
                    "cwd": str(self.cwd),
                    "log_path": str(self.log_path),
                }
            )
            return self
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
