"""Reports made from a DM (issue 16): the @me link, the held text claimed for the chosen
server, the same tally and limiter as reports made in that server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from core.case_view import AlertAction, alert_actions
from core.evidence import (
    DM_EVIDENCE_GUILD,
    DM_PENDING_EVIDENCE_TTL,
    MAX_DM_HOLDS,
    MessageEvidence,
    capture_evidence,
)
from core.links import parse_message_link
from core.models import AlertData, Case, CaseStatus, GuildSettings, Report, ReportSource
from core.policy import RateLimit, Refusal, RefusalCode, validate_submission
from core.reasons import Reason
from core.rendering import render_report_ack
from core.retention import RetentionService
from core.service import ReportAccepted, ReportService
from tests.helpers import GUILD, OTHER_GUILD, clock, count_rows, report_accepted, submission, user

DM, MESSAGE = 444444444444444444, 555555555555555555
DM_LINK = f"https://discord.com/channels/@me/{DM}/{MESSAGE}"


def from_dm(reporter: int, target: int = 99, **kw: object):
    base = submission(reporter, target, link=DM_LINK, channels=None, **kw)  # type: ignore[arg-type]
    return dataclasses.replace(base, source=ReportSource.DM_MESSAGE)


def accepted(outcome: object) -> ReportAccepted:
    assert isinstance(outcome, ReportAccepted), outcome
    return outcome


@pytest.fixture
def fake_clock():
    return clock()


@pytest.fixture
def reports(store, fake_clock) -> ReportService:
    return ReportService(store, fake_clock, RateLimit(max_reports=3))


def dm_text(text: str = "pay or else", author: int = 99) -> MessageEvidence:
    return capture_evidence(
        author_id=user(author).id, sent_at=datetime(2026, 3, 1, tzinfo=UTC), edited=False,
        text=text, content_types=[],
    )  # fmt: skip


def test_a_dm_link_parses_only_when_asked_for():
    assert parse_message_link(DM_LINK) is None  # /report never takes one
    link = parse_message_link(DM_LINK, private=True)
    assert link is not None and (link.guild_id, link.channel_id, link.message_id) == (
        None,
        DM,
        MESSAGE,
    )
    assert link.url == DM_LINK
    assert parse_message_link(f"https://discord.com/channels/@me/0/{MESSAGE}", private=True) is None


def test_policy_takes_a_dm_link_only_from_a_dm_report():
    valid = validate_submission(from_dm(1))
    assert not isinstance(valid, Refusal) and valid.link is not None
    assert valid.link.guild_id is None
    # A server's report naming a DM's link: not a link Vigil takes there.
    slash = submission(1, link=DM_LINK)
    assert validate_submission(slash) == Refusal(RefusalCode.BAD_LINK)
    # A DM report naming a server's message: refused, never filed as a DM.
    guild_link = f"https://discord.com/channels/{GUILD}/{DM}/{MESSAGE}"
    forged = dataclasses.replace(from_dm(1), message_link=guild_link)
    assert validate_submission(forged) == Refusal(RefusalCode.FOREIGN_LINK)


async def test_a_dm_report_claims_its_held_text_and_touches_no_channel(reports, store):
    reporter, target = user(1), user(99)
    evidence = capture_evidence(
        author_id=target.id, sent_at=datetime(2026, 3, 1, tzinfo=UTC), edited=False,
        text="pay or else", content_types=["image/png"],
    )  # fmt: skip
    held = await reports.hold_evidence(DM_EVIDENCE_GUILD, reporter.id, DM, MESSAGE, evidence)
    outcome = accepted(await reports.submit(dataclasses.replace(from_dm(1), evidence_id=held)))
    assert outcome.evidence_kept is True
    rows = await store.read(lambda tx: tx.reports.about_target(GUILD, target.id, 10))
    assert [(r.source, r.message_link, r.channel_id, r.message_id) for r in rows] == [
        (ReportSource.DM_MESSAGE, DM_LINK, None, None)
    ]
    assert rows[0].evidence is not None and rows[0].evidence.text == "pay or else"
    assert await count_rows(store, "pending_evidence") == 0


async def test_held_text_is_dropped_only_by_its_reporter(reports, store):
    evidence = capture_evidence(
        author_id=user(99).id, sent_at=datetime(2026, 3, 1, tzinfo=UTC), edited=False,
        text="x", content_types=[],
    )  # fmt: skip
    held = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(1).id, DM, MESSAGE, evidence)
    await reports.discard_evidence(held, user(2).id)  # someone else naming it
    assert await count_rows(store, "pending_evidence") == 1
    await reports.discard_evidence(held, user(1).id)
    assert await count_rows(store, "pending_evidence") == 0
    # A server's held text is never dropped this way (only DM_EVIDENCE_GUILD rows).
    in_server = await reports.hold_evidence(GUILD, user(1).id, DM, MESSAGE, evidence)
    await reports.discard_evidence(in_server, user(1).id)
    assert await count_rows(store, "pending_evidence") == 1


async def test_dm_and_server_reports_share_the_tally_and_the_limiter(reports, store):
    """Same reporter from a DM and in the server: one distinct reporter. The limiter (3 here)
    counts both entry points; another server's limiter is its own."""
    first = accepted(await reports.submit(from_dm(1)))
    again = accepted(await reports.submit(submission(1)))
    assert again.duplicate and again.distinct_reporters == 1 == first.distinct_reporters
    accepted(await reports.submit(submission(1, 98)))
    limited = await reports.submit(from_dm(1, 97))
    assert limited == Refusal(RefusalCode.RATE_LIMITED)
    elsewhere = dataclasses.replace(from_dm(1, 97), guild_id=OTHER_GUILD)
    accepted(await reports.submit(elsewhere))


async def test_a_critical_dm_report_opens_an_urgent_case_alone(reports):
    outcome = accepted(await reports.submit(from_dm(1, reason=Reason.CHILD_SAFETY)))
    assert outcome.case_opened and outcome.distinct_reporters == 1


def test_the_ack_names_the_server_a_dm_report_went_to():
    outcome = report_accepted()
    text = render_report_ack(outcome, "carol", "Thanks.", "en", Reason.HARASSMENT, server="Harbour")
    assert "moderators of **Harbour**" in text and "**carol**" in text
    assert "Harbour" not in render_report_ack(outcome, "carol", "Thanks.", "en")


def test_a_dm_message_is_no_servers_to_delete():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    case = Case(1, GUILD, 1, 99, "carol", True, None, CaseStatus.OPEN, True, now)
    report = Report(
        1, GUILD, 1, 99, Reason.CHILD_SAFETY, ReportSource.DM_MESSAGE, now, message_link=DM_LINK
    )
    data = AlertData(case, GuildSettings(GUILD), (report,), 1)
    delete = next(a for a in alert_actions(data) if a.action is AlertAction.DELETE_MESSAGES)
    assert not delete.enabled


# ------------------------------------------------------------------ review: proof, TTL, cap
async def stored_links(store, target: int = 99) -> list[object]:
    rows = await store.read(lambda tx: tx.reports.about_target(GUILD, user(target).id, 10))
    return [(r.message_link, r.evidence is not None) for r in rows]


async def test_a_dm_link_is_kept_only_with_the_text_it_claimed(reports, store):
    """Vigil is in no DM: a DM's link cannot be checked against channels. The held text,
    claimed for that reporter, author, channel and message, is the proof that Discord showed
    the reporter that message; without it (a forged form naming any channel and message, or
    naming someone else's held text) the report is kept without a link."""
    forged = accepted(await reports.submit(from_dm(1)))
    assert forged.evidence_kept is None
    assert await stored_links(store) == [(None, False)]
    # A held text of another message (or another reporter's) claims nothing: no link either.
    other = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(2).id, DM, MESSAGE, dm_text())
    named = accepted(await reports.submit(dataclasses.replace(from_dm(3), evidence_id=other)))
    assert named.evidence_kept is False
    assert await stored_links(store) == [(None, False), (None, False)]
    assert await count_rows(store, "pending_evidence") == 1  # still the other reporter's
    # With its own held text: the link is kept.
    own = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(4).id, DM, MESSAGE, dm_text())
    accepted(await reports.submit(dataclasses.replace(from_dm(4), evidence_id=own)))
    assert (DM_LINK, True) in await stored_links(store)


async def test_a_dms_held_text_expires_in_minutes_and_is_dropped_at_claim(
    reports, store, fake_clock
):
    held = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(1).id, DM, MESSAGE, dm_text())
    fake_clock.advance(DM_PENDING_EVIDENCE_TTL + timedelta(seconds=1))
    outcome = accepted(await reports.submit(dataclasses.replace(from_dm(1), evidence_id=held)))
    assert outcome.evidence_kept is False
    assert await stored_links(store) == [(None, False)]
    assert await count_rows(store, "pending_evidence") == 0  # dropped, not left for the sweep
    # Just in time, it is claimed.
    fresh = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(2).id, DM, MESSAGE, dm_text())
    fake_clock.advance(DM_PENDING_EVIDENCE_TTL - timedelta(seconds=1))
    ok = accepted(await reports.submit(dataclasses.replace(from_dm(2), evidence_id=fresh)))
    assert ok.evidence_kept is True


async def test_the_sweep_purges_a_dms_held_text_sooner_than_a_servers(reports, store, fake_clock):
    retention = RetentionService(store, fake_clock)
    await reports.hold_evidence(DM_EVIDENCE_GUILD, user(1).id, DM, MESSAGE, dm_text())
    await reports.hold_evidence(GUILD, user(1).id, DM, MESSAGE, dm_text())
    fake_clock.advance(DM_PENDING_EVIDENCE_TTL - timedelta(seconds=1))
    await retention.purge_pending()
    assert await count_rows(store, "pending_evidence") == 2
    fake_clock.advance(timedelta(seconds=2))
    await retention.sweep()
    assert await count_rows(store, "pending_evidence") == 1  # the server's stays its hour
    fake_clock.advance(timedelta(hours=1))
    await retention.purge_pending()
    assert await count_rows(store, "pending_evidence") == 0


async def test_each_reporter_holds_at_most_a_few_dm_texts(reports, store):
    """Opening form after form holds no more than MAX_DM_HOLDS third persons' messages for one
    reporter: the oldest goes. Another reporter's, and a server's, are untouched."""
    other = await reports.hold_evidence(DM_EVIDENCE_GUILD, user(2).id, DM, MESSAGE, dm_text())
    in_server = await reports.hold_evidence(GUILD, user(1).id, DM, MESSAGE, dm_text())
    held = [
        await reports.hold_evidence(DM_EVIDENCE_GUILD, user(1).id, DM, MESSAGE, dm_text(f"m{n}"))
        for n in range(MAX_DM_HOLDS + 2)
    ]

    async def ids() -> set[int]:
        rows = await store.read(
            lambda tx: tx.reports._db.fetch_all("SELECT id FROM pending_evidence", ())
        )
        return {int(r[0]) for r in rows}

    assert await ids() == {other, in_server, *held[-MAX_DM_HOLDS:]}
    # The newest still files with its text; the oldest's form files without it.
    newest = dataclasses.replace(from_dm(1), evidence_id=held[-1])
    assert accepted(await reports.submit(newest)).evidence_kept is True
    oldest = dataclasses.replace(from_dm(1, 98), evidence_id=held[0])
    assert accepted(await reports.submit(oldest)).evidence_kept is False
