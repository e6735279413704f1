"""How long `/reports stats` takes to compute on a year of data (SQLite).

    python -m benchmarks.stats [--size 1000000] [--runs 5] [--smoke]

A database is filled by `benchmarks.growth.prefill` (same schema and pragmas as the bot; a
year of reports over many guilds, most attached to closed cases), then given case events
(an acknowledgement some minutes after each case opened and a resolution at its close) and a
5 % share of reports that did not count. Then `StatsRepository.for_guild` runs through
`SqliteStore.read`, exactly as the command will, for the busiest guild over 30 and 365 days.
Then every report and case is moved into one guild (a single huge community: the worst case
for one guild's figures) and the same is measured again. It prints the median of `--runs`
runs and the query plans. `--smoke` uses a tiny size and fails only when a figure disagrees
with a direct count, never on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import command_line, create_schema_sync, machine
from benchmarks.growth import NOW, prefill
from core.ports import UnitOfWork
from core.stats import GuildStats, StatsPeriod, period_for
from storage.codec import to_db
from storage.sqlite import SqliteStore
from storage.stats import DEFAULT_TIMING_LIMIT

ONE_GUILD = 4242


def read_stats(
    guild_id: int, period: StatsPeriod
) -> Callable[[UnitOfWork], Coroutine[Any, Any, GuildStats]]:
    """The stats read for one server and period, as a store's `read` takes it."""

    async def read(tx: UnitOfWork) -> GuildStats:
        return await tx.stats.for_guild(guild_id, period)

    return read


def add_events(path: Path) -> int:
    """Case events and discounted reports, written in SQL (a few seconds at 1M reports)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO case_events (case_id, actor_id, action, created_at) "
            "SELECT id, 1, 'acknowledge', strftime('%Y-%m-%dT%H:%M:%f', opened_at, "
            "'+' || (1 + id % 240) || ' minutes') || '000+00:00' FROM cases"
        )
        conn.execute(
            "INSERT INTO case_events (case_id, actor_id, action, created_at) "
            "SELECT id, 1, CASE WHEN status = 'dismissed' THEN 'dismiss' ELSE 'resolve' END, "
            "closed_at FROM cases WHERE closed_at IS NOT NULL"
        )
        conn.execute("UPDATE reports SET counts_toward_threshold = 0 WHERE id % 20 = 0")
        conn.execute("COMMIT")
        return int(conn.execute("SELECT COUNT(*) FROM case_events").fetchone()[0])
    finally:
        conn.close()


def into_one_guild(path: Path) -> None:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("UPDATE reports SET guild_id = ?", (ONE_GUILD,))
        conn.execute("UPDATE cases SET guild_id = ?, number = id", (ONE_GUILD,))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def busiest_guild(path: Path) -> tuple[int, int]:
    with sqlite3.connect(str(path)) as conn:
        row = conn.execute(
            "SELECT guild_id, COUNT(*) FROM reports GROUP BY guild_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    return int(row[0]), int(row[1])


def plans(path: Path, guild_id: int) -> dict[str, str]:
    period = period_for(365, NOW)
    since, until = to_db(period.since), to_db(period.until)
    queries = {
        "reports by day": (
            "SELECT substr(created_at, 1, 10), reason, COUNT(*) FROM reports "
            "WHERE guild_id = ? AND created_at >= ? AND created_at < ? "
            "GROUP BY substr(created_at, 1, 10), reason",
            (guild_id, since, until),
        ),
        "case timings": (
            "SELECT c.urgent, (SELECT MIN(e.created_at) FROM case_events e "
            "WHERE e.case_id = c.id AND e.action <> 'note') FROM cases c "
            "WHERE c.guild_id = ? AND c.opened_at >= ? AND c.opened_at < ? "
            "ORDER BY c.opened_at DESC LIMIT 20001",
            (guild_id, since, until),
        ),
    }
    out = {}
    with sqlite3.connect(str(path)) as conn:
        for name, (sql, params) in queries.items():
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            out[name] = " / ".join(str(r[-1]) for r in rows)
    return out


def check(path: Path, guild_id: int, days: int, stats: GuildStats) -> list[str]:
    """The figures against direct counts (correctness, also in --smoke)."""
    period = period_for(days, NOW)
    since, until = to_db(period.since), to_db(period.until)
    with sqlite3.connect(str(path)) as conn:
        reports, discounted = conn.execute(
            "SELECT COUNT(*), SUM(1 - counts_toward_threshold) FROM reports "
            "WHERE guild_id = ? AND created_at >= ? AND created_at < ?",
            (guild_id, since, until),
        ).fetchone()
        opened = conn.execute(
            "SELECT COUNT(*) FROM cases WHERE guild_id = ? AND opened_at >= ? AND opened_at < ?",
            (guild_id, since, until),
        ).fetchone()[0]
    problems = []
    if stats.reports_total != reports:
        problems.append(f"{days} days: {stats.reports_total} reports, expected {reports}")
    if stats.reports_not_counted != (discounted or 0):
        problems.append(f"{days} days: not counted {stats.reports_not_counted} != {discounted}")
    if stats.cases_opened != opened:
        problems.append(f"{days} days: {stats.cases_opened} cases opened, expected {opened}")
    if opened and stats.urgent.cases_opened + stats.normal.cases_opened != min(
        opened, DEFAULT_TIMING_LIMIT
    ):
        problems.append(f"{days} days: timings cover the wrong cases")
    return problems


async def measure(path: Path, guild_id: int, runs: int) -> dict[int, tuple[float, GuildStats]]:
    store = await SqliteStore.open(path, synchronous="NORMAL")
    out: dict[int, tuple[float, GuildStats]] = {}
    try:
        for days in (30, 365):
            period = period_for(days, NOW)
            timings = []
            stats: GuildStats | None = None
            for _ in range(runs):
                start = time.perf_counter()
                stats = await store.read(read_stats(guild_id, period))
                timings.append(time.perf_counter() - start)
            assert stats is not None
            out[days] = (statistics.median(timings), stats)
    finally:
        await store.close()
    return out


def report(label: str, path: Path, guild_id: int, runs: int) -> list[str]:
    results = asyncio.run(measure(path, guild_id, runs))
    problems: list[str] = []
    for days, (seconds, stats) in results.items():
        print(
            f"  {label}, {days:>3} days: {seconds * 1000:8.1f} ms median of {runs} "
            f"({stats.reports_total:,} reports, {stats.cases_opened:,} cases opened"
            f"{', timings truncated' if stats.timings_truncated else ''})",
            flush=True,
        )
        problems += check(path, guild_id, days, stats)
    for name, plan in plans(path, guild_id).items():
        print(f"    plan, {name}: {plan}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stats", description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="stored reports")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per period")
    parser.add_argument("--dir", default=None, help="where the temporary database goes")
    parser.add_argument("--smoke", action="store_true", help="tiny size, correctness only")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.runs = 3000, 1

    print(f"$ {command_line()}")
    print(machine().describe())
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vigil-stats-", dir=args.dir) as tmp:
        path = Path(tmp) / "stats.db"
        create_schema_sync(path, "NORMAL")
        start = time.perf_counter()
        shape = prefill(path, args.size)
        events = add_events(path)
        print(
            f"  filled {args.size:,} reports ({shape.guilds} guilds), {events:,} case events "
            f"in {time.perf_counter() - start:.1f}s",
            flush=True,
        )
        guild_id, count = busiest_guild(path)
        problems += report(
            f"busiest of {shape.guilds} guilds ({count:,} reports)", path, guild_id, args.runs
        )
        into_one_guild(path)
        problems += report(f"one guild ({args.size:,} reports)", path, ONE_GUILD, args.runs)
    if problems:
        print("CORRECTNESS FAILURE: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("correctness: every figure matches a direct count")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
