"""The #audit line (ui/case_common.post_audit_line) names the action just recorded by this
moderator, not the case's newest event: when two moderators act at once, each posts their
own line (stop 27 review, finding 7). And it is left out where the case's target reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord

from core.models import AlertData, Case, CaseAction, CaseEvent, CaseStatus, GuildSettings
from ui.case_common import post_audit_line
from ui.readers import ChannelReaders

GUILD, AUDIT, CASE = 10, 20, 30
ALICE, OLIVIA, MILO = 100, 200, 300
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, text: str, **_: Any) -> None:
        self.sent.append(text)


class FakeReaders:
    def __init__(self, readers: set[int]) -> None:
        self.readers = readers

    async def among(self, guild: Any, channel_id: int, members: frozenset[int]) -> frozenset[int]:
        return frozenset(self.readers & members)


def fake_bot(data: AlertData, readers: frozenset[int] = frozenset()) -> tuple[Any, FakeChannel]:
    channel = FakeChannel()

    async def alert_data(case_id: int) -> AlertData:
        return data

    bot = SimpleNamespace(
        services=SimpleNamespace(cases=SimpleNamespace(alert_data=alert_data)),
        readers=FakeReaders(set(readers)),
        get_guild=lambda guild_id: object(),
        get_partial_messageable=lambda channel_id: channel,
    )
    return bot, channel


def case_data(*events: CaseEvent) -> AlertData:
    case = Case(
        id=CASE,
        guild_id=GUILD,
        number=1,
        target_id=ALICE,
        target_name="alice",
        target_is_member=True,
        target_joined_at=None,
        status=CaseStatus.ACKNOWLEDGED,
        urgent=False,
        opened_at=AT,
    )
    settings = GuildSettings(GUILD, alert_channel_id=1, audit_channel_id=AUDIT)
    return AlertData(case=case, settings=settings, reports=(), distinct_reporters=1, events=events)


def event(actor: int, action: CaseAction, minutes: int, detail: str | None = None) -> CaseEvent:
    return CaseEvent(CASE, actor, action, AT + timedelta(minutes=minutes), detail=detail)


async def test_each_moderator_posts_their_own_action_not_the_newest_one() -> None:
    # olivia acknowledged; milo escalated a moment later, before olivia's line was posted.
    data = case_data(
        event(OLIVIA, CaseAction.ACKNOWLEDGE, 0), event(MILO, CaseAction.ESCALATE, 1, "police")
    )
    bot, channel = fake_bot(data)
    await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
    await post_audit_line(bot, data.case, "en", actor_id=MILO, action=CaseAction.ESCALATE)
    assert len(channel.sent) == 2
    assert f"<@{OLIVIA}>" in channel.sent[0] and f"<@{MILO}>" not in channel.sent[0]
    assert f"<@{MILO}>" in channel.sent[1]


async def test_no_line_where_the_target_reads_and_none_for_a_note() -> None:
    data = case_data(event(OLIVIA, CaseAction.ACKNOWLEDGE, 0), event(OLIVIA, CaseAction.NOTE, 1))
    bot, channel = fake_bot(data, readers=frozenset({ALICE}))
    await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
    assert channel.sent == []  # alice, the case's target, reads #audit
    bot, channel = fake_bot(data)
    await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.NOTE)
    assert channel.sent == []  # notes stay with the case


class Unavailable(discord.HTTPException):
    """Discord answering 503 to a lookup."""

    def __init__(self) -> None:
        super().__init__(SimpleNamespace(status=503, reason="Service Unavailable"), "down")


class LookupGuild:
    """A guild this process knows nothing of beyond its ID (fetched, or a cache that lacks the
    channel and the member): every channel and member is asked of Discord, which fails for
    those in `failing`."""

    id = GUILD

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)
        self.asked: list[str] = []

    def get_channel(self, channel_id: int) -> None:
        return None

    def get_member(self, member_id: int) -> None:
        return None

    async def fetch_channel(self, channel_id: int) -> Any:
        self.asked.append("channel")
        if "channel" in self.failing:
            raise Unavailable
        return SimpleNamespace(permissions_for=lambda member: SimpleNamespace(view_channel=True))

    async def fetch_member(self, member_id: int) -> Any:
        self.asked.append("member")
        if "member" in self.failing:
            raise Unavailable
        return SimpleNamespace(id=member_id)


def bot_with_real_readers(
    data: AlertData, guild: LookupGuild | None, *, guild_lookup_fails: bool = False
) -> tuple[Any, FakeChannel]:
    bot, channel = fake_bot(data)
    bot.readers = ChannelReaders()
    bot.get_guild = lambda guild_id: guild

    async def fetch_guild(guild_id: int, **_: Any) -> Any:
        if guild_lookup_fails:
            raise Unavailable
        return LookupGuild()

    bot.fetch_guild = fetch_guild
    return bot, channel


async def test_no_line_when_discord_cannot_say_whether_the_target_reads_audit() -> None:
    """A failed lookup (of the server, the #audit channel or the target) is no answer: the
    line is left out, since the target might read #audit, and nothing is remembered, so the
    next action asks again (review of stop 29, finding 2)."""
    data = case_data(event(OLIVIA, CaseAction.ACKNOWLEDGE, 0))
    for failing in ("channel", "member"):
        guild = LookupGuild(failing)
        bot, channel = bot_with_real_readers(data, guild)
        await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
        assert channel.sent == [], failing
        guild.failing.clear()  # Discord answers again: alice reads #audit, still no line
        await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
        assert channel.sent == [] and guild.asked.count(failing) == 2, failing
    bot, channel = bot_with_real_readers(data, None, guild_lookup_fails=True)
    await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
    assert channel.sent == []


async def test_the_line_is_posted_once_discord_says_the_target_is_not_a_member() -> None:
    """The other side: "not a member" is an answer, so the line goes out."""
    data = case_data(event(OLIVIA, CaseAction.ACKNOWLEDGE, 0))
    guild = LookupGuild()

    async def not_a_member(member_id: int) -> Any:
        raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "Unknown Member")

    guild.fetch_member = not_a_member  # type: ignore[method-assign]
    bot, channel = bot_with_real_readers(data, guild)
    await post_audit_line(bot, data.case, "en", actor_id=OLIVIA, action=CaseAction.ACKNOWLEDGE)
    assert len(channel.sent) == 1


async def test_a_channel_discord_says_is_gone_is_remembered_like_any_answer() -> None:
    """ "No such channel" is an answer (nobody reads it): asked once a minute, not at every
    alert edit and audit line, unlike a failed lookup (review of stop 30, finding 2)."""
    guild = LookupGuild()
    asked: list[int] = []

    async def gone(channel_id: int) -> Any:
        asked.append(channel_id)
        raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "Unknown Channel")

    guild.fetch_channel = gone  # type: ignore[method-assign]
    readers = ChannelReaders()
    for _ in range(3):
        assert await readers.can_read(guild, AUDIT, ALICE) is False  # type: ignore[arg-type]
    assert asked == [AUDIT] and guild.asked == []  # the member is not even asked
