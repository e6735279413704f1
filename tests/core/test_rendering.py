"""What moderators and reporters read: safe from forged mentions, complete, bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.alert_view import render_alert
from core.models import AlertData, Case, CaseStatus, GuildSettings, Report, ReportSource
from core.reasons import Reason
from core.rendering import render_report_ack
from core.service import ReportAccepted
from core.text import neutralise
from tests.helpers import GUILD

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
    ]
    assert len({b.row for b in content.buttons}) == 2  # two rows of five


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
    outcome = ReportAccepted(1, None, None, False, 1, 3, False, True, None)
    text = render_report_ack(outcome, "Mallory", "")
    assert text.startswith("**Thank you")
    warm = render_report_ack(outcome, "Mallory", "**You did the right thing.**")
    assert warm.startswith("**You did the right thing.**")
    assert "confidential" in text
    opened = render_report_ack(replace(outcome, case_id=1, case_number=1), "Mallory", "")
    assert "alerted" in opened
    pending = render_report_ack(
        replace(outcome, case_id=1, alert_channel_configured=False), "Mallory", ""
    )
    assert "as soon as" in pending
    dup = render_report_ack(replace(outcome, duplicate=True), "Mallory", "")
    assert "already" in dup


def test_neutralise_keeps_text_readable():
    assert neutralise("hello\u0000 world\u202e") == "hello world"
    assert "@\u200beveryone" in neutralise("@everyone")
