"""PostgreSQL group commit for report transactions: many reports, one transaction.

Each report on its own is five round trips (BEGIN, its two advisory locks, its one read, its
INSERT and the case's UPDATE, COMMIT), and in a storm the round trips themselves are the cost:
socket writes and protocol work in the bot, a backend wake-up and a commit in the server, on
the same two cores as the answers. `PostgresStore` therefore takes the report transactions
(`core.ports.ReportWrite`) that queued while its previous batch ran and runs them here, in
one transaction:

1. every advisory lock of the batch in one statement, in one global order (all reporter keys
   sorted, then all target keys sorted: the order of a single report, reporter then target,
   is that order too), so two processes batching the same members never wait on each other;
2. the active cases of the batch's targets row-locked in id order (as `recount_reporters`
   does), so a batch that updates several cases and an erasure recounting several never
   take them in opposite orders;
3. the reports in *waves* of reports that share no member (reporter or target, per server):
   what a report reads (its reporter's recent reports, retaliation by its target, its
   target's case and unassigned reports) only a report with one of its two members writes,
   so the reports of a wave read and write independently, and a later wave sees the earlier
   ones' writes (the same transaction). A member's reports keep their arrival order; a
   target whose active case the batch holds may have several reports in one wave. Each
   report's function runs unchanged, driven by hand (`_run_wave`); its read
   (`report_context`), its common writes (`add_to_case`, `add_unassigned`) and a case
   opening's steps are gathered until every report of the wave waits, then each kind runs
   as one statement over arrays (`unnest`); anything else (evidence) runs one statement at
   a time on the batch's connection;
4. one COMMIT; only then is any caller answered.

A failure anywhere before the COMMIT (one report's error, a statement's, a deadlock, a lost
connection) rolls the whole batch back and `PostgresStore` runs each of its reports again in
its own transaction: the bad one fails alone, the others are stored, nothing is half-stored.
A failed COMMIT is not retried (it may have committed): every caller gets the error, so none
is told "stored" about a report that may not be.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Generator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from core.models import Case, UserSnapshot
from core.ports import CaseJoin, NewReport, ReportContext, ReportWrite
from storage.cases import (
    _COLUMNS as _CASE_COLUMNS,
    RESERVE_CASE_NUMBERS,
    CaseRepository,
    _case,
    new_case_values,
    recount_reporters,
)
from storage.codec import optional_to_db, to_db
from storage.leases import advisory_key
from storage.postgres_sql import PostgresExecutor, to_dollar_params
from storage.relay import RelayRepository
from storage.reports import (
    _REPORT_COLUMNS,
    CONTEXT_BATCH_SQL,
    ReportRepository,
    _insert_params,
    context_from_row,
)
from storage.sql import AwaitedOutsideStorage, Executor, Params, Row
from storage.unit_of_work import build_unit_of_work

MAX_BATCH = 256

_REPORT_TYPES = {
    "guild_id": "bigint", "reporter_id": "bigint", "reporter_name": "text",
    "reporter_joined_at": "text", "target_id": "bigint", "target_name": "text",
    "reason": "text", "source": "text", "details": "text", "message_link": "text",
    "channel_id": "bigint", "message_id": "bigint", "created_at": "text", "case_id": "bigint",
    "counts_toward_threshold": "integer", "evidence_text": "text",
    "evidence_author_id": "bigint", "evidence_sent_at": "text", "evidence_edited": "integer",
    "evidence_attachments": "integer", "evidence_types": "text", "not_counted_reason": "text",
}  # fmt: skip
"""The PostgreSQL type of each of a report's columns (storage/migrations/postgresql)."""

_JOIN_EXTRA = (
    ("u_name", "text"), ("u_member", "integer"), ("u_joined", "text"),
    ("u_new", "integer"), ("u_urgent", "integer"), ("u_reminder", "text"),
)  # fmt: skip
_UNASSIGNED_EXTRA = (("u_since", "text"),)


def _values(extra: tuple[tuple[str, str], ...]) -> str:
    """A CTE `v` of one row per report: its columns, `extra`, and `ord` (its position)."""
    columns = [(c, _REPORT_TYPES[c]) for c in _REPORT_COLUMNS] + list(extra)
    arrays = ", ".join(f"?::{kind}[]" for _, kind in columns)
    names = ", ".join(name for name, _ in columns)
    return f"v AS (SELECT * FROM unnest({arrays}) WITH ORDINALITY AS v({names}, ord))"


_INSERT = (
    f"INSERT INTO reports ({', '.join(_REPORT_COLUMNS)}) "
    f"SELECT {', '.join(_REPORT_COLUMNS)} FROM v ORDER BY ord"
)

JOIN_BATCH_SQL = (
    f"WITH {_values(_JOIN_EXTRA)}, "
    f"added AS ({_INSERT} RETURNING id, guild_id, reporter_id), "
    # A case's reports of the wave, as one: what `note_new_report` (storage/cases.py) does for
    # each of them in turn (one more revision and the distinct reporters each adds, the
    # snapshot of the last, the first urgent one's reminder).
    "per_case AS (SELECT case_id, COUNT(*) AS n, SUM(u_new) AS new, MAX(u_urgent) AS urgent, "
    "(array_agg(u_reminder ORDER BY ord) FILTER (WHERE u_urgent = 1))[1] AS reminder, "
    "(array_agg(u_name ORDER BY ord DESC))[1] AS name, "
    "(array_agg(u_member ORDER BY ord DESC))[1] AS member, "
    "(array_agg(u_joined ORDER BY ord DESC))[1] AS joined FROM v GROUP BY case_id), "
    "updated AS (UPDATE cases AS c SET alert_revision = c.alert_revision + g.n, "
    "target_name = g.name, target_is_member = g.member, target_joined_at = g.joined, "
    "counted_reporters = c.counted_reporters + g.new, "
    "ping_wanted = c.ping_wanted + CASE WHEN g.urgent = 1 AND c.urgent = 0 THEN 1 ELSE 0 END, "
    "next_reminder_at = CASE WHEN g.urgent = 1 AND c.urgent = 0 AND c.status = 'open' "
    "AND c.reminders_sent = 0 THEN g.reminder ELSE c.next_reminder_at END, "
    "urgent = CASE WHEN g.urgent = 1 THEN 1 ELSE c.urgent END "
    "FROM per_case AS g WHERE c.id = g.case_id RETURNING c.id, c.counted_reporters) "
    # Each report's count is the case's after it: after the wave's, less what the case's
    # later reports of the wave added.
    "SELECT v.ord, a.id, u.counted_reporters - (SELECT COALESCE(SUM(w.u_new), 0) FROM v AS w "
    "WHERE w.case_id = v.case_id AND w.ord > v.ord) FROM v "
    "JOIN added AS a ON a.guild_id = v.guild_id AND a.reporter_id = v.reporter_id "
    "LEFT JOIN updated AS u ON u.id = v.case_id ORDER BY v.ord"
)
"""`ReportRepository.add_to_case` for a wave's reports (one reporter each per server, so
the join with `added` matches one row each; several may join one case): (ordinal, report id,
the case's count after it; NULL if the case row is gone)."""

_COUNTED = (
    "{x}.guild_id = v.guild_id AND {x}.target_id = v.target_id AND {x}.case_id IS NULL "
    "AND {x}.counts_toward_threshold = 1 AND {x}.created_at >= v.u_since"
)

UNASSIGNED_BATCH_SQL = (
    f"WITH {_values(_UNASSIGNED_EXTRA)}, "
    f"added AS ({_INSERT} RETURNING id, guild_id, reporter_id, target_id, case_id, "
    "counts_toward_threshold, created_at) "
    "SELECT v.ord, a.id, (SELECT COUNT(DISTINCT q.reporter_id) FROM ("
    f"SELECT r.reporter_id FROM reports AS r WHERE {_COUNTED.format(x='r')} UNION ALL "
    f"SELECT n.reporter_id FROM added AS n WHERE {_COUNTED.format(x='n')}) AS q) "
    "FROM v JOIN added AS a ON a.guild_id = v.guild_id AND a.reporter_id = v.reporter_id "
    "ORDER BY v.ord"
)
"""`ReportRepository.add_unassigned` for a wave's reports: (ordinal, report id, distinct
counting reporters in no case about its target, itself included). The count does not see the
rows its WITH inserts, so it adds them under the same conditions: only this report's, the
wave having one report per target."""

LOCK_SQL = "SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k"
CASE_LOCK_SQL = (
    "SELECT guild_id, target_id FROM cases WHERE (guild_id, target_id) IN "
    "(SELECT * FROM unnest(?::bigint[], ?::bigint[])) "
    "AND status IN ('open', 'acknowledged') ORDER BY id FOR NO KEY UPDATE"
)


def lock_keys(items: Sequence[ReportWrite[Any]]) -> list[int]:
    """The batch's advisory keys in the one order every report transaction takes them in:
    reporters (sorted), then targets (sorted)."""
    reporters = {advisory_key("reporter", w.guild_id, w.reporter_id) for w in items}
    targets = {advisory_key("target", w.guild_id, w.target_id) for w in items}
    return sorted(reporters) + sorted(targets - reporters)


def waves(
    items: Sequence[ReportWrite[Any]], with_case: Collection[tuple[int, int]] = ()
) -> list[list[int]]:
    """Positions of `items` in waves whose reports read nothing another one of the wave
    writes, each member's reports in arrival order.

    A member (per server) is in one report of a wave, as its reporter or as its target,
    except a target in `with_case` (its active case row-locked by the batch, so it stays
    active): its reports all join that case, which one statement does for several at once
    (`JOIN_BATCH_SQL`), so they may share a wave, as long as it reports no one in it."""
    alone: dict[tuple[int, int], int] = {}  # member -> last wave it was in alone
    shared: dict[tuple[int, int], int] = {}  # target -> last wave it was a shared target
    out: list[list[int]] = []
    for position, w in enumerate(items):
        reporter, target = (w.guild_id, w.reporter_id), (w.guild_id, w.target_id)
        joins = target in with_case and target != reporter
        wave = max(
            alone.get(reporter, -1) + 1,
            shared.get(reporter, -1) + 1,
            alone.get(target, -1) + 1,
            shared.get(target, -1) + (0 if joins else 1),
        )
        alone[reporter] = wave
        if joins:
            shared[target] = wave
        else:
            alone[target] = wave
        if wave == len(out):
            out.append([])
        out[wave].append(position)
    return out


#: How long a batch that holds its locks waits for a row lock before it gives up (then each
#: of its reports runs in its own transaction, which waits as long as it needs).
BATCH_LOCK_WAIT_MS = 200


class BatchFailed(Exception):
    """Something in the batch failed before its COMMIT: nothing of it is stored."""


class _Call:
    """One repository call of a batched report, handed up to the batch's driver (`_drive`):
    awaiting it suspends the report's coroutine, which the driver resumes with the result."""

    __slots__ = ("args", "kind")

    def __init__(self, kind: str, args: Any) -> None:
        self.kind = kind
        self.args = args

    def __await__(self) -> Generator[_Call, Any, Any]:
        return (yield self)


class _DeferredExecutor:
    """The executor of a batched report's other statements (a case's read, evidence): each
    is a `_Call` the driver runs on the batch's connection, one at a time."""

    dialect = "postgresql"

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        result: Row | None = await _Call("sql", ("fetch_one", sql, params))
        return result

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        result: list[Row] = await _Call("sql", ("fetch_all", sql, params))
        return result

    async def execute(self, sql: str, params: Params = ()) -> int:
        result: int = await _Call("sql", ("execute", sql, params))
        return result

    async def insert(self, sql: str, params: Params = ()) -> int:
        result: int = await _Call("sql", ("insert", sql, params))
        return result


class BatchedReports(ReportRepository):
    """`ReportRepository` inside a batch: the locks are already held, and the report's one
    read and its common writes wait to run with the rest of its wave's."""

    def __init__(self, db: Executor, locked: frozenset[int]) -> None:
        super().__init__(db)
        self._locked = locked

    async def lock_for_report(self, guild_id: int, reporter_id: int, target_id: int) -> None:
        keys = (
            advisory_key("reporter", guild_id, reporter_id),
            advisory_key("target", guild_id, target_id),
        )
        if not self._locked.issuperset(keys):  # a ReportWrite that named other members
            raise RuntimeError("a batched report locked members its ReportWrite did not name")

    async def report_context(
        self,
        guild_id: int,
        reporter_id: int,
        target_id: int,
        *,
        rate_since: datetime,
        window_floor: datetime,
    ) -> ReportContext:
        args = (guild_id, reporter_id, target_id, to_db(rate_since), to_db(window_floor))
        result: ReportContext = await _Call("context", args)
        return result

    async def add_to_case(self, report: NewReport, join: CaseJoin) -> tuple[int, int]:
        result: tuple[int, int] = await _Call("join", (report, join))
        return result

    async def add_unassigned(self, report: NewReport, since: datetime) -> tuple[int, int]:
        result: tuple[int, int] = await _Call("unassigned", (report, since))
        return result

    async def assign_unassigned(
        self, guild_id: int, target_id: int, since: datetime, case_id: int
    ) -> int:
        result: int = await _Call("assign", (guild_id, target_id, to_db(since), case_id))
        return result


class BatchedCases(CaseRepository):
    """`CaseRepository` inside a batch: the wave's case openings, and the recounts that
    follow them, each run as one statement for the wave."""

    async def open(
        self,
        guild_id: int,
        target: UserSnapshot,
        urgent: bool,
        now: datetime,
        reminder_at: datetime | None = None,
    ) -> Case:
        result: Case = await _Call("open", (guild_id, target, urgent, now, reminder_at))
        return result

    async def recount_reporters(self, case_ids: Collection[int]) -> None:
        await _Call("recount", tuple(case_ids))


class BatchedRelay(RelayRepository):
    """`RelayRepository` inside a batch: details waiting for the wave's new cases join them
    in two statements for the wave."""

    async def attach_to_case(self, case_id: int, now: datetime) -> int:
        result: int = await _Call("attach", (case_id, to_db(now)))
        return result


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _checked(rows: list[Any], size: int) -> list[Any]:
    if [row[0] for row in rows] != list(range(1, size + 1)):
        raise RuntimeError("a batched statement did not return one row per report")
    return rows


async def _contexts(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    rows = await conn.fetch(to_dollar_params(CONTEXT_BATCH_SQL), *_columns(calls))
    return [
        context_from_row(call[0], tuple(row)[1:])
        for call, row in zip(calls, _checked(rows, len(calls)), strict=True)
    ]


async def _joins(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    values = []
    for report, join in calls:
        target = join.target
        values.append(
            (
                *_insert_params(report),
                target.name,
                int(target.joined_at is not None),
                optional_to_db(target.joined_at),
                int(join.new_reporter),
                int(join.urgent),
                optional_to_db(join.reminder_at) if join.urgent else None,
            )
        )
    rows = await conn.fetch(to_dollar_params(JOIN_BATCH_SQL), *_columns(values))
    out = []
    for (_, join), row in zip(calls, _checked(rows, len(calls)), strict=True):
        if row[2] is None:  # the case row is gone: nothing of this report may stay
            raise LookupError(f"case {join.case_id} not found")
        out.append((int(row[1]), int(row[2])))
    return out


async def _unassigned(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    values = [(*_insert_params(report), to_db(since)) for report, since in calls]
    rows = await conn.fetch(to_dollar_params(UNASSIGNED_BATCH_SQL), *_columns(values))
    return [(int(row[1]), int(row[2])) for row in _checked(rows, len(calls))]


OPEN_BATCH_SQL = (
    "INSERT INTO cases (guild_id, number, target_id, target_name, target_is_member, "
    "target_joined_at, status, urgent, opened_at, next_reminder_at) "
    "SELECT g, n, t, name, member, joined, 'open', urgent, opened, reminder FROM unnest("
    "?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::integer[], ?::text[], ?::integer[], "
    "?::text[], ?::text[]) WITH ORDINALITY "
    "AS v(g, n, t, name, member, joined, urgent, opened, reminder, ord) ORDER BY ord "
    f"RETURNING {_CASE_COLUMNS}"
)

ASSIGN_BATCH_SQL = (
    "UPDATE reports AS r SET case_id = v.case_id "
    "FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[]) AS v(g, t, since, case_id) "
    "WHERE r.guild_id = v.g AND r.target_id = v.t AND r.case_id IS NULL "
    "AND r.created_at >= v.since RETURNING v.case_id"
)
"""`ReportRepository.assign_unassigned` for a wave's new cases (one per target)."""

_DETAILS_WAITING = "m.case_id IS NULL AND m.kind = 'details' AND m.report_id = r.id"

ATTACH_FEED_SQL = (
    "INSERT INTO case_feed (guild_id, case_id, relay_id, created_at) "
    "SELECT m.guild_id, v.case_id, m.id, v.at "
    "FROM unnest(?::bigint[], ?::text[]) AS v(case_id, at) "
    f"JOIN reports AS r ON r.case_id = v.case_id JOIN relay_messages AS m ON {_DETAILS_WAITING} "
    "ORDER BY m.id"
)
ATTACH_RELAY_SQL = (
    "UPDATE relay_messages AS m SET case_id = r.case_id FROM reports AS r "
    f"WHERE r.case_id = ANY(?::bigint[]) AND {_DETAILS_WAITING} RETURNING r.case_id"
)
"""`RelayRepository.attach_to_case` for a wave's new cases: the same two statements, over
the cases' reports joined instead of one case's `IN`."""


async def _opens(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    wanted = Counter(call[0] for call in calls)
    first: dict[int, int] = {}
    reserve = to_dollar_params(RESERVE_CASE_NUMBERS)
    for guild_id in sorted(wanted):  # row locks on the counters in one order
        count = wanted[guild_id]
        last = int(await conn.fetchval(reserve, guild_id, guild_id, count, count))
        first[guild_id] = last - count + 1
    values = []
    for guild_id, target, urgent, now, reminder_at in calls:
        values.append(new_case_values(guild_id, first[guild_id], target, urgent, now, reminder_at))
        first[guild_id] += 1
    rows = await conn.fetch(to_dollar_params(OPEN_BATCH_SQL), *_columns(values))
    cases = {(case.guild_id, case.number): case for case in map(_case, rows)}
    return [cases[(value[0], value[1])] for value in values]


async def _assigns(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    rows = await conn.fetch(to_dollar_params(ASSIGN_BATCH_SQL), *_columns(calls))
    moved = Counter(int(row[0]) for row in rows)
    return [moved[call[3]] for call in calls]


async def _recounts(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    await recount_reporters(PostgresExecutor(conn), {i for ids in calls for i in ids})
    return [None] * len(calls)


async def _attaches(conn: asyncpg.Connection, calls: list[Any]) -> list[Any]:
    await conn.execute(to_dollar_params(ATTACH_FEED_SQL), *_columns(calls))
    rows = await conn.fetch(to_dollar_params(ATTACH_RELAY_SQL), [call[0] for call in calls])
    moved = Counter(int(row[0]) for row in rows)
    return [moved[call[0]] for call in calls]


_FLUSH: dict[str, Callable[[asyncpg.Connection, list[Any]], Awaitable[list[Any]]]] = {
    "context": _contexts,
    "join": _joins,
    "unassigned": _unassigned,
    "open": _opens,
    "assign": _assigns,
    "recount": _recounts,
    "attach": _attaches,
}


async def _statement(conn: asyncpg.Connection, args: Any) -> Any:
    method, sql, params = args
    return await getattr(PostgresExecutor(conn), method)(sql, params)


async def _run_wave(
    conn: asyncpg.Connection, items: list[ReportWrite[Any]], locked: frozenset[int]
) -> list[Any]:
    """Run a wave's report functions together: each is driven by hand (`send`) until it
    waits for a `_Call` or returns. The calls of one kind that all wait run as one statement
    (`_FLUSH`), other statements one at a time; then each waiting function goes on at once.
    No task and no event: a round trip of the batch is one pass of the event loop, however
    busy the loop is with the storm's answers."""
    executor = _DeferredExecutor()
    uow = replace(
        build_unit_of_work(executor),
        reports=BatchedReports(executor, locked),
        cases=BatchedCases(executor),
        relay=BatchedRelay(executor),
    )
    coroutines = [item(uow) for item in items]
    results: list[Any] = [None] * len(items)
    waiting: dict[int, _Call] = {}

    def step(position: int, value: Any = None) -> None:
        try:
            call = coroutines[position].send(value)
        except StopIteration as done:
            results[position] = done.value
            return
        if not isinstance(call, _Call):  # awaited something that is not storage
            raise AwaitedOutsideStorage("a batched report awaited something else than storage")
        waiting[position] = call

    try:
        for position in range(len(items)):
            step(position)
        while waiting:
            alone = [p for p, call in waiting.items() if call.kind == "sql"]
            if alone:  # a report's own statement: it may be followed by more of its own
                for position in alone:
                    step(position, await _statement(conn, waiting.pop(position).args))
                continue
            kinds: dict[str, list[int]] = {}
            for position, call in waiting.items():
                kinds.setdefault(call.kind, []).append(position)
            done: dict[int, Any] = {}
            for kind, positions in kinds.items():
                values = await _FLUSH[kind](conn, [waiting[p].args for p in positions])
                done.update(zip(positions, values, strict=True))
            waiting.clear()
            for position, value in done.items():
                step(position, value)
    finally:
        for coroutine in coroutines:
            coroutine.close()
    return results


async def run_batch(conn: asyncpg.Connection, items: list[ReportWrite[Any]]) -> list[Any]:
    """Run `items` in one transaction on `conn` and commit; their results, in order.

    Raises BatchFailed when anything failed before the COMMIT (rolled back: nothing stored,
    safe to run each again); any other exception is the COMMIT's own (maybe committed)."""
    transaction = conn.transaction()
    await transaction.start()
    results: list[Any] = [None] * len(items)
    try:
        keys = lock_keys(items)
        await conn.execute(to_dollar_params(LOCK_SQL), keys)
        active = await conn.fetch(
            to_dollar_params(CASE_LOCK_SQL),
            [w.guild_id for w in items],
            [w.target_id for w in items],
        )
        # From here on the batch only waits for rows others may hold (an erasure's reports, a
        # case-number counter another process's batch took): it gives up after BATCH_LOCK_WAIT_MS
        # and runs its reports one by one, rather than holding its cases while it waits and
        # making PostgreSQL's deadlock check (after 1 s) abort the other side, an erasure say.
        await conn.execute(f"SET LOCAL lock_timeout = '{BATCH_LOCK_WAIT_MS}ms'")
        locked = frozenset(keys)
        for positions in waves(items, {(int(g), int(t)) for g, t in active}):
            done = await _run_wave(conn, [items[p] for p in positions], locked)
            for position, value in zip(positions, done, strict=True):
                results[position] = value
        if conn.is_closed():  # lost before its COMMIT was sent: certainly not committed
            raise BatchFailed("the connection was lost before the COMMIT")
    except BaseException as error:
        try:
            if not conn.is_closed():
                await transaction.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            pass  # a lost connection: the server rolls the transaction back itself
        if isinstance(error, asyncio.CancelledError):
            raise
        if isinstance(error, BatchFailed):
            raise
        raise BatchFailed(str(error)) from error
    await transaction.commit()
    return results
