"""Shared pieces of the benchmarks: the workload, the schema, the pragmas and the checks.

Everything here builds on the project's own code (`SqliteStore.open` for the schema and
pragmas, `core.policy` for validation), so the baselines insert exactly what the service does.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import random
import secrets
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.models import ReportSource, ReportSubmission, UserSnapshot
from core.policy import Refusal, validate_submission
from core.reasons import Reason
from core.snowflakes import snowflake_at
from storage.codec import optional_to_db, to_db
from storage.sqlite import SqliteStore

# The statement storage/reports.py runs for `reports.add`, column for column.
INSERT_REPORT_SQL = (
    "INSERT INTO reports (guild_id, reporter_id, reporter_name, reporter_joined_at, "
    "target_id, target_name, reason, source, details, message_link, channel_id, "
    "message_id, created_at, case_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

ReportRow = tuple[Any, ...]

_EPOCH = datetime(2019, 6, 1, tzinfo=UTC)

# Weights roughly like a community server's: mostly harassment and spam, a few critical.
REASON_WEIGHTS: dict[Reason, float] = {
    Reason.HARASSMENT: 28,
    Reason.SPAM: 18,
    Reason.HATE: 10,
    Reason.SCAM: 10,
    Reason.SEXUAL_CONTENT: 8,
    Reason.IMPERSONATION: 6,
    Reason.OTHER: 12,
    Reason.VIOLENT_THREAT: 3,
    Reason.SELF_HARM: 3,
    Reason.CHILD_SAFETY: 2,
}

_OPENINGS = (
    "They keep sending me",
    "In #general they posted",
    "This user has been DMing people with",
    "Started after I disagreed with them, now",
    "Several of us have noticed",
    "They joined yesterday and immediately",
    "Posted in voice chat text and then deleted",
    "Keeps pinging me with",
)
_MIDDLES = (
    "insults about my appearance",
    "links to a fake Nitro giveaway",
    "slurs aimed at another member",
    "screenshots of my profile with mocking captions",
    "messages telling someone to hurt themselves",
    "invites to a sketchy crypto server",
    "explicit images nobody asked for",
    "threats to find where I live",
    "the same copypasta over and over",
    "claims that they are a moderator",
)
_CLOSINGS = (
    "",
    " I blocked them but they made an alt.",
    " Please look at the last hour of messages.",
    " It has been going on for about a week now and I don't feel safe in the server.",
    " Other people in the channel saw it too, happy to give more context if needed.",
    " I'm not sure if this is the right place to report this, sorry.",
)


def snowflake(n: int, when: datetime = _EPOCH) -> int:
    return snowflake_at(when, n)


def guild_ids(count: int) -> list[int]:
    return [snowflake(1 + g, datetime(2018, 1, 1, tzinfo=UTC)) for g in range(count)]


def user_snapshot(n: int, *, member: bool = True) -> UserSnapshot:
    return UserSnapshot(
        id=snowflake(n),
        name=f"member_{n}",
        joined_at=datetime(2024, 1, 1, tzinfo=UTC) if member else None,
    )


def details_text(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    text = f"{rng.choice(_OPENINGS)} {rng.choice(_MIDDLES)}.{rng.choice(_CLOSINGS)}"
    return text if rng.random() < 0.9 else "  " + text + "\n"


def make_workload(
    n: int, *, targets: int = 100, guilds: int = 5, seed: int = 1, reporter_base: int = 1_000_000
) -> list[ReportSubmission]:
    """`n` submissions by `n` distinct reporters about `targets` members (skewed: a few
    targets draw many reports), across `guilds` guilds, with a realistic reason mix."""
    rng = random.Random(seed)
    gids = guild_ids(guilds)
    target_users = [(gids[t % guilds], user_snapshot(10_000 + t)) for t in range(targets)]
    weights = [1.0 / (1 + rank) ** 0.8 for rank in range(targets)]
    reasons = list(REASON_WEIGHTS)
    reason_weights = list(REASON_WEIGHTS.values())
    # Reports made in the server (a DM report's link says @me, never this server's channels).
    sources = [s for s in ReportSource if s is not ReportSource.DM_MESSAGE]
    # The guild's channels, as the cog passes them: a link must point into one of them.
    channels = frozenset(snowflake(500 + c) for c in range(20))
    out: list[ReportSubmission] = []
    for i in range(n):
        guild_id, target = rng.choices(target_users, weights)[0]
        link = None
        if rng.random() < 0.4:
            channel = snowflake(500 + rng.randrange(20))
            message = snowflake(rng.randrange(1 << 20), datetime(2026, 1, 1, tzinfo=UTC))
            link = f"https://discord.com/channels/{guild_id}/{channel}/{message}"
        out.append(
            ReportSubmission(
                guild_id=guild_id,
                reporter=user_snapshot(reporter_base + i, member=rng.random() < 0.95),
                target=target,
                reason=rng.choices(reasons, reason_weights)[0],
                source=rng.choice(sources),
                details=details_text(rng),
                message_link=link,
                guild_channel_ids=channels,
            )
        )
    return out


def report_row(sub: ReportSubmission, now: datetime, case_id: int | None = None) -> ReportRow:
    """The parameters `reports.add` would bind for this submission."""
    checked = validate_submission(sub)
    if isinstance(checked, Refusal):
        raise ValueError(f"workload produced a refusal: {checked.code}")
    link = checked.link
    return (
        sub.guild_id,
        sub.reporter.id,
        sub.reporter.name,
        optional_to_db(sub.reporter.joined_at),
        sub.target.id,
        sub.target.name,
        sub.reason.value,
        sub.source.value,
        checked.details,
        link.url if link else None,
        link.channel_id if link else None,
        link.message_id if link else None,
        to_db(now),
        case_id,
    )


async def create_schema(path: Path, synchronous: str) -> None:
    """Create and migrate a database exactly as the bot does, then close it."""
    store = await SqliteStore.open(path, synchronous=synchronous)
    await store.close()


def create_schema_sync(path: Path, synchronous: str) -> None:
    asyncio.run(create_schema(path, synchronous))


def connect_sqlite3(path: Path, synchronous: str) -> sqlite3.Connection:
    """A plain sqlite3 connection with the pragmas `SqliteStore.open` sets."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def verify_database(path: Path, acked: dict[int, int], expected_rows: int | None) -> list[str]:
    """Problems found in a database after a run; an empty list means it is consistent.

    `acked` maps every acknowledged report id to its reporter. Checks: each acknowledged
    report is stored (read by a fresh connection after the writer closed), at most one
    active case per target, no unassigned report left beside an active case, and every
    case still waiting in the alert outbox.
    """
    problems: list[str] = []
    conn = sqlite3.connect(str(path))
    try:
        stored = dict(conn.execute("SELECT id, reporter_id FROM reports").fetchall())
        lost = [rid for rid, reporter in acked.items() if stored.get(rid) != reporter]
        if lost:
            problems.append(f"{len(lost)} acknowledged reports missing, e.g. {lost[:5]}")
        if expected_rows is not None and len(stored) != expected_rows:
            problems.append(f"expected {expected_rows} stored reports, found {len(stored)}")
        dupes = conn.execute(
            "SELECT guild_id, target_id, COUNT(*) FROM cases "
            "WHERE status IN ('open', 'acknowledged') GROUP BY guild_id, target_id "
            "HAVING COUNT(*) > 1"
        ).fetchall()
        if dupes:
            problems.append(f"{len(dupes)} targets with more than one active case: {dupes[:5]}")
        stray = conn.execute(
            "SELECT COUNT(*) FROM reports AS r JOIN cases AS c ON c.guild_id = r.guild_id "
            "AND c.target_id = r.target_id AND c.status IN ('open', 'acknowledged') "
            "WHERE r.case_id IS NULL AND r.created_at >= c.opened_at"
        ).fetchone()[0]
        if stray:
            problems.append(f"{stray} reports filed after a case opened but not attached to it")
        # Nothing posts alerts during a benchmark, so every active case must still be pending.
        not_pending = conn.execute(
            "SELECT COUNT(*) FROM cases WHERE status IN ('open', 'acknowledged') "
            "AND alert_revision <= alert_posted_revision"
        ).fetchone()[0]
        if not_pending:
            problems.append(f"{not_pending} active cases missing from the alert outbox")
    finally:
        conn.close()
    return problems


@dataclass(frozen=True, slots=True)
class Machine:
    date: str
    cores: int
    python: str
    sqlite: str
    platform: str

    def describe(self) -> str:
        return (
            f"date {self.date} | {self.cores} cores | Python {self.python} | "
            f"SQLite {self.sqlite} | {self.platform}"
        )


def machine() -> Machine:
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cores=os.cpu_count() or 0,
        python=sys.version.split()[0],
        sqlite=sqlite3.sqlite_version,
        platform=platform.platform(),
    )


def command_line() -> str:
    module = sys.argv[0]
    name = Path(module).stem
    return " ".join([f"python -m benchmarks.{name}", *sys.argv[1:]])


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (`q` in 0..1); NaN for no values. Sorts a copy."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


POSTGRES_ADMIN_URL = (
    os.environ.get("VIGIL_TEST_POSTGRES_URL", "").strip()
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""A local PostgreSQL server's admin URL (trust auth), as tests/postgres.py: its database is
used only to CREATE and DROP the throwaway databases the benchmarks run on."""


async def _postgres_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def postgres_available(admin_url: str) -> bool:
    try:
        await _postgres_admin(admin_url, "SELECT 1")
    except (OSError, TimeoutError, ImportError):
        return False
    return True


async def create_postgres_database(admin_url: str, prefix: str) -> str:
    """CREATE a fresh, empty database on the admin URL's server; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    await _postgres_admin(admin_url, f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _postgres_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_cpu() -> float:
    """utime + stime of every process named postgres on this machine, seconds: the local
    server's backends (another user's queries on the same server count too)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(" (")[2].rpartition(")")
        if name.startswith("postgres"):
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def db_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` from a benchmark's SQLite file, read-only, on a connection of its own (the
    bot under test may be writing to it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
