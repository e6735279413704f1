"""Report storms through the Discord emulator against the real `bot.py`, beside a floor bot.

    python -m benchmarks.storm [--scenario raid|wall|capacity|all] [--reports 1000]
                               [--targets 100] [--rates 200,400,...] [--step-seconds 3]
                               [--repeat N] [--validate 20] [--profile OUT.txt]
                               [--backend sqlite|postgresql] [--shards N]
                               [--postgres-url URL] [--gc-stats] [--keep] [--dir DIR]
                               [--smoke]

Each run starts a fresh emulator (`emulator`) whose default world gains one member per
reporter and per target (old accounts, joined a year ago), fresh bot subprocesses
(`LOG_LEVEL=WARNING`; Vigil on a temporary SQLite database, or with `--backend postgresql` on
a throwaway database created on the local server and dropped afterwards), and for Vigil runs
`/reports setup alert_channel:#mod-alerts` (threshold 3) as the owner. `--shards N` runs N
processes of each bot, one shard each (`SHARD_COUNT`/`SHARD_IDS`), on one database; the guild
is handed to every shard and the interactions go to the shards in turn, so the processes race
on every case. Both bots are past discord.py's on_ready (2 s after the last GUILD_CREATE)
before the storm. All INTERACTION_CREATE payloads (`/report member reason [details]
[message_link]`, one distinct reporter each) are built before the clock starts, then
dispatched:

* raid: N reports, Poisson arrivals (exponential gaps, mean 10 ms, fixed seed);
* wall: N reports dispatched back to back at once (the dispatch loop's own time is printed);
* capacity: Poisson arrivals at rising rates, `--step-seconds` each, fresh bot and database
  per step; the highest rate whose p99 stays under 1 s with nothing lost.

Two latencies, both the emulator's clock from INTERACTION_CREATE dispatch: the bot's first
callback (what Discord's 3-second window needs), and the confirmation (the message saying the
report was stored: the callback itself when it carried the answer, else the first follow-up
after the deferral). Each storm also runs against `benchmarks/floor_bot.py` (same discord.py
stack, same `/report` signature, answers at once, stores nothing) in the same process, and
the two are printed side by side. CPU seconds are read from /proc/<pid>/stat for the bot
processes (and, on PostgreSQL, every `postgres` process of the machine) and from getrusage for
this process (emulator + driver), over the storm window (first dispatch to alerts settled).

The emulator is used unchanged except for three benchmark-side settings (see README): a
listen backlog of 4,096 (`StormEmulator`), only the first `--validate` bodies per route
validated against the spec (`SampledSpec`, after the storm; the smoke validates all, at once),
and its world and the pre-built payloads frozen out of the garbage collector during the storm.

After every Vigil run, once the outbox has settled: every acknowledged report is stored,
exactly one case per expected target (a target expects a case with >= 3 distinct reporters or
one critical report), `#mod-alerts` holds exactly one alert per case (each case number once)
and at most one urgent ping per case (a reply to its alert), and every answered report was
confirmed. `--smoke` runs a tiny wall and raid (SQLite, with the floor; then, when a
PostgreSQL server answers, Vigil alone on PostgreSQL in one and in two processes) and exits 1
on any correctness failure, never on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import gc
import json
import logging
import math
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks._common import (
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    db_rows,
    details_text,
    drop_postgres_database,
    machine,
    postgres_available,
    postgres_cpu,
    quantile,
)
from core.reasons import Reason
from emulator import BotProcess, Emulator, Member, User, World, build_default_world
from emulator.gateway import GatewaySession
from emulator.interactions import InteractionRecord
from emulator.recording import Violation
from emulator.server import API_PREFIX
from emulator.spec import Spec, load_spec
from tests.dbquery import query
from tests.e2e.conftest import alert_text

REPO_ROOT = Path(__file__).resolve().parents[1]
FLOOR_BOT = Path(__file__).resolve().parent / "floor_bot.py"
VIGIL_BOT = REPO_ROOT / "bot.py"
GC_PROBE = Path(__file__).resolve().parent / "gc_probe.py"

THRESHOLD = 3  # `/reports setup` default
RAID_TARGET_P99 = 0.050
WALL_TARGET_MAX = 1.500
CAPACITY_P99 = 1.0
CAPACITY_TARGET = 800.0
WALL_FLOOR_RATIO = 1.15
WALL_CONFIRM_P99 = 1.500  # the message saying the report was stored
BACKLOG = 4096
READY_AFTER = 2.5  # seconds after the gateway's GUILD_CREATEs: past discord.py's on_ready
DEFAULT_RATES = (200, 400, 600, 800, 1000, 1200, 1500)

# Mostly the everyday reasons, a few % child safety so some cases open on the first report.
REASON_WEIGHTS: dict[Reason, float] = {
    Reason.HARASSMENT: 30,
    Reason.SPAM: 22,
    Reason.SCAM: 14,
    Reason.HATE: 12,
    Reason.OTHER: 18,
    Reason.CHILD_SAFETY: 4,
}
CASE_NUMBER = re.compile(r"Case #(\d+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")

log = logging.getLogger("storm")

Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


# ------------------------------------------------------------------------------ the workload
@dataclass(frozen=True, slots=True)
class PlannedReport:
    reporter: int  # index into the reporters
    target: int  # index into the targets
    reason: Reason
    details: str | None
    with_link: bool


@dataclass(frozen=True, slots=True)
class Plan:
    reports: list[PlannedReport]
    targets: int
    offsets: list[float] | None  # seconds after the start; None = all at once (a wall)

    @property
    def expected_cases(self) -> set[int]:
        """Targets that must get a case: >= THRESHOLD distinct reporters or any critical."""
        reporters: dict[int, set[int]] = {}
        critical: set[int] = set()
        for r in self.reports:
            reporters.setdefault(r.target, set()).add(r.reporter)
            if r.reason.is_critical:
                critical.add(r.target)
        return {t for t, who in reporters.items() if len(who) >= THRESHOLD} | critical


def make_plan(n: int, targets: int, *, seed: int, rate: float | None) -> Plan:
    """`n` reports by `n` distinct reporters; every target gets >= THRESHOLD of them (the rest
    skewed towards a few targets), shuffled; Poisson offsets at `rate`/s, or None."""
    if n < THRESHOLD * targets:
        raise SystemExit(f"--reports must be >= {THRESHOLD} x --targets so every target alerts")
    rng = random.Random(seed)
    target_of = [t for t in range(targets) for _ in range(THRESHOLD)]
    weights = [1.0 / (1 + rank) ** 0.8 for rank in range(targets)]
    target_of += rng.choices(range(targets), weights, k=n - len(target_of))
    rng.shuffle(target_of)
    reasons = list(REASON_WEIGHTS)
    reason_weights = list(REASON_WEIGHTS.values())
    reports = [
        PlannedReport(
            reporter=i,
            target=t,
            reason=rng.choices(reasons, reason_weights)[0],
            details=details_text(rng),
            with_link=rng.random() < 0.3,
        )
        for i, t in enumerate(target_of)
    ]
    offsets: list[float] | None = None
    if rate is not None:
        offsets, clock = [], 0.0
        for _ in range(n):
            clock += rng.expovariate(rate)
            offsets.append(clock)
    return Plan(reports, targets, offsets)


@dataclass(slots=True)
class Cast:
    reporters: list[User]
    targets: list[User]


def storm_world(reporters: int, targets: int) -> tuple[World, Cast]:
    """The default world plus `reporters` + `targets` ordinary members of Harbour."""
    world = build_default_world()
    guild = world.guild_a
    now = datetime.now(UTC)

    def add(name: str, age_days: float) -> User:
        user = User(id=world.ids.at(now - timedelta(days=age_days)), username=name)
        world.users[name] = user
        guild.members[user.id] = Member(
            user=user, guild_id=guild.id, roles=[], joined_at=now - timedelta(days=365)
        )
        return user

    cast = Cast(
        reporters=[add(f"reporter{i:05d}", 700 + i % 900) for i in range(reporters)],
        targets=[add(f"target{i:03d}", 500 + i) for i in range(targets)],
    )
    return world, cast


def build_payloads(emu: Emulator, cast: Cast, plan: Plan) -> list[dict[str, Any]]:
    general = emu.world.guild_a.channel("general")
    guild_id = emu.world.guild_a.id
    payloads = []
    for i, r in enumerate(plan.reports):
        options: dict[str, Any] = {"member": cast.targets[r.target], "reason": r.reason.value}
        if r.details is not None:
            options["details"] = r.details
        if r.with_link:
            message_id = emu.world.ids.now()
            options["message_link"] = (
                f"https://discord.com/channels/{guild_id}/{general.id}/{message_id + i}"
            )
        payloads.append(emu.build.slash("report", user=cast.reporters[r.reporter], options=options))
    return payloads


class SampledSpec(Spec):
    """The emulator's spec, validating only the first `per_route` bodies of each route.

    Full validation (jsonschema over Discord's unions) costs the emulator 1-5 ms per request,
    which at hundreds of interactions per second makes the emulator, not the bot, the
    bottleneck. The first bodies of every route are still validated (and violations still
    counted); the smoke and the e2e tests validate everything.
    """

    def __init__(self, inner: Spec, per_route: int) -> None:
        self.__dict__.update(inner.__dict__)  # share the parsed document and validators
        self.per_route = per_route
        self.seen: Counter[tuple[str, str]] = Counter()
        # While a storm runs, sampled bodies are kept and validated after it (`flush`): the
        # 1-5 ms a validation costs would otherwise land inside the measured window, and more
        # often for Vigil (three routes: callback, follow-up, alert) than for the floor (one).
        self.deferring = False
        self._deferred: list[tuple[str, str, Any, str]] = []

    def validate_body(
        self, method: str, template: str, body: Any, content_type: str = "application/json"
    ) -> str | None:
        key = (method, template)
        self.seen[key] += 1
        if self.per_route >= 0 and self.seen[key] > self.per_route:
            return None
        if self.deferring:
            # A copy: the emulator may keep parts of a body in a message it edits later.
            self._deferred.append((method, template, copy.deepcopy(body), content_type))
            return None
        return super().validate_body(method, template, body, content_type)

    def flush(self) -> list[Violation]:
        """Validate the bodies kept during the storm; the violations they show."""
        self.deferring = False
        found: list[Violation] = []
        for method, template, body, content_type in self._deferred:
            error = Spec.validate_body(self, method, template, body, content_type)
            if error:
                found.append(Violation(method, template, template, error))
        self._deferred.clear()
        return found


class StormEmulator(Emulator):
    """The emulator with a listen backlog of `BACKLOG` instead of aiohttp's 128.

    discord.py's connector has no connection limit, so a wall opens ~1,000 connections for
    its callbacks at once; with a 128 backlog the kernel drops SYNs and the client retries
    after 1 s and 3 s, which would measure the emulator's socket, not the bot (Discord's edge
    does not drop them).
    """

    async def start(self) -> StormEmulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/", self.gateway.handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=BACKLOG)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self


# ------------------------------------------------------------------------------ measuring
def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return math.nan
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def steal_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs from /proc/stat: the VM's stolen time."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class RunResult:
    bot: str  # "vigil" or "floor"
    scenario: str
    rate: float | None
    sent: int
    latencies: list[float]  # sorted, seconds, answered interactions only
    # Sorted seconds from dispatch to the message saying the report was stored: the first
    # callback when it carried the answer, else the first follow-up after the deferral.
    confirmations: list[float]
    dispatch_seconds: float
    dispatch_lag_max: float
    storm_seconds: float
    bot_cpu: float
    emu_cpu: float
    pg_cpu: float | None = None  # the PostgreSQL server's processes (all of its backends)
    steal: float = 0.0  # share of all CPU time the hypervisor stole during the storm
    deferred: int = 0
    unanswered: int = 0
    stored: int | None = None
    cases: int | None = None
    expected_alerts: int | None = None
    alerts: int | None = None
    alert_posts: int | None = None
    alert_edits: int | None = None
    pings: int | None = None  # urgent pings: replies to an alert whose case turned urgent
    settle_seconds: float | None = None
    violations: int = 0
    gc: dict[str, dict[str, float]] | None = None
    problems: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # never acceptable, not even past a knee

    def q(self, p: float) -> float:
        return quantile(self.latencies, p)

    @property
    def p99(self) -> float:
        return self.q(0.99)

    @property
    def max(self) -> float:
        return self.latencies[-1] if self.latencies else math.nan

    @property
    def ok(self) -> bool:
        return not self.problems and not self.broken

    def confirmed(self, p: float) -> float:
        return quantile(self.confirmations, p)


async def fire(
    emu: Emulator,
    payloads: list[dict[str, Any]],
    offsets: list[float] | None,
    sessions: Sequence[GatewaySession] = (),
) -> tuple[list[InteractionRecord], float, float]:
    """Dispatch every payload (at its offset, or all at once); return records, dispatch time
    and the worst lag behind the schedule. With `sessions` (several shard processes), the
    payloads go to them in turn instead of to the guild's own shard."""
    loop = asyncio.get_running_loop()
    records: list[InteractionRecord] = []
    lag = 0.0
    start = loop.time()

    async def send(i: int, payload: dict[str, Any]) -> InteractionRecord:
        if not sessions:
            return await emu.dispatch_interaction(payload)
        record = emu.interactions.register(payload)
        session = sessions[i % len(sessions)]
        await session.dispatch("INTERACTION_CREATE", payload, emu.world.bot_user.id)
        return record

    if offsets is None:
        for i, payload in enumerate(payloads):
            records.append(await send(i, payload))
    else:
        for i, (offset, payload) in enumerate(zip(offsets, payloads, strict=True)):
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = max(lag, -delay)
            records.append(await send(i, payload))
    return records, loop.time() - start, lag


async def wait_answers(records: list[InteractionRecord], within: float) -> None:
    pending = [r.callback for r in records if not r.callback.done()]
    if pending:
        await asyncio.wait([asyncio.shield(f) for f in pending], timeout=within)


FOLLOW_UPS = (
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
)


def confirmation_times(emu: Emulator, records: list[InteractionRecord]) -> list[float | None]:
    """Per record, when the message saying the report was stored reached the emulator: its
    callback if that carried the answer (type 4), else the first follow-up or edit of the
    deferred reply; None if it never came."""
    first: dict[str, float] = {}
    for request in emu.requests:
        if (request.method, request.template) in FOLLOW_UPS:
            first.setdefault(request.params.get("webhook_token", ""), request.timestamp)
    return [r.callback_at if r.callback_type == 4 else first.get(r.token) for r in records]


async def wait_confirmations(
    emu: Emulator, records: list[InteractionRecord], within: float
) -> None:
    """Until every answered interaction has its confirmation (or `within` seconds passed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        times = confirmation_times(emu, records)
        if all(t is not None for r, t in zip(records, times, strict=True) if r.acknowledged):
            return
        await asyncio.sleep(0.05)


async def settle(emu: Emulator, db: Query, expected_alerts: int, limit: float = 60.0) -> float:
    """Wait until no case is behind in the outbox and the alert count stops moving."""
    channel = emu.world.guild_a.channel("mod-alerts")
    start = time.monotonic()
    stable_since: float | None = None
    last = (-1, -1)
    while time.monotonic() - start < limit:
        pending = db(
            "SELECT COUNT(*) FROM cases WHERE alert_posted_revision < alert_revision "
            "OR ping_sent < ping_wanted",
            (),
        )[0][0]
        alerts, _pings = split_alerts(emu.channel_messages(channel.id))
        state = (len(alerts), int(pending))
        if state == (expected_alerts, 0) and state == last:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 0.5:  # late duplicates would show by now
                break
        else:
            stable_since = None
        last = state
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def split_alerts(
    messages: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """#mod-alerts' messages as (alerts, pings). An alert is an embed; a ping is the reply to
    an alert that mentions the moderator role when its case turned urgent after the alert
    was posted (a first post's own mention notifies; an edit's does not)."""
    alerts = [m for m in messages if m.get("embeds")]
    pings = [m for m in messages if not m.get("embeds") and m.get("message_reference")]
    return alerts, pings


def verify_vigil(
    emu: Emulator, db: Query, cast: Cast, plan: Plan, records: list[InteractionRecord]
) -> tuple[dict[str, int], list[str], list[str]]:
    """Reports stored vs acknowledged, cases vs expected targets, alerts vs cases.

    Returns the counts, the problems that depend on what was answered (a capacity step past
    its knee drops interactions, so fewer targets reach the threshold), and the ones nothing
    excuses (`broken`: a lost acknowledged report, a duplicate case, alert or ping)."""
    problems: list[str] = []
    broken: list[str] = []
    guild = emu.world.guild_a
    stored = Counter(
        (int(r), int(t))
        for r, t in db("SELECT reporter_id, target_id FROM reports WHERE guild_id = ?", (guild.id,))
    )
    acked = [
        (cast.reporters[r.reporter].id, cast.targets[r.target].id)
        for r, rec in zip(plan.reports, records, strict=True)
        if rec.acknowledged
    ]
    lost = [pair for pair in acked if stored[pair] < 1]
    if lost:
        broken.append(f"{len(lost)} acknowledged reports not stored, e.g. {lost[:3]}")
    if sum(stored.values()) < len(acked):
        broken.append(f"{len(acked)} acknowledged but {sum(stored.values())} stored")
    twice = [pair for pair, count in stored.items() if count > 1]
    if twice:
        broken.append(f"{len(twice)} reports stored twice")

    target_index = {u.id: i for i, u in enumerate(cast.targets)}
    cases = db(
        "SELECT id, number, target_id, alert_message_id FROM cases WHERE guild_id = ?",
        (guild.id,),
    )
    case_targets = Counter(target_index.get(t, -1) for _, _, t, _ in cases)
    expected = plan.expected_cases
    if set(case_targets) != expected:
        missing = expected - set(case_targets)
        extra = set(case_targets) - expected
        problems.append(f"cases: {len(missing)} expected targets without, {len(extra)} unexpected")
    dupes = [t for t, c in case_targets.items() if c > 1]
    if dupes:
        broken.append(f"{len(dupes)} targets with more than one case")

    every = emu.channel_messages(guild.channel("mod-alerts").id)
    messages, pings = split_alerts(every)
    if len(messages) + len(pings) != len(every):
        broken.append(f"{len(every) - len(messages) - len(pings)} other messages in #mod-alerts")
    numbers = Counter(
        int(m.group(1)) for msg in messages if (m := CASE_NUMBER.search(alert_text(msg)))
    )
    if len(messages) != len(expected):
        problems.append(f"{len(messages)} alerts in #mod-alerts, expected {len(expected)}")
    number_of = {
        str(m["id"]): found.group(1)
        for m in messages
        if (found := CASE_NUMBER.search(alert_text(m)))
    }
    pinged = Counter(
        number_of.get(str((p.get("message_reference") or {}).get("message_id")), "?") for p in pings
    )
    if pinged["?"]:
        broken.append(f"{pinged['?']} urgent pings that do not reply to an alert")
    pinged_twice = sorted(number for number, c in pinged.items() if c > 1 and number != "?")
    if pinged_twice:  # a case turns urgent once: one ping at most (reminders come minutes later)
        broken.append(f"duplicate urgent pings for cases {pinged_twice[:5]}")
    unsent = db("SELECT COUNT(*) FROM cases WHERE ping_sent < ping_wanted", ())[0][0]
    if unsent:
        broken.append(f"{unsent} urgent pings never sent")
    repeated = [n for n, c in numbers.items() if c > 1]
    if repeated:
        broken.append(f"duplicate alerts for cases {repeated[:5]}")
    if set(numbers) != {number for _, number, _, _ in cases}:
        broken.append("alert case numbers do not match the cases in the database")
    message_ids = {int(m["id"]) for m in messages}
    unlinked = [cid for cid, _, _, mid in cases if mid is None or int(mid) not in message_ids]
    if unlinked:
        broken.append(f"{len(unlinked)} cases whose alert message is not in #mod-alerts")
    posts = [
        r
        for r in emu.requests_to("POST", "/channels/{channel_id}/messages")
        if r.params.get("channel_id") == str(guild.channel("mod-alerts").id)
        and not (isinstance(r.body, dict) and r.body.get("message_reference"))
    ]
    edits = [
        r
        for r in emu.requests_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
        if r.params.get("channel_id") == str(guild.channel("mod-alerts").id)
    ]
    counts = {
        "pings": len(pings),
        "alert_edits": len(edits),
        "stored": sum(stored.values()),
        "cases": len(cases),
        "expected_alerts": len(expected),
        "alerts": len(messages),
        "alert_posts": len(posts),
    }
    return counts, problems, broken


# ------------------------------------------------------------------------------ one storm
@dataclass(slots=True)
class Options:
    workdir: Path
    keep: bool = False
    profile: Path | None = None
    validate: int = 20  # bodies validated per route; -1 = all
    repeat: int = 1
    gc_stats: bool = False
    backend: str = "sqlite"  # or "postgresql": a throwaway database per Vigil run
    shards: int = 1  # bot processes, one shard each, sharing the database (PostgreSQL)
    postgres_admin: str = POSTGRES_ADMIN_URL
    ready_wait: bool = True  # past discord.py's on_ready before the storm (not in the smoke)

    @property
    def label(self) -> str:
        shards = f", {self.shards} shard processes" if self.shards > 1 else ""
        return f"{'PostgreSQL' if self.backend == 'postgresql' else 'SQLite'}{shards}"


def sqlite_query(path: Path) -> Query:
    return lambda sql, params: db_rows(path, sql, params)


def postgres_query(url: str) -> Query:
    return lambda sql, params: query(url, sql, params)


def session_of(emu: Emulator, shard_id: int) -> GatewaySession:
    return next(s for s in emu.gateway.live_sessions if s.shard_id == shard_id)


def merge_gc(files: list[Path]) -> dict[str, dict[str, float]] | None:
    """Several processes' GC pauses (benchmarks/gc_probe.py output) as one: counts and totals
    added, the longest pause kept."""
    merged: dict[str, dict[str, float]] = {}
    for path in files:
        if not path.exists():
            continue
        for gen, stats in json.loads(path.read_text()).items():
            into = merged.setdefault(gen, {"count": 0.0, "total_ms": 0.0, "max_ms": 0.0})
            into["count"] += stats["count"]
            into["total_ms"] += stats["total_ms"]
            into["max_ms"] = max(into["max_ms"], stats["max_ms"])
    return merged or None


async def start_profiler(pid: int, out: Path) -> asyncio.subprocess.Process:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return await asyncio.create_subprocess_exec(
        py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
        "--output", str(out), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def run_storm(
    bot: str, scenario: str, plan: Plan, opts: Options, *, profile: Path | None = None
) -> RunResult:
    world, cast = storm_world(len(plan.reports), plan.targets)
    spec = load_spec()
    emu = StormEmulator(
        world, spec=SampledSpec(spec, opts.validate) if opts.validate >= 0 else spec
    )
    await emu.start()
    run_dir = Path(tempfile.mkdtemp(prefix=f"storm-{bot}-{scenario}-", dir=opts.workdir))
    db_path = run_dir / "vigil.sqlite3"
    database_url: str | None = None
    if bot == "vigil" and opts.backend == "postgresql":
        database_url = await create_postgres_database(opts.postgres_admin, "vigil_storm")
    db = postgres_query(database_url) if database_url else sqlite_query(db_path)
    script = VIGIL_BOT if bot == "vigil" else FLOOR_BOT
    procs: list[BotProcess] = []
    gc_files: list[Path] = []
    for shard in range(opts.shards):
        env = {"LOG_LEVEL": "WARNING"}
        if database_url:
            env["DATABASE_URL"] = database_url
        if opts.shards > 1:
            env |= {"SHARD_COUNT": str(opts.shards), "SHARD_IDS": str(shard)}
        runs = script
        if opts.gc_stats:
            gc_files.append(run_dir / f"gc{shard}.json")
            env |= {"STORM_GC_TARGET": str(script), "STORM_GC_STATS": str(gc_files[-1])}
            runs = GC_PROBE
        procs.append(
            BotProcess(
                emu,
                runs,
                db_path=db_path,
                log_path=run_dir / f"bot{shard}.log",
                env=env,
                python=sys.executable,
            )
        )
    profiler: asyncio.subprocess.Process | None = None
    try:
        for proc in procs:  # one after the other: each waits for its own GUILD_CREATEs
            await proc.start()
            await proc.wait_ready(30)
        connected = time.monotonic()
        if bot == "vigil":
            setup = await emu.interact(
                emu.build.slash(
                    "reports setup", user="olivia", options={"alert_channel": "mod-alerts"}
                ),
                timeout=10,
            )
            if "set up" not in (setup.content or ""):
                raise RuntimeError(f"/reports setup failed: {setup.content!r}")
        sessions: list[GatewaySession] = []
        if opts.shards > 1:
            # Every process takes a share of the storm, about the same targets: the guild is
            # handed to every shard (as while a guild changes hands, tests/e2e/test_sharding.py)
            # and interactions go to the sessions in turn. Two processes then race on every
            # case: the worst case for "nothing lost, nothing twice".
            sessions = [session_of(emu, shard) for shard in range(opts.shards)]
            owner = (world.guild_a.id >> 22) % opts.shards
            for session in sessions:
                if session.shard_id != owner:
                    await session.dispatch(
                        "GUILD_CREATE", world.guild_a.payload(), world.bot_user.id
                    )
        payloads = build_payloads(emu, cast, plan)
        if opts.ready_wait:
            # discord.py fires on_ready `guild_ready_timeout` (2 s) after the last
            # GUILD_CREATE; Vigil does start-up work there (stores the servers' languages,
            # reconciles guilds, freezes its start-up heap out of the GC). A storm measured
            # before that would measure a bot still starting, so both bots get past it first.
            await asyncio.sleep(max(0.0, connected + READY_AFTER - time.monotonic()))
        if profile is not None:
            profiler = await start_profiler(procs[0].pid, profile)
            await asyncio.sleep(1.0)  # let py-spy attach before the storm
        # Keep the emulator's GC from pausing the storm on the world and the pre-built
        # payloads: they are moved out of the collector's generations until the run ends.
        gc.collect()
        gc.freeze()
        if opts.gc_stats:
            for proc in procs:
                os.kill(proc.pid, signal.SIGUSR1)  # open the probe's window
        steal0 = steal_ticks()
        pg_cpu0 = postgres_cpu() if database_url else 0.0
        bot_cpu0 = sum(proc_cpu(proc.pid) for proc in procs)
        emu_cpu0, t0 = self_cpu(), time.monotonic()
        if isinstance(emu.spec, SampledSpec):
            emu.spec.deferring = True
        records, dispatch_s, lag = await fire(emu, payloads, plan.offsets, sessions)
        await wait_answers(records, emu.interactions.callback_deadline + 2.0)
        settle_s: float | None = None
        expected = len(plan.expected_cases)
        await wait_confirmations(emu, records, 30.0)
        if bot == "vigil":
            settle_s = await settle(emu, db, expected)
        storm_s = time.monotonic() - t0
        bot_cpu = sum(proc_cpu(proc.pid) for proc in procs) - bot_cpu0
        emu_cpu = self_cpu() - emu_cpu0
        pg_cpu = postgres_cpu() - pg_cpu0 if database_url else None
        steal1 = steal_ticks()
        if opts.gc_stats:
            for proc in procs:
                os.kill(proc.pid, signal.SIGUSR1)  # close it
        steal = (steal1[0] - steal0[0]) / max(1, steal1[1] - steal0[1])
        if profiler is not None and profiler.returncode is None:
            profiler.send_signal(signal.SIGINT)
            await asyncio.wait_for(profiler.wait(), 30)
        if isinstance(emu.spec, SampledSpec):
            emu.violations += emu.spec.flush()
        answered = [r for r in records if r.callback_at is not None]
        confirmed = [
            at - r.dispatched_at
            for r, at in zip(records, confirmation_times(emu, records), strict=True)
            if at is not None
        ]
        result = RunResult(
            bot=bot,
            scenario=scenario,
            rate=None,
            sent=len(records),
            latencies=sorted(r.callback_at - r.dispatched_at for r in answered),  # type: ignore[operator]
            confirmations=sorted(confirmed),
            dispatch_seconds=dispatch_s,
            dispatch_lag_max=lag,
            storm_seconds=storm_s,
            bot_cpu=bot_cpu,
            emu_cpu=emu_cpu,
            pg_cpu=pg_cpu,
            steal=steal,
            deferred=sum(1 for r in answered if r.callback_type == 5),
            unanswered=len(records) - len(answered),
            settle_seconds=settle_s,
            violations=len(emu.violations),
        )
        if emu.violations:
            result.broken.append(f"{len(emu.violations)} spec violations: {emu.violations[0]}")
        if bot == "vigil" and len(result.confirmations) < len(answered):
            result.broken.append(
                f"{len(answered) - len(result.confirmations)} answered reports never confirmed"
            )
        if bot == "vigil":
            counts, problems, broken = verify_vigil(emu, db, cast, plan, records)
            result.stored = counts["stored"]
            result.cases = counts["cases"]
            result.expected_alerts = counts["expected_alerts"]
            result.alerts = counts["alerts"]
            result.alert_posts = counts["alert_posts"]
            result.alert_edits = counts["alert_edits"]
            result.pings = counts["pings"]
            result.problems += problems
            result.broken += broken
            for proc in procs:
                if "Traceback" in proc.log_text():
                    result.problems.append(f"a traceback in {proc.log_path.name}")
        if opts.gc_stats:
            for proc in procs:
                await proc.stop()
            result.gc = merge_gc(gc_files)
        return result
    finally:
        gc.unfreeze()
        if profiler is not None and profiler.returncode is None:
            profiler.kill()
            await profiler.wait()
        codes = [await proc.stop() for proc in procs]
        await emu.stop()
        if database_url:
            await drop_postgres_database(opts.postgres_admin, database_url)
        if any(code not in (0, None) for code in codes) and bot == "vigil":
            log.warning("bot exited with %s; database and log kept in %s", codes, run_dir)
        elif not opts.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


# ------------------------------------------------------------------------------ printing
def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def describe(r: RunResult) -> str:
    head = (
        f"  {r.bot:<5}  p50 {ms(r.q(0.5)):>8}  p95 {ms(r.q(0.95)):>8}  p99 {ms(r.p99):>8}  "
        f"max {ms(r.max):>8} ms | answered {len(r.latencies)}/{r.sent}"
    )
    if r.unanswered:
        head += f" (NOT ANSWERED in 3 s: {r.unanswered})"
    if r.deferred:
        head += f" ({r.deferred} deferred)"
    unconfirmed = len(r.latencies) - len(r.confirmations)
    if r.bot == "vigil":
        head += (
            f"\n         confirmed (stored, reporter told): p50 {ms(r.confirmed(0.5)):>8}  p95 "
            f"{ms(r.confirmed(0.95)):>8}  p99 {ms(r.confirmed(0.99)):>8}  max "
            f"{ms(r.confirmed(1.0)):>8} ms"
            + (f" (NEVER CONFIRMED: {unconfirmed})" if unconfirmed else "")
        )
    if r.stored is not None:
        head += (
            f" | stored {r.stored} | cases {r.cases} | alerts {r.alerts}/{r.expected_alerts}"
            f" ({r.alert_posts} POSTs, {r.alert_edits} edits, {r.pings} urgent pings)"
            f" settled +{(r.settle_seconds or 0):.1f}s"
        )
    pg = (
        f"postgres {r.pg_cpu:.2f}s ({100 * r.pg_cpu / r.storm_seconds:.0f}%), "
        if r.pg_cpu is not None
        else ""
    )
    cpu = (
        f"         CPU over {r.storm_seconds:.2f}s: bot {r.bot_cpu:.2f}s "
        f"({100 * r.bot_cpu / r.storm_seconds:.0f}%), emulator+driver {r.emu_cpu:.2f}s "
        f"({100 * r.emu_cpu / r.storm_seconds:.0f}%), {pg}steal {100 * r.steal:.0f}% | "
        f"dispatch {r.dispatch_seconds * 1000:,.0f} ms"
    )
    if r.dispatch_lag_max:
        cpu += f" (worst lag behind schedule {r.dispatch_lag_max * 1000:,.0f} ms)"
    lines = [head, cpu]
    if r.gc is not None:
        lines.append(
            "         bot GC pauses during the storm: "
            + ", ".join(
                f"gen{g} {s['count']:.0f}x total {s['total_ms']:.0f} ms max {s['max_ms']:.1f} ms"
                for g, s in sorted(r.gc.items())
            )
        )
    lines += [f"         PROBLEM: {p}" for p in r.problems]
    lines += [f"         BROKEN: {p}" for p in r.broken]
    return "\n".join(lines)


def compare(vigil: RunResult, floor: RunResult) -> str:
    def ratio(a: float, b: float) -> str:
        return "-" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}x"

    return (
        f"  vigil/floor: p50 {ratio(vigil.q(0.5), floor.q(0.5))}, p99 "
        f"{ratio(vigil.p99, floor.p99)}, max {ratio(vigil.max, floor.max)}"
    )


# ------------------------------------------------------------------------------ scenarios
async def pair(
    scenario: str, plan: Plan, opts: Options, *, with_floor: bool = True
) -> tuple[RunResult, RunResult | None]:
    """Floor then Vigil, `opts.repeat` times; prints each pair, returns the median pair.
    Without the floor (the PostgreSQL smoke: the floor stores nothing, so its backend does
    not matter) Vigil alone."""
    pairs: list[tuple[RunResult, RunResult | None]] = []
    for round_ in range(opts.repeat):
        floor = await run_storm("floor", scenario, plan, opts) if with_floor else None
        vigil = await run_storm("vigil", scenario, plan, opts, profile=opts.profile)
        if opts.repeat > 1:
            print(f"  round {round_ + 1}/{opts.repeat}")
            print(side_by_side(vigil, floor))
        pairs.append((vigil, floor))
    if opts.repeat == 1:
        return pairs[0]

    def rank(r: RunResult) -> tuple[int, float]:
        return r.unanswered, (r.max if scenario == "wall" else r.p99)

    vigils = sorted((p[0] for p in pairs), key=rank)
    floors = sorted((p[1] for p in pairs if p[1] is not None), key=rank)
    vigil = vigils[len(vigils) // 2]
    floor_median = floors[len(floors) // 2] if floors else None
    vigil.problems = sorted({p for r in vigils for p in r.problems})
    vigil.broken = sorted({p for r in vigils for p in r.broken})
    print(f"  median of {opts.repeat} rounds (by {'max' if scenario == 'wall' else 'p99'}):")
    return vigil, floor_median


def side_by_side(vigil: RunResult, floor: RunResult | None) -> str:
    if floor is None:
        return describe(vigil)
    return "\n".join((describe(vigil), describe(floor), compare(vigil, floor)))


async def raid(n: int, targets: int, opts: Options, *, with_floor: bool = True) -> list[RunResult]:
    plan = make_plan(n, targets, seed=11, rate=100.0)
    print(f"\n== raid ({opts.label}): {n} reports, Poisson arrivals mean 10 ms "
          f"({plan.offsets[-1]:.1f}s), {targets} targets, "  # type: ignore[index]
          f"{len(plan.expected_cases)} expected alerts")  # fmt: skip
    vigil, floor = await pair("raid", plan, opts, with_floor=with_floor)
    print(side_by_side(vigil, floor))
    verdict = "met" if vigil.p99 < RAID_TARGET_P99 and not vigil.unanswered else "NOT met"
    print(f"  target p99 < {RAID_TARGET_P99 * 1000:.0f} ms: {verdict}")
    return [vigil] + ([floor] if floor else [])


async def wall(n: int, targets: int, opts: Options, *, with_floor: bool = True) -> list[RunResult]:
    plan = make_plan(n, targets, seed=12, rate=None)
    print(f"\n== wall ({opts.label}): {n} reports dispatched at once, {targets} targets, "
          f"{len(plan.expected_cases)} expected alerts")  # fmt: skip
    vigil, floor = await pair("wall", plan, opts, with_floor=with_floor)
    print(side_by_side(vigil, floor))
    verdict = "met" if vigil.max < WALL_TARGET_MAX and not vigil.unanswered else "NOT met"
    confirmed = vigil.confirmed(0.99)
    told = "met" if confirmed < WALL_CONFIRM_P99 and vigil.ok else "NOT met"
    verdicts = [f"target max < {WALL_TARGET_MAX * 1000:,.0f} ms: {verdict}"]
    if floor is not None:
        ratio = vigil.max / floor.max if floor.max else math.nan
        aim = "met" if ratio <= WALL_FLOOR_RATIO else "NOT met"
        verdicts.append(f"max within {WALL_FLOOR_RATIO}x of floor: {aim} ({ratio:.2f}x)")
    verdicts.append(
        f"confirmation p99 < {WALL_CONFIRM_P99 * 1000:,.0f} ms: {told} ({ms(confirmed)} ms)"
    )
    print("  " + "; ".join(verdicts))
    return [vigil] + ([floor] if floor else [])


async def capacity(
    rates: Sequence[int], seconds: float, targets: int, opts: Options
) -> list[RunResult]:
    print(f"\n== capacity ({opts.label}): Poisson arrivals, {seconds:g}s per step, fresh bot + "
          f"database per step, pass = p99 < {CAPACITY_P99:g}s and nothing lost")  # fmt: skip
    results: list[RunResult] = []
    best: dict[str, float] = {}
    keeping_up = 0
    alive = {"vigil": True, "floor": True}
    for rate in rates:
        n = max(int(rate * seconds), THRESHOLD * targets)
        plan = make_plan(n, targets, seed=rate, rate=float(rate))
        print(f"-- {rate} reports/s ({n} reports)")
        for bot in ("floor", "vigil"):
            if not alive[bot]:
                continue
            r = await run_storm(bot, "capacity", plan, opts)
            r.rate = rate
            results.append(r)
            print(describe(r))
            if r.ok and not r.unanswered and r.p99 < CAPACITY_P99:
                best[bot] = rate
            else:
                alive[bot] = False
            if bot == "vigil" and r.ok and r.confirmed(0.99) < WALL_CONFIRM_P99:
                keeping_up = rate
        if not any(alive.values()):
            break
    for bot in ("vigil", "floor"):
        top = best.get(bot)
        more = "" if not alive[bot] else f" (passed every step; try --rates above {rates[-1]})"
        print(f"  {bot}: highest passing rate {top if top else 'none'} reports/s{more}")
    # The pass is the first answer's (Discord's 3 s); a confirmation that falls further behind
    # with every second is a backlog, not a sustained rate: said separately.
    print(
        f"  vigil: highest rate whose confirmations kept up (p99 < "
        f"{WALL_CONFIRM_P99 * 1000:,.0f} ms): {keeping_up or 'none'} reports/s"
    )
    v = best.get("vigil", 0)
    print(
        f"  target >= {CAPACITY_TARGET:.0f} reports/s: "
        f"{'met' if v >= CAPACITY_TARGET else 'NOT met'}"
    )
    return results


def git_state() -> str:
    """HEAD and whether bot code (bot.py, core, cogs, storage) has uncommitted edits."""
    import subprocess

    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=REPO_ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    dirty = git("status", "--porcelain", "--", "bot.py", "core", "cogs", "storage")
    changed = len(dirty.splitlines())
    return f"HEAD {git('rev-parse', '--short', 'HEAD')}" + (
        f" + {changed} uncommitted files in bot.py/core/cogs/storage" if changed else " (clean)"
    )


def summarize_profile(path: Path, top: int = 25) -> None:
    """Print inclusive and self shares per function from py-spy's raw (collapsed) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if not total:
        print(f"profile {path}: no samples")
        return
    print(f"\n== profile of the Vigil bot during the storm: {total} samples ({path})")
    print("  inclusive:")
    for frame, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {frame}")
    print("  self:")
    for frame, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {frame}")


# ------------------------------------------------------------------------------ main
async def main_async(args: argparse.Namespace) -> int:
    opts = Options(workdir=Path(args.dir) if args.dir else Path(tempfile.gettempdir()),
                   keep=args.keep, profile=Path(args.profile) if args.profile else None,
                   validate=args.validate, repeat=args.repeat, gc_stats=args.gc_stats,
                   backend=args.backend, shards=args.shards,
                   postgres_admin=args.postgres_url, ready_wait=not args.smoke)  # fmt: skip
    m = machine()
    print(f"storm: {m.describe()}")
    print(f"command: python -m benchmarks.storm {' '.join(sys.argv[1:])}")
    print("emulator validates " + ("every request body" if args.validate < 0
          else f"the first {args.validate} request bodies of each route"))  # fmt: skip
    print(f"tree: {git_state()}")
    if opts.backend == "postgresql" and not await postgres_available(opts.postgres_admin):
        print(f"\nERROR: no PostgreSQL server at {opts.postgres_admin}", file=sys.stderr)
        return 2
    results: list[RunResult] = []
    if args.smoke:
        results += await wall(args.reports, args.targets, opts)
        results += await raid(args.reports, args.targets, opts)
        # PostgreSQL, in one process and in two shard processes on one database: Vigil alone
        # (correctness), skipped with a line when no server is running.
        if await postgres_available(opts.postgres_admin):
            pg = dataclasses.replace(opts, backend="postgresql")
            results += await wall(args.reports, args.targets, pg, with_floor=False)
            results += await raid(args.reports, args.targets, pg, with_floor=False)
            two = dataclasses.replace(pg, shards=2)
            results += await wall(args.reports, args.targets, two, with_floor=False)
        else:
            print(f"\nPostgreSQL smoke skipped: no server at {opts.postgres_admin}")
    else:
        if args.scenario in ("raid", "all"):
            results += await raid(args.reports, args.targets, opts)
        if args.scenario in ("wall", "all"):
            results += await wall(args.reports, args.targets, opts)
        if args.scenario in ("capacity", "all"):
            rates = [int(r) for r in args.rates.split(",")]
            results += await capacity(rates, args.step_seconds, args.targets, opts)
    if opts.profile is not None and opts.profile.exists():
        summarize_profile(opts.profile)
    # Correctness only: lost/refused reports, wrong cases, lost or duplicate alerts. A
    # capacity step past the knee may drop interactions (>3 s), so fewer cases open: that is
    # the measurement, not a bug; a lost acknowledged report or a duplicate never is.
    failed = [r for r in results if r.broken or (r.problems and r.scenario != "capacity")]
    if failed:
        print(f"\nFAILED: {len(failed)} run(s) with correctness problems")
        return 1
    print("\ncorrectness: OK (no lost reports, no lost or duplicate alerts)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("raid", "wall", "capacity", "all"), default="all")
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--rates", default=",".join(str(r) for r in DEFAULT_RATES))
    parser.add_argument("--step-seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=1, help="raid/wall rounds (median shown)")
    parser.add_argument("--dir", help="where the temporary databases go (default: temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep databases and bot logs")
    parser.add_argument(
        "--profile", help="py-spy raw output file: profile the Vigil bot in raid/wall runs"
    )
    parser.add_argument(
        "--validate",
        type=int,
        default=20,
        help="request bodies the emulator validates per route (-1 = all; default 20)",
    )
    parser.add_argument(
        "--gc-stats",
        action="store_true",
        help="run the bots under benchmarks/gc_probe.py and print their GC pauses",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="Vigil's database; postgresql: a throwaway database per run on --postgres-url",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=1,
        help="bot processes, one shard each, on one database (PostgreSQL); both bots",
    )
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_ADMIN_URL,
        help="admin URL of a local server (CREATE/DROP DATABASE); default "
        "$VIGIL_TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny wall + raid, correctness only; SQLite, then PostgreSQL (1 and 2 processes) "
        "when a server answers",
    )
    args = parser.parse_args(argv)
    if args.shards < 1 or (args.shards > 1 and args.backend != "postgresql"):
        parser.error("--shards above 1 needs --backend postgresql (one database, many processes)")
    if args.smoke:
        args.reports, args.targets, args.validate = 60, 20, -1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(main_async(args))
    except (RuntimeError, TimeoutError) as error:  # a bot that does not start or set up
        print(f"\nERROR: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
