"""A bot forked from the fork server behaves like ``python script.py``: same argv, environment,
working directory, log file, exit codes and signal handling, and nothing leaks between two
processes. Every check runs both ways (forked and exec'd) so a difference shows as a failure."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from emulator import BotProcess, Emulator
from emulator.botproc import SHARED_SOCKET_ENV, _ForkServer

SCRIPT = """
import asyncio, os, signal, sys
import discord
STATE = globals().setdefault("STATE", [])
print("argv", sys.argv[1:], "cwd", os.getcwd(), "env", os.environ.get("PROBE"), flush=True)
print("route", discord.http.Route.BASE, flush=True)
discord.http.Route.BASE = "changed-by-" + os.environ.get("PROBE", "")
print("name", __name__, "path0", sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
def target(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the descriptor listdir itself used
        return ""
fds = [target(fd) for fd in os.listdir("/proc/self/fd")]
print("inherited sockets or pipes", sum(fd.startswith(("socket:", "pipe:")) for fd in fds))
mode = sys.argv[1]
if mode == "exit":
    sys.exit(int(sys.argv[2]))
if mode == "raise":
    raise ValueError("boom")

async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("waiting", flush=True)
    await stop.wait()
    print("graceful", flush=True)

asyncio.run(main())
"""


@pytest.fixture(params=[True, False], ids=["forked", "exec"])
def forked(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def start_kw(tmp_path: Path, name: str, forked: bool) -> dict[str, object]:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    return {
        "script": script,
        "log_path": tmp_path / f"{name}.log",
        "db_path": tmp_path / "unused.db",
        "cwd": tmp_path,
        "forked": forked,
    }


async def test_argv_env_cwd_exit_code_and_no_leak(tmp_path: Path, forked: bool) -> None:
    emu = Emulator()
    kw = start_kw(tmp_path, "one", forked)
    one = BotProcess(emu, env={"PROBE": "one"}, args=["exit", "3"], **kw)  # type: ignore[arg-type]
    await one.start()
    assert await one.wait() == 3
    log = one.log_text()
    assert f"argv ['exit', '3'] cwd {tmp_path} env one" in log
    assert "name __main__ path0 True" in log
    kw = start_kw(tmp_path, "two", forked)
    two = BotProcess(emu, env={"PROBE": "two"}, args=["exit", "0"], **kw)  # type: ignore[arg-type]
    await two.start()
    assert await two.wait() == 0
    assert "route https://discord.com/api/v10" in two.log_text()  # not "changed-by-one"


async def test_uncaught_exception_exits_1_with_traceback(tmp_path: Path, forked: bool) -> None:
    proc = BotProcess(Emulator(), args=["raise"], **start_kw(tmp_path, "raise", forked))  # type: ignore[arg-type]
    await proc.start()
    assert await proc.wait() == 1
    assert "ValueError: boom" in proc.log_text()


async def test_sigterm_is_handled_and_sigkill_kills(tmp_path: Path, forked: bool) -> None:
    emu = Emulator()
    graceful = BotProcess(emu, args=["wait"], **start_kw(tmp_path, "term", forked))  # type: ignore[arg-type]
    await graceful.start()
    await graceful.wait_for_log("waiting")
    assert graceful.returncode is None
    graceful.terminate()
    assert await graceful.wait() == 0
    assert "graceful" in graceful.log_text()
    killed = BotProcess(emu, args=["wait"], **start_kw(tmp_path, "kill", forked))  # type: ignore[arg-type]
    await killed.start()
    await killed.wait_for_log("waiting")
    killed.kill()
    assert await killed.wait() == -signal.SIGKILL


async def test_a_bot_holds_nothing_of_the_server_or_of_other_bots(
    tmp_path: Path, forked: bool
) -> None:
    """The server waits for each bot itself (woken by SIGCHLD) and keeps each bot's connection;
    a bot forked while others run inherits none of those, nor the listening socket or the
    wakeup pipe."""
    emu = Emulator()
    first = BotProcess(emu, args=["wait"], **start_kw(tmp_path, "first", forked))  # type: ignore[arg-type]
    await first.start()
    await first.wait_for_log("waiting")
    second = BotProcess(emu, args=["wait"], **start_kw(tmp_path, "second", forked))  # type: ignore[arg-type]
    await second.start()
    await second.wait_for_log("waiting")
    assert "inherited sockets or pipes 0" in second.log_text()
    first.kill()
    assert await first.wait() == -signal.SIGKILL
    assert second.returncode is None
    second.terminate()
    assert await second.wait() == 0


async def test_workers_share_the_controllers_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker finds the controller's server through the environment, waits while it is still
    preloading, and starts none of its own (tests/conftest.py shares one per xdist run)."""
    controller = _ForkServer()
    path = controller.start_shared()
    try:
        monkeypatch.setenv(SHARED_SOCKET_ENV, path)
        worker = _ForkServer()
        _reader, writer = await worker.connect()  # the server is usually still importing here
        writer.close()
        assert worker.proc is None and worker.socket_path() == path
    finally:
        controller.close()
    assert not Path(path).parent.exists(), "the server's directory is removed when it closes"


WARMUP_PROBE = """
from core import hotlines
from dashboard import render
print("directory loaded", str(hotlines.DEFAULT_PATH) in hotlines._LOADED)
built = render._environment.cache_info().currsize == 1
print("templates compiled", built and len(render._environment().cache or {}))
"""


async def test_a_forked_bot_finds_the_directory_and_the_templates_built(tmp_path: Path) -> None:
    """What the product keeps per process is built once in the server (PRODUCT_WARMUPS), so a
    bot forked from it does not parse the directory or compile the templates again; a bot
    exec'd as ``python bot.py`` builds them itself, on first use."""
    script = tmp_path / "warm.py"
    script.write_text(WARMUP_PROBE)
    kw = {**start_kw(tmp_path, "warm", True), "script": script}
    proc = BotProcess(Emulator(), **kw)  # type: ignore[arg-type]
    await proc.start()
    assert await proc.wait() == 0
    log = proc.log_text()
    assert "directory loaded True" in log
    templates = len(list((Path(render_root()) / "templates").glob("*.html")))
    assert f"templates compiled {templates}" in log


def render_root() -> str:
    import dashboard

    return str(Path(dashboard.__file__).parent)


HANDOVER_PROBE = """
import asyncio, sys
import discord
from discord.ext import commands

preloaded = sys.modules.get("cogs.hotlines")


async def main():
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    await bot.load_extension("cogs.hotlines")
    print("first load handed over", bot.extensions["cogs.hotlines"] is preloaded)
    print("spec given back", type(preloaded.__spec__.loader).__name__)
    await bot.reload_extension("cogs.hotlines")
    print("reload executes afresh", bot.extensions["cogs.hotlines"] is not preloaded)
    print("cog", sorted(bot.cogs))


asyncio.run(main())
"""


async def test_a_forked_bot_is_handed_its_preloaded_extensions_once(tmp_path: Path) -> None:
    """discord.py's load_extension executes a new copy of an extension module; a forked bot's
    first load is handed the module executed before the fork instead (its commands already
    built), and a reload still executes the file afresh, as it would in production."""
    script = tmp_path / "handover.py"
    script.write_text(HANDOVER_PROBE)
    proc = BotProcess(Emulator(), **{**start_kw(tmp_path, "handover", True), "script": script})  # type: ignore[arg-type]
    await proc.start()
    assert await proc.wait() == 0, proc.log_text()
    log = proc.log_text()
    assert "first load handed over True" in log
    assert "spec given back SourceFileLoader" in log
    assert "reload executes afresh True" in log
    assert "cog ['Hotlines']" in log


def test_a_script_is_compiled_again_when_it_changes(tmp_path: Path) -> None:
    """The server keeps a script's code (runpy compiles it at every run) by modification time."""
    import os

    from emulator.forkserver import _compile_script

    script = tmp_path / "script.py"
    script.write_text("VALUE = 1\n")
    first = _compile_script(str(script))
    assert _compile_script(str(script)) is first
    script.write_text("VALUE = 2\n")
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    namespace: dict[str, object] = {}
    exec(_compile_script(str(script)), namespace)
    assert namespace["VALUE"] == 2


ANNOTATIONS_PROBE = """
def f(x: int) -> None: pass
print("annotations", f.__annotations__, flush=True)
try:
    def g(x: UndefinedName) -> None: pass
    print("undefined annotation accepted", flush=True)
except NameError:
    print("undefined annotation NameError", flush=True)
"""


async def test_a_script_is_compiled_without_the_servers_future_imports(
    tmp_path: Path, forked: bool
) -> None:
    """The fork server's own `from __future__ import annotations` never leaks into a script
    it runs: annotations are evaluated as under `python script.py`."""
    script = tmp_path / "annotations.py"
    script.write_text(ANNOTATIONS_PROBE)
    proc = BotProcess(Emulator(), **{**start_kw(tmp_path, "annotations", forked), "script": script})  # type: ignore[arg-type]
    await proc.start()
    assert await proc.wait() == 0
    log = proc.log_text()
    assert "annotations {'x': <class 'int'>, 'return': None}" in log, log
    assert "undefined annotation NameError" in log, log


FAILING_FORK = r"""
import os, runpy, sys
real, server, calls = os.fork, os.getpid(), [0]
def fork():
    if os.getpid() == server:
        calls[0] += 1
        if calls[0] == 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")
    return real()
os.fork = fork
script = sys.argv[2]
sys.argv = ["forkserver.py", sys.argv[1]]
runpy.run_path(script, run_name="__main__")
"""


def test_a_failed_fork_fails_one_start_and_the_running_bots_go_on(tmp_path: Path) -> None:
    """A fork the system refuses (EAGAIN) fails that one start; the server keeps serving and
    still reports the exit of a bot that was running."""
    import json
    import socket
    import subprocess
    import sys

    child = tmp_path / "child.py"
    child.write_text("import sys, time\ntime.sleep(float(sys.argv[1]))\n")
    path = str(tmp_path / "fork.sock")
    server_script = str(Path(__file__).resolve().parents[2] / "emulator" / "forkserver.py")
    server = subprocess.Popen(
        [sys.executable, "-c", FAILING_FORK, path, server_script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"

        def spawn(seconds: float) -> object:
            conn = socket.socket(socket.AF_UNIX)
            conn.connect(path)
            request = {
                "script": str(child),
                "args": [seconds],
                "env": {},
                "cwd": str(tmp_path),
                "log_path": str(tmp_path / "bot.log"),
            }
            conn.sendall((json.dumps(request) + "\n").encode())
            return conn.makefile("rb")

        first = spawn(1.5)
        assert "pid" in json.loads(first.readline())  # type: ignore[attr-defined]
        assert spawn(0.1).readline() == b""  # type: ignore[attr-defined]
        third = spawn(0.1)
        assert "pid" in json.loads(third.readline())  # type: ignore[attr-defined]
        assert third.readline() == b'{"returncode": 0}\n'  # type: ignore[attr-defined]
        assert first.readline() == b'{"returncode": 0}\n'  # type: ignore[attr-defined]
    finally:
        server.kill()
        server.wait()
