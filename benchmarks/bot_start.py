"""Instructions a test bot costs to start (to READY, commands synced) and to stop gracefully.

    .venv/bin/python -m benchmarks.bot_start --bots 4 --backend sqlite     # or postgresql

What the end-to-end suite pays per test for its bot, counted the way the suite starts one:
forked from the test fork server (emulator/forkserver.py), which is run here under valgrind's
callgrind with ``--trace-children=yes``. A forked process's count starts from its parent's, so
each bot's own instructions are its total less its parent's: the fork server, whose count is
read when it exits. That is its count at the bot's fork plus its own small work for the later
bots (~0.2 million instructions each), so a bot is undercounted by at most about a million
(min and max show it). Counts repeat to 0.1 % run after run, so two branches compare on a
busy machine, where CPU seconds do not. The first bot is a warm-up and not counted. Needs
valgrind and, for PostgreSQL, a local server (`$VIGIL_TEST_POSTGRES_URL` or 127.0.0.1:5432).
Takes ~20 s a bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _count(outdir: Path, pid: int) -> int:
    text = (outdir / f"cg.{pid}").read_text()
    found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    assert found, f"no total in callgrind's output for {pid}"
    return int(found.group(1))


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


async def _cycle(make_url: Callable[[Path], str]) -> tuple[int, int]:
    """Start one bot against a new emulator, wait for READY, stop it; its pid and parent's."""
    from emulator import BotProcess, Emulator

    emulator = Emulator()
    await emulator.start()
    folder = Path(tempfile.mkdtemp(prefix="vigil-botstart-"))
    try:
        env = {"DATABASE_URL": make_url(folder), "LOG_LEVEL": "INFO"}
        bot = BotProcess(
            emulator, None, db_path=folder / "v.db", log_path=folder / "bot.log",
            forked=True, env=env,
        )  # fmt: skip
        await bot.start()
        await bot.wait_ready(120)
        parent = _parent(bot.pid)
        await bot.stop(60)
        return bot.pid, parent
    finally:
        await emulator.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def _measure(bots: int, backend: str) -> list[tuple[int, int]]:
    from storage import open_store

    if backend == "sqlite":
        template = Path(tempfile.mkdtemp(prefix="vigil-botstart-")) / "template.db"
        await (await open_store(f"sqlite:///{template}")).close()

        def make_url(folder: Path) -> str:
            shutil.copyfile(template, folder / "v.db")
            return f"sqlite:///{folder / 'v.db'}"

        return [await _cycle(make_url) for _ in range(bots + 1)]
    from tests import postgres

    url = await postgres.create_database("vigil_botstart")
    try:
        await (await open_store(url)).close()

        def emptied(_folder: Path) -> str:
            postgres.empty(url)
            return url

        return [await _cycle(emptied) for _ in range(bots + 1)]
    finally:
        await postgres.drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=4, help="bots counted (after one warm-up)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind)")
    sys.path.insert(0, str(ROOT))
    from tests.bytecode import cache_bytecode_outside_the_tree

    cache_bytecode_outside_the_tree()  # as the test suite does: bots load cached bytecode
    outdir = Path(tempfile.mkdtemp(prefix="vigil-callgrind-"))
    socket_path = str(outdir / "fork.sock")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-instr=no",
         f"--callgrind-out-file={outdir}/cg.%p", sys.executable,
         str(ROOT / "emulator" / "forkserver.py"), socket_path, str(ROOT)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while not os.path.exists(socket_path):
            if server.poll() is not None:
                sys.exit("the fork server did not start under valgrind")
            time.sleep(0.5)
        os.environ["VIGIL_TEST_FORKSERVER_SOCKET"] = socket_path
        pids = asyncio.run(_measure(args.bots, args.backend))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(300)
    counts = sorted(_count(outdir, pid) - _count(outdir, parent) for pid, parent in pids[1:])
    shutil.rmtree(outdir, ignore_errors=True)
    print(
        f"{args.backend}: a bot's start and stop, millions of instructions: median "
        f"{counts[len(counts) // 2] / 1e6:.1f} (min {counts[0] / 1e6:.1f}, max "
        f"{counts[-1] / 1e6:.1f}, {len(counts)} bots)"
    )


if __name__ == "__main__":
    main()
