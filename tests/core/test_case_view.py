"""Which buttons an alert offers, decided in core as data (no Discord, no wording)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.case_view import ActionState, AlertAction, Tone, alert_actions
from core.evidence import MessageEvidence
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
from core.reasons import Reason
from core.service import ALLOWED_FROM

GUILD = 111
NOW = datetime(2026, 3, 1, tzinfo=UTC)
CASE = Case(
    id=1,
    guild_id=GUILD,
    number=7,
    target_id=1234567890123456789,
    target_name="Mallory",
    target_is_member=True,
    target_joined_at=NOW,
    status=CaseStatus.OPEN,
    urgent=False,
    opened_at=NOW,
)
LINKED = Report(
    id=1,
    guild_id=GUILD,
    reporter_id=1001,
    target_id=CASE.target_id,
    reason=Reason.HARASSMENT,
    source=ReportSource.SLASH,
    created_at=NOW,
    message_link="https://discord.com/channels/1/2/3",
)


def data(status: CaseStatus = CaseStatus.OPEN, *events: CaseAction, **case: object) -> AlertData:
    trail = tuple(CaseEvent(1, 99, action, NOW) for action in events)
    return AlertData(
        replace(CASE, status=status, **case), GuildSettings(GUILD), (LINKED,), 1, trail
    )


def enabled(states: tuple[ActionState, ...]) -> set[AlertAction]:
    return {state.action for state in states if state.enabled}


def test_an_open_case_offers_everything_in_two_rows_of_five():
    states = alert_actions(data())
    # Show evidence needs kept text; Check in and More actions only come with self-harm.
    welfare_only = (AlertAction.CHECK_IN, AlertAction.MORE)
    without_evidence = [
        a for a in AlertAction if a is not AlertAction.SHOW_EVIDENCE and a not in welfare_only
    ]
    assert [s.action for s in states] == without_evidence
    assert enabled(states) == set(without_evidence)
    # Two rows of five, and Ask reporter on the third (t15-relay).
    assert [s.row for s in states] == [0] * 5 + [1] * 5 + [2]
    tones = {s.action: s.tone for s in states}
    assert tones[AlertAction.ACKNOWLEDGE] is Tone.PRIMARY
    assert tones[AlertAction.RESOLVE] is Tone.POSITIVE
    assert {a for a, t in tones.items() if t is Tone.DANGER} == {
        AlertAction.TIMEOUT,
        AlertAction.KICK,
        AlertAction.BAN,
        AlertAction.DELETE_MESSAGES,
    }


def test_export_is_its_own_action_allowed_in_every_state():
    assert AlertAction.EXPORT.records is None
    for status in CaseStatus:
        assert AlertAction.EXPORT in enabled(alert_actions(data(status)))
    for action in AlertAction:
        if action not in (
            AlertAction.EXPORT,
            AlertAction.SHOW_EVIDENCE,
            AlertAction.MORE,
            AlertAction.ASK_REPORTER,
        ):
            assert action.records is CaseAction(action.value)


def test_show_evidence_only_when_text_was_kept_on_its_own_row_in_every_state():
    """A third row, read-only like Export: it records who looked, never a transition."""
    assert AlertAction.SHOW_EVIDENCE.records is None
    kept = MessageEvidence(CASE.target_id, NOW, False, "the message", 1, ("image/png",))
    for status in CaseStatus:
        plain = alert_actions(data(status))
        assert AlertAction.SHOW_EVIDENCE not in {s.action for s in plain}
        with_text = replace(data(status), reports=(replace(LINKED, evidence=kept),))
        states = {s.action: s for s in alert_actions(with_text)}
        shown = states[AlertAction.SHOW_EVIDENCE]
        assert shown.enabled and shown.row == 2 and shown.tone is Tone.NEUTRAL


def test_status_buttons_follow_the_transition_rules():
    for status in CaseStatus:
        on = enabled(alert_actions(data(status)))
        for action in (AlertAction.ACKNOWLEDGE, AlertAction.RESOLVE, AlertAction.DISMISS):
            record = action.records
            assert record is not None
            assert (action in on) == (status in ALLOWED_FROM[record]), (status, action)


def test_member_actions_end_when_the_member_is_gone_or_the_case_dismissed():
    kicked = enabled(alert_actions(data(CaseStatus.RESOLVED, CaseAction.KICK)))
    assert AlertAction.TIMEOUT not in kicked and AlertAction.KICK not in kicked
    assert AlertAction.BAN in kicked  # a kicked member can still be banned
    banned = enabled(alert_actions(data(CaseStatus.RESOLVED, CaseAction.BAN)))
    assert AlertAction.BAN not in banned
    left = enabled(alert_actions(data(target_is_member=False)))
    assert AlertAction.TIMEOUT not in left and AlertAction.BAN in left
    dismissed = enabled(alert_actions(data(CaseStatus.DISMISSED)))
    assert dismissed == {AlertAction.NOTE, AlertAction.EXPORT, AlertAction.ESCALATE}


def test_delete_needs_a_link_and_happens_once():
    assert AlertAction.DELETE_MESSAGES in enabled(alert_actions(data()))
    deleted = alert_actions(data(CaseStatus.OPEN, CaseAction.DELETE_MESSAGES))
    assert AlertAction.DELETE_MESSAGES not in enabled(deleted)
    unlinked = replace(data(), reports=(replace(LINKED, message_link=None),))
    assert AlertAction.DELETE_MESSAGES not in enabled(alert_actions(unlinked))


def test_ask_reporter_on_the_third_row_while_the_case_is_open():
    """t15-relay: the question goes through the relay (not the audit trail); it is offered
    while the case is open and has reporters, then stays visible, disabled."""
    assert AlertAction.ASK_REPORTER.records is None
    for status in CaseStatus:
        states = {s.action: s for s in alert_actions(data(status))}
        ask = states[AlertAction.ASK_REPORTER]
        assert ask.row == 2 and ask.tone is Tone.NEUTRAL
        assert ask.enabled is status.is_active
    no_reports = replace(data(), reports=())
    assert not {s.action: s for s in alert_actions(no_reports)}[AlertAction.ASK_REPORTER].enabled
    with_evidence = {
        s.action: s
        for s in alert_actions(
            replace(
                data(),
                reports=(
                    replace(
                        LINKED,
                        evidence=MessageEvidence(CASE.target_id, NOW, False, "x", 0, ()),
                    ),
                ),
            )
        )
    }
    assert with_evidence[AlertAction.SHOW_EVIDENCE].row == 2
    assert with_evidence[AlertAction.ASK_REPORTER].row == 2
