"""Operators' endpoint (issue 17): /metrics families, /healthz, JSON logs, on the real bot."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiohttp
import pytest

from storage.codec import from_db, to_db
from tests.e2e.conftest import EPHEMERAL, MESSAGES, Vigil
from tests.ports import free_port

FAMILIES = (
    "vigil_reports_received_total",
    "vigil_report_refusals_total",
    "vigil_alerts_posted_total",
    "vigil_alert_delivery_seconds",
    "vigil_db_transaction_seconds",
    "vigil_gateway_latency_seconds",
    "vigil_outbox_backlog",
    "vigil_outbox_oldest_age_seconds",
    "vigil_urgent_cases_unacknowledged_oldest_seconds",
    "vigil_outbox_last_pass_age_seconds",
    "vigil_interaction_answer_seconds",
    "vigil_delivery_failures_total",
    "vigil_feedback_dms_total",
    "vigil_gateway_reconnects_total",
)


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


def samples(text: str, family: str) -> float:
    """The sum of a counter family's samples."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(family if family.endswith("}") else (family + "{", family + " ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def wait_http(vigil: Vigil, port: int, path: str, status: int, timeout: float) -> str:
    async def poll() -> str:
        while True:
            try:
                got, text = await get(port, path)
            except aiohttp.ClientError:
                got, text = 0, ""
            if got == status:
                return text
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)


@pytest.mark.long_scenario(seconds=3)
async def test_metrics_expose_every_family_and_count_a_burst(vigil: Vigil):
    port = free_port()
    await vigil.restart(METRICS_PORT=str(port))
    await vigil.setup()
    await wait_http(vigil, port, "/healthz", 200, 30)
    await vigil.report("alice", "dave", "child_safety")  # critical: alerts at once
    await vigil.wait_alerts(1)
    _, before = await get(port, "/metrics")
    reporters = ["alice", "carol", "erin"] * 10
    await asyncio.gather(*(vigil.report(r, "dave", "spam") for r in reporters))

    async def counted() -> str:
        while True:
            _, text = await get(port, "/metrics")
            if (
                samples(text, "vigil_reports_received_total")
                + samples(text, "vigil_report_refusals_total")
                >= samples(before, "vigil_reports_received_total")
                + samples(before, "vigil_report_refusals_total")
                + 30
            ):
                return text
            await asyncio.sleep(0.5)

    after = await asyncio.wait_for(counted(), 30)
    assert samples(after, "vigil_reports_received_total") > samples(
        before, "vigil_reports_received_total"
    )
    # Every report of the burst is counted exactly once: stored (by reason and source) or
    # refused (by code; the reporters hit the rate limit).
    spam = 'vigil_reports_received_total{reason="spam",shards="all",source="slash"}'
    refused = 'vigil_report_refusals_total{code="rate_limited",shards="all"}'
    assert samples(after, spam) + samples(after, refused) == 30
    for family in FAMILIES:
        assert family in after, family
    # Every answer of the burst was timed, in the one place that sees them all.
    answered = 'vigil_interaction_answer_seconds_count{kind="command",shards="all"}'
    assert samples(after, answered) >= 31
    assert samples(after, 'vigil_alerts_posted_total{kind="post",shards="all",urgent="true"}') >= 1
    # Nothing that names a person or a server is in the exposition.
    assert str(vigil.guild.id) not in after
    assert "dave" not in after and "alice" not in after


@pytest.mark.long_scenario(seconds=3)
async def test_healthz_turns_503_when_the_outbox_is_stuck_and_recovers(vigil: Vigil):
    port = free_port()
    await vigil.restart(METRICS_PORT=str(port), HEALTH_OUTBOX_MAX_AGE_SECONDS="30")
    await vigil.setup()
    await wait_http(vigil, port, "/healthz", 200, 30)
    rule = vigil.emu.faults.add("POST", MESSAGES, 403, channel_id=vigil.alerts_channel.id)
    await vigil.report("alice", "dave", "child_safety")
    await vigil.emu.waiters.wait_for(lambda: vigil.db_rows("SELECT id FROM cases"), 10, "the case")
    # Stuck for longer than the limit without the test waiting 30 s: the alert's case is
    # moved 90 s into the past, as if Discord had refused it since then.
    ((opened,),) = vigil.db_rows("SELECT opened_at FROM cases")
    earlier = to_db(from_db(opened) - timedelta(seconds=90))
    vigil.db_rows("UPDATE cases SET opened_at = ? RETURNING id", (earlier,))
    reason = await wait_http(vigil, port, "/healthz", 503, 90)
    assert "outbox" in reason
    vigil.emu.faults.remove(rule)
    await vigil.wait_alerts(1, timeout=30)
    await wait_http(vigil, port, "/healthz", 200, 30)


async def test_json_logs_are_json_on_every_line(vigil: Vigil):
    proc = await vigil.restart(LOG_FORMAT="json")
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety")
    await vigil.wait_alerts(1)
    lines = [line for line in proc.log_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        json.loads(line)


async def test_reports_stats_answers_managers_privately_with_figures_and_a_chart(vigil: Vigil):
    await vigil.setup()
    await vigil.report("alice", "dave", "child_safety")
    await vigil.report("carol", "dave", "harassment")
    await vigil.report("erin", "milo", "spam")
    await vigil.wait_alerts(1)
    ack = vigil.emu.build.component(
        "vigil:case:acknowledge:1", user="maya", message=vigil.alerts()[0]
    )
    await vigil.run(ack)
    refused = await vigil.slash("reports stats", "bob")
    assert refused.ephemeral and "Manage Server" in (refused.content or "")
    before = set(vigil.emu.uploads)
    result = await vigil.slash("reports stats", "olivia", days=7)
    assert result.ephemeral
    answer = await result.wait_followup(timeout=30)
    text = answer["content"]
    assert "Reports in the last 7 days" in text
    assert "Reports: 3 (0 not counted toward the threshold, 0%)" in text
    assert "Harassment or bullying 1, Spam 1" in text
    assert "Cases opened: 1, closed: 0" in text
    assert "Waiting now: 1 open or acknowledged, 0 not yet acknowledged" in text
    assert "Urgent cases (1): first action median 0 min" in text
    assert "Normal cases (0): first action median none" in text
    assert "<@" not in text and "dave" not in text.lower()
    assert answer["flags"] & EPHEMERAL
    new = set(vigil.emu.uploads) - before
    assert "vigil-stats.png" in new or "vigil-stats.png" in vigil.emu.uploads
    assert vigil.emu.uploads["vigil-stats.png"].startswith(b"\x89PNG\r\n\x1a\n")
