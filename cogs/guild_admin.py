"""/reports: setup, config, queue and history, for members with Manage Server.

`default_permissions` hides the group from others in the client, but server admins can change
that, so every command checks the member's permissions again here. Replies are moderator-facing:
they follow the server's language (`interaction.guild_locale`).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from charts.stats_chart import render_stats_chart
from core.i18n import country_name, tr
from core.stats import DEFAULT_STATS_DAYS, MAX_STATS_DAYS, guild_stats
from core.text import neutralise, trim
from ui.admin_items import ForgetButton, QueuePageButton, queue_message
from ui.alert_view import (
    describe_event,
    render_queue_line,
    render_settings,
)
from ui.app import VigilBot
from ui.case_actions import CountReportsButton, case_record_message
from ui.case_common import server_locale
from ui.case_export import send_export
from ui.country_menu import country_choices
from ui.markup import mention_user, relative
from ui.replies import NO_MENTIONS, send_private
from ui.setup_checks import ServerView, setup_warnings
from ui.stats_view import chart_text, render_stats
from ui.threads import may_use_threads
from ui.translator import L

log = logging.getLogger(__name__)


def thread_line(guild: discord.Guild, channel_id: int | None, locale: str | None = None) -> str:
    """Whether cases get a thread under their alert (t15-relay), and if not, the permissions
    that would give them one: without them Vigil does what it did before threads."""
    channel = guild.get_channel(channel_id) if channel_id is not None else None
    if may_use_threads(channel, guild.me):
        return tr("admin.threads_on", locale)
    permissions = ", ".join(
        tr(key, locale)
        for key in ("permission.create_public_threads", "permission.send_messages_in_threads")
    )
    where = channel.mention if isinstance(channel, discord.abc.GuildChannel) else "-"
    return tr("admin.threads_off", locale, permissions=permissions, channel=where)


class ReportsGroup(app_commands.Group):
    # ignore: discord.py types the check for any client (Interaction[ClientT], a generic
    # method); this group only ever runs in VigilBot, whose Interaction it narrows to.
    async def interaction_check(self, interaction: discord.Interaction[VigilBot]) -> bool:  # type: ignore[override]
        locale = server_locale(interaction)
        if interaction.guild is None:
            raise app_commands.CheckFailure(tr("admin.guild_only", locale))
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(tr("admin.manage_server_only", locale))
        return True


class GuildAdmin(commands.Cog):
    reports = ReportsGroup(
        name="reports",
        description=L("cmd.reports.description"),
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(QueuePageButton, ForgetButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(QueuePageButton, ForgetButton)

    @reports.command(name="forget", description=L("cmd.reports.forget.description"))
    @app_commands.describe(member=L("cmd.reports.forget.member"))
    async def forget_command(
        self, interaction: discord.Interaction[VigilBot], member: discord.Member | discord.User
    ) -> None:
        locale = server_locale(interaction)
        if member.id == interaction.user.id:
            await send_private(interaction, tr("admin.not_about_yourself", locale))
            return
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetButton(member.id, locale))
        await send_private(
            interaction,
            tr("admin.forget_prompt", locale, mention=member.mention, id=member.id),
            view=view,
        )

    @reports.command(name="setup", description=L("cmd.reports.setup.description"))
    @app_commands.describe(
        alert_channel=L("cmd.reports.setup.alert_channel"),
        threshold=L("cmd.reports.setup.threshold"),
        window_hours=L("cmd.reports.setup.window_hours"),
        region=L("cmd.reports.setup.region"),
        mod_role=L("cmd.reports.setup.mod_role"),
        audit_channel=L("cmd.reports.setup.audit_channel"),
        min_account_age_days=L("cmd.reports.setup.min_account_age_days"),
        reporter_feedback=L("cmd.reports.setup.reporter_feedback"),
        retention_days=L("cmd.reports.setup.retention_days"),
        admin_channel=L("cmd.reports.setup.admin_channel"),
        urgent_reminder_minutes=L("cmd.reports.setup.urgent_reminder_minutes"),
    )
    async def setup_command(
        self,
        interaction: discord.Interaction[VigilBot],
        alert_channel: discord.TextChannel,
        threshold: app_commands.Range[int, 1, 50] | None = None,
        window_hours: app_commands.Range[int, 1, 720] | None = None,
        region: app_commands.Range[str, 2, 60] | None = None,
        mod_role: discord.Role | None = None,
        audit_channel: discord.TextChannel | None = None,
        min_account_age_days: app_commands.Range[int, 0, 365] | None = None,
        reporter_feedback: bool | None = None,
        retention_days: app_commands.Range[int, 0, 3650] | None = None,
        admin_channel: discord.TextChannel | None = None,
        urgent_reminder_minutes: app_commands.Range[int, 0, 120] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        locale = server_locale(interaction)
        services = self.bot.services
        region_code: str | None = None
        if region is not None:
            country = services.hotlines.country(region.strip())
            if country is None:
                await send_private(interaction, tr("admin.unknown_region", locale))
                return
            region_code = country.code
        if mod_role is not None and mod_role.is_default():
            await send_private(interaction, tr("admin.no_everyone", locale))
            return
        current = await services.guild_settings.get(guild.id)
        updated = replace(
            current,
            alert_channel_id=alert_channel.id,
            threshold=threshold if threshold is not None else current.threshold,
            window_hours=window_hours if window_hours is not None else current.window_hours,
            region=region_code if region_code is not None else current.region,
            mod_role_id=mod_role.id if mod_role is not None else current.mod_role_id,
            audit_channel_id=(
                audit_channel.id if audit_channel is not None else current.audit_channel_id
            ),
            min_account_age_days=(
                min_account_age_days
                if min_account_age_days is not None
                else current.min_account_age_days
            ),
            reporter_feedback=(
                reporter_feedback if reporter_feedback is not None else current.reporter_feedback
            ),
            retention_days=retention_days if retention_days is not None else current.retention_days,
            admin_channel_id=(
                admin_channel.id if admin_channel is not None else current.admin_channel_id
            ),
            locale=str(guild.preferred_locale),
            urgent_reminder_minutes=(
                urgent_reminder_minutes
                if urgent_reminder_minutes is not None
                else current.urgent_reminder_minutes
            ),
        )
        await services.guild_settings.save(updated)
        region_name = self._region_name(updated.region, locale)
        lines = [tr("admin.set_up", locale), *render_settings(updated, region_name, locale)]
        warnings = setup_warnings(ServerView.cached(guild), updated, locale)
        if warnings.problems:
            lines += ["", tr("admin.warning", locale, problems=" ".join(warnings.problems))]
        lines += warnings.public
        lines.append(tr("admin.routing", locale))
        if mod_role is not None and warnings.role:
            lines.append(warnings.role)
        if updated.region is None:
            lines += ["", tr("admin.region_nudge", locale)]
        await send_private(interaction, "\n".join(lines))

    @setup_command.autocomplete("region")
    async def region_autocomplete(
        self, interaction: discord.Interaction[VigilBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return country_choices(self.bot.services.hotlines, current)

    def _region_name(self, code: str | None, locale: str | None = None) -> str | None:
        if code is None:
            return None
        country = self.bot.services.hotlines.country(code)
        return country_name(country.code, country.name, locale) if country else code

    @reports.command(name="config", description=L("cmd.reports.config.description"))
    async def config_command(self, interaction: discord.Interaction[VigilBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        locale = server_locale(interaction)
        settings = await self.bot.services.guild_settings.get(guild.id)
        lines = render_settings(settings, self._region_name(settings.region, locale), locale)
        # From the database, for this server only: any process may have met the problem.
        stored = await self.bot.services.cases.delivery_problems(guild.id)
        warnings = setup_warnings(
            ServerView.cached(guild), settings, locale, stored=(p for _, p in stored)
        )
        problems = [*warnings.problems, *warnings.public]
        lines.append(tr("admin.routing", locale))
        lines.append(thread_line(guild, settings.alert_channel_id, locale))
        if problems:
            lines += ["", tr("admin.problems", locale), *(f"- {p}" for p in problems)]
        else:
            lines += ["", tr("admin.all_good", locale)]
        if settings.region is None:
            lines += ["", tr("admin.region_nudge", locale)]
        await send_private(interaction, "\n".join(lines))

    @reports.command(name="queue", description=L("cmd.reports.queue.description"))
    async def queue_command(self, interaction: discord.Interaction[VigilBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        text, view = await queue_message(
            self.bot, guild.id, 1, interaction.user.id, server_locale(interaction)
        )
        await send_private(interaction, text, view=view)

    @reports.command(name="stats", description=L("cmd.reports.stats.description"))
    @app_commands.describe(days=L("cmd.reports.stats.days"))
    async def stats_command(
        self,
        interaction: discord.Interaction[VigilBot],
        days: app_commands.Range[int, 1, MAX_STATS_DAYS] = DEFAULT_STATS_DAYS,
    ) -> None:
        """Team figures and a chart, for the server's managers only (the group's check)."""
        guild = interaction.guild
        assert guild is not None
        locale = server_locale(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        stats = await guild_stats(services.store, guild.id, days, services.clock.now())
        # Drawing takes a moment of CPU: a worker thread keeps the bot serving meanwhile.
        png = await asyncio.to_thread(render_stats_chart, stats, chart_text(days, locale))
        await interaction.followup.send(
            render_stats(stats, locale),
            file=discord.File(io.BytesIO(png), filename="vigil-stats.png"),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @reports.command(name="case", description=L("cmd.reports.case.description"))
    @app_commands.describe(number=L("cmd.reports.case.number"))
    async def case_command(
        self, interaction: discord.Interaction[VigilBot], number: app_commands.Range[int, 1]
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        locale = server_locale(interaction)
        data = await self.bot.services.cases.by_number(guild.id, number, story=True)
        if data is None:
            await send_private(interaction, tr("admin.no_case", locale, number=number))
            return
        if data.case.target_id == interaction.user.id:
            await send_private(interaction, tr("refused.own_case", locale, number=number))
            return
        embeds, view = case_record_message(data, locale, interaction.user.id)
        await send_private(interaction, None, embeds=embeds, view=view)

    @reports.command(name="export", description=L("cmd.reports.export.description"))
    @app_commands.describe(
        case=L("cmd.reports.export.case"),
        include_reporters=L("cmd.reports.export.include_reporters"),
    )
    async def export_command(
        self,
        interaction: discord.Interaction[VigilBot],
        case: app_commands.Range[int, 1],
        include_reporters: bool = False,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        data = await self.bot.services.cases.by_number(guild.id, case)
        if data is None:
            await send_private(
                interaction, tr("admin.no_case", server_locale(interaction), number=case)
            )
            return
        if data.case.target_id == interaction.user.id:
            await send_private(
                interaction, tr("refused.own_case", server_locale(interaction), number=case)
            )
            return
        await send_export(interaction, data, include_reporters=include_reporters)

    @reports.command(name="history", description=L("cmd.reports.history.description"))
    @app_commands.describe(member=L("cmd.reports.history.member"))
    async def history_command(
        self, interaction: discord.Interaction[VigilBot], member: discord.Member | discord.User
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        locale = server_locale(interaction)
        if member.id == interaction.user.id:
            await send_private(interaction, tr("admin.not_about_yourself", locale))
            return
        history = await self.bot.services.cases.history(guild.id, member.id, limit=10)
        # t14-followthrough: moderators may set this member's own reports to "don't count".
        counts = await self.bot.services.cases.reports_count(guild.id, member.id)
        view = discord.ui.View(timeout=None)
        view.add_item(CountReportsButton(member.id, not counts, locale))
        if not history.cases and not history.reports:
            empty = tr("admin.no_reports", locale, mention=member.mention)
            if not counts:
                empty += "\n" + tr("admin.history_not_counted", locale)
            await send_private(interaction, empty, view=view)
            return
        lines = [tr("admin.history", locale, mention=member.mention, id=member.id)]
        if not counts:
            lines.append(tr("admin.history_not_counted", locale))
        if history.cases:
            lines.append(tr("admin.history_cases", locale))
            for case in history.cases:
                lines.append(render_queue_line(guild.id, case, locale))
        if history.events:
            lines.append(tr("admin.history_actions", locale))
            numbers = {c.id: c.number for c in history.cases}
            for event in history.events[-10:]:
                lines.append(
                    f"{relative(event.created_at)} #{numbers.get(event.case_id, '?')}: "
                    f"{describe_event(event, locale)}"
                )
        if history.reports:
            lines.append(tr("admin.history_reports", locale, total=history.report_total))
            for report in history.reports:
                details = trim(neutralise(report.details), 120) if report.details else ""
                line = tr(
                    "admin.history_report",
                    locale,
                    when=relative(report.created_at),
                    reporter=mention_user(report.reporter_id),
                    reason=report.reason.label_in(locale),
                )
                lines.append(line + (f": {details}" if details else ""))
        await send_private(interaction, trim("\n".join(lines), 2000), view=view)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(GuildAdmin(bot))
