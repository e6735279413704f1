"""The operators' endpoint: every metric family is exposed and moves; /healthz flips and back.

A real aiohttp server on 127.0.0.1, port 0 (a free port), scraped with a real HTTP client.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.models import ReportSource
from core.policy import RefusalCode
from core.reasons import Reason
from vigil_ops.health import HealthChecks, OpsServer, check_health
from vigil_ops.metrics import (
    AlertKind,
    FailureKind,
    FeedbackOutcome,
    InteractionKind,
    Metrics,
    TransactionMode,
)

FAMILIES = (
    "vigil_reports_received",
    "vigil_report_refusals",
    "vigil_interaction_answer_seconds",
    "vigil_alerts_posted",
    "vigil_alert_delivery_seconds",
    "vigil_delivery_failures",
    "vigil_feedback_dms",
    "vigil_db_transaction_seconds",
    "vigil_gateway_latency_seconds",
    "vigil_gateway_reconnects",
    "vigil_outbox_backlog",
    "vigil_outbox_oldest_age_seconds",
    "vigil_urgent_cases_unacknowledged_oldest_seconds",
    "vigil_outbox_last_pass_age_seconds",
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _exercise(metrics: Metrics, clock: Clock) -> None:
    """One of everything, as a storm of reports and the outbox would produce."""
    for reason in Reason:
        metrics.report_received(reason, ReportSource.SLASH)
    metrics.report_received(Reason.SPAM, ReportSource.MESSAGE_MENU)
    for code in RefusalCode:
        metrics.report_refused(code)
    metrics.interaction_answered(InteractionKind.MODAL, 0.2)
    metrics.alert_delivered(AlertKind.POST, True, 0.7)
    metrics.alert_delivered(AlertKind.EDIT, False, None)
    for problem in ("missing_permission", "http:503", "http:404", "network:OSError", "?!"):
        metrics.delivery_failed(problem)
    for outcome in FeedbackOutcome:
        metrics.feedback_dm(outcome)
    metrics.transaction(TransactionMode.WRITE, 0.004)
    metrics.transaction(TransactionMode.READ, 0.002)
    metrics.gateway_latency(0, 0.041)
    metrics.gateway_latency(1, float("inf"))  # not measured yet: left out
    metrics.gateway_reconnected(1)
    metrics.outbox_observed(3, clock() - timedelta(seconds=20), clock() - timedelta(minutes=7))


@pytest.fixture
async def served() -> Any:
    clock = Clock()
    metrics = Metrics(shard_ids=(0, 1), clock=clock)
    state = {"gateway": True, "database": True}

    async def database() -> bool:
        if state["database"] is None:
            await asyncio.sleep(10)
        return bool(state["database"])

    checks = HealthChecks(
        gateway_connected=lambda: bool(state["gateway"]),
        database_answers=database,
        outbox_oldest_age=metrics.outbox_oldest_age,
        outbox_max_age=300,
        database_timeout=0.2,
    )
    server = OpsServer(metrics, checks, host="127.0.0.1", port=0)
    await server.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}") as http:
            yield http, metrics, clock, state
    finally:
        await server.stop()


async def _get(http: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with http.get(path) as response:
        return response.status, await response.text()


async def test_every_family_is_exposed_and_changes(served: Any):
    http, metrics, clock, _ = served
    status, before_text = await _get(http, "/metrics")
    assert status == 200
    before = _samples(before_text)
    _exercise(metrics, clock)
    clock.now += timedelta(seconds=40)
    status, after_text = await _get(http, "/metrics")
    after = _samples(after_text)
    names = {family.name for family in text_string_to_metric_families(after_text)}
    for family in FAMILIES:
        assert family in names, family
        moved = [
            key
            for key, value in after.items()
            if key[0].startswith(family) and before.get(key) != value
        ]
        assert moved, f"{family} did not change"
    shards = (("shards", "0,1"),)
    assert after[("vigil_outbox_backlog", shards)] == 3
    assert after[("vigil_outbox_oldest_age_seconds", shards)] == 60
    assert after[("vigil_urgent_cases_unacknowledged_oldest_seconds", shards)] == 7 * 60 + 40
    assert after[("vigil_outbox_last_pass_age_seconds", shards)] == 40
    key = (
        "vigil_reports_received_total",
        (("reason", "spam"), ("shards", "0,1"), ("source", "slash")),
    )
    assert after[key] == 1


async def test_labels_come_only_from_closed_sets(served: Any):
    """No free text reaches a label: whatever the outbox's problem string, the label is a
    FailureKind; every other label value is an enum value, a flag or a shard number."""
    http, metrics, clock, _ = served
    _exercise(metrics, clock)
    metrics.delivery_failed("http:403 <@123> reporter wrote: help")
    _, text = await _get(http, "/metrics")
    allowed = (
        {m.value for m in Reason}
        | {m.value for m in ReportSource}
        | {m.value for m in RefusalCode}
        | {m.value for m in InteractionKind}
        | {m.value for m in AlertKind}
        | {m.value for m in FailureKind}
        | {m.value for m in FeedbackOutcome}
        | {m.value for m in TransactionMode}
        | {"true", "false", "0", "1", "0,1"}
    )
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, value in sample.labels.items():
                if name == "le":  # histogram bucket bounds
                    continue
                assert value in allowed, (sample.name, name, value)
    assert "reporter" not in text.replace("reporters", "") and "<@" not in text


async def test_healthz_flips_when_the_outbox_is_stuck_and_back(served: Any):
    http, metrics, clock, _ = served
    assert await _get(http, "/healthz") == (200, "ok\n")  # before the first outbox pass
    metrics.outbox_observed(1, clock() - timedelta(seconds=10))
    assert (await _get(http, "/healthz"))[0] == 200
    clock.now += timedelta(minutes=10)  # the alert is still not posted
    status, body = await _get(http, "/healthz")
    assert status == 503 and body.startswith("alert outbox stuck") and body.count("\n") == 1
    metrics.outbox_observed(0, None)  # posted
    assert await _get(http, "/healthz") == (200, "ok\n")
    clock.now += timedelta(minutes=10)  # ...but the outbox pass has not run since
    assert (await _get(http, "/healthz"))[0] == 503
    metrics.outbox_observed(0, None)
    assert (await _get(http, "/healthz"))[0] == 200


async def test_healthz_gateway_and_database(served: Any):
    http, _, _, state = served
    state["gateway"] = False
    assert await _get(http, "/healthz") == (503, "gateway not connected\n")
    state["gateway"] = True
    state["database"] = False
    assert await _get(http, "/healthz") == (503, "database did not answer\n")
    state["database"] = None  # hangs
    status, body = await _get(http, "/healthz")
    assert status == 503 and body.startswith("database did not answer within")
    state["database"] = True
    assert (await _get(http, "/healthz"))[0] == 200


async def test_database_error_names_only_its_class():
    async def broken() -> bool:
        raise RuntimeError("password=hunter2 in the DSN")

    health = await check_health(HealthChecks(lambda: True, broken, lambda: None))
    assert not health.ok and health.reason == "database error (RuntimeError)"


async def test_ping_through_a_real_store(store: Any):
    """The probe the lead wires: `SELECT 1` through the Store, on both backends."""
    checks = HealthChecks(lambda: True, lambda: store.read(lambda tx: tx.stats.ping()), lambda: 0.0)
    assert (await check_health(checks)).ok


def test_metrics_registries_are_isolated():
    a, b = Metrics(), Metrics()
    a.report_received(Reason.SPAM, ReportSource.SLASH)
    assert b"vigil_reports_received_total{" not in b.exposition()
    assert b'shards="all"' in a.exposition()


async def test_metered_store_times_reads_and_writes(store: Any):
    from vigil_ops.metered_store import MeteredStore

    metrics = Metrics()
    metered = MeteredStore(store, metrics)
    await metered.write(lambda tx: tx.meta.set("k", "v"))
    assert await metered.read(lambda tx: tx.meta.get("k")) == "v"
    samples = _samples(metrics.exposition().decode())
    for mode in ("read", "write"):
        key = ("vigil_db_transaction_seconds_count", (("mode", mode), ("shards", "all")))
        assert samples[key] == 1
