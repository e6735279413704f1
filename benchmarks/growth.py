"""How one report's tally and decision scale with the number of stored reports.

    python -m benchmarks.growth [--sizes 1000,100000,1000000] [--submits 500] [--smoke]

For each size N: a database is created by `SqliteStore.open` (same migrations and pragmas)
and pre-filled with N reports by `sqlite3.executemany` straight into the schema: many guilds,
a skewed spread of targets and reporters, a year of history with most reports older than
the 24 h window, old reports mostly attached to closed cases, a few targets with an active
case. Then a fresh child process (the "bot": only Vigil's code and the store) opens it and
times `ReportService.submit` one at a time, each about a distinct existing target by a
distinct existing reporter, after a short warm-up; it reports the median and p95, the same
reads done directly with sqlite3 (the SQL part alone), and its peak RSS (ru_maxrss).
`--smoke` uses tiny sizes and fails only on a correctness problem, never on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import (
    INSERT_REPORT_SQL,
    REASON_WEIGHTS,
    command_line,
    create_schema_sync,
    details_text,
    guild_ids,
    machine,
    quantile,
    snowflake,
    verify_database,
)
from core.models import ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal
from core.reasons import Reason
from core.service import ReportAccepted, ReportService
from storage.codec import to_db
from storage.sqlite import SqliteStore
from tests.fakes import FakeClock

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HISTORY = timedelta(days=365)
RECENT_SHARE = 0.01  # reports inside the last 24 h
ATTACHED_SHARE = 0.85  # old reports that ended up in a (now closed) case
ACTIVE_TARGETS = 0.002  # targets whose recent reports sit in an open case
TARGET_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class Shape:
    guilds: int
    targets: int
    reporters: int

    @classmethod
    def for_size(cls, n: int) -> Shape:
        return cls(
            guilds=max(5, min(200, n // 5000)),
            targets=max(1000, n // 20),
            reporters=max(1000, n // 4),
        )


def target_id(t: int) -> int:
    return snowflake(2_000_000 + t)


def reporter_id(r: int) -> int:
    return snowflake(10_000_000 + r)


class Skewed:
    """Draws ids 0..count-1 with a Zipf-like skew; the popular ids are scattered."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self._cum = list(itertools.accumulate(1.0 / (1 + rank) ** 0.9 for rank in range(count)))
        self._ids = list(range(count))
        rng.shuffle(self._ids)
        self._rng = rng

    def draw(self) -> int:
        rank = bisect.bisect(self._cum, self._rng.random() * self._cum[-1])
        return self._ids[min(rank, len(self._ids) - 1)]


def prefill(path: Path, n: int, seed: int = 7) -> Shape:
    """Write `n` reports (and their cases) into a migrated, empty database, quickly."""
    shape = Shape.for_size(n)
    rng = random.Random(seed)
    gids = guild_ids(shape.guilds)
    targets, reporters = Skewed(shape.targets, rng), Skewed(shape.reporters, rng)
    reasons = [r.value for r in REASON_WEIGHTS]
    reason_cum = list(itertools.accumulate(REASON_WEIGHTS.values()))
    sources = [s.value for s in ReportSource]
    details_pool = [details_text(rng) for _ in range(400)]
    active = {t for t in range(shape.targets) if rng.random() < ACTIVE_TARGETS}

    cases: dict[tuple[int, int], int] = {}  # (target, bucket) -> case id
    case_rows: list[tuple[Any, ...]] = []
    numbers: dict[int, int] = {}
    recent_start = NOW - timedelta(hours=23)
    old_n = n - int(n * RECENT_SHARE)

    def case_for(t: int, bucket: int, when: datetime, status: str) -> int:
        key = (t, bucket)
        found = cases.get(key)
        if found is not None:
            return found
        gid = gids[t % shape.guilds]
        numbers[gid] = numbers.get(gid, 0) + 1
        case_id = len(case_rows) + 1
        closed = None if status == "open" else to_db(when + timedelta(hours=6))
        case_rows.append(
            (
                case_id,
                gid,
                numbers[gid],
                target_id(t),
                f"target_{t}",
                1,
                status,
                int(rng.random() < 0.05),
                to_db(when),
                closed,
                2 if status == "open" else 1,
                0 if status == "open" else 1,
            )
        )
        cases[key] = case_id
        return case_id

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(n):
            if i < old_n:
                when = NOW - HISTORY + (HISTORY - timedelta(days=1)) * (i / max(1, old_n))
            else:
                when = recent_start + timedelta(hours=22) * ((i - old_n) / max(1, n - old_n))
            t, r = targets.draw(), reporters.draw()
            gid = gids[t % shape.guilds]
            case_id: int | None = None
            if i < old_n and rng.random() < ATTACHED_SHARE:
                bucket = int((when - (NOW - HISTORY)) / timedelta(days=30))
                case_id = case_for(t, bucket, when, rng.choice(("resolved", "dismissed")))
            elif i >= old_n and t in active:
                case_id = case_for(t, -1, recent_start, "open")
            reason = reasons[bisect.bisect(reason_cum, rng.random() * reason_cum[-1])]
            link = None
            if rng.random() < 0.4:
                channel, message = snowflake(500 + t % 50), snowflake(i, when)
                link = (f"https://discord.com/channels/{gid}/{channel}/{message}", channel, message)
            yield (
                gid,
                reporter_id(r),
                f"member_{r}",
                "2024-01-01T00:00:00.000000+00:00",
                target_id(t),
                f"target_{t}",
                reason,
                sources[i % len(sources)],
                details_pool[i % len(details_pool)],
                link[0] if link else None,
                link[1] if link else None,
                link[2] if link else None,
                to_db(when),
                case_id,
            )

    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        # Bulk load only: the bot's own pragmas apply again when SqliteStore reopens it.
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("BEGIN")
        conn.executemany(INSERT_REPORT_SQL, rows())
        conn.executemany(
            "INSERT INTO cases (id, guild_id, number, target_id, target_name, target_is_member, "
            "status, urgent, opened_at, closed_at, alert_revision, alert_posted_revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            case_rows,
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return shape


# --- the measured "bot" process ---------------------------------------------------------------

TALLY_READS = (
    (
        "rate limit",
        "SELECT COUNT(*) FROM reports WHERE guild_id = ? AND reporter_id = ? AND created_at >= ?",
    ),
    (
        "active case",
        "SELECT id FROM cases WHERE guild_id = ? AND target_id = ? "
        "AND status IN ('open', 'acknowledged')",
    ),
    (
        "tally",
        "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE guild_id = ? AND target_id = ? "
        "AND case_id IS NULL AND counts_toward_threshold = 1 AND created_at >= ?",
    ),
)


def peak_rss_mib() -> float:
    """This process's peak resident set. /proc's VmHWM restarts at exec; ru_maxrss on Linux
    carries over the parent's peak (here: the bulk fill), so it is only the fallback."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(
    path: Path, n: int, submits: int, warmup: int, round_no: int = 0
) -> dict[str, Any]:
    shape = Shape.for_size(n)
    gids = guild_ids(shape.guilds)
    rng = random.Random(99 + round_no)
    with sqlite3.connect(str(path)) as before:
        stored_before = before.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    picks_t = rng.sample(range(shape.targets), min(shape.targets, submits + warmup))
    picks_r = rng.sample(range(shape.reporters), min(shape.reporters, submits + warmup))
    clock = FakeClock(NOW + timedelta(hours=round_no))
    store = await SqliteStore.open(path, synchronous="NORMAL")
    service = ReportService(store, clock)
    timings: list[float] = []
    acked: dict[int, int] = {}
    problems: list[str] = []
    opened = 0
    reasons = list(Reason)
    try:
        for k, (t, r) in enumerate(zip(picks_t, picks_r, strict=False)):
            sub = ReportSubmission(
                guild_id=gids[t % shape.guilds],
                reporter=UserSnapshot(id=reporter_id(r), name=f"member_{r}"),
                target=UserSnapshot(id=target_id(t), name=f"target_{t}"),
                reason=reasons[k % len(reasons)],
                source=ReportSource.SLASH,
                details="they keep sending me insults in DMs after I muted them",
            )
            clock.advance(timedelta(seconds=1))
            start = time.perf_counter()
            outcome = await service.submit(sub)
            elapsed = time.perf_counter() - start
            if isinstance(outcome, Refusal):
                problems.append(f"unexpected refusal {outcome.code}")
                continue
            assert isinstance(outcome, ReportAccepted)
            acked[outcome.report_id] = sub.reporter.id
            opened += outcome.case_opened
            if k >= warmup:
                timings.append(elapsed)
    finally:
        await store.close()
    maxrss_mib = peak_rss_mib()

    # The same reads with no event loop and no thread in between: the SQL's own cost.
    conn = sqlite3.connect(str(path))
    sql_times: list[float] = []
    since = to_db(NOW - timedelta(hours=24))
    for t, r in zip(picks_t[warmup:], picks_r[warmup:], strict=False):
        gid, tid, rid = gids[t % shape.guilds], target_id(t), reporter_id(r)
        start = time.perf_counter()
        conn.execute(TALLY_READS[0][1], (gid, rid, since)).fetchone()
        conn.execute(TALLY_READS[1][1], (gid, tid)).fetchone()
        conn.execute(TALLY_READS[2][1], (gid, tid, since)).fetchone()
        sql_times.append(time.perf_counter() - start)
    plans = {
        name: " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        for (name, sql), params in zip(
            TALLY_READS,
            ((gids[0], 1, since), (gids[0], 1), (gids[0], 1, since)),
            strict=True,
        )
    }
    stored = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    conn.close()
    problems += verify_database(path, acked, expected_rows=stored_before + len(acked))
    return {
        "n": n,
        "stored": stored,
        "submits": len(timings),
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": quantile(timings, 0.95) * 1000,
        "sql_median_us": statistics.median(sql_times) * 1e6,
        "sql_p95_us": quantile(sql_times, 0.95) * 1e6,
        "cases_opened": opened,
        "maxrss_mib": maxrss_mib,
        "db_mib": sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20,
        "plans": plans,
        "problems": problems,
    }


def run_child(path: Path, n: int, submits: int, warmup: int, round_no: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.growth",
            "--measure",
            str(path),
            "--sizes",
            str(n),
            "--submits",
            str(submits),
            "--warmup",
            str(warmup),
            "--round",
            str(round_no),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over rounds for times (each round is a fresh process), maximum for memory."""
    out = dict(rounds[-1])
    for key in ("median_ms", "p95_ms", "sql_median_us", "sql_p95_us"):
        out[key] = statistics.median(r[key] for r in rounds)
    out["maxrss_mib"] = max(r["maxrss_mib"] for r in rounds)
    out["round_medians_ms"] = [round(r["median_ms"], 2) for r in rounds]
    out["problems"] = [p for r in rounds for p in r["problems"]]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--submits", type=int, default=500, help="timed submits per size")
    parser.add_argument("--warmup", type=int, default=50, help="untimed submits first")
    parser.add_argument("--dir", default=None, help="where temporary databases go")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, correctness only")
    parser.add_argument("--rounds", type=int, default=3, help="fresh bot processes per size")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.measure:
        result = asyncio.run(
            measure(Path(args.measure), sizes[0], args.submits, args.warmup, args.round)
        )
        print(json.dumps(result))
        return 0
    if args.smoke:
        sizes, args.submits, args.warmup, args.rounds = [1000, 5000], 50, 10, 1

    print(f"$ {command_line()}")
    print(machine().describe())
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vigil-growth-", dir=args.dir) as tmp:
        for n in sizes:
            path = Path(tmp) / f"growth-{n}.db"
            create_schema_sync(path, "NORMAL")
            start = time.perf_counter()
            shape = prefill(path, n)
            fill_s = time.perf_counter() - start
            rounds = [run_child(path, n, args.submits, args.warmup, k) for k in range(args.rounds)]
            result = combine(rounds)
            result["fill_s"] = fill_s
            result["shape"] = shape
            results.append(result)
            print(
                f"  filled {n:,} reports ({shape.guilds} guilds, {shape.targets:,} targets, "
                f"{shape.reporters:,} reporters) in {fill_s:.1f}s; db {result['db_mib']:.0f} MiB",
                flush=True,
            )

    print(
        f"\n{'stored':>10} {'submit median':>14} {'submit p95':>11} {'SQL median':>11} "
        f"{'SQL p95':>9} {'peak RSS':>9}"
    )
    for r in results:
        print(
            f"{r['n']:>10,} {r['median_ms']:>11.2f} ms {r['p95_ms']:>8.2f} ms "
            f"{r['sql_median_us']:>8.0f} us {r['sql_p95_us']:>6.0f} us {r['maxrss_mib']:>5.0f} MiB"
            f"   rounds {r['round_medians_ms']}"
        )
    first, last = results[0], results[-1]
    ratio = last["median_ms"] / first["median_ms"]
    sql_ratio = last["sql_median_us"] / first["sql_median_us"]
    print(
        f"ratio {last['n']:,}/{first['n']:,}: submit median {ratio:.2f}x "
        f"(target <= {TARGET_RATIO}x), SQL median {sql_ratio:.2f}x"
    )
    print("query plans at the largest size:")
    for name, plan in last["plans"].items():
        print(f"  {name}: {plan}")
    problems = [p for r in results for p in r["problems"]]
    if problems:
        print("CORRECTNESS FAILURE: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("correctness: every acknowledged report stored; at most one active case per target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
