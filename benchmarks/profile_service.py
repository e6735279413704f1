"""Run only the service path, for a profiler to watch.

    pyinstrument -m benchmarks.profile_service --reports 3000
    py-spy record --threads --idle -o profile.svg -- \
        .venv/bin/python -m benchmarks.profile_service --reports 3000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import make_workload
from benchmarks.storage import bench_service, bench_writer_thread


async def main_async(args: argparse.Namespace) -> int:
    subs = make_workload(args.reports)
    with tempfile.TemporaryDirectory(prefix="vigil-profile-") as tmp:
        path = Path(tmp) / "profile.db"
        if args.writer_thread:
            result = await bench_writer_thread(path, subs, args.concurrency, args.synchronous)
        else:
            result = await bench_service(path, subs, args.concurrency, args.synchronous)
    print(f"{result.name}: {result.rate:,.0f} reports/s {result.note} {result.problems or ''}")
    return 1 if result.problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_service")
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    parser.add_argument(
        "--writer-thread", action="store_true", help="profile the writer-thread limit instead"
    )
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
