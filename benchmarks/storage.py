"""Reports per second through the core service, against two baselines on the same schema.

    python -m benchmarks.storage [--reports N] [--concurrency C]
                                 [--synchronous NORMAL|FULL|both] [--smoke]

For each synchronous setting, on fresh temporary databases created by `SqliteStore.open`
(same migrations, same pragmas: WAL, synchronous, foreign_keys, busy_timeout):

* sqlite3 baseline: the same report rows, one `BEGIN IMMEDIATE; INSERT; COMMIT` per row, in
  a plain loop: the machine's per-commit limit;
* naive aiosqlite: the same rows, `await execute(INSERT)` then `await commit()` per row;
* service: `ReportService.submit` (validation, rate limit, tally, threshold decision, case
  and outbox writes) called by C concurrent coroutines, each acknowledged after its commit;
* writer-thread limit (benchmarks/writer_thread_limit.py): the same transaction body as bare
  sqlite3 calls on a dedicated writer thread with group commit: what the service's design can
  reach without its layers, the limit the service is compared with.

After each service/limit run the database is re-read by a fresh connection: every
acknowledged report must be stored, at most one active case per target, no report left
outside an active case, every case in the alert outbox. `--smoke` runs a tiny workload and
exits 1 on any correctness failure; it never judges speed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from benchmarks._common import (
    INSERT_REPORT_SQL,
    ReportRow,
    command_line,
    connect_sqlite3,
    create_schema,
    machine,
    make_workload,
    report_row,
    verify_database,
)
from benchmarks.writer_thread_limit import WriterThread, WriterThreadReportService
from core.clock import SystemClock
from core.models import ReportSubmission
from core.policy import Refusal
from core.service import ReportAccepted, ReportOutcome, ReportService
from storage.sqlite import SqliteStore

TARGET_RATIO = 1.0  # issue 19 (issue 13 asked for 0.5)


@dataclass(slots=True)
class Result:
    name: str
    reports: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.reports / self.seconds if self.seconds > 0 else 0.0


def bench_sqlite3(path: Path, rows: Sequence[ReportRow], synchronous: str) -> Result:
    conn = connect_sqlite3(path, synchronous)
    try:
        start = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(INSERT_REPORT_SQL, row)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return Result("sqlite3, 1 txn per row (baseline)", len(rows), elapsed)


async def bench_aiosqlite(path: Path, rows: Sequence[ReportRow], synchronous: str) -> Result:
    # What a straightforward bot does: default (implicit) transactions, commit after each row.
    async with aiosqlite.connect(str(path)) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute(f"PRAGMA synchronous = {synchronous}")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
        start = time.perf_counter()
        for row in rows:
            await db.execute(INSERT_REPORT_SQL, row)
            await db.commit()
        elapsed = time.perf_counter() - start
    return Result("aiosqlite naive, execute+commit per row", len(rows), elapsed)


Submit = Callable[[ReportSubmission], Awaitable[ReportOutcome]]


async def drive(
    submit: Submit, subs: Sequence[ReportSubmission], concurrency: int
) -> tuple[float, dict[int, int], list[str]]:
    """Submit everything from `concurrency` coroutines; return time, acked ids, problems."""
    acked: dict[int, int] = {}
    problems: list[str] = []
    feed = iter(subs)

    async def worker() -> None:
        for sub in feed:
            outcome = await submit(sub)
            if isinstance(outcome, Refusal):
                problems.append(f"unexpected refusal {outcome.code} for reporter {sub.reporter.id}")
            elif isinstance(outcome, ReportAccepted):
                acked[outcome.report_id] = sub.reporter.id

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return time.perf_counter() - start, acked, problems


async def bench_service(
    path: Path, subs: Sequence[ReportSubmission], concurrency: int, synchronous: str
) -> Result:
    store = await SqliteStore.open(path, synchronous=synchronous)
    try:
        service = ReportService(store, SystemClock())
        elapsed, acked, problems = await drive(service.submit, subs, concurrency)
    finally:
        await store.close()
    problems += verify_database(path, acked, expected_rows=len(subs))
    if len(acked) != len(subs):
        problems.append(f"{len(subs)} submitted but {len(acked)} acknowledged")
    # Stores with group commit count their commits; older ones commit once per report.
    batches = getattr(store, "batches", None)
    note = f"mean batch {len(subs) / batches:.1f}" if isinstance(batches, int) and batches else ""
    return Result("service (ReportService + SqliteStore)", len(subs), elapsed, problems, note)


async def bench_writer_thread(
    path: Path, subs: Sequence[ReportSubmission], concurrency: int, synchronous: str
) -> Result:
    await create_schema(path, synchronous)
    writer = WriterThread(path, synchronous)
    writer.start()
    try:
        service = WriterThreadReportService(writer, SystemClock())
        elapsed, acked, problems = await drive(service.submit, subs, concurrency)
    finally:
        await writer.close()
    problems += verify_database(path, acked, expected_rows=len(subs))
    if len(acked) != len(subs):
        problems.append(f"{len(subs)} submitted but {len(acked)} acknowledged")
    note = f"mean batch {writer.stats.mean_batch:.1f}, max {writer.stats.largest_batch}"
    return Result("limit: writer thread + group commit", len(subs), elapsed, problems, note)


async def run_round(
    workdir: Path,
    subs: Sequence[ReportSubmission],
    rows: Sequence[ReportRow],
    concurrency: int,
    synchronous: str,
    limit: bool,
) -> list[Result]:
    """Each method once, on fresh databases (a directory of the round's own)."""
    tag = synchronous.lower()
    workdir = Path(tempfile.mkdtemp(prefix=f"round-{tag}-", dir=workdir))
    baseline_path = workdir / f"sqlite3-{tag}.db"
    await create_schema(baseline_path, synchronous)
    results = [bench_sqlite3(baseline_path, rows, synchronous)]

    naive_path = workdir / f"aiosqlite-{tag}.db"
    await create_schema(naive_path, synchronous)
    results.append(await bench_aiosqlite(naive_path, rows, synchronous))

    results.append(
        await bench_service(workdir / f"service-{tag}.db", subs, concurrency, synchronous)
    )
    if limit:
        path = workdir / f"writer-thread-{tag}.db"
        results.append(await bench_writer_thread(path, subs, concurrency, synchronous))
    return results


async def run_mode(
    workdir: Path,
    subs: Sequence[ReportSubmission],
    concurrency: int,
    synchronous: str,
    limit: bool,
    repeat: int = 1,
) -> list[Result]:
    """`repeat` rounds, the methods interleaved in each; per method the round with the median
    rate (a loaded or noisy machine moves one round, not the ratio of medians), with every
    round's rate in its notes."""
    now = datetime.now(UTC)
    rows = [report_row(sub, now) for sub in subs]
    rounds = [
        await run_round(workdir, subs, rows, concurrency, synchronous, limit) for _ in range(repeat)
    ]
    results: list[Result] = []
    for tries in zip(*rounds, strict=True):
        median = sorted(tries, key=lambda r: r.rate)[len(tries) // 2]
        median.problems = [p for r in tries for p in r.problems]
        if repeat > 1:
            rates = " / ".join(f"{r.rate:,.0f}" for r in tries)
            median.note = f"{median.note}; rounds {rates}".lstrip("; ")
        results.append(median)
    return results


def print_table(synchronous: str, n: int, concurrency: int, results: list[Result]) -> None:
    base = results[0].rate
    print(f"\nsynchronous={synchronous}  reports={n}  concurrency={concurrency}")
    print(f"{'method':<44} {'reports/s':>10} {'vs sqlite3':>11}  notes")
    for r in results:
        ratio = r.rate / base if base else 0.0
        status = "; ".join(r.problems) if r.problems else r.note
        print(f"{r.name:<44} {r.rate:>10,.0f} {ratio:>10.2f}x  {status}")
    by_name = {r.name.split(" ")[0]: r for r in results}
    service, naive = by_name["service"], by_name["aiosqlite"]
    print(
        f"ratio service/sqlite3 = {service.rate / base:.2f} (target >= {TARGET_RATIO}); "
        f"aiosqlite/sqlite3 = {naive.rate / base:.2f}"
    )


async def main_async(args: argparse.Namespace) -> int:
    modes = ["NORMAL", "FULL"] if args.synchronous == "both" else [args.synchronous]
    subs = make_workload(args.reports, targets=args.targets)
    info = machine()
    print(f"$ {command_line()}")
    print(info.describe())
    failed = False
    with tempfile.TemporaryDirectory(prefix="vigil-bench-", dir=args.dir) as tmp:
        for mode in modes:
            results = await run_mode(
                Path(tmp), subs, args.concurrency, mode, not args.no_limit, args.repeat
            )
            print_table(mode, args.reports, args.concurrency, results)
            failed = failed or any(r.problems for r in results)
    if failed:
        print("\nCORRECTNESS FAILURE: see notes above", file=sys.stderr)
        return 1
    print("\ncorrectness: every acknowledged report stored; at most one active case per target")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storage", description=__doc__)
    parser.add_argument("--reports", type=int, default=5000, help="reports per method")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent submitters")
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL", "both"], default="both")
    parser.add_argument("--targets", type=int, default=100, help="distinct reported members")
    parser.add_argument("--no-limit", action="store_true", help="skip the writer-thread limit row")
    parser.add_argument("--dir", default=None, help="where temporary databases go")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds, methods interleaved (median shown)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny run, correctness only")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reports = min(args.reports, 200)
        args.concurrency = min(args.concurrency, 16)
        args.repeat = 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
