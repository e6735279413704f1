"""PostgreSQL's storage path alone: N `ReportService.submit` at once on a `PostgresStore`.

    .venv/bin/python -m benchmarks.pg_round_trips 1000

No Discord, no emulator: what the store costs a report. Prints the wall time, p50/p99 per
submit, the client's CPU per report, the server CPU of the pool's backends per report, and
round trips per report (asyncpg's calls, counted by wrapping them), then checks that every
accepted report is stored and every case's kept count matches its reports. A probe for
comparing branches (issue 19's group commit: 6.7 round trips a report -> 0.21), not a
benchmark with a target; needs a local server (`$VIGIL_TEST_POSTGRES_URL` or 127.0.0.1:5432)."""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from benchmarks._common import POSTGRES_ADMIN_URL, make_workload
from core.clock import SystemClock
from core.models import ReportSubmission
from core.service import ReportAccepted, ReportOutcome, ReportService
from storage.postgres import PostgresStore

CALLS = {"n": 0}


def count(cls: type, name: str) -> None:
    original = getattr(cls, name)

    async def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CALLS["n"] += 1
        return await original(self, *args, **kwargs)

    setattr(cls, name, wrapper)


for method in ("fetch", "fetchrow", "fetchval", "execute"):
    count(asyncpg.connection.Connection, method)
count(asyncpg.transaction.Transaction, "start")
count(asyncpg.transaction.Transaction, "commit")
count(asyncpg.transaction.Transaction, "rollback")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main(n: int) -> None:
    name = f"vigil_probe_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        url = with_database(POSTGRES_ADMIN_URL, name)
        store = await PostgresStore.open(url)
        service = ReportService(store, SystemClock())
        subs = make_workload(n, seed=7)
        pids = [
            r[0]
            for r in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
        ]
        CALLS["n"] = 0
        c0, s0 = self_cpu(), sum(proc_cpu(p) for p in pids)
        t0 = time.perf_counter()
        times: list[float] = []

        async def one(sub: ReportSubmission) -> ReportOutcome:
            out = await service.submit(sub)
            times.append(time.perf_counter() - t0)
            return out

        outs = await asyncio.gather(*(one(s) for s in subs))
        wall = time.perf_counter() - t0
        pids = [
            r[0]
            for r in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
        ]
        c1, s1 = self_cpu(), sum(proc_cpu(p) for p in pids)
        trips = CALLS["n"]
        times.sort()
        acc = sum(isinstance(o, ReportAccepted) for o in outs)
        conn = await asyncpg.connect(url)
        rows = await conn.fetchval("SELECT COUNT(*) FROM reports")
        cases = await conn.fetchval("SELECT COUNT(*) FROM cases")
        bad = await conn.fetchval(
            "SELECT COUNT(*) FROM cases c WHERE counted_reporters <> (SELECT COUNT(DISTINCT "
            "reporter_id) FROM reports r WHERE r.case_id = c.id AND counts_toward_threshold = 1)"
        )
        await conn.close()
        print(
            f"n={n} wall {wall * 1000:.0f} ms ({n / wall:.0f}/s) p50 {times[n // 2] * 1000:.0f} "
            f"p99 {times[int(n * 0.99)] * 1000:.0f} ms "
            f"| client CPU {1000 * (c1 - c0) / n:.2f} ms/report "
            f"| server CPU (pool backends) {1000 * (s1 - s0) / n:.2f} ms/report | round trips "
            f"{trips / n:.2f}/report | accepted {acc} stored {rows} cases {cases} bad counts {bad} "
            f"| batches {getattr(store, 'batches', '-')} "
            f"fallbacks {getattr(store, 'fallbacks', '-')}"
        )
        await store.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
