"""A fork server that starts bot scripts with discord.py already imported.

Why: an end-to-end test pays mostly for starting ``python bot.py``, and most of that is
importing discord.py, aiohttp, asyncpg and Babel (about 0.5 s of CPU each time). The server
imports those third-party libraries once per pytest worker; each bot is then a fresh ``fork()``
of it that runs the script with ``runpy`` as ``__main__``, with its own environment, working
directory, argv and log file. Every test still gets a brand-new bot process (no state is shared
between tests, and kill/SIGTERM/SIGINT/exit codes behave as for ``python bot.py``); only the
import work is shared.

When started with a product root (the repository holding ``bot.py``), the server also imports
the product's packages and builds what the product keeps per process (``PRODUCT_PACKAGES``,
``PRODUCT_WARMUPS``: the catalogues, the hotline directory, the compiled dashboard templates):
after matplotlib became lazy, that was most of what a bot spent starting. Module bodies only
define things (settings are read from the environment inside ``main``, after the fork), so a
forked bot is the same as a fresh one. So that the server never runs stale product code, each
fork first compares the modification times of the preloaded files (code, catalogues, the
directory, templates, stylesheet) with those seen at preload, and drops every product module
from ``sys.modules`` when one changed: that bot then imports the product afresh, as a plain
``python bot.py`` would.

Three more things a bot would redo at every start are done once in the server, for the same
reason (profiled per bot: about a third of a bare bot's CPU before they moved here):
- the script's code object: ``runpy.run_path`` compiles ``bot.py`` from source each time
  (~4 ms); the server compiles each script once per modification time and runs it as runpy
  would (``_run_script``);
- the extensions: discord.py's ``load_extension`` executes a fresh copy of the extension
  module even when it is imported already, so a forked bot rebuilt every cog's commands
  (~10 ms). Each preloaded ``cogs`` module is handed to the bot's *first* load of it as is
  (``_hand_over_extensions``); ``setup()`` still runs in the bot, and a reload executes the
  module afresh as it would in production;
- Babel's locale data for the shipped languages (``_warm_locale_data``), which each bot
  otherwise unpickles on its first country name or date.

Protocol (one Unix-socket connection per bot): the client sends one JSON line
``{"script", "args", "env", "cwd", "log_path"}``; the server answers ``{"pid": N}`` once the
bot runs and ``{"returncode": N}`` when it exits (negative: killed by that signal, as asyncio
reports it). The server waits for its bots itself (SIGCHLD wakes its loop).

Set ``VIGIL_TEST_FORKSERVER=0`` to start every bot as a plain subprocess instead.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.abc
import importlib.machinery
import json
import os
import select
import signal
import socket
import sys
import types
from types import CodeType

#: Third-party modules the product and the floor bot import (the product itself: see serve).
PRELOAD = (
    "asyncio",
    "sqlite3",
    "aiohttp",
    "yarl",
    "discord",
    "discord.ext.commands",
    "discord.app_commands",
    "aiosqlite",
    "asyncpg",
    "dotenv",
    "babel",
    "babel.core",
    "babel.dates",
    "babel.numbers",
    "babel.support",
    "babel.messages.pofile",
    # Imported by the product on its first /reports stats chart only (charts/stats_chart.py).
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
)

#: The product's packages, imported before the fork when a product root is given.
PRODUCT_PACKAGES = ("core", "storage", "ui", "cogs", "vigil_ops", "charts", "dashboard")

#: What the product builds once per process and keeps (module, callable), done before the fork
#: so that each bot finds it built: the catalogues, the hotline directory, the dashboard's
#: compiled templates.
PRODUCT_WARMUPS = (
    ("core.i18n", "catalogue"),
    ("core.hotlines", "HotlineDirectory.load"),
    ("dashboard.render", "compile_templates"),
)

#: Product file -> modification time, as seen when the product was preloaded.
_preloaded_files: dict[str, int] = {}


def _product_files(root: str) -> dict[str, int]:
    files: dict[str, int] = {}
    for package in PRODUCT_PACKAGES:
        for folder, _, names in os.walk(os.path.join(root, package)):
            for name in names:
                if name.endswith((".py", ".po", ".json", ".sql", ".html", ".css")):
                    path = os.path.join(folder, name)
                    files[path] = os.stat(path).st_mtime_ns
    return files


def _preload_product(root: str) -> None:
    """Import the product's packages and parse its catalogues (see the module docstring)."""
    import importlib
    import pkgutil

    sys.path.insert(0, root)
    _preloaded_files.update(_product_files(root))
    for package in PRODUCT_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            importlib.import_module(info.name)
    for module_name, attribute in PRODUCT_WARMUPS:
        target: object = importlib.import_module(module_name)
        for name in attribute.split("."):
            target = getattr(target, name)
        assert callable(target)
        target()
    _warm_locale_data()
    _compile_script(os.path.join(root, "bot.py"))
    sys.path.remove(root)


def _warm_locale_data() -> None:
    """Load Babel's locale data (merged with its parents) for every shipped language."""
    import babel.localedata

    from core.i18n import LANGUAGES

    for language in LANGUAGES:
        babel.localedata.load(language)


#: Script path -> (modification time, code object), compiled in the server or the bot.
_compiled: dict[str, tuple[int, CodeType]] = {}


def _compile_script(path: str) -> CodeType:
    """The script's code, compiled once per modification time (what runpy compiles each run)."""
    mtime = os.stat(path).st_mtime_ns
    cached = _compiled.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with open(path, "rb") as source:
        # dont_inherit: not this module's `from __future__` imports (runpy compiles so too).
        code = compile(source.read(), path, "exec", dont_inherit=True)
    _compiled[path] = (mtime, code)
    return code


def _run_script(script: str) -> None:
    """Run ``script`` as ``runpy.run_path(script, run_name="__main__")`` does for a plain
    file, from its cached code: a new ``__main__`` module with the same attributes."""
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__cached__ = None  # type: ignore[attr-defined]
    main.__loader__ = None
    main.__package__ = ""
    main.__spec__ = None
    sys.modules["__main__"] = main
    exec(_compile_script(script), main.__dict__)


class _HandOver(importlib.abc.Loader):
    """A loader that hands over a module executed before the fork, once (see the module
    docstring): it answers the first ``module_from_spec`` with that module and executes
    nothing; the module's own spec comes back at once, so a later load or a reload (which
    removes the module from ``sys.modules`` first) finds and executes the file as usual."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        self.module.__spec__ = self.spec
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec


def _hand_over_extensions() -> None:
    """In a forked bot whose preloaded product is current: the preloaded extension modules
    (``cogs.*`` with a ``setup``) are handed to the first ``load_extension`` of each."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("cogs.") or not hasattr(module, "setup"):
            continue
        original = module.__spec__
        if original is None:
            continue
        handed = importlib.machinery.ModuleSpec(
            name, _HandOver(module), origin=original.origin, is_package=False
        )
        handed.has_location = original.has_location
        module.__spec__ = handed


def _forget_stale_product(root: str) -> bool:
    """In a forked bot: drop the preloaded product if any of its files changed since;
    whether the preloaded product is still current."""
    if not _preloaded_files:
        return False
    if _product_files(root) == _preloaded_files:
        return True
    for name in list(sys.modules):
        if name.split(".")[0] in PRODUCT_PACKAGES:
            del sys.modules[name]
    return False


def _run_bot(request: dict[str, object]) -> int:
    """In the forked bot: become ``python <script> <args>`` and run it; return the exit code."""
    import atexit
    import threading
    import traceback

    script = str(request["script"])
    os.chdir(str(request["cwd"]))
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    log_fd = os.open(str(request["log_path"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)
    args = request.get("args") or []
    assert isinstance(args, list)
    sys.argv = [script, *[str(a) for a in args]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    if _product_root and _forget_stale_product(_product_root):
        _hand_over_extensions()
    code = 0
    try:
        _run_script(script)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    # What the interpreter does on exit: join non-daemon threads, run atexit (logging flush).
    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code


def _send(conn: socket.socket, message: dict[str, int]) -> None:
    # OSError: the test side went away; the bot still runs to its end.
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(message) + "\n").encode())


def _returncode(status: int) -> int:
    """An exit status as asyncio reports it: negative when killed by that signal."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _start_bot(request: dict[str, object], inherited: list[int]) -> int:
    """Fork the bot; in the bot, close the server's descriptors (``inherited``) and run it."""
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in inherited:
            with contextlib.suppress(OSError):
                os.close(fd)
        code = 1
        try:
            code = _run_bot(request)
        finally:
            os._exit(code & 0xFF if code >= 0 else 1)
    return pid


def _read_request(conn: socket.socket) -> dict[str, object]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    request = json.loads(data)
    assert isinstance(request, dict)
    return request


_product_root = ""

#: Seconds a client has to send its request line once connected.
REQUEST_TIMEOUT = 5.0


def serve(path: str, product_root: str = "") -> None:
    """Preload, listen on ``path``, fork one bot per connection; exit when stdin closes."""
    import importlib

    global _product_root
    for name in PRELOAD:
        importlib.import_module(name)
    if product_root:
        _product_root = product_root
        _preload_product(product_root)
    # Move the preloaded objects out of the collector's generations: each bot's collections
    # then neither scan them nor copy their pages (the use gc.freeze documents for fork).
    gc.collect()
    gc.freeze()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    # Running bots: pid -> the connection that started it. The server waits for each bot
    # itself (no process between them, which cost each bot a second fork and exit of this
    # whole image), with waitpid so that the bots' CPU time is counted in this process's
    # children, and so in `/usr/bin/time pytest`. A bot's exit wakes the loop through SIGCHLD's
    # wakeup descriptor (not a pidfd: valgrind's tools and older kernels have none).
    bots: dict[int, socket.socket] = {}
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        readable, _, _ = select.select([server, stdin, wake_read], [], [])
        if stdin in readable and not os.read(stdin, 4096):
            break  # the pytest worker exited
        if wake_read in readable:
            with contextlib.suppress(BlockingIOError):
                while os.read(wake_read, 4096):
                    pass
        for pid in list(bots):  # after draining: a SIGCHLD from now on wakes the next select
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                conn = bots.pop(pid)
                _send(conn, {"returncode": _returncode(status)})
                conn.close()
        if server in readable:
            conn, _ = server.accept()
            conn.settimeout(REQUEST_TIMEOUT)  # a silent client never holds up the others
            try:
                request = _read_request(conn)
            except (OSError, ValueError, AssertionError):
                conn.close()
                continue
            inherited = [server.fileno(), conn.fileno(), wake_read, wake_write]
            inherited += [other.fileno() for other in bots.values()]
            try:
                pid = _start_bot(request, inherited)
            except OSError:  # fork failed: this client is told (no pid); the others run on
                conn.close()
                continue
            bots[pid] = conn
            _send(conn, {"pid": pid})
    server.close()
    os.unlink(path)
    for conn in bots.values():  # never wait for a running bot
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
