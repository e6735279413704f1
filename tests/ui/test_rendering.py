"""What moderators and reporters read: safe from forged mentions, complete, bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.i18n import tr
from core.models import (
    AlertData,
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    DismissReason,
    GuildSettings,
    Report,
    ReportSource,
)
from core.moderation import Actor, TargetMember, refusal_for
from core.outcomes import Outcome
from core.reasons import Reason
from core.rendering import render_report_ack
from core.service import CaseActionRefused
from core.text import neutralise
from tests.helpers import GUILD, report_accepted
from ui.alert_view import (
    describe_event,
    describe_outcome,
    describe_refusal,
    render_alert,
    render_audit_line,
    render_channel_notice,
    render_feedback_dm,
    render_queue_line,
    render_settings,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def case(**kw) -> Case:
    base = Case(
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
    return replace(base, **kw)


def report(n: int, details: str | None = "bad things", **kw) -> Report:
    base = Report(
        id=n,
        guild_id=GUILD,
        reporter_id=1000 + n,
        target_id=1234567890123456789,
        reason=Reason.HARASSMENT,
        source=ReportSource.SLASH,
        created_at=NOW,
        details=details,
    )
    return replace(base, **kw)


def text_of(content) -> str:
    return "\n".join(
        [content.title, content.description, content.footer]
        + [f.name + f.value for f in content.fields]
    )


def test_alert_shows_what_moderators_need():
    reports = (report(1), report(2, message_link="https://discord.com/channels/1/2/3"), report(3))
    content = render_alert(AlertData(case(), GuildSettings(GUILD), reports, 3))
    text = text_of(content)
    assert "Case #7" in content.title
    assert "<@1234567890123456789>" in text and "1234567890123456789" in text
    assert "**Distinct reporters:** 3" in text
    assert "Harassment" in text
    assert "https://discord.com/channels/1/2/3" in text
    for n in (1, 2, 3):
        assert f"<@{1000 + n}>" in text  # reporters, for moderators' eyes
    assert content.mention_role_id is None
    assert [b.key for b in content.buttons] == [
        "acknowledge",
        "resolve",
        "dismiss",
        "note",
        "export",
        "timeout",
        "kick",
        "ban",
        "delete_messages",
        "escalate",
        "ask_reporter",
    ]
    # Two rows of five, and Ask reporter on a third (t15-relay).
    assert [b.row for b in content.buttons] == [0] * 5 + [1] * 5 + [2]
    # Reporters are numbered as Ask reporter names them.
    assert "**1** <@1001>, **2** <@1002>, **3** <@1003>" in text


def test_non_member_target_is_labelled():
    content = render_alert(
        AlertData(
            case(target_is_member=False, target_joined_at=None),
            GuildSettings(GUILD),
            (report(1),),
            1,
        )
    )
    assert "not a member" in content.description


def test_user_text_cannot_forge_mentions_or_links():
    evil = "@everyone @here <@&123> <@456> [click](https://evil.example) # Heading"
    content = render_alert(
        AlertData(case(target_name="@everyone"), GuildSettings(GUILD), (report(1, evil),), 1)
    )
    text = text_of(content)
    assert "@everyone" not in text and "@here" not in text
    assert "<@&123>" not in text and "<@456>" not in text
    assert "](https://evil" not in text


def test_urgent_alert_mentions_only_the_mod_role():
    data = AlertData(
        case(urgent=True),
        GuildSettings(GUILD, mod_role_id=42),
        (report(1, reason=Reason.CHILD_SAFETY),),
        1,
    )
    content = render_alert(data)
    assert content.content == "<@&42>" and content.mention_role_id == 42
    assert content.title.startswith("URGENT")
    closed = render_alert(replace(data, case=case(urgent=True, status=CaseStatus.RESOLVED)))
    assert closed.mention_role_id is None
    enabled = {b.key for b in closed.buttons if not b.disabled}
    assert enabled == {"note", "export", "escalate", "timeout", "kick", "ban"}


def test_long_texts_are_trimmed_within_embed_limits():
    reports = tuple(report(n, "x" * 1000) for n in range(30))
    content = render_alert(AlertData(case(), GuildSettings(GUILD), reports, 30))
    assert len(content.title) <= 256
    assert all(len(f.value) <= 1024 for f in content.fields)


def test_report_ack_is_warm_and_says_what_happens_next():
    outcome = report_accepted()
    text = render_report_ack(outcome, "Mallory", "")
    assert text.startswith("**Thank you")
    warm = render_report_ack(outcome, "Mallory", "**You did the right thing.**")
    assert warm.startswith("**You did the right thing.**")
    assert "confidential" in text
    assert "saved for the moderators" in text
    pending = render_report_ack(
        replace(outcome, case_id=1, alert_channel_configured=False), "Mallory", ""
    )
    assert "as soon as" in pending
    dup = render_report_ack(replace(outcome, duplicate=True), "Mallory", "")
    assert "already" in dup


def test_report_ack_never_reveals_the_case_state():
    """Issue 11 item 17: whether a case is open, was just opened, or the threshold was reached
    depends on other people's reports; the reporter's confirmation is the same either way."""
    below = report_accepted()
    states = [
        below,
        replace(below, case_id=7, case_number=2, case_opened=True, distinct_reporters=3),
        replace(below, case_id=7, case_number=2, case_opened=False, distinct_reporters=9),
    ]
    for locale in ("en", "de", "fr", "es-ES", "pt-BR"):
        texts = {render_report_ack(s, "Mallory", "", locale) for s in states}
        assert len(texts) == 1, texts
    text = render_report_ack(states[1], "Mallory", "")
    for leak in ("alerted", "threshold", "already open", "case", "other"):
        assert leak not in text.lower(), leak


@pytest.mark.parametrize("reason", [Reason.CHILD_SAFETY, Reason.SELF_HARM, Reason.VIOLENT_THREAT])
def test_report_ack_never_says_nothing_else_to_do_when_guidance_asks_to_act(reason: Reason):
    outcome = report_accepted(case_id=7, case_number=2, case_opened=True)
    for locale in ("en", "de", "fr", "es-ES", "pt-BR"):
        text = render_report_ack(outcome, "Mallory", "", locale, reason)
        assert tr("ack.saved", locale) not in text
        assert tr("ack.saved_act", locale) in text
    assert "anything else" not in render_report_ack(outcome, "Mallory", "", "en", reason)
    assert "anything else" in render_report_ack(outcome, "Mallory", "", "en", Reason.SPAM)


def test_neutralise_keeps_text_readable():
    assert neutralise("hello\u0000 world\u202e") == "hello world"
    assert "@\u200beveryone" in neutralise("@everyone")


def test_alert_follows_the_servers_language():
    reports = (report(1, message_link="https://discord.com/channels/1/2/3"), report(2))
    data = AlertData(case(urgent=True), GuildSettings(GUILD, mod_role_id=42), reports, 2)
    content = render_alert(data, "de")
    text = text_of(content)
    assert content.title == "DRINGEND: Fall #7: Meldungen über Mallory"
    assert "**Status:** offen" in content.description
    assert "**Verschiedene Meldende:** 2" in content.description
    names = [f.name for f in content.fields]
    assert names[:2] == ["Gründe", "Neueste Meldungen (2 von 2)"]
    assert "Gemeldete Nachrichten" in names and "Meldende (nur für Moderation)" in names
    assert "Belästigung" in text or "Mobbing" in text  # the reason's German label
    assert [b.label for b in content.buttons][:3] == ["Übernehmen", "Erledigt", "Verwerfen"]
    assert content.footer.startswith("Vigil-Fall #7")
    # IDs, mentions, names and Discord timestamps are never translated.
    assert "<@1234567890123456789>" in text and "Mallory" in text and "<t:" in text
    for english in ("Case #", "Reasons", "Acknowledge", "reports about", "Distinct reporters"):
        assert english not in text + " ".join(b.label for b in content.buttons)


def test_alert_in_each_language_and_english_fallback():
    data = AlertData(case(), GuildSettings(GUILD), (report(1),), 1)
    english = render_alert(data)
    assert render_alert(data, "en-GB") == english
    assert render_alert(data, "ja") == english  # no catalogue: English
    assert render_alert(data, None) == english
    assert english.title.startswith("Case #7") and english.buttons[0].label == "Acknowledge"
    assert render_alert(data, "fr").title.startswith("Cas #7")
    assert render_alert(data, "es-ES").title.startswith("Caso #7")
    assert render_alert(data, "pt-BR").fields[0].name == "Motivos"


def test_acted_on_alert_and_audit_lines_in_german():
    acted = case(
        status=CaseStatus.DISMISSED,
        handled_by=99,
        handled_at=NOW,
        dismiss_reason=DismissReason.MALICIOUS,
    )
    events = (
        CaseEvent(1, 99, CaseAction.TIMEOUT, NOW, detail="3600"),
        CaseEvent(1, 99, CaseAction.DISMISS, NOW, detail="malicious"),
        CaseEvent(1, 99, CaseAction.ESCALATE, NOW, note="CT1", detail="ncmec"),
    )
    data = AlertData(acted, GuildSettings(GUILD), (report(1),), 1, events)
    content = render_alert(data, "de")
    assert "**Status:** verworfen (böswillige Meldung) von <@99>" in content.description
    actions = next(f for f in content.fields if f.name == "Aktionen").value
    assert "<@99> hat das Mitglied in den Timeout geschickt (1 Stunde)" in actions
    assert "<@99> hat es an NCMEC CyberTipline gemeldet, Az.: CT1" in actions  # names stay
    line = render_audit_line(acted, events[0], "de")
    assert line.startswith("Fall #7 · <@99> hat das Mitglied")
    assert describe_event(events[0]) == "<@99> timed out the member (1 hour)"  # export: English
    assert "(übernommen, eröffnet <t:" in render_queue_line(
        GUILD, case(status=CaseStatus.ACKNOWLEDGED), "de"
    )


def test_settings_notice_feedback_and_refusals_in_german():
    lines = render_settings(GuildSettings(GUILD, alert_channel_id=5), None, "de")
    assert lines[0] == "**Alarmkanal:** <#5>" and "nicht festgelegt" in lines[4]
    assert render_settings(GuildSettings(GUILD), None)[0] == "**Alert channel:** not set"
    notice = render_channel_notice("Lighthouse", "channel_gone", "de")
    assert notice.startswith("**Vigil kann in Lighthouse keine Alarme")
    assert "den Alarmkanal gibt es nicht mehr" in notice
    assert "Discord antwortete mit 503" in render_channel_notice("L", "http:503", "de")
    dm = render_feedback_dm("Lighthouse", "Mallory", "de")
    assert "Lighthouse" in dm and "Mallory" in dm and dm.startswith("Die Moderatoren")
    assert "your server" in render_feedback_dm(None, "Mallory")
    assert describe_refusal(CaseActionRefused("x"), "de") == (
        "Diesen Fall gibt es auf diesem Server nicht."
    )
    refused = CaseActionRefused(
        "x", case=case(status=CaseStatus.RESOLVED), action=CaseAction.ACKNOWLEDGE
    )
    assert describe_refusal(refused, "de").startswith("Fall #7 ist bereits erledigt")
    assert "**Acknowledge** no longer applies" in describe_refusal(refused, "ko")


def _worded(outcome: Outcome | None, locale: str | None = None) -> str:
    return describe_outcome(outcome, locale) if outcome is not None else ""


def test_moderation_refusals_in_the_servers_language():
    mod = Actor("hans", frozenset({"kick_members"}), 5)
    bot = Actor("vigil", frozenset({"kick_members"}), 9)
    target = TargetMember("alice", True, top_role_position=7)
    english = _worded(refusal_for(CaseAction.KICK, mod, bot, target))
    assert english == "Your highest role must be above alice's highest role."
    german = _worded(refusal_for(CaseAction.KICK, mod, bot, target), "de")
    assert german == "Deine höchste Rolle muss über der höchsten Rolle von alice stehen."
    nobody = Actor("hans", frozenset(), 5)
    assert "**Mitglieder kicken**" in (
        _worded(refusal_for(CaseAction.KICK, nobody, bot, target), "de")
    )
