"""Welfare, not punishment, for self-harm (issue 15): the alert's layout, the check-in's words
and help, and the check-in claim and a member's own request on both backends."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.case_view import AlertAction, Tone, alert_actions, member_actions
from core.guidance import build_check_in
from core.hotlines import Category, HotlineDirectory
from core.i18n import LANGUAGES, tr
from core.models import (
    AlertData,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    GuildSettings,
    Report,
    ReportSource,
)
from core.policy import RateLimit
from core.reasons import Reason
from core.rendering import render_check_in
from core.service import (
    CaseActionRefused,
    CaseService,
    CheckInClaim,
    CheckInHeld,
    OwnCaseRefused,
    ReportAccepted,
    ReportService,
)
from core.welfare import (
    CHECK_IN_COOLDOWN,
    CHECK_IN_LEASE,
    CheckInResult,
    SupportResult,
    check_in_locale,
    check_in_region,
    is_welfare_case,
    storable_locale,
)
from tests.helpers import GUILD, clock, submission, user

DIRECTORY = HotlineDirectory.load()
NOW = datetime(2026, 3, 1, tzinfo=UTC)
TARGET = 1234567890123456789
CASE = Case(
    id=1,
    guild_id=GUILD,
    number=7,
    target_id=TARGET,
    target_name="Mallory",
    target_is_member=True,
    target_joined_at=NOW,
    status=CaseStatus.OPEN,
    urgent=True,
    opened_at=NOW,
)


def report(reason: Reason, reporter: int = 1001, *, link: bool = True) -> Report:
    return Report(
        id=reporter,
        guild_id=GUILD,
        reporter_id=reporter,
        target_id=TARGET,
        reason=reason,
        source=ReportSource.SLASH,
        created_at=NOW,
        message_link="https://discord.com/channels/1/2/3" if link else None,
    )


def data(
    *reasons: Reason, status: CaseStatus = CaseStatus.OPEN, events: tuple[CaseAction, ...] = ()
) -> AlertData:
    trail = tuple(CaseEvent(1, 99, action, NOW) for action in events)
    reports = tuple(report(r, 1001 + n) for n, r in enumerate(reasons))
    return AlertData(replace(CASE, status=status), GuildSettings(GUILD), reports, 1, trail)


def actions(states: Any) -> list[AlertAction]:
    return [s.action for s in states]


PUNISHING = {AlertAction.TIMEOUT, AlertAction.KICK, AlertAction.BAN}


# --------------------------------------------------------------------------- the alert's layout


def test_a_self_harm_alert_leads_with_check_in_acknowledge_and_resolve():
    states = alert_actions(data(Reason.SELF_HARM))
    assert actions(states)[:3] == [
        AlertAction.CHECK_IN,
        AlertAction.ACKNOWLEDGE,
        AlertAction.RESOLVE,
    ]
    assert not PUNISHING & set(actions(states))
    assert AlertAction.DELETE_MESSAGES not in actions(states)
    by = {s.action: s for s in states}
    assert by[AlertAction.CHECK_IN].tone is Tone.PRIMARY and by[AlertAction.CHECK_IN].enabled
    assert by[AlertAction.MORE].enabled and by[AlertAction.MORE].tone is Tone.NEUTRAL
    assert all(s.row <= 1 for s in states)
    assert sum(s.row == 0 for s in states) <= 5 and sum(s.row == 1 for s in states) <= 5
    # Harassment beside self-harm changes nothing: someone is still at risk.
    assert actions(alert_actions(data(Reason.SELF_HARM, Reason.HARASSMENT))) == actions(states)


def test_more_actions_holds_the_same_member_actions_with_the_same_rules():
    for status in CaseStatus:
        for events in ((), (CaseAction.KICK,), (CaseAction.BAN,), (CaseAction.DELETE_MESSAGES,)):
            welfare = data(Reason.SELF_HARM, status=status, events=events)
            plain = data(Reason.HARASSMENT, status=status, events=events)
            hidden = {s.action: s.enabled for s in member_actions(welfare)}
            shown = {s.action: s.enabled for s in alert_actions(plain) if s.tone is Tone.DANGER}
            assert hidden == shown, (status, events)
            more = {s.action: s for s in alert_actions(welfare)}[AlertAction.MORE]
            assert more.enabled == any(hidden.values()), (status, events)
    dismissed = {
        s.action: s for s in alert_actions(data(Reason.SELF_HARM, status=CaseStatus.DISMISSED))
    }
    assert not dismissed[AlertAction.MORE].enabled and not dismissed[AlertAction.CHECK_IN].enabled


def test_check_in_needs_the_member_and_a_case_not_dismissed():
    for status in CaseStatus:
        by = {s.action: s for s in alert_actions(data(Reason.SELF_HARM, status=status))}
        assert by[AlertAction.CHECK_IN].enabled == (status is not CaseStatus.DISMISSED), status
    for gone in (CaseAction.KICK, CaseAction.BAN):
        by = {
            s.action: s
            for s in alert_actions(
                data(Reason.SELF_HARM, status=CaseStatus.RESOLVED, events=(gone,))
            )
        }
        assert not by[AlertAction.CHECK_IN].enabled
    left = replace(data(Reason.SELF_HARM), case=replace(CASE, target_is_member=False))
    assert not {s.action: s for s in alert_actions(left)}[AlertAction.CHECK_IN].enabled


@pytest.mark.parametrize("other", [Reason.CHILD_SAFETY, Reason.VIOLENT_THREAT])
def test_self_harm_beside_a_threat_keeps_todays_alert_and_adds_check_in(other: Reason):
    mixed = data(Reason.SELF_HARM, other)
    assert not is_welfare_case(mixed)
    states = alert_actions(mixed)
    today = alert_actions(data(other))
    assert actions(states) == [*actions(today), AlertAction.CHECK_IN]
    assert {s.action: s for s in states}[AlertAction.CHECK_IN].row == 2


def test_other_reasons_keep_todays_alert():
    for reason in Reason:
        if reason is Reason.SELF_HARM:
            continue
        listed = actions(alert_actions(data(reason)))
        assert AlertAction.CHECK_IN not in listed and AlertAction.MORE not in listed, reason
        assert set(listed) >= PUNISHING


def test_the_members_own_request_is_a_welfare_case():
    own = replace(report(Reason.SELF_HARM, TARGET, link=False))
    assert own.asks_for_support and not report(Reason.SELF_HARM).asks_for_support
    asked = replace(data(), reports=(own,))
    assert is_welfare_case(asked)
    assert actions(alert_actions(asked))[0] is AlertAction.CHECK_IN


# --------------------------------------------------------------------------- language and country


def test_language_and_country_of_a_check_in():
    assert check_in_locale(CASE, "de") == "de"  # the server's, when the member's is unknown
    own = replace(CASE, target_locale="fr")
    assert check_in_locale(own, "de") == "fr"
    assert check_in_region("DE", CASE) == "DE"
    assert check_in_region(None, CASE) is None  # the international answer
    assert check_in_region(None, replace(CASE, target_locale="ja")) == "JP"
    assert check_in_region("GB", replace(CASE, target_locale="ja")) == "GB"
    assert storable_locale("pt-BR") == "pt-BR" and storable_locale("de") == "de"
    for junk in (None, "", "x" * 40, "de'; DROP", "<@1>"):
        assert storable_locale(junk) is None


# --------------------------------------------------------------------------- what the member reads

# No word of a report, a case, moderators or their tools, in any language (stems).
FORBIDDEN = re.compile(
    r"report|melde|meldung|gemeldet|bericht|signal|rapport|denunci|denúnci|"
    r"\bcase\b|\bcaso\b|\bcas\b|\bfall\b|dossier|moderat|modérat|\bmods?\b|vigil|"
    r"ticket|alert|sanction|\bban\b|kick|timeout",
    re.IGNORECASE,
)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("asked", [False, True])
def test_the_check_in_text_is_warm_and_never_mentions_a_report(language: str, asked: bool):
    text = render_check_in("Harbour", "Dave", language, asked=asked)
    assert "Harbour" in text and "Dave" in text
    assert not FORBIDDEN.search(text), text
    assert "<@" not in text and "@everyone" not in text


def test_names_in_the_check_in_cannot_ping_or_format():
    text = render_check_in("@everyone **x**", "<@123> @here", "en", asked=False)
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "<@123>" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_countrys_check_in_help_starts_with_the_emergency_number(language: str):
    codes = [None, *(c.code for c in DIRECTORY.countries())]
    for code in codes:
        guidance = build_check_in(DIRECTORY, code, language)
        text = guidance.render()
        assert not FORBIDDEN.search(text), (code, language, FORBIDDEN.search(text))
        first = guidance.lines[0]
        number = DIRECTORY.emergency_number(code) if code else None
        if number:
            assert number.split(" ")[0] in first, (code, first)
        else:
            assert first == tr("checkin.emergency_unknown_eu", language) or first == tr(
                "checkin.emergency_unknown", language
            )
        crisis = [e for e in DIRECTORY.entries(code, Category.CRISIS)]
        assert crisis, code
        assert any(e.id in guidance.entry_ids for e in crisis), (code, guidance.entry_ids)


def test_check_in_help_for_germany_and_nowhere():
    german = build_check_in(DIRECTORY, "DE", "de").render()
    assert "110" in german.splitlines()[1] and "112" in german.splitlines()[1]
    assert "TelefonSeelsorge" in german and "0800 111 0 111" in german
    assert "Deutschland" in german
    nowhere = build_check_in(DIRECTORY, None, "en").render()
    assert "<https://findahelpline.com>" in nowhere
    assert "your local emergency number" in nowhere.splitlines()[1]


# ----------------------------------------------------------------- the claim (both backends)


async def _configured(store: Any) -> None:
    settings = GuildSettings(guild_id=GUILD, alert_channel_id=777)
    await store.write(lambda tx: tx.settings.save(settings, clock().now()))


async def _self_harm_case(store: Any) -> int:
    await _configured(store)
    outcome = await ReportService(store, clock()).submit(submission(1, 99, Reason.SELF_HARM))
    assert isinstance(outcome, ReportAccepted) and outcome.case_id is not None
    return outcome.case_id


async def test_two_moderators_pressing_at_once_claim_one_check_in(store: Any):
    case_id = await _self_harm_case(store)
    c = clock()
    cases = CaseService(store, c)
    claims = await asyncio.gather(
        *(cases.claim_check_in(GUILD, case_id, actor_id=500 + n) for n in range(8))
    )
    won = [cl for cl in claims if isinstance(cl, CheckInClaim)]
    assert len(won) == 1, claims
    assert all(isinstance(cl, CheckInHeld) for cl in claims if cl is not won[0])
    await cases.record_check_in(won[0], 500, CheckInResult.SENT)
    events = await store.read(lambda tx: tx.cases.events(case_id))
    assert [(e.action, e.detail) for e in events] == [(CaseAction.CHECK_IN, "sent")]
    # Held for the cooldown, then free again.
    c.advance(CHECK_IN_COOLDOWN - timedelta(seconds=1))
    held = await cases.claim_check_in(GUILD, case_id, 501)
    assert isinstance(held, CheckInHeld) and held.delivered
    c.advance(timedelta(seconds=2))
    assert isinstance(await cases.claim_check_in(GUILD, case_id, 501), CheckInClaim)


async def test_two_processes_sharing_the_database_claim_one_check_in(store: Any, database_url: str):
    from storage import open_store

    case_id = await _self_harm_case(store)
    other = await open_store(database_url)
    try:
        first, second = CaseService(store, clock()), CaseService(other, clock())
        claims = await asyncio.gather(
            *(
                service.claim_check_in(GUILD, case_id, actor_id=600 + n)
                for n in range(6)
                for service in (first, second)
            )
        )
    finally:
        await other.close()
    assert sum(isinstance(cl, CheckInClaim) for cl in claims) == 1


async def test_a_claim_whose_process_died_is_free_after_its_lease(store: Any):
    """The process died between the claim and its record (no delivery recorded): another
    moderator is told it is on its way (not delivered) for CHECK_IN_LEASE, then may check in;
    the dead claim's late record, if any, gives back nothing of the new claim (review of
    stop 30, finding 1)."""
    case_id = await _self_harm_case(store)
    c = clock()
    cases = CaseService(store, c)
    dead = await cases.claim_check_in(GUILD, case_id, 500)
    assert isinstance(dead, CheckInClaim)
    c.advance(CHECK_IN_LEASE - timedelta(seconds=1))
    held = await cases.claim_check_in(GUILD, case_id, 501)
    assert isinstance(held, CheckInHeld) and not held.delivered
    c.advance(timedelta(seconds=2))
    fresh = await cases.claim_check_in(GUILD, case_id, 501)
    assert isinstance(fresh, CheckInClaim)
    await cases.record_check_in(dead, 500, CheckInResult.FAILED)  # gives back only its own
    assert isinstance(await cases.claim_check_in(GUILD, case_id, 502), CheckInHeld)
    await cases.record_check_in(fresh, 501, CheckInResult.SENT)
    c.advance(CHECK_IN_LEASE * 2)  # a delivered one is held for the whole cooldown
    held = await cases.claim_check_in(GUILD, case_id, 502)
    assert isinstance(held, CheckInHeld) and held.delivered


async def test_a_late_delivery_keeps_the_next_check_in_back(store: Any):
    """A slow process's check-in is recorded delivered only after another moderator's claim
    took over (its lease ran out), and that other one fails: giving that claim back must not
    free the case seconds after a delivered check-in (review of stop 30)."""
    case_id = await _self_harm_case(store)
    c = clock()
    cases = CaseService(store, c)
    slow = await cases.claim_check_in(GUILD, case_id, 500)
    assert isinstance(slow, CheckInClaim)
    c.advance(CHECK_IN_LEASE + timedelta(seconds=1))
    other = await cases.claim_check_in(GUILD, case_id, 501)
    assert isinstance(other, CheckInClaim)
    await cases.record_check_in(slow, 500, CheckInResult.SENT)  # it arrived after all
    await cases.record_check_in(other, 501, CheckInResult.FAILED)
    held = await cases.claim_check_in(GUILD, case_id, 502)
    assert isinstance(held, CheckInHeld) and held.delivered


@pytest.mark.parametrize("result", [CheckInResult.DMS_CLOSED, CheckInResult.FAILED])
async def test_an_undelivered_check_in_gives_its_claim_back(store: Any, result: CheckInResult):
    case_id = await _self_harm_case(store)
    cases = CaseService(store, clock())
    claim = await cases.claim_check_in(GUILD, case_id, 500)
    assert isinstance(claim, CheckInClaim)
    await cases.record_check_in(claim, 500, result)
    assert isinstance(await cases.claim_check_in(GUILD, case_id, 501), CheckInClaim)
    events = await store.read(lambda tx: tx.cases.events(case_id))
    assert [e.detail for e in events] == [result.value]


async def test_check_in_follows_the_case_rules(store: Any):
    case_id = await _self_harm_case(store)
    cases = CaseService(store, clock())
    with pytest.raises(OwnCaseRefused):
        await cases.claim_check_in(GUILD, case_id, actor_id=user(99).id)
    with pytest.raises(CaseActionRefused):
        await cases.claim_check_in(GUILD + 1, case_id, actor_id=500)
    await cases.act(GUILD, case_id, CaseAction.DISMISS, 500, detail="not_violation")
    with pytest.raises(CaseActionRefused):
        await cases.claim_check_in(GUILD, case_id, actor_id=500)
    case = await store.read(lambda tx: tx.cases.get(case_id))
    assert case is not None and case.check_in_at is None


# --------------------------------------------------------------------------- a member's own request


async def test_a_members_request_opens_one_urgent_welfare_case(store: Any):
    await _configured(store)
    signals: list[int] = []
    reports = ReportService(store, clock(), on_alert_change=lambda: signals.append(1))
    member = user(42)
    first = await reports.request_support(GUILD, member, ReportSource.SLASH, "fr")
    again = await reports.request_support(GUILD, member, ReportSource.USER_MENU, "de")
    assert first is again is SupportResult.ASKED
    active = await store.read(lambda tx: tx.cases.list_active(GUILD, 10))
    assert len(active) == 1
    case = active[0]
    assert case.urgent and case.target_id == member.id and case.target_locale == "fr"
    case_reports = await store.read(lambda tx: tx.reports.for_case(case.id))
    assert len(case_reports) == 1 and case_reports[0].asks_for_support
    assert case_reports[0].reason is Reason.SELF_HARM and case_reports[0].details is None
    assert signals == [1]


async def test_a_request_joins_an_open_case_and_is_never_thanked(store: Any):
    await _configured(store)
    c = clock()
    reports = ReportService(store, c)
    cases = CaseService(store, c)
    opened = await reports.submit(submission(1, 42, Reason.HARASSMENT))
    assert isinstance(opened, ReportAccepted)
    await reports.submit(submission(2, 42, Reason.HARASSMENT))
    outcome = await reports.submit(submission(3, 42, Reason.HARASSMENT))
    assert isinstance(outcome, ReportAccepted) and outcome.case_id is not None
    assert await reports.request_support(GUILD, user(42), ReportSource.SLASH, None) is (
        SupportResult.ASKED
    )
    data_ = await cases.alert_data(outcome.case_id)
    assert data_ is not None and is_welfare_case(data_)
    assert data_.case.urgent
    await cases.act(GUILD, outcome.case_id, CaseAction.RESOLVE, 500)
    owed = await cases.pending_feedback(10)
    assert {reporter for _, reporter in owed} == {user(1).id, user(2).id, user(3).id}


async def test_nothing_is_stored_without_an_alert_channel_or_past_the_limit(store: Any):
    reports = ReportService(store, clock(), RateLimit(max_reports=1))
    assert await reports.request_support(GUILD, user(42), ReportSource.SLASH, "en") is (
        SupportResult.NOT_CONFIGURED
    )
    assert await store.read(lambda tx: tx.cases.list_active(GUILD, 10)) == []
    await _configured(store)
    await reports.submit(submission(42, 77, Reason.SPAM))  # the member's one report
    assert await reports.request_support(GUILD, user(42), ReportSource.SLASH, "en") is (
        SupportResult.RATE_LIMITED
    )
    assert await store.read(lambda tx: tx.cases.list_active(GUILD, 10)) == []
