"""Sending to Discord the way Vigil must: ephemeral to reporters, never pinging from user text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

from core.case_view import Tone
from core.guidance import Guidance
from ui import limits
from ui.alert_view import AlertContent, ButtonSpec

log = logging.getLogger(__name__)

T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()
DEFER_AFTER_SECONDS = 2.0  # Discord drops an interaction not answered within 3 s
GUIDANCE_COLOUR = 0x4F7D6B

_STYLES: dict[Tone, discord.ButtonStyle] = {
    Tone.PRIMARY: discord.ButtonStyle.primary,
    Tone.NEUTRAL: discord.ButtonStyle.secondary,
    Tone.POSITIVE: discord.ButtonStyle.success,
    Tone.DANGER: discord.ButtonStyle.danger,
}


def button_style(spec: ButtonSpec) -> discord.ButtonStyle:
    return _STYLES[spec.tone]


def alert_embed(content: AlertContent) -> discord.Embed:
    embed = discord.Embed(
        title=content.title,
        description=content.description,
        colour=content.colour,
        timestamp=content.timestamp,
    )
    for field in content.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    embed.set_footer(text=content.footer)
    return fit_embeds([embed])[0]


def fit_embeds(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """The embeds of one message cut to Discord's limits (ui/limits.py, the one place)."""
    fitted = limits.fit_embeds(
        [
            limits.EmbedText(
                title=e.title,
                description=e.description,
                fields=tuple((f.name or "", f.value or "") for f in e.fields),
                footer=e.footer.text,
            )
            for e in embeds
        ]
    )
    for embed, text in zip(embeds, fitted, strict=False):
        embed.title = text.title
        embed.description = text.description
        inline = [bool(f.inline) for f in embed.fields]
        embed.clear_fields()
        for (name, value), is_inline in zip(text.fields, inline, strict=False):
            embed.add_field(name=name, value=value, inline=is_inline)
        if text.footer is not None:
            embed.set_footer(text=text.footer, icon_url=embed.footer.icon_url)
    return embeds[: len(fitted)]


def alert_mentions(content: AlertContent) -> discord.AllowedMentions:
    """The moderator role of an urgent alert may be pinged; nothing else, ever."""
    if content.mention_role_id is None:
        return NO_MENTIONS
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(content.mention_role_id)]
    )


def guidance_embed(
    guidance: Guidance, *, title: str | None = None, include_headline: bool = True
) -> discord.Embed:
    lines = list(guidance.lines)
    heading = title or guidance.headline.strip("*")
    if title and include_headline:
        lines.insert(0, guidance.headline)
    return discord.Embed(
        title=heading[:256], description="\n".join(lines)[:4096], colour=GUIDANCE_COLOUR
    )


class InFlight:
    """How many reports are being stored right now, across all interactions."""

    def __init__(self) -> None:
        self.count = 0


IN_FLIGHT = InFlight()
BUSY_AT = 8  # reports in flight at once: a storm has started


async def answer_within_deadline(
    interaction: discord.Interaction[Any], work: Awaitable[T]
) -> tuple[T, bool]:
    """Run `work` and make sure Discord hears from us within its 3-second window.

    Normally the answer comes with the result. If the work is slow, Vigil defers (ephemeral
    "thinking...") before the deadline. In a storm (many reports in flight) it defers at once,
    before storing: the acknowledgement Discord needs goes out first, so no report is dropped
    while hundreds queue for the database, and the confirmation follows once the report is
    committed. Returns the result and whether the interaction was deferred.
    """
    if IN_FLIGHT.count >= BUSY_AT:
        await interaction.response.defer(ephemeral=True, thinking=True)
        IN_FLIGHT.count += 1
        try:
            return await work, True
        finally:
            IN_FLIGHT.count -= 1
    IN_FLIGHT.count += 1
    try:
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_SECONDS)
        deferred = False
        if not done:
            await interaction.response.defer(ephemeral=True, thinking=True)
            deferred = True
        return await task, deferred
    finally:
        IN_FLIGHT.count -= 1


async def send_private(
    interaction: discord.Interaction[Any],
    content: str | None,
    *,
    embeds: list[discord.Embed] | None = None,
    deferred: bool | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """An ephemeral answer with no mentions, as a response or a follow-up as appropriate."""
    extra: dict[str, Any] = {}
    content = limits.fit_content(content)
    embeds = fit_embeds(embeds) if embeds else None
    if view is not None:
        extra["view"] = view
    if deferred or interaction.response.is_done():
        await interaction.followup.send(
            content or "",
            embeds=embeds or [],
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
            **extra,
        )
    else:
        await interaction.response.send_message(
            content, embeds=embeds or [], ephemeral=True, allowed_mentions=NO_MENTIONS, **extra
        )
