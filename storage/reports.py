"""SQL for reports: the raw evidence. IDs, links, text and times only; never media."""

from __future__ import annotations

import functools
import json
import operator
import string
from datetime import datetime
from typing import Any

from core.evidence import DM_EVIDENCE_GUILD, MessageEvidence, decode_types, encode_types
from core.models import CaseRef, GuildSettings, Report, ReportSource
from core.ports import CaseJoin, NewReport, ReportContext, make_report_context
from core.reasons import Reason
from storage.cases import note_new_report
from storage.codec import from_db, optional_from_db, optional_to_db, to_db
from storage.guild_settings import SETTINGS_COLUMNS, settings_from_row
from storage.leases import advisory_key
from storage.sql import Executor

_COLUMNS = (
    "id, guild_id, reporter_id, target_id, reason, source, created_at, details, message_link, "
    "channel_id, message_id, case_id, counts_toward_threshold, reporter_joined_at, target_name, "
    "evidence_text, evidence_author_id, evidence_sent_at, evidence_edited, evidence_attachments, "
    "evidence_types, not_counted_reason"
)


_REPORT_COLUMNS = (
    "guild_id", "reporter_id", "reporter_name", "reporter_joined_at", "target_id",
    "target_name", "reason", "source", "details", "message_link", "channel_id", "message_id",
    "created_at", "case_id", "counts_toward_threshold", "evidence_text", "evidence_author_id",
    "evidence_sent_at", "evidence_edited", "evidence_attachments", "evidence_types",
    "not_counted_reason",
)  # fmt: skip
"""A report's columns, in the order `_insert_params` binds them."""

_EVIDENCE_PARAMS = slice(
    _REPORT_COLUMNS.index("evidence_text"), _REPORT_COLUMNS.index("evidence_types") + 1
)


def _insert_sql(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO reports ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


INSERT_REPORT_SQL = _insert_sql(_REPORT_COLUMNS)
"""A report's row; its parameters come from `_insert_params`."""

INSERT_REPORT_NO_EVIDENCE_SQL = _insert_sql(
    _REPORT_COLUMNS[: _EVIDENCE_PARAMS.start] + _REPORT_COLUMNS[_EVIDENCE_PARAMS.stop :]
)
"""The same row for a report that kept no message text (most): the six evidence columns are
left to their NULL instead of bound as None. Python 3.11's sqlite3 binds a None through its
adaptation protocol (a failed lookup, two attribute lookups that raise and are cleared):
six of them cost the report's INSERT more than a tenth of its instructions (issue 19)."""

_RETURNING_COUNT = " RETURNING counted_reporters"

# A target's reports in no case that count, inside the window (`count_unassigned_reporters`).
_UNASSIGNED_COUNTED = (
    "guild_id = ? AND target_id = ? AND case_id IS NULL AND counts_toward_threshold = 1 "
    "AND created_at >= ?"
)

_CONTEXT_TEMPLATE = (
    "SELECT {lead}"
    "(SELECT COUNT(*) FROM reports WHERE guild_id = {g} AND reporter_id = {r} "
    "AND created_at >= {rate}), "
    # The server's settings row as one JSON array, the row's key first (null: no row):
    # one column instead of thirteen. Each column a statement returns costs the driver
    # (its name, a description entry, its type and value: ~1,000 instructions each in
    # Python 3.11's sqlite3) more than SQLite spends building the array, and the text is
    # the key of the settings it decodes to (`_settings_from_json`, issue 19).
    f"{{array}}(s.guild_id, {', '.join('s.' + c.strip() for c in SETTINGS_COLUMNS.split(','))})"
    "{as_text}, "
    # The two newest-report reads walk one member's own reports (ix_reports_reporter: guild_id,
    # reporter_id, created_at), newest first, few under the rate limit; `+target_id` keeps
    # both planners off ix_reports_target, which would walk every report about a member
    # (all of a big case's) back to the floor.
    "(SELECT created_at FROM reports WHERE guild_id = {g} AND reporter_id = {t} "
    "AND +target_id = {r} AND case_id IS NOT NULL AND created_at >= {floor} "
    "ORDER BY created_at DESC LIMIT 1), "
    # A "don't count" set by the member this report is about does not apply to it: a reported
    # manager cannot silence their reporters.
    "(SELECT 1 FROM muted_reporters WHERE guild_id = {g} AND user_id = {r} "
    "AND muted_by <> {t}), "
    "c.id, c.number, "
    # NULL: no report in the case; 0: none of them counts; 1: one counts (ix_reports_case).
    "(SELECT MAX(counts_toward_threshold) FROM reports WHERE case_id = c.id "
    "AND reporter_id = {r}), "
    "CASE WHEN c.id IS NULL THEN (SELECT created_at FROM reports WHERE guild_id = {g} "
    "AND reporter_id = {r} AND +target_id = {t} AND case_id IS NULL AND created_at >= {floor} "
    "ORDER BY created_at DESC LIMIT 1) END, "
    "c.counted_reporters "
    "FROM {source} "
    "LEFT JOIN guild_settings AS s ON s.guild_id = {g} "
    "LEFT JOIN cases AS c ON c.guild_id = {g} AND c.target_id = {t} "
    "AND c.status IN ('open', 'acknowledged')"
    "{tail}"
)
"""The reads of `ReportRepository.report_context`, for one report (`CONTEXT_SQL`) or for
many at once (`CONTEXT_BATCH_SQL`): `{g}`, `{r}`, `{t}` are the server, reporter and target,
`{rate}` the rate limit's start and `{floor}` the longest window's."""

_CONTEXT_FIELDS = ("g", "r", "t", "rate", "floor")


def _context_order() -> tuple[str, ...]:
    """The order `CONTEXT_SQL`'s `?` placeholders take the template's fields in."""
    names = [field for _, field, _, _ in string.Formatter().parse(_CONTEXT_TEMPLATE) if field]
    return tuple(name for name in names if name in _CONTEXT_FIELDS)


_CONTEXT_ORDER = _context_order()

_JSON_ARRAY = {"sqlite": "json_array", "postgresql": "json_build_array"}
# The array as text on both backends (PostgreSQL's is json, which asyncpg also hands back as
# text today, but would decode if a JSON codec were ever registered: the cache key is text).
_AS_TEXT = {"sqlite": "", "postgresql": "::text"}


def _context_sql(dialect: str) -> str:
    return _CONTEXT_TEMPLATE.format(
        lead="",
        source="(SELECT 1 AS here) AS one",
        tail="",
        array=_JSON_ARRAY[dialect],
        as_text=_AS_TEXT[dialect],
        **{f: "?" for f in _CONTEXT_FIELDS},
    )


CONTEXT_SQL = _context_sql("sqlite")
"""`ReportRepository.report_context`'s one statement: the seven reads a report's decision
needed (rate limit, settings, retaliation, muted, active case, the reporter in it, an
unassigned duplicate) as subqueries and joins of one row, and the active case's kept reporter
count. Parameters: `context_params`. SQLite's; `CONTEXT_PG_SQL` is PostgreSQL's (the same
but for the JSON function's name)."""

CONTEXT_PG_SQL = _context_sql("postgresql")

CONTEXT_BATCH_SQL = _CONTEXT_TEMPLATE.format(
    lead="p.ord, ",
    source="unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[]) "
    "WITH ORDINALITY AS p(g, r, t, rate, floor, ord)",
    tail=" ORDER BY p.ord",
    array=_JSON_ARRAY["postgresql"],
    as_text=_AS_TEXT["postgresql"],
    **{f: f"p.{f}" for f in _CONTEXT_FIELDS},
)
"""PostgreSQL: `CONTEXT_SQL` for many reports in one statement (one row each, in order,
led by its ordinal): parameters are five arrays (servers, reporters, targets, rate-limit
starts, window floors). For reports that share no member: each row reads what the others'
writes would change only for their own reporter and target (storage/pg_batch.py)."""


def context_params(
    guild_id: int, reporter_id: int, target_id: int, rate_since: datetime, window_floor: datetime
) -> tuple[Any, ...]:
    # An itemgetter (C) over the five values in `_CONTEXT_FIELDS` order, not a dict and a
    # generator: a report's read binds these, and the generator's frame resumed per value
    # cost ~10,000 instructions a report (issue 19).
    params: tuple[Any, ...] = _CONTEXT_PICK(
        (guild_id, reporter_id, target_id, to_db(rate_since), to_db(window_floor))
    )
    return params


_CONTEXT_PICK = operator.itemgetter(*(_CONTEXT_FIELDS.index(name) for name in _CONTEXT_ORDER))
"""`(g, r, t, rate, floor)` -> `CONTEXT_SQL`'s parameters, in its placeholders' order."""


@functools.lru_cache(maxsize=1024)
def _settings_from_json(guild_id: int, text: str) -> GuildSettings:
    """`CONTEXT_SQL`'s settings column (a JSON array: the row's key, then `SETTINGS_COLUMNS`)
    -> settings. Cached by its text: a server's row rarely changes, and a changed row is
    another text, so never a stale entry."""
    values = json.loads(text)
    return settings_from_row(guild_id, values[1:] if values[0] is not None else None)


def context_from_row(guild_id: int, row: Any) -> ReportContext:
    rest = row[2:]
    case = CaseRef(id=int(rest[2]), number=int(rest[3])) if rest[2] is not None else None
    return make_report_context(
        recent_reports=int(row[0]),
        settings=_settings_from_json(guild_id, row[1]),
        muted=rest[1] is not None,
        case=case,
        in_case=rest[4] is not None,
        counted_in_case=rest[4] is not None and int(rest[4]) == 1,
        retaliated_at=optional_from_db(rest[0]),
        unassigned_at=optional_from_db(rest[5]),
        case_reporters=int(rest[6]) if case is not None else None,
    )


def _insert_params(report: NewReport) -> tuple[Any, ...]:
    ev = report.evidence
    return (
        report.guild_id,
        report.reporter.id,
        report.reporter.name,
        optional_to_db(report.reporter.joined_at),
        report.target.id,
        report.target.name,
        # str() of a StrEnum member is its value as a plain str, through C; `.value` is a
        # Python-level property (~5x the cost, twice a report, issue 19).
        str(report.reason),
        str(report.source),
        report.details,
        report.message_link,
        report.channel_id,
        report.message_id,
        to_db(report.created_at),
        report.case_id,
        int(report.counts_toward_threshold),
        ev.text if ev else None,
        ev.author_id if ev else None,
        to_db(ev.sent_at) if ev else None,
        int(ev.edited) if ev else None,
        ev.attachments if ev else None,
        encode_types(ev.types) if ev else None,
        report.not_counted_reason,
    )


def _unassigned_params(report: NewReport, since: datetime) -> tuple[Any, ...]:
    return (report.guild_id, report.target.id, to_db(since))


def _evidence(row: Any) -> MessageEvidence | None:
    """(text, author_id, sent_at, edited, attachments, types) -> evidence; None if none kept."""
    text, author_id, sent_at, edited, attachments, types = row
    if author_id is None or sent_at is None:
        return None
    return MessageEvidence(
        author_id=int(author_id),
        sent_at=from_db(sent_at),
        edited=bool(edited),
        text=text or "",
        attachments=int(attachments or 0),
        types=decode_types(types),
    )


def _report(row: Any) -> Report:
    return Report(
        id=row[0],
        guild_id=row[1],
        reporter_id=row[2],
        target_id=row[3],
        reason=Reason(row[4]),
        source=ReportSource(row[5]),
        created_at=from_db(row[6]),
        details=row[7],
        message_link=row[8],
        channel_id=row[9],
        message_id=row[10],
        case_id=row[11],
        counts_toward_threshold=bool(row[12]),
        reporter_joined_at=optional_from_db(row[13]),
        target_name=row[14],
        evidence=_evidence(row[15:21]),
        not_counted_reason=row[21],
    )


class ReportRepository:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def _scalar(self, sql: str, params: tuple[Any, ...]) -> Any:
        row = await self._db.fetch_one(sql, params)
        return row[0] if row else None

    async def add(self, report: NewReport) -> int:
        params = _insert_params(report)
        if report.evidence is None:
            kept = (*params[: _EVIDENCE_PARAMS.start], *params[_EVIDENCE_PARAMS.stop :])
            return await self._db.insert(INSERT_REPORT_NO_EVIDENCE_SQL, kept)
        return await self._db.insert(INSERT_REPORT_SQL, params)

    async def add_to_case(self, report: NewReport, join: CaseJoin) -> tuple[int, int]:
        """The report and the case's update; on PostgreSQL one statement (one round trip),
        the INSERT in a WITH (run once, to completion, whatever the UPDATE reads of it)."""
        update, update_params = note_new_report(join)
        if self._db.dialect == "postgresql":
            row = await self._db.fetch_one(
                f"WITH added AS ({INSERT_REPORT_SQL} RETURNING id) {update} "
                "RETURNING (SELECT id FROM added), counted_reporters",
                (*_insert_params(report), *update_params),
            )
            if row is None:  # the case row is gone: nothing of this report may stay
                raise LookupError(f"case {join.case_id} not found")
            return int(row[0]), int(row[1])
        report_id = await self.add(report)
        if join.reporters_before is not None:
            # One writer at a time: nothing changed the count since this transaction read
            # it, so the count after the report is known without a RETURNING (which SQLite
            # runs through a temporary result table: a third of the UPDATE's cost, issue 19).
            if await self._db.execute(update, update_params) != 1:
                raise LookupError(f"case {join.case_id} not found")
            return report_id, join.reporters_before + int(join.new_reporter)
        row = await self._db.fetch_one(update + _RETURNING_COUNT, update_params)
        if row is None:
            raise LookupError(f"case {join.case_id} not found")
        return report_id, int(row[0])

    async def add_unassigned(self, report: NewReport, since: datetime) -> tuple[int, int]:
        """The report and the count after it; on PostgreSQL one statement, whose count (not
        seeing the row its WITH inserts) adds that row under the same conditions."""
        if self._db.dialect == "postgresql":
            row = await self._db.fetch_one(
                f"WITH added AS ({INSERT_REPORT_SQL} "
                "RETURNING id, guild_id, target_id, reporter_id, case_id, "
                "counts_toward_threshold, created_at) "
                "SELECT (SELECT id FROM added), COUNT(DISTINCT reporter_id) FROM ("
                f"SELECT reporter_id FROM reports WHERE {_UNASSIGNED_COUNTED} UNION ALL "
                f"SELECT reporter_id FROM added WHERE {_UNASSIGNED_COUNTED}) AS counted",
                (
                    *_insert_params(report),
                    *_unassigned_params(report, since),
                    *_unassigned_params(report, since),
                ),
            )
            assert row is not None  # an aggregate always returns its row
            return int(row[0]), int(row[1])
        report_id = await self.add(report)
        count = await self.count_unassigned_reporters(report.guild_id, report.target.id, since)
        return report_id, count

    async def hold_evidence(
        self,
        guild_id: int,
        reporter_id: int,
        channel_id: int,
        message_id: int,
        evidence: MessageEvidence,
        now: datetime,
    ) -> int:
        return await self._db.insert(
            "INSERT INTO pending_evidence (guild_id, reporter_id, author_id, channel_id, "
            "message_id, text, sent_at, edited, attachments, types, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                reporter_id,
                evidence.author_id,
                channel_id,
                message_id,
                evidence.text,
                to_db(evidence.sent_at),
                int(evidence.edited),
                evidence.attachments,
                encode_types(evidence.types),
                to_db(now),
            ),
        )

    async def claim_evidence(
        self,
        evidence_id: int,
        guild_id: int,
        reporter_id: int,
        author_id: int,
        channel_id: int,
        message_id: int,
        *,
        held_since: datetime,
    ) -> MessageEvidence | None:
        # The ID comes from a form's custom ID (untrusted): every other column must match too.
        # An expired row is deleted all the same, and not used.
        row = await self._db.fetch_one(
            "DELETE FROM pending_evidence WHERE id = ? AND guild_id = ? AND reporter_id = ? "
            "AND author_id = ? AND channel_id = ? AND message_id = ? "
            "RETURNING text, author_id, sent_at, edited, attachments, types, created_at",
            (evidence_id, guild_id, reporter_id, author_id, channel_id, message_id),
        )
        if row is None or from_db(row[6]) < held_since:
            return None
        return _evidence(row[:6])

    async def discard_evidence(self, evidence_id: int, guild_id: int, reporter_id: int) -> None:
        await self._db.execute(
            "DELETE FROM pending_evidence WHERE id = ? AND guild_id = ? AND reporter_id = ?",
            (evidence_id, guild_id, reporter_id),
        )

    async def keep_newest_held(self, guild_id: int, reporter_id: int, keep: int) -> int:
        return await self._db.execute(
            "DELETE FROM pending_evidence WHERE guild_id = ? AND reporter_id = ? AND id NOT IN "
            "(SELECT id FROM pending_evidence WHERE guild_id = ? AND reporter_id = ? "
            "ORDER BY id DESC LIMIT ?)",
            (guild_id, reporter_id, guild_id, reporter_id, keep),
        )

    async def purge_pending_evidence(self, cutoff: datetime, dm_cutoff: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM pending_evidence WHERE created_at < ? "
            "OR (guild_id = ? AND created_at < ?)",
            (to_db(cutoff), DM_EVIDENCE_GUILD, to_db(dm_cutoff)),
        )

    async def lock_for_report(self, guild_id: int, reporter_id: int, target_id: int) -> None:
        """`lock_reporter` then `CaseRepository.lock_target`, in one round trip. The order is
        kept by the subquery (OFFSET 0 keeps the planner from merging it): its row, and so
        the reporter's lock, exists before the outer row's target lock is taken. Not folded
        into the reads either: a READ COMMITTED statement reads from the snapshot it started
        with, before it waited for the locks, and would miss what their last holder wrote."""
        if self._db.dialect == "postgresql":
            await self._db.fetch_one(
                "SELECT pg_advisory_xact_lock(?) FROM "
                "(SELECT pg_advisory_xact_lock(?) OFFSET 0) AS reporter_first",
                (
                    advisory_key("target", guild_id, target_id),
                    advisory_key("reporter", guild_id, reporter_id),
                ),
            )

    async def report_context(
        self,
        guild_id: int,
        reporter_id: int,
        target_id: int,
        *,
        rate_since: datetime,
        window_floor: datetime,
    ) -> ReportContext:
        row = await self._db.fetch_one(
            CONTEXT_SQL if self._db.dialect == "sqlite" else CONTEXT_PG_SQL,
            context_params(guild_id, reporter_id, target_id, rate_since, window_floor),
        )
        assert row is not None  # FROM one row, LEFT JOINs: always one row
        return context_from_row(guild_id, row)

    async def lock_reporter(self, guild_id: int, reporter_id: int) -> None:
        """Serialise one reporter's report transactions across processes (until commit), so
        the rate limit is counted and enforced as one step even for different targets.

        Taken before the target's lock, always in that order, so two transactions never wait
        for each other. SQLite needs nothing: BEGIN IMMEDIATE admits one writer at a time.
        """
        if self._db.dialect == "postgresql":
            await self._db.fetch_one(
                "SELECT pg_advisory_xact_lock(?)",
                (advisory_key("reporter", guild_id, reporter_id),),
            )

    async def count_by_reporter_since(
        self, guild_id: int, reporter_id: int, since: datetime
    ) -> int:
        return int(
            await self._scalar(
                "SELECT COUNT(*) FROM reports "
                "WHERE guild_id = ? AND reporter_id = ? AND created_at >= ?",
                (guild_id, reporter_id, to_db(since)),
            )
        )

    async def count_unassigned_reporters(
        self, guild_id: int, target_id: int, since: datetime
    ) -> int:
        return int(
            await self._scalar(
                "SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE guild_id = ? "
                "AND target_id = ? AND case_id IS NULL AND counts_toward_threshold = 1 "
                "AND created_at >= ?",
                (guild_id, target_id, to_db(since)),
            )
        )

    async def assign_unassigned(
        self, guild_id: int, target_id: int, since: datetime, case_id: int
    ) -> int:
        return await self._db.execute(
            "UPDATE reports SET case_id = ? "
            "WHERE guild_id = ? AND target_id = ? AND case_id IS NULL AND created_at >= ?",
            (case_id, guild_id, target_id, to_db(since)),
        )

    async def reporter_in_case(self, case_id: int, reporter_id: int) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM reports WHERE case_id = ? AND reporter_id = ? LIMIT 1",
            (case_id, reporter_id),
        )
        return found is not None

    async def get(self, report_id: int) -> Report | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM reports WHERE id = ?", (report_id,))
        return _report(row) if row else None

    async def for_case(self, case_id: int) -> list[Report]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM reports WHERE case_id = ? ORDER BY created_at, id",
            (case_id,),
        )
        return [_report(row) for row in rows]

    async def about_target(self, guild_id: int, target_id: int, limit: int) -> list[Report]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM reports WHERE guild_id = ? AND target_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (guild_id, target_id, limit),
        )
        return [_report(row) for row in rows]

    async def malicious_history(self, guild_id: int, reporter_ids: list[int]) -> set[int]:
        """Reporters with an earlier report in a case dismissed as malicious."""
        if not reporter_ids:
            return set()
        marks = ", ".join("?" for _ in reporter_ids)
        rows = await self._db.fetch_all(
            "SELECT DISTINCT r.reporter_id FROM reports AS r JOIN cases AS c ON c.id = r.case_id "
            f"WHERE r.guild_id = ? AND r.reporter_id IN ({marks}) "
            "AND c.dismiss_reason = 'malicious'",
            (guild_id, *reporter_ids),
        )
        return {int(row[0]) for row in rows}

    async def is_muted(self, guild_id: int, user_id: int) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM muted_reporters WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return found is not None

    async def set_muted(
        self, guild_id: int, user_id: int, muted: bool, by: int, at: datetime
    ) -> bool:
        if muted:
            changed = await self._db.execute(
                "INSERT INTO muted_reporters (guild_id, user_id, muted_by, muted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO NOTHING",
                (guild_id, user_id, by, to_db(at)),
            )
        else:
            changed = await self._db.execute(
                "DELETE FROM muted_reporters WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        if changed > 0:
            await self._db.insert(
                "INSERT INTO reporter_count_events (guild_id, user_id, actor_id, counts, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (guild_id, user_id, by, int(not muted), to_db(at)),
            )
        return changed > 0

    async def count_about_target(self, guild_id: int, target_id: int) -> int:
        return int(
            await self._scalar(
                "SELECT COUNT(*) FROM reports WHERE guild_id = ? AND target_id = ?",
                (guild_id, target_id),
            )
        )
