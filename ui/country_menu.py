"""The guidance reply and its "Another country?" menu, shared by /report and /hotlines."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from core.country_picker import picker_countries
from core.guidance import (
    GUIDANCE_TITLE_KEY,
    Guidance,
    build_check_in,
    build_guidance,
    build_self_support,
    hotlines_overview,
    localised_name,
    search_countries,
)
from core.hotlines import INTERNATIONAL, HotlineDirectory
from core.i18n import tr
from core.reasons import Reason
from core.regions import effective_region
from core.rendering import render_self_support
from ui.app import VigilBot
from ui.items import VigilItem, groups
from ui.replies import NO_MENTIONS, ReplyParts, guidance_embed, private_answer, send_private

log = logging.getLogger(__name__)

REGION_LOOKUP_SECONDS = 1.0  # a refusal must still answer within Discord's 3 s


def reader_locale(interaction: discord.Interaction[Any]) -> str:
    """The Discord locale of the person who interacted (their client's language)."""
    return interaction.locale.value


def served_guild_id(bot: VigilBot, interaction: discord.Interaction[VigilBot]) -> int | None:
    """The interaction's server when Vigil is installed there, else None: a user-installed
    command used in a DM, a group DM or a server without Vigil has no server settings."""
    guild_id = interaction.guild_id
    if guild_id is None or bot.get_guild(guild_id) is None:
        return None
    return guild_id


async def region_for(bot: VigilBot, guild_id: int | None, locale: str) -> str | None:
    """The country whose help a reporter sees when there is no stored report to read it from:
    the server's region, else the reporter's locale where it names one country. A database
    that fails here must not cost the reporter their help: then the locale alone decides."""
    configured: str | None = None
    if guild_id is not None:
        try:
            settings = await asyncio.wait_for(
                bot.services.guild_settings.get(guild_id), REGION_LOOKUP_SECONDS
            )
            configured = settings.region
        except Exception:
            log.warning("could not read the server's region for guidance", exc_info=True)
    return effective_region(configured, locale)


async def reply_with_help(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    reason: Reason,
    region: str | None,
    text: str,
    *,
    deferred: bool | None = None,
) -> None:
    """A refusal or error, with the guidance for the report's reason and the country menu."""
    locale = reader_locale(interaction)
    parts = guidance_reply(bot.services.hotlines, reason, region, locale)
    await send_private(interaction, text, deferred=deferred, parts=parts)


async def answer_failure(
    interaction: discord.Interaction[Any],
    *,
    with_help: bool,
    reason: Reason = Reason.OTHER,
    key: str = "error.generic",
) -> None:
    """The private answer to a press, a form or a command that failed: the generic error line
    (or `key`'s), with the help for `reason` (the general help by default) and the country
    menu where the one answered may be a reporter. Never raises: it is the last answer."""
    try:
        locale = reader_locale(interaction)
        text = tr(key, locale)
        if not with_help:
            await send_private(interaction, text)
            return
        bot = interaction.client
        region = await region_for(bot, interaction.guild_id, locale)
        await reply_with_help(bot, interaction, reason, region, text)
    except Exception:
        log.exception("the answer to a failed press was not sent")


async def reply_with_self_support(
    bot: VigilBot,
    interaction: discord.Interaction[VigilBot],
    region: str | None,
    *,
    deferred: bool | None = None,
    offer: discord.ui.Item[Any] | None = None,
) -> None:
    """A member who reported themselves for self-harm is asking for help: crisis support,
    never a refusal. Nothing is stored and no moderator is alerted (the answer says so and
    suggests reaching out to a moderator they trust): telling others is the member's choice.

    ``offer`` (t15-welfare): the button that lets the moderators know, when the member is in a
    server Vigil serves; pressing it is that choice (ui/welfare.py)."""
    locale = reader_locale(interaction)
    directory = bot.services.hotlines
    guidance = cached_self_support(directory, region, locale)
    text = render_self_support(guidance.headline, locale)
    if offer is not None:
        text += "\n" + tr("selfreport.offer", locale)
    embed = guidance_embed(guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False)
    extra = (offer,) if offer is not None else ()
    view = country_view(directory, SELF_SUPPORT, region, locale, extra)
    await send_private(interaction, text, embeds=[embed], deferred=deferred, view=view)


SELF_SUPPORT = "self_support"
"""Country-menu kind: crisis support for a member who reported themselves for self-harm."""
HOTLINES = "hotlines"
"""Country-menu kind: the /hotlines overview."""
CHECK_IN = "check_in"
"""Country-menu kind: who to talk to now, in a check-in DM (t15-welfare)."""


def guidance_for(
    directory: HotlineDirectory, kind: str, country: str | None, locale: str
) -> Guidance:
    """What a country menu shows: a reason's guidance, self-support or the overview."""
    if kind == SELF_SUPPORT:
        return cached_self_support(directory, country, locale)
    if kind == HOTLINES:
        return cached_overview(directory, country, locale)
    if kind == CHECK_IN:
        return cached_check_in(directory, country, locale)
    value = kind if Reason.parse(kind) is not None else Reason.OTHER.value
    return cached_guidance(directory, value, country, locale)


COUNTRY_SELECT_TEMPLATE = r"vigil:country:(?P<reason>[a-z_]{1,40}):(?P<country>[A-Z]{2,3})"


def known_kind(value: str) -> str:
    """A reason (or the self-support / hotlines menus) from a custom ID; anything else is
    shown as "other", whose help fits every situation."""
    known = Reason.parse(value) is not None or value in (SELF_SUPPORT, HOTLINES, CHECK_IN)
    return value if known else Reason.OTHER.value


class CountrySelect(
    VigilItem[discord.ui.Select[discord.ui.View]], template=COUNTRY_SELECT_TEMPLATE
):
    """The "Another country?" menu under a report's guidance: shows another country's help.

    The reason and the country shown are in the custom_id, so nothing is stored and the menu
    keeps working after a restart.
    """

    fields = groups(reason=known_kind, country=str)

    def __init__(
        self,
        reason: Reason | str,
        country: str,
        options: list[discord.SelectOption] | None = None,
    ) -> None:
        kind = reason.value if isinstance(reason, Reason) else reason
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:country:{kind}:{country}",
                options=options or [],
                min_values=1,
                max_values=1,
            )
        )
        self.kind = kind
        self.country = country

    async def on_press(self, interaction: discord.Interaction[VigilBot]) -> None:
        locale = reader_locale(interaction)
        directory = interaction.client.services.hotlines
        chosen = self.item.values[0] if self.item.values else self.country
        guidance = guidance_for(directory, self.kind, chosen, locale)
        if self.kind in (HOTLINES, CHECK_IN):  # their own titles
            embed = guidance_embed(guidance)
        else:
            embed = guidance_embed(
                guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False
            )
        view = country_view(directory, self.kind, chosen, locale)
        message = interaction.message
        if interaction.guild_id is not None and not private_answer(message):
            # In a server the menu is only ever on a private answer: pressed (forged) on any
            # other message (an alert, a public notice), it redraws nothing there and the
            # presser gets the guidance privately, as asked.
            await send_private(interaction, None, embeds=[embed], view=view)
            return
        for button in other_buttons(message):
            view.add_item(button)  # e.g. Add details on a report's confirmation (t15-relay)
        await interaction.response.edit_message(
            embeds=[embed], view=view, allowed_mentions=NO_MENTIONS
        )


def other_buttons(message: discord.Message | None) -> list[discord.ui.Button[discord.ui.View]]:
    """The message's buttons that are not the country menu, kept as they are when the menu
    redraws the message (their DynamicItems answer them by custom ID)."""
    kept: list[discord.ui.Button[discord.ui.View]] = []
    for row in message.components if message is not None else []:
        for child in getattr(row, "children", ()):
            if isinstance(child, discord.Button) and child.custom_id:
                kept.append(discord.ui.Button.from_component(child))
    return kept


@functools.lru_cache(maxsize=1024)
def country_options(
    directory: HotlineDirectory, country: str | None, locale: str
) -> tuple[str, tuple[discord.SelectOption, ...]]:
    """(the code shown, the menu's options). Pure and small, so cached: a report storm would
    otherwise sort and translate the same list for every reply."""
    current = directory.country(country) if country else None
    # At most 24 countries (Discord allows 25 options, one is the international help): the one
    # shown, then the reader's language and region; the rest are reachable through /hotlines.
    shown = picker_countries(directory, current, locale)
    shown.sort(key=lambda c: localised_name(c, locale).casefold())
    options = [
        discord.SelectOption(
            label=localised_name(c, locale)[:100], value=c.code, default=c == current
        )
        for c in shown
    ]
    options.append(
        discord.SelectOption(
            label=tr("select.international", locale)[:100],
            value=INTERNATIONAL,
            default=current is None,
        )
    )
    return (current.code if current else INTERNATIONAL), tuple(options)


cached_guidance = functools.lru_cache(maxsize=1024)(build_guidance)
cached_self_support = functools.lru_cache(maxsize=256)(build_self_support)
cached_overview = functools.lru_cache(maxsize=256)(hotlines_overview)
cached_check_in = functools.lru_cache(maxsize=256)(build_check_in)


def country_view(
    directory: HotlineDirectory,
    reason: Reason | str,
    country: str | None,
    locale: str,
    extra: Sequence[discord.ui.Item[Any]] = (),
) -> discord.ui.View:
    """The country menu: the covered countries (and the one shown) in the reader's language.
    ``extra``: persistent items shown below it (a DynamicItem each)."""
    shown_code, options = country_options(directory, country, locale)
    select = CountrySelect(reason, shown_code, list(options))
    select.item.placeholder = tr("select.country", locale)[:150]
    view = discord.ui.View(timeout=None)
    view.add_item(select)
    for item in extra:
        view.add_item(item)
    # Sent as components only: the DynamicItem registered in setup() answers every press. A
    # stored view would unregister that DynamicItem when it times out.
    view.stop()
    return view


@functools.lru_cache(maxsize=1024)
def guidance_reply(
    directory: HotlineDirectory, reason: Reason, region: str | None, locale: str
) -> ReplyParts:
    """The guidance embed and country menu under a report's answer, built once per (reason,
    region, language): in a storm every reply would otherwise build the same embed and menu
    (a View, a Select and two dozen options) again."""
    guidance = cached_guidance(directory, reason.value, region, locale)
    embed = guidance_embed(guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False)
    return ReplyParts.of([embed], country_view(directory, reason, region, locale))


def country_choices(
    directory: HotlineDirectory, current: str, locale: str | None = None
) -> list[app_commands.Choice[str]]:
    """Countries matching what the member typed, named in their language."""
    language = locale or "en"
    return [
        app_commands.Choice(name=f"{localised_name(c, language)} ({c.code})"[:100], value=c.code)
        for c in search_countries(directory, current, language, limit=25)
    ]
