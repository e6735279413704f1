"""Sending to Discord the way Vigil must: ephemeral to reporters, never pinging from user text."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import discord

from core.case_view import Tone
from core.guidance import Guidance
from ui import limits
from ui.alert_view import AlertContent, ButtonSpec
from ui.interaction_http import InteractionHTTP, private_message

log = logging.getLogger(__name__)

T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()
NO_MENTIONS_DATA: dict[str, Any] = dict(NO_MENTIONS.to_dict())
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
    """How many reports are being stored right now, across all interactions, and who waits
    to hear that a storm has started."""

    def __init__(self) -> None:
        self.count = 0
        self._storm_watchers: set[asyncio.Future[None]] = set()

    @property
    def busy(self) -> bool:
        return self.count >= BUSY_AT

    def enter(self) -> None:
        self.count += 1
        if self.busy:
            for watcher in self._storm_watchers:
                if not watcher.done():
                    watcher.set_result(None)
            self._storm_watchers.clear()

    def leave(self) -> None:
        self.count -= 1

    def storm_started(self) -> asyncio.Future[None]:
        """Resolved as soon as BUSY_AT reports are in flight (at once if they already are)."""
        watcher: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.busy:
            watcher.set_result(None)
        else:
            self._storm_watchers.add(watcher)
        return watcher

    def forget(self, watcher: asyncio.Future[None]) -> None:
        self._storm_watchers.discard(watcher)
        watcher.cancel()


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
    committed. The first reports of a storm, which arrived before it could be told from a
    quiet moment, defer as soon as it is: otherwise their answers, held for their commit,
    would queue behind every acknowledgement of the storm and be the last to reach Discord.
    Returns the result and whether the interaction was deferred.
    """
    if IN_FLIGHT.busy:
        await defer_private(interaction)
        IN_FLIGHT.enter()
        try:
            return await work, True
        finally:
            IN_FLIGHT.leave()
    IN_FLIGHT.enter()
    storm = IN_FLIGHT.storm_started()
    try:
        task = asyncio.ensure_future(work)
        waits: set[asyncio.Future[Any]] = {task, storm}
        done, _ = await asyncio.wait(
            waits, timeout=DEFER_AFTER_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        deferred = False
        if task not in done:
            await defer_private(interaction)
            deferred = True
        return await task, deferred
    finally:
        IN_FLIGHT.forget(storm)
        IN_FLIGHT.leave()


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """A reply's embeds and components as Discord's JSON, fitted to its limits: built once and
    reused for every reply that shows the same (the guidance and country menu of a report)."""

    embeds: tuple[dict[str, Any], ...] = ()
    components: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, embeds: Sequence[discord.Embed], view: discord.ui.View | None) -> ReplyParts:
        return cls(
            embeds=tuple(dict(e.to_dict()) for e in fit_embeds(list(embeds))),
            components=tuple(view.to_components()) if view is not None else (),
        )

    def plus(self, *items: discord.ui.Item[Any]) -> ReplyParts:
        """These parts and, in rows of their own below, ``items`` (made for one reply, such as a
        reporter's own Add details button): the shared parts are not changed."""
        view = discord.ui.View(timeout=None)
        for item in items:
            view.add_item(item)
        return ReplyParts(self.embeds, self.components + tuple(view.to_components()))


def interaction_http(interaction: discord.Interaction[Any]) -> InteractionHTTP | None:
    """The bot's lean sender (ui/interaction_http.py), if the client has one."""
    http = getattr(interaction.client, "interaction_http", None)
    return http if isinstance(http, InteractionHTTP) else None


def _components_only(view: discord.ui.View | None) -> bool:
    """Whether a view can be sent as plain components: every item is a DynamicItem (found by
    its custom ID when pressed), so nothing has to be registered for this message."""
    return view is None or all(isinstance(i, discord.ui.DynamicItem) for i in view.children)


async def defer_private(interaction: discord.Interaction[Any]) -> None:
    """The ephemeral "thinking..." first answer."""
    http = interaction_http(interaction)
    if http is None:
        await interaction.response.defer(ephemeral=True, thinking=True)
    else:
        await http.defer(interaction)


def private_answer(message: discord.Message | None) -> bool:
    """Whether a press came from one of our ephemeral answers (seen by its reader alone): in a
    server, the only message an item redraws without knowing more of it. A custom ID can be
    forged onto any message (an alert, a public notice), so other messages are answered anew.
    """
    return message is not None and message.flags.ephemeral


async def send_private(
    interaction: discord.Interaction[Any],
    content: str | None,
    *,
    embeds: list[discord.Embed] | None = None,
    deferred: bool | None = None,
    view: discord.ui.View | None = None,
    parts: ReplyParts | None = None,
) -> None:
    """An ephemeral answer with no mentions, as a response or a follow-up as appropriate.

    Sent by the bot's lean sender (ui/interaction_http.py) when its view is only persistent
    items (DynamicItems, found by custom ID when pressed); a view that must be registered for
    its message goes through discord.py. `parts`: embeds and components already built (instead
    of `embeds` and `view`); only the lean sender can send their components, so a client
    without one (none in Vigil) gets their embeds alone."""
    content = limits.fit_content(content)
    http = interaction_http(interaction)
    if http is not None and _components_only(view):
        if parts is None:
            parts = ReplyParts.of(embeds or [], view)
        message = private_message(
            content, list(parts.embeds), list(parts.components), NO_MENTIONS_DATA
        )
        if deferred or interaction.response.is_done():
            await http.follow_up(interaction, message)
        else:
            await http.respond(interaction, message)
        return
    extra: dict[str, Any] = {}
    if parts is not None:
        embeds = [discord.Embed.from_dict(e) for e in parts.embeds]
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
