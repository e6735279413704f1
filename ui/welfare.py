"""Welfare, not punishment, for self-harm (issue 15): Check in, and a member's own request.

**Check in** (an alert button; `on_check_in` is its handler in ui/case_actions.BUTTON_HANDLERS)
sends the member at risk one short, warm DM: someone in the server is worried about them, and
who to talk to now (core/guidance.build_check_in). It never names a reporter and never mentions
a report, a case or moderators' tools. The moderator is told, privately, whether it arrived.
The order matters: the case rules first (a moderator, this server's case, not their own, not
dismissed), then the member (still here, not a bot), then the claim (one delivered check-in per
period, decided in the database), then the DM, then its outcome in the case's history.

**SupportButton** sits under the crisis support a member gets when they report themselves for
self-harm: pressing it lets the moderators know they could use support (a welfare case, an
urgent alert with Check in first). Only that member may press it, checked at every press.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from core.guidance import GUIDANCE_TITLE_KEY, localised_name
from core.i18n import language_name, tr
from core.models import CaseAction, ReportSource, UserSnapshot
from core.rendering import render_check_in
from core.service import CheckInHeld
from core.text import safe_name
from core.welfare import (
    CHECK_IN_COOLDOWN,
    CHECK_IN_SEND_SECONDS,
    CheckInResult,
    SupportResult,
    asked_for_support,
    check_in_locale,
    check_in_region,
)
from ui.app import VigilBot
from ui.case_common import (
    Interaction,
    in_background,
    post_audit_line,
    reply_or_edit,
    server_locale,
    target_of,
)
from ui.country_menu import (
    CHECK_IN,
    SELF_SUPPORT,
    cached_check_in,
    cached_self_support,
    country_view,
    reader_locale,
    region_for,
    served_guild_id,
)
from ui.items import VigilItem, groups, snowflake
from ui.markup import relative
from ui.replies import NO_MENTIONS, guidance_embed, private_answer, send_private

log = logging.getLogger(__name__)

DMS_CLOSED = 50007  # Discord: "Cannot send messages to this user"

_MODERATOR_ANSWERS: dict[CheckInResult, str] = {
    CheckInResult.DMS_CLOSED: "act.check_in_dms_closed",
    CheckInResult.FAILED: "act.check_in_failed",
}


# --------------------------------------------------------------------------- Check in


async def on_check_in(interaction: Interaction, case_id: int) -> None:
    """A moderator pressed Check in. Refusals (CaseActionRefused) are answered by the button."""
    guild = interaction.guild
    assert guild is not None
    services = interaction.client.services
    locale = server_locale(interaction)
    case = await services.cases.require(guild.id, case_id, CaseAction.CHECK_IN, interaction.user.id)
    # A member lookup, a claim, a DM and a record follow: answer Discord first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        _, member = await target_of(guild, case)
    except discord.HTTPException as error:  # Discord did not say whether they are here
        name = safe_name(case.target_name)
        await reply_or_edit(
            interaction, tr("act.check_in_failed", locale, name=name, status=error.status)
        )
        return
    if member is None:
        name = safe_name(case.target_name)
        await reply_or_edit(interaction, tr("act.check_in_left", locale, name=name))
        return
    name = safe_name(member.display_name)
    if member.bot:
        await reply_or_edit(interaction, tr("act.check_in_bot", locale, name=name))
        return
    claim = await services.cases.claim_check_in(guild.id, case_id, interaction.user.id)
    if isinstance(claim, CheckInHeld):
        if claim.delivered:
            minutes = int(CHECK_IN_COOLDOWN.total_seconds() // 60)
            when = relative(claim.since)
            text = tr("act.check_in_recent", locale, name=name, when=when, minutes=minutes)
        else:  # another moderator's is on its way: it may yet fail
            text = tr("act.check_in_in_progress", locale, name=name)
        await reply_or_edit(interaction, text)
        return
    # From the claim on, an error ends in its record too: FAILED gives the claim back, never
    # holds it for the cooldown. The DM is given CHECK_IN_SEND_SECONDS, well within the
    # claim's lease, so no other moderator's claim starts while this one may still deliver;
    # past that it counts as failed (it may yet arrive: a second message is the lesser
    # harm). Cancelled (the bot stopping): no record, the claim is left to its lease.
    try:
        data = await services.cases.alert_data(case_id)
        settings = data.settings if data else await services.guild_settings.get(guild.id)
        member_locale = check_in_locale(claim.case, locale)
        region = check_in_region(settings.region, claim.case)
        asked = data is not None and asked_for_support(data.reports)
        async with asyncio.timeout(CHECK_IN_SEND_SECONDS):
            result, status = await send_check_in(
                interaction.client, member, guild.name, member_locale, region, asked=asked
            )
    except TimeoutError:
        log.warning("check-in of case %s: Discord did not answer in time", case_id)
        result, status = CheckInResult.FAILED, 0
    except Exception:
        await services.cases.record_check_in(claim, interaction.user.id, CheckInResult.FAILED)
        raise
    recorded = await services.cases.record_check_in(claim, interaction.user.id, result)
    if recorded is not None:
        in_background(
            post_audit_line(
                interaction.client,
                recorded,
                locale,
                actor_id=interaction.user.id,
                action=CaseAction.CHECK_IN,
            ),
            f"audit line for case {recorded.id}",
        )
    if result is CheckInResult.SENT:
        directory = services.hotlines
        country = directory.country(region) if region else None
        language = language_name(member_locale, locale)
        if country is None:
            text = tr("act.check_in_sent_international", locale, name=name, language=language)
        else:
            where = localised_name(country, locale)
            text = tr("act.check_in_sent", locale, name=name, language=language, country=where)
    else:
        text = tr(_MODERATOR_ANSWERS[result], locale, name=name, status=status)
    await reply_or_edit(interaction, text)


async def send_check_in(
    bot: VigilBot,
    member: discord.Member,
    server: str,
    locale: str | None,
    region: str | None,
    *,
    asked: bool,
) -> tuple[CheckInResult, int]:
    """Send the DM; (what became of it, Discord's HTTP status or 0). Never raises: the claim
    must be recorded (and given back when nothing arrived) whatever happened."""
    directory = bot.services.hotlines
    written = locale or "en"
    guidance = cached_check_in(directory, region, written)
    text = render_check_in(server, member.display_name, written, asked=asked)
    embed = guidance_embed(guidance)
    view = country_view(directory, CHECK_IN, region, written)
    try:
        channel = await member.create_dm()
        await channel.send(text, embed=embed, view=view, allowed_mentions=NO_MENTIONS)
    except discord.Forbidden as error:
        closed = error.code == DMS_CLOSED
        return (CheckInResult.DMS_CLOSED if closed else CheckInResult.FAILED), error.status
    except discord.HTTPException as error:
        log.warning("check-in DM not delivered: %s", error)
        return CheckInResult.FAILED, error.status
    except Exception:
        log.exception("check-in DM failed")
        return CheckInResult.FAILED, 0
    return CheckInResult.SENT, 200


# --------------------------------------------------------------------------- a member's own request


def _snapshot(user: discord.Member | discord.User) -> UserSnapshot:
    joined = user.joined_at if isinstance(user, discord.Member) else None
    return UserSnapshot(id=user.id, name=user.display_name, is_bot=user.bot, joined_at=joined)


_SUPPORT_ANSWERS: dict[SupportResult | None, str] = {
    SupportResult.ASKED: "support.sent",
    SupportResult.NOT_CONFIGURED: "support.not_configured",
    SupportResult.RATE_LIMITED: "support.rate_limited",
    None: "support.failed",
}


class SupportButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:support:(?P<user_id>[0-9]{1,20}):(?P<source>[a-z_]{1,12})",
):
    """ "Let the moderators know I could use support", under a self-harm self-report's crisis
    support. The custom ID names the member it was shown to and the route they used; only
    that member may press it (checked at every press: an ID is only text)."""

    fields = groups(user_id=snowflake, source=ReportSource)

    def __init__(self, user_id: int, source: ReportSource, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("support.button", locale)[:80],
                style=discord.ButtonStyle.primary,
                custom_id=f"vigil:support:{user_id}:{source.value}",
            )
        )
        self.user_id = user_id
        self.source = source

    async def on_press(self, interaction: Interaction) -> None:
        bot = interaction.client
        locale = reader_locale(interaction)
        guild_id = served_guild_id(bot, interaction)
        if guild_id is None or interaction.user.id != self.user_id:
            # Whoever pressed it may need help too: the refusal carries the crisis lines.
            region = await region_for(bot, guild_id, locale)
            directory = bot.services.hotlines
            embed = guidance_embed(
                cached_self_support(directory, region, locale),
                title=tr(GUIDANCE_TITLE_KEY, locale),
                include_headline=False,
            )
            view = country_view(directory, SELF_SUPPORT, region, locale)
            await send_private(
                interaction, tr("support.not_yours", locale), embeds=[embed], view=view
            )
            return
        # The answer replaces the one the button is on (crisis support stays in it) when that
        # is our private answer; a press forged onto any other message (an alert, a public
        # notice) is answered anew, privately, and leaves that message as it was.
        if private_answer(interaction.message):
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        result: SupportResult | None
        try:
            result = await bot.services.reports.request_support(
                guild_id, _snapshot(interaction.user), self.source, locale
            )
        except Exception:
            log.exception("a member's request for support was not stored")
            result = None
        region = await region_for(bot, guild_id, locale)
        directory = bot.services.hotlines
        guidance = cached_self_support(directory, region, locale)
        server = safe_name(interaction.guild.name if interaction.guild else "")
        text = tr(_SUPPORT_ANSWERS[result], locale, server=server)
        embed = guidance_embed(
            guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False
        )
        again = (SupportButton(self.user_id, self.source, locale),) if result is None else ()
        view = country_view(directory, SELF_SUPPORT, region, locale, again)
        await interaction.edit_original_response(
            content=text, embeds=[embed], view=view, allowed_mentions=NO_MENTIONS
        )
