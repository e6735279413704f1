"""ui/ builds every message: an alert plan drawn as a Discord embed within its limits,
outcomes worded per language, and markup from one place (ui/markup.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from core.i18n import tr
from core.models import AlertData, CaseAction, CaseStatus, GuildSettings
from core.moderation import Actor, TargetMember, refusal_for
from core.outbox import AlertMessage, UrgentPing
from core.outcomes import Outcome, Term
from core.service import CaseActionRefused, CaseRefusal, OwnCaseRefused
from tests.helpers import GUILD
from tests.ui.test_rendering import case, report
from ui.alert_view import describe_outcome, describe_refusal, render_message, render_ping
from ui.markup import absolute, mention_channel, mention_role, mention_user, message_url, relative
from ui.replies import alert_embed

LANGUAGES = ("en-GB", "de", "fr", "es-ES", "pt-BR")
WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_markup_is_discords_own_syntax():
    stamp = int(WHEN.timestamp())
    assert relative(WHEN) == f"<t:{stamp}:R>" and absolute(WHEN) == f"<t:{stamp}:f>"
    assert (mention_user(5), mention_role(6), mention_channel(7)) == ("<@5>", "<@&6>", "<#7>")
    assert message_url(1, 2, 3) == "https://discord.com/channels/1/2/3"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_huge_alert_plan_is_drawn_within_discords_limits(locale: str):
    reports = tuple(report(n, "x<@1> " * 300) for n in range(40))
    plan = AlertMessage(
        AlertData(case(urgent=True), GuildSettings(GUILD, mod_role_id=99), reports, 40),
        locale,
        rerouted="owner_dm",
    )
    embed = alert_embed(render_message(plan))
    assert isinstance(embed, discord.Embed)
    assert len(embed) <= 6000 and len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert all(len(f.value) <= 1024 and len(f.name) <= 256 for f in embed.fields)
    assert tr("alert.rerouted_owner", locale) in (embed.description or "")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_urgent_ping_mentions_the_role_only(locale: str):
    text = render_ping(UrgentPing(number=7, role_id=4242, locale=locale))
    assert text.startswith("<@&4242> ") and text.count("<@") == 1
    assert render_ping(UrgentPing(7, None, locale)) == tr("alert.urgent_ping", locale, number=7)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_permission_refusals_are_codes_worded_per_language(locale: str):
    nobody = Actor("hans", frozenset(), 5)
    bot = Actor("vigil", frozenset({"kick_members"}), 9)
    outcome = refusal_for(CaseAction.KICK, nobody, bot, TargetMember("alice", True))
    assert outcome == Outcome(
        "mod.need_permission", {"permission": Term("permission.kick_members")}
    )
    assert tr("permission.kick_members", locale) in describe_outcome(outcome, locale)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_case_refusals_are_codes_worded_per_language(locale: str):
    opened = case(status=CaseStatus.RESOLVED)
    own = OwnCaseRefused(CaseRefusal.OWN_CASE, case=opened, action=CaseAction.NOTE)
    late = CaseActionRefused(CaseRefusal.NOT_APPLICABLE, case=opened, action=CaseAction.RESOLVE)
    gone = CaseActionRefused(CaseRefusal.NO_CASE)
    assert describe_refusal(own, locale) == tr("refused.own_case", locale, number=7)
    assert describe_refusal(gone, locale) == tr("refused.no_case", locale)
    assert "#7" in describe_refusal(late, locale) or "7" in describe_refusal(late, locale)
    assert str(own) == "own_case"  # the exception carries the code, never a sentence
