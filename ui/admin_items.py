"""The items of /reports: the queue's pages and the erasure confirmation (Manage Server)."""

from __future__ import annotations

import logging

import discord

from core.i18n import tr
from core.text import trim
from ui.alert_view import render_queue_line
from ui.app import VigilBot
from ui.case_common import server_locale
from ui.items import Access, Interaction, VigilItem, groups, snowflake
from ui.replies import private_answer, send_private

log = logging.getLogger(__name__)


async def queue_message(
    bot: VigilBot, guild_id: int, page: int, viewer_id: int, locale: str | None = None
) -> tuple[str, discord.ui.View | None]:
    """A page of `/reports queue` for `viewer_id`: never a case about them (a reported
    moderator does not learn from the queue that they were reported)."""
    result = await bot.services.cases.queue_page(guild_id, page, viewer_id)
    if not result.cases:
        return tr("admin.no_open_cases", locale), None
    lines = [
        tr(
            "admin.queue_header",
            locale,
            total=result.total,
            page=result.page,
            pages=result.pages,
        )
    ]
    lines += [render_queue_line(guild_id, case, locale) for case in result.cases]
    view = None
    if result.pages > 1:
        previous, following = tr("admin.previous", locale), tr("admin.next", locale)
        view = discord.ui.View(timeout=None)
        view.add_item(QueuePageButton(result.page - 1, previous, result.page <= 1))
        view.add_item(QueuePageButton(result.page + 1, following, result.page >= result.pages))
    return trim("\n".join(lines), 2000), view


class QueuePageButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:queue:(?P<page>[0-9]{1,6})",
):
    """A page of `/reports queue`. Re-checks Manage Server: the page number carries no trust."""

    fields = groups(page=int)
    access = Access.MANAGE_SERVER
    denied = "admin.queue_only_managers"

    def __init__(self, page: int, label: str = "Page", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"vigil:queue:{max(page, 1)}",
            )
        )
        self.page = max(page, 1)

    async def on_press(self, interaction: Interaction) -> None:
        assert interaction.guild_id is not None  # Access.MANAGE_SERVER needs a guild
        locale = server_locale(interaction)
        text, view = await queue_message(
            interaction.client, interaction.guild_id, self.page, interaction.user.id, locale
        )
        message = interaction.message
        if not private_answer(message):
            # The queue is only ever a private answer: pressed (forged) on another message,
            # the page comes privately and that message stays as it is.
            await send_private(interaction, text, view=view)
            return
        await interaction.response.edit_message(content=text, view=view)


class ForgetButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:forget:(?P<user_id>[0-9]{15,20})",
):
    """Confirms an erasure. Re-checks Manage Server: the ID in it carries no trust."""

    fields = groups(user_id=snowflake)
    access = Access.MANAGE_SERVER
    denied = "admin.erase_only_managers"

    def __init__(self, user_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("admin.erase_button", locale),
                style=discord.ButtonStyle.danger,
                custom_id=f"vigil:forget:{user_id}",
            )
        )
        self.user_id = user_id

    async def on_press(self, interaction: Interaction) -> None:
        guild = interaction.guild
        assert guild is not None  # Access.MANAGE_SERVER needs a guild
        locale = server_locale(interaction)
        if self.user_id == interaction.user.id:
            await send_private(interaction, tr("admin.not_about_yourself", locale))
            return
        await interaction.response.defer()
        bot = interaction.client
        erasure = await bot.services.retention.forget(guild.id, self.user_id, interaction.user.id)
        # The erased cases' alerts were queued for deletion with the erasure itself: the
        # outbox deletes them at its next pass and retries a refusal (nothing done here, where
        # one failed DELETE or a crash would have left them for ever).
        queued = sum(
            1 for case in erasure.erased_cases if case.alert_message_id or case.post_started
        )
        await interaction.edit_original_response(
            content=tr(
                "admin.erased",
                locale,
                reports=erasure.counts.reports,
                cases=erasure.counts.cases,
                alerts=queued,
            ),
            view=None,
        )
