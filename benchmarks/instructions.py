"""Instructions per report (valgrind's callgrind): the storage path's work, whatever the load.

    python -m benchmarks.instructions [--reports 1000] [--mode service|thread|both]

Wall-clock rates on a shared 2-core VM move ±30 % between runs; instruction counts repeat to
0.1 %. Each mode runs twice under callgrind (`--separate-threads=yes`), with N reports and
with none (same imports, same workload built, same database opened), and prints the
difference divided by N, per thread:

* service: `benchmarks.storage.bench_service` (ReportService.submit from 64 coroutines,
  SqliteStore's group commit): thread 1 is the event loop, thread 2 aiosqlite's database
  thread. Run under valgrind the threads are serialised, so batches can differ a little from
  a real run; compare branches with the same command.
* thread: the database thread's work alone. Each submission's transaction function is
  captured (the store's `write` replaced), then `SqliteStore._run_batch` runs them in
  batches of 64 in the database thread, with a clock that steps 137 µs a report.

Needs valgrind on PATH (Debian: `apt-get install valgrind`). Temporary files go to --dir.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import make_workload

BATCH = 64


class StepClock:
    """Deterministic time: every report 137 µs after the previous one."""

    def __init__(self) -> None:
        self._now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=137)
        return self._now


async def run_thread(n: int, total: int, workdir: Path) -> None:
    from core.service import ReportService
    from storage.sqlite import SqliteStore, in_driver_thread

    subs = make_workload(total)[:n]
    store = await SqliteStore.open(workdir / "thread.db")
    captured: list[Callable[[Any], Coroutine[Any, Any, Any]]] = []

    async def capture(fn: Callable[[Any], Coroutine[Any, Any, Any]]) -> None:
        captured.append(fn)

    store.write = capture  # type: ignore[method-assign, assignment]
    service = ReportService(store, StepClock())
    for sub in subs:
        await service.submit(sub)
    for start in range(0, len(captured), BATCH):
        work = functools.partial(store._run_batch, captured[start : start + BATCH])
        outcomes = await in_driver_thread(store._conn, work)
        failed = [value for ok, value in outcomes if not ok]
        if failed:
            raise RuntimeError(f"a report failed: {failed[0]!r}")
    await store.close()


async def run_service(n: int, total: int, workdir: Path) -> None:
    from benchmarks.storage import bench_service

    subs = make_workload(total)[:n]
    result = await bench_service(workdir / "service.db", subs, 64, "NORMAL")
    if n and result.problems:
        raise RuntimeError("; ".join(result.problems))


def child(mode: str, n: int, total: int, workdir: Path) -> None:
    run = run_thread if mode == "thread" else run_service
    asyncio.run(run(n, total, workdir))


def measure(mode: str, n: int, total: int, workdir: Path) -> dict[int, int]:
    """Per-thread instruction totals of one child run (thread 1 is the main thread)."""
    run_dir = workdir / f"{mode}-{n}"
    run_dir.mkdir()
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--separate-threads=yes",
        "--fair-sched=yes",
        f"--callgrind-out-file={run_dir}/cg.%p",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        mode,
        "--reports",
        str(n),
        "--workload",
        str(total),
        "--dir",
        str(run_dir),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    totals: dict[int, int] = {}
    for path in run_dir.glob("cg.*-*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                totals[int(path.name.rsplit("-", 1)[1])] = int(line.split()[1])
                break
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--mode", choices=["service", "thread", "both"], default="both")
    parser.add_argument("--dir", default=None, help="where temporary files go")
    parser.add_argument("--child", choices=["service", "thread"], help=argparse.SUPPRESS)
    parser.add_argument("--workload", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.reports, args.workload, Path(args.dir))
        return 0
    modes = ["service", "thread"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="vigil-instructions-", dir=args.dir) as tmp:
        for mode in modes:
            work = Path(tmp) / mode
            work.mkdir()
            with_reports = measure(mode, args.reports, args.reports, work)
            without = measure(mode, 0, args.reports, work)
            per = {t: (with_reports[t] - without.get(t, 0)) / args.reports for t in with_reports}
            parts = ", ".join(f"thread {t}: {v:,.0f}" for t, v in sorted(per.items()))
            print(f"{mode}: {sum(per.values()):,.0f} instructions a report ({parts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
