"""Prometheus metrics for operators, with the official client library (`prometheus_client`).

Each `Metrics` owns its registry (never the library's global one), so a process can run
several (the tests do) and nothing else registers into it by accident.

No report content, reporter, target, moderator or guild appears here: every method takes enum
members (a reason, a source, a refusal code, ...) or numbers, and every label value is one of
a closed set (the enums' values, "true"/"false", shard numbers). Guild IDs are left out on
purpose: they would name communities and make the number of series unbounded.

Sharding: every family carries `shards`, the shard numbers this process runs (e.g. "0,1"; "all"
when discord.py chooses), so the processes of a sharded deployment never overwrite each
other's series; gateway families also carry the one `shard` they describe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core.models import ReportSource
from core.policy import RefusalCode
from core.reasons import Reason

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Interaction answers must start within Discord's 3 s: the buckets dwell on that range.
ANSWER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)
# From a case's change to its alert being posted or edited: seconds to minutes.
DELIVERY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
TRANSACTION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class InteractionKind(StrEnum):
    """Discord's interaction types that Vigil answers."""

    COMMAND = "command"
    CONTEXT_MENU = "context_menu"
    COMPONENT = "component"
    MODAL = "modal"
    AUTOCOMPLETE = "autocomplete"


class AlertKind(StrEnum):
    POST = "post"
    EDIT = "edit"


class FeedbackOutcome(StrEnum):
    """What became of one feedback DM (core's reporter_feedback states, minus pending)."""

    SENT = "sent"
    DMS_CLOSED = "dms_closed"
    FAILED = "failed"


class FailureKind(StrEnum):
    """A delivery failure's kind: the outbox's problem codes, folded into a closed set."""

    MESSAGE_GONE = "message_gone"
    MISSING_PERMISSION = "missing_permission"
    CHANNEL_GONE = "channel_gone"
    RATE_LIMITED = "rate_limited"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    NETWORK = "network"
    INTERNAL = "internal"
    OTHER = "other"

    @classmethod
    def of(cls, problem: str) -> FailureKind:
        """`DeliveryFailed.problem` ("missing_permission", "http:503", "network:OSError", ...)
        to its kind; anything unexpected is OTHER (never echoed into a label)."""
        head, _, tail = problem.partition(":")
        if head == "http":
            return cls.HTTP_5XX if tail.startswith("5") else cls.HTTP_4XX
        try:
            return cls(head)
        except ValueError:
            return cls.OTHER


class TransactionMode(StrEnum):
    READ = "read"
    WRITE = "write"


def shards_label(shard_ids: Sequence[int] | None) -> str:
    return ",".join(str(s) for s in sorted(shard_ids)) if shard_ids else "all"


def _flag(value: bool) -> str:
    return "true" if value else "false"


class Metrics:
    """The families listed in issue 17, each with a typed method (see the README's list)."""

    def __init__(
        self,
        shard_ids: Sequence[int] | None = None,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._shards = shards_label(shard_ids)
        self._clock = clock
        r = self.registry
        self._reports = Counter(
            "vigil_reports_received",
            "Reports stored, by reason and entry point.",
            ("shards", "reason", "source"),
            registry=r,
        )
        self._refusals = Counter(
            "vigil_report_refusals",
            "Reports declined (nothing stored), by refusal code.",
            ("shards", "code"),
            registry=r,
        )
        self._answer = Histogram(
            "vigil_interaction_answer_seconds",
            "From an interaction's arrival to Vigil's first answer (Discord allows 3 s).",
            ("shards", "kind"),
            buckets=ANSWER_BUCKETS,
            registry=r,
        )
        self._alerts = Counter(
            "vigil_alerts_posted",
            "Alert messages posted or edited in Discord.",
            ("shards", "kind", "urgent"),
            registry=r,
        )
        self._delivery = Histogram(
            "vigil_alert_delivery_seconds",
            "From a case's change (opened, new report, action) to its alert being posted.",
            ("shards", "kind", "urgent"),
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self._failures = Counter(
            "vigil_delivery_failures",
            "Alert deliveries Discord did not take, by kind (retried with backoff).",
            ("shards", "kind"),
            registry=r,
        )
        self._feedback = Counter(
            "vigil_feedback_dms",
            "Feedback DMs to reporters, by outcome.",
            ("shards", "outcome"),
            registry=r,
        )
        self._transactions = Histogram(
            "vigil_db_transaction_seconds",
            "Database transactions, from start to commit.",
            ("shards", "mode"),
            buckets=TRANSACTION_BUCKETS,
            registry=r,
        )
        self._gateway_latency = Gauge(
            "vigil_gateway_latency_seconds",
            "Gateway heartbeat latency, per shard.",
            ("shards", "shard"),
            registry=r,
        )
        self._reconnects = Counter(
            "vigil_gateway_reconnects",
            "Gateway sessions resumed or re-identified, per shard.",
            ("shards", "shard"),
            registry=r,
        )
        self._backlog = Gauge(
            "vigil_outbox_backlog",
            "Alerts waiting to be posted or edited (as of the last outbox pass).",
            ("shards",),
            registry=r,
        )
        # Ages are computed at scrape time from a stored instant: if the outbox pass itself
        # stalls, the age keeps growing and the alert rules (and /healthz) still fire.
        self._oldest_unposted: datetime | None = None
        self._oldest_urgent: datetime | None = None
        self._last_pass: datetime | None = None
        Gauge(
            "vigil_outbox_oldest_age_seconds",
            "Age of the oldest alert never posted (0 when none waits).",
            ("shards",),
            registry=r,
        ).labels(self._shards).set_function(lambda: self._age(self._oldest_unposted))
        Gauge(
            "vigil_urgent_cases_unacknowledged_oldest_seconds",
            "Age of the oldest urgent case nobody has acknowledged or acted on (0 when none).",
            ("shards",),
            registry=r,
        ).labels(self._shards).set_function(lambda: self._age(self._oldest_urgent))
        Gauge(
            "vigil_outbox_last_pass_age_seconds",
            "Time since this process's outbox last looked at the backlog (-1 before the first).",
            ("shards",),
            registry=r,
        ).labels(self._shards).set_function(
            lambda: -1.0 if self._last_pass is None else self._age(self._last_pass)
        )

    def _age(self, since: datetime | None) -> float:
        return 0.0 if since is None else max(0.0, (self._clock() - since).total_seconds())

    # --- reports and interactions ---

    def report_received(self, reason: Reason, source: ReportSource) -> None:
        self._reports.labels(self._shards, Reason(reason).value, ReportSource(source).value).inc()

    def report_refused(self, code: RefusalCode) -> None:
        self._refusals.labels(self._shards, RefusalCode(code).value).inc()

    def interaction_answered(self, kind: InteractionKind, seconds: float) -> None:
        self._answer.labels(self._shards, InteractionKind(kind).value).observe(max(0.0, seconds))

    # --- the alert outbox ---

    def alert_delivered(self, kind: AlertKind, urgent: bool, seconds: float | None) -> None:
        """An alert posted or edited; `seconds` since the change it shows (None: unknown)."""
        labels = (self._shards, AlertKind(kind).value, _flag(urgent))
        self._alerts.labels(*labels).inc()
        if seconds is not None:
            self._delivery.labels(*labels).observe(max(0.0, seconds))

    def delivery_failed(self, problem: str) -> None:
        self._failures.labels(self._shards, FailureKind.of(problem).value).inc()

    def outbox_observed(
        self,
        pending: int,
        oldest_unposted_since: datetime | None,
        oldest_unacknowledged_urgent_since: datetime | None = None,
    ) -> None:
        """After an outbox pass: the backlog as the database sees it (`OutboxBacklog`)."""
        self._backlog.labels(self._shards).set(max(0, pending))
        self._oldest_unposted = oldest_unposted_since
        self._oldest_urgent = oldest_unacknowledged_urgent_since
        self._last_pass = self._clock()

    def outbox_oldest_age(self) -> float | None:
        """Seconds the oldest unposted alert has waited; None before the first pass (the
        health check reads it, so a pass that stopped running shows as a growing age)."""
        if self._last_pass is None:
            return None
        return max(self._age(self._oldest_unposted), self._age(self._last_pass))

    def feedback_dm(self, outcome: FeedbackOutcome) -> None:
        self._feedback.labels(self._shards, FeedbackOutcome(outcome).value).inc()

    # --- database and gateway ---

    def transaction(self, mode: TransactionMode, seconds: float) -> None:
        self._transactions.labels(self._shards, TransactionMode(mode).value).observe(
            max(0.0, seconds)
        )

    def gateway_latency(self, shard_id: int, seconds: float) -> None:
        if seconds == seconds and seconds != float("inf"):  # discord.py says inf/nan at first
            self._gateway_latency.labels(self._shards, str(int(shard_id))).set(seconds)

    def gateway_reconnected(self, shard_id: int) -> None:
        self._reconnects.labels(self._shards, str(int(shard_id))).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of this registry."""
        return generate_latest(self.registry)
