"""What moderators do from an alert: the buttons, their confirmations, notes and escalations.

Every component is a DynamicItem whose custom ID names an action and a case. A press re-reads
the case from the database, re-checks the presser's permissions and that the case belongs to
the guild the press came from: a custom ID carries no trust, and buttons survive restarts.
Destructive actions (timeout, kick, ban, delete) first show an ephemeral confirmation and
check, before anything happens, that both the moderator and Vigil may do it.

Everything here is moderator-facing, so it follows the server's language
(`interaction.guild_locale`), not the presser's.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import discord

from core.export import build_export, export_json
from core.i18n import tr
from core.models import AlertData, Case, CaseAction, DismissReason, EscalationTarget
from core.moderation import Actor, TargetMember, refusal_for
from core.service import CaseActionRefused
from core.text import clean_user_text, safe_name
from ui.alert_view import (
    BAN_DELETE_CHOICES,
    TIMEOUT_CHOICES,
    AlertContent,
    action_verb,
    ban_delete_label,
    describe_event,
    describe_outcome,
    describe_refusal,
    dismiss_inline,
    dismiss_label,
    escalation_label,
    render_alert,
    render_audit_line,
    status_label,
    timeout_label,
)
from ui.app import VigilBot
from ui.forms import FormSubmit, form_custom_id, stateless
from ui.markup import mention_channel, message_url
from ui.replies import NO_MENTIONS, alert_embed, alert_mentions, button_style, send_private

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VigilBot]

MODERATORS_ONLY = "act.moderators_only"
MAX_NOTE = 1000
MAX_REFERENCE = 100


def server_locale(interaction: discord.Interaction[VigilBot]) -> str:
    """The server's Discord locale: moderator-facing text follows it (the reader's outside one)."""
    return str(interaction.guild_locale or interaction.locale)


def is_moderator(interaction: Interaction) -> bool:
    permissions = interaction.permissions
    return interaction.guild is not None and (
        permissions.manage_messages or permissions.moderate_members
    )


def alert_view(case_id: int, content: AlertContent) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for spec in content.buttons:
        view.add_item(
            CaseButton(
                spec.key,
                case_id,
                label=spec.label,
                style=button_style(spec),
                disabled=spec.disabled,
                row=spec.row,
            )
        )
    return view


async def refresh_alert_in_place(interaction: Interaction, data: AlertData) -> None:
    """Answer a press on the alert itself by redrawing it (one request, no second message)."""
    content = render_alert(data, server_locale(interaction))
    await interaction.response.edit_message(
        content=content.content,
        embed=alert_embed(content),
        view=alert_view(data.case.id, content),
        allowed_mentions=alert_mentions(content),
    )
    if interaction.message is not None and interaction.channel_id is not None:
        await interaction.client.services.cases.mark_alert_rendered(
            data.case.id, data.case.alert_revision, interaction.channel_id, interaction.message.id
        )


_BACKGROUND: set[asyncio.Task[None]] = set()
AUDIT_DRAIN_SECONDS = 5.0


def in_background(work: Coroutine[Any, Any, None], what: str) -> None:
    """Run `work` after the interaction is answered; a failure is logged, never raised.

    A slow channel (the audit channel under a rate limit) must not push a moderator's answer
    past Discord's 3 seconds: the answer goes first, side posts follow."""
    task = asyncio.get_running_loop().create_task(work)
    _BACKGROUND.add(task)

    def done(finished: asyncio.Task[None]) -> None:
        _BACKGROUND.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("%s failed", what, exc_info=finished.exception())

    task.add_done_callback(done)


async def post_audit_line(bot: VigilBot, case: Case, locale: str | None = None) -> None:
    """One line per action in the audit channel, if the server has one. Best effort: the
    audit trail itself is in the database and in `/reports case`."""
    services = bot.services
    data = await services.cases.alert_data(case.id)
    if data is None or not data.events or data.settings.audit_channel_id is None:
        return
    event = data.events[-1]
    if event.action is CaseAction.NOTE:
        return  # notes can be sensitive; they stay with the case
    channel = bot.get_partial_messageable(data.settings.audit_channel_id)
    try:
        await channel.send(
            render_audit_line(data.case, event, locale), allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException as error:
        log.warning("audit line for case %s not posted: %s", case.id, error)


async def record(
    interaction: Interaction,
    case_id: int,
    action: CaseAction,
    *,
    note: str | None = None,
    detail: str | None = None,
) -> Case | None:
    """Record an action; on refusal tell the moderator why (privately) and return None.

    The audit line is posted in the background: the caller answers the interaction first."""
    assert interaction.guild_id is not None
    try:
        case = await interaction.client.services.cases.act(
            interaction.guild_id,
            case_id,
            action,
            interaction.user.id,
            note=note,
            detail=detail,
        )
    except CaseActionRefused as refused:
        await reply_or_edit(interaction, describe_refusal(refused, server_locale(interaction)))
        return None
    in_background(
        post_audit_line(interaction.client, case, server_locale(interaction)),
        f"audit line for case {case.id}",
    )
    return case


async def reply_or_edit(interaction: Interaction, text: str) -> None:
    """Private text: edits our own ephemeral prompt when answering one, else a new message."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, view=None)
    elif interaction.message is not None and interaction.message.flags.ephemeral:
        await interaction.response.edit_message(content=text, view=None)
    else:
        await send_private(interaction, text)


# --------------------------------------------------------------------------- permissions


def actor_of(member: discord.Member, permissions: discord.Permissions) -> Actor:
    return Actor(
        name=member.display_name,
        permissions=frozenset(name for name, granted in permissions if granted),
        top_role_position=member.top_role.position,
        is_owner=member.guild.owner_id == member.id,
    )


async def target_of(guild: discord.Guild, case: Case) -> tuple[TargetMember, discord.Member | None]:
    member = guild.get_member(case.target_id)
    if member is None:
        try:
            member = await guild.fetch_member(case.target_id)
        except discord.NotFound:
            member = None
    if member is None:
        return TargetMember(name=case.target_name, is_member=False), None
    return (
        TargetMember(
            name=member.display_name,
            is_member=True,
            top_role_position=member.top_role.position,
            is_owner=guild.owner_id == member.id,
        ),
        member,
    )


async def check_enforcement(
    interaction: Interaction, case: Case, action: CaseAction
) -> tuple[str | None, discord.Member | None]:
    """(why not, or None; the target as a member if they are one)."""
    guild = interaction.guild
    assert guild is not None and isinstance(interaction.user, discord.Member)
    me = guild.me
    target, member = await target_of(guild, case)
    why = refusal_for(
        action,
        actor_of(interaction.user, interaction.permissions),
        actor_of(me, me.guild_permissions),
        target,
    )
    return (describe_outcome(why, server_locale(interaction)) if why else None), member


# --------------------------------------------------------------------------- the alert's buttons


class CaseButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:case:(?P<key>[a-z_]{2,20}):(?P<case_id>[0-9]{1,19})",
):
    def __init__(
        self,
        key: str,
        case_id: int,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or key.title(),
                style=style,
                disabled=disabled,
                row=row,
                custom_id=f"vigil:case:{key}:{case_id}",
            )
        )
        self.key = key
        self.case_id = case_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
    ) -> CaseButton:
        return cls(match["key"], int(match["case_id"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        locale = server_locale(interaction)
        if not is_moderator(interaction):
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        handler = BUTTON_HANDLERS.get(self.key)
        if handler is None:
            await send_private(interaction, tr("act.stale_button", locale))
            return
        try:
            await handler(interaction, self.case_id)
        except CaseActionRefused as refused:
            await reply_or_edit(interaction, describe_refusal(refused, locale))


async def on_status_button(interaction: Interaction, case_id: int, action: CaseAction) -> None:
    case = await record(interaction, case_id, action)
    if case is None:
        return
    data = await interaction.client.services.cases.alert_data(case.id)
    if data is not None:
        await refresh_alert_in_place(interaction, data)


async def on_dismiss(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    case = await interaction.client.services.cases.require(
        interaction.guild_id, case_id, CaseAction.DISMISS, interaction.user.id
    )
    locale = server_locale(interaction)
    view = discord.ui.View(timeout=None)
    view.add_item(DismissSelect(case_id, case.target_id, locale))
    view.add_item(CancelButton(locale))
    await send_private(interaction, tr("act.dismiss_prompt", locale, number=case.number), view=view)


async def on_note(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    case = await interaction.client.services.cases.require(
        interaction.guild_id, case_id, CaseAction.NOTE, interaction.user.id
    )
    await interaction.response.send_modal(stateless(NoteModal(case, server_locale(interaction))))


async def on_escalate(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    case = await interaction.client.services.cases.require(
        interaction.guild_id, case_id, CaseAction.ESCALATE, interaction.user.id
    )
    await interaction.response.send_modal(
        stateless(EscalateModal(case, server_locale(interaction)))
    )


async def on_export(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    services = interaction.client.services
    await services.cases.require(
        interaction.guild_id, case_id, CaseAction.NOTE, interaction.user.id
    )
    data = await services.cases.alert_data(case_id)
    assert data is not None
    await send_export(interaction, data)


async def send_export(
    interaction: Interaction, data: AlertData, *, include_reporters: bool = False
) -> None:
    """The escalation packet, privately, as a JSON file. Never media: there is none to send.

    Reporters are "Reporter 1, 2, ..." unless the moderator asked for their IDs; that choice is
    recorded as a note in the case history before the file leaves, so it is always audited.
    The message is in the server's language; the file itself stays English (it goes to
    Discord, NCMEC, the police)."""
    services = interaction.client.services
    locale = server_locale(interaction)
    guild = interaction.guild
    if include_reporters:
        await services.cases.act(
            data.case.guild_id,
            data.case.id,
            CaseAction.NOTE,
            interaction.user.id,
            note=tr("act.export_audit_note", locale),
        )
    packet = build_export(
        data,
        guild_name=guild.name if guild else str(data.case.guild_id),
        directory=services.hotlines,
        generated_at=services.clock.now(),
        generated_by=interaction.user.id,
        describe=describe_event,
        include_reporters=include_reporters,
    )
    places = [
        f"- {p['organisation']}" + (f": <{p['url']}>" if p.get("url") else "")
        for p in packet["where_to_file"][:6]
    ]
    file = discord.File(
        io.BytesIO(export_json(packet)),
        filename=f"vigil-case-{data.case.number}-{data.case.guild_id}.json",
    )
    if include_reporters:
        who = tr("act.export_with_reporters", locale)
    else:
        who = tr("act.export_anonymous", locale, number=data.case.number)
    text = "\n".join(
        [
            tr("act.export_title", locale, number=data.case.number),
            tr("act.export_where", locale),
            *places,
            tr("act.export_links", locale),
            who,
        ]
    )
    await interaction.response.send_message(
        text[:2000], file=file, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


async def on_enforcement_button(interaction: Interaction, case_id: int, action: CaseAction) -> None:
    """Show the confirmation, after checking that the action could succeed at all."""
    assert interaction.guild_id is not None
    services = interaction.client.services
    locale = server_locale(interaction)
    case = await services.cases.require(interaction.guild_id, case_id, action, interaction.user.id)
    why, member = await check_enforcement(interaction, case, action)
    if why is not None:
        cant = tr("act.cant", locale, action=action_verb(action, locale), why=why)
        await send_private(interaction, cant)
        return
    name = safe_name(member.display_name if member else case.target_name)
    target = case.target_id
    view = discord.ui.View(timeout=None)
    if action is CaseAction.TIMEOUT:
        view.add_item(TimeoutSelect(case_id, target, locale))
        prompt = tr("act.timeout_prompt", locale, name=name, number=case.number)
    elif action is CaseAction.KICK:
        label = tr("act.kick_button", locale, name=name)
        view.add_item(ConfirmButton(action, case_id, target, "0", label))
        prompt = tr("act.kick_prompt", locale, name=name)
    elif action is CaseAction.BAN:
        for seconds in BAN_DELETE_CHOICES:
            label = tr("act.ban_button", locale, choice=ban_delete_label(seconds, locale))
            view.add_item(ConfirmButton(action, case_id, target, seconds, label))
        prompt = tr("act.ban_prompt", locale, name=name)
    else:
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        # One message fetch per reported message: answer Discord first (3-second window).
        await interaction.response.defer(ephemeral=True, thinking=True)
        plan = await deletion_plan(interaction.client, interaction.guild, case, interaction.user)
        count = sum(1 for step in plan if step.skip is None)
        # Deleting breaks the message links Discord's Trust & Safety needs: report first.
        reminder = tr("act.delete_report_first", locale)
        prompt = (reminder + "\n" + describe_plan(plan, case, name, locale))[:2000]
        if count:
            label = tr("act.delete_button", locale, count=count)
            view.add_item(ConfirmButton(action, case_id, target, "0", label))
    view.add_item(CancelButton(locale))
    await send_private(interaction, prompt, view=view)


def _status(action: CaseAction) -> Callable[[Interaction, int], Awaitable[None]]:
    async def handler(interaction: Interaction, case_id: int) -> None:
        await on_status_button(interaction, case_id, action)

    return handler


def _enforce(action: CaseAction) -> Callable[[Interaction, int], Awaitable[None]]:
    async def handler(interaction: Interaction, case_id: int) -> None:
        await on_enforcement_button(interaction, case_id, action)

    return handler


BUTTON_HANDLERS: dict[str, Callable[[Interaction, int], Awaitable[None]]] = {
    "acknowledge": _status(CaseAction.ACKNOWLEDGE),
    "resolve": _status(CaseAction.RESOLVE),
    "dismiss": on_dismiss,
    "note": on_note,
    "escalate": on_escalate,
    "export": on_export,
    "timeout": _enforce(CaseAction.TIMEOUT),
    "kick": _enforce(CaseAction.KICK),
    "ban": _enforce(CaseAction.BAN),
    "delete_messages": _enforce(CaseAction.DELETE_MESSAGES),
}


# --------------------------------------------------------------------------- confirmations


async def enforce(
    interaction: Interaction, case_id: int, action: CaseAction, arg: str, target_id: int | None
) -> None:
    """Check again (time has passed since the prompt), act on Discord, then record it.

    ``target_id`` is the member the confirmation was shown for: a confirmation whose case now
    names someone else (or an old one that names nobody) changes nothing."""
    locale = server_locale(interaction)
    if not is_moderator(interaction):
        await send_private(interaction, tr(MODERATORS_ONLY, locale))
        return
    guild = interaction.guild
    assert guild is not None
    await interaction.response.defer()  # Discord calls below may take a moment
    services = interaction.client.services
    try:
        case = await services.cases.require(guild.id, case_id, action, interaction.user.id)
    except CaseActionRefused as refused:
        await interaction.edit_original_response(
            content=describe_refusal(refused, locale), view=None
        )
        return
    if case.target_id != target_id:
        await interaction.edit_original_response(
            content=tr("act.confirmation_outdated", locale, number=case.number), view=None
        )
        return
    verb = action_verb(action, locale)
    why, member = await check_enforcement(interaction, case, action)
    if why is not None:
        await interaction.edit_original_response(
            content=tr("act.cant", locale, action=verb, why=why), view=None
        )
        return
    reason = tr(
        "act.audit_reason",
        locale,
        number=case.number,
        user=interaction.user,
        id=interaction.user.id,
    )
    try:
        done = await carry_out(
            interaction.client, guild, case, action, arg, member, reason, locale, interaction.user
        )
    except NothingDeleted as nothing:
        await interaction.edit_original_response(content=str(nothing), view=None)
        return
    except discord.Forbidden:
        await interaction.edit_original_response(
            content=tr("act.discord_refused", locale, action=verb), view=None
        )
        return
    except discord.HTTPException as error:
        log.warning("%s for case %s failed: %s", action.value, case.id, error)
        await interaction.edit_original_response(
            content=tr("act.discord_failed", locale, action=verb, status=error.status),
            view=None,
        )
        return
    # Discord did it: the history says so whatever happened to the case meanwhile (another
    # moderator may have dismissed it during the confirmation), and the moderator is told.
    recorded = await services.cases.record_enforcement(
        guild.id, case_id, action, interaction.user.id, arg
    )
    if recorded is None:
        log.warning(
            "%s for case %s was carried out; the case no longer exists", action.value, case_id
        )
        text = tr("act.done_case_gone", locale, done=done, number=case.number)
    else:
        await post_audit_line(interaction.client, recorded.case, locale)
        status = status_label(recorded.case.status, locale)
        key = "act.done" if recorded.status_moved else "act.done_status_kept"
        text = tr(key, locale, done=done, number=case.number, status=status)
    await interaction.edit_original_response(content=text, view=None)


async def carry_out(
    bot: VigilBot,
    guild: discord.Guild,
    case: Case,
    action: CaseAction,
    arg: str,
    member: discord.Member | None,
    reason: str,
    locale: str | None = None,
    moderator: discord.Member | discord.User | None = None,
) -> str:
    """The Discord side of an action. Returns what was done, for the moderator."""
    name = safe_name(member.display_name if member else case.target_name)
    target = discord.Object(case.target_id)
    if action is CaseAction.TIMEOUT:
        assert member is not None
        await member.timeout(timedelta(seconds=int(arg)), reason=reason)
        return tr("act.timed_out", locale, name=name, duration=timeout_label(arg, locale))
    if action is CaseAction.KICK:
        await guild.kick(target, reason=reason)
        return tr("act.kicked", locale, name=name)
    if action is CaseAction.BAN:
        await guild.ban(target, delete_message_seconds=int(arg), reason=reason)
        return tr("act.banned", locale, name=name, choice=ban_delete_label(arg, locale))
    assert isinstance(moderator, discord.Member)
    plan = await deletion_plan(bot, guild, case, moderator)
    deleted = gone = 0
    skipped: list[DeletionStep] = []
    for step in plan:
        if step.skip is not None or step.message is None:
            gone += step.skip is Skip.GONE
            skipped += [step] if step.skip is not Skip.GONE else []
            continue
        try:
            await step.message.delete()
            deleted += 1
        except discord.NotFound:
            gone += 1  # deleted meanwhile
    lines = [tr("act.deleted", locale, deleted=deleted, gone=gone)]
    if skipped:
        lines.append(tr("act.delete_not_deleted", locale))
        lines += skip_lines(skipped, name, locale)
    if not deleted and not gone:
        raise NothingDeleted(describe_plan(plan, case, name, locale))
    return "\n".join(lines)[:1800]


class NothingDeleted(Exception):
    """Delete messages found nothing it may delete: said to the moderator, nothing recorded."""


class Skip(StrEnum):
    """Why a reported message is not deleted (each is said to the moderator)."""

    NOT_HERE = "not_here"  # the link's channel is not a channel of this server
    NO_PERMISSION = "no_permission"  # the moderator lacks Manage Messages in that channel
    BOT_NO_PERMISSION = "bot_no_permission"  # so does Vigil
    GONE = "gone"  # already deleted
    NOT_TARGET = "not_target"  # someone other than the reported member wrote it
    UNREADABLE = "unreadable"  # Vigil cannot read it, so cannot check who wrote it


@dataclass(frozen=True, slots=True)
class DeletionStep:
    channel_id: int
    message_id: int
    url: str
    skip: Skip | None
    message: discord.Message | None = None


async def deletion_plan(
    bot: VigilBot, guild: discord.Guild, case: Case, moderator: discord.Member
) -> list[DeletionStep]:
    """Which reported messages "Delete messages" may delete, and why not the others.

    A link is the reporter's text: only a message in a channel of this guild, written by the
    case's target (fetched and compared, not assumed), in a channel where the moderator holds
    Manage Messages, is ever deleted. Checked when the confirmation is shown and again at the
    click, since both may change."""
    data = await bot.services.cases.alert_data(case.id)
    where = dict.fromkeys(
        (r.channel_id, r.message_id)
        for r in (data.reports if data else ())
        if r.channel_id and r.message_id
    )
    plan: list[DeletionStep] = []
    for channel_id, message_id in where:
        url = message_url(guild.id, channel_id, message_id)

        def step(skip: Skip | None, message: discord.Message | None = None) -> DeletionStep:
            return DeletionStep(channel_id, message_id, url, skip, message)  # noqa: B023

        channel = guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable) or channel.guild.id != guild.id:
            plan.append(step(Skip.NOT_HERE))
            continue
        if not channel.permissions_for(moderator).manage_messages:
            plan.append(step(Skip.NO_PERMISSION))
            continue
        if not channel.permissions_for(guild.me).manage_messages:
            plan.append(step(Skip.BOT_NO_PERMISSION))
            continue
        try:
            message = await channel.fetch_message(message_id)
        except discord.NotFound:
            plan.append(step(Skip.GONE))
            continue
        except discord.HTTPException:
            plan.append(step(Skip.UNREADABLE))
            continue
        if message.author.id != case.target_id:
            plan.append(step(Skip.NOT_TARGET))
            continue
        plan.append(step(None, message))
    return plan


SKIP_KEYS: dict[Skip, str] = {
    Skip.NOT_HERE: "act.delete_skip_not_here",
    Skip.NO_PERMISSION: "act.delete_skip_no_permission",
    Skip.BOT_NO_PERMISSION: "act.delete_skip_bot_permission",
    Skip.GONE: "act.delete_skip_gone",
    Skip.NOT_TARGET: "act.delete_skip_not_target",
    Skip.UNREADABLE: "act.delete_skip_unreadable",
}
MAX_LISTED = 8  # per list, so a prompt stays within one message


def skip_lines(steps: list[DeletionStep], name: str, locale: str | None) -> list[str]:
    lines = [
        "- "
        + tr(
            SKIP_KEYS[s.skip],
            locale,
            link=s.url,
            channel=mention_channel(s.channel_id),
            name=name,
        )
        for s in steps[:MAX_LISTED]
        if s.skip is not None
    ]
    if len(steps) > MAX_LISTED:
        lines.append(tr("act.delete_more", locale, count=len(steps) - MAX_LISTED))
    return lines


def describe_plan(plan: list[DeletionStep], case: Case, name: str, locale: str | None) -> str:
    """The confirmation: which messages will go (jump links) and which won't, and why."""
    going = [s for s in plan if s.skip is None]
    staying = [s for s in plan if s.skip is not None]
    if not going:
        lines = [tr("act.delete_nothing", locale, number=case.number)]
    else:
        lines = [tr("act.delete_prompt", locale, count=len(going), number=case.number)]
        lines += [f"- {s.url}" for s in going[:MAX_LISTED]]
        if len(going) > MAX_LISTED:
            lines.append(tr("act.delete_more", locale, count=len(going) - MAX_LISTED))
    if staying:
        lines.append(tr("act.delete_not_deleted", locale))
        lines += skip_lines(staying, name, locale)
    return "\n".join(lines)[:2000]


def parse_target(match: re.Match[str]) -> int | None:
    """The target ID a confirmation names (untrusted: only ever compared with the case's)."""
    target = match["target"]
    return int(target) if target is not None else None


async def shown_for_target(interaction: Interaction, case_id: int, target_id: int | None) -> bool:
    """Whether the case still is about the member this confirmation or form was shown for.

    Says why not (privately) when it isn't: an old prompt must never act on another member."""
    assert interaction.guild_id is not None
    try:
        case = await interaction.client.services.cases.require(
            interaction.guild_id, case_id, CaseAction.NOTE, interaction.user.id
        )
    except CaseActionRefused as refused:
        await reply_or_edit(interaction, describe_refusal(refused, server_locale(interaction)))
        return False
    if target_id is None or case.target_id != target_id:
        locale = server_locale(interaction)
        await reply_or_edit(
            interaction, tr("act.confirmation_outdated", locale, number=case.number)
        )
        return False
    return True


class ConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"vigil:confirm:(?P<key>kick|ban|delete_messages):(?P<case_id>[0-9]{1,19})"
        r"(?::(?P<target>[0-9]{1,20}))?:(?P<arg>[0-9]{1,7})"
    ),
):
    """Confirms kick, ban or delete: names the case, the member it was shown for and the
    choice. A confirmation from before targets were named carries none and is refused."""

    def __init__(
        self,
        action: CaseAction,
        case_id: int,
        target_id: int | None,
        arg: str,
        label: str = "Confirm",
    ) -> None:
        target = f":{target_id}" if target_id is not None else ""
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.danger,
                custom_id=f"vigil:confirm:{action.value}:{case_id}{target}:{arg}",
            )
        )
        self.action = action
        self.case_id = case_id
        self.target_id = target_id
        self.arg = arg

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
    ) -> ConfirmButton:
        return cls(
            CaseAction(match["key"]), int(match["case_id"]), parse_target(match), match["arg"]
        )

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        if self.action is CaseAction.BAN and self.arg not in BAN_DELETE_CHOICES:
            await send_private(interaction, tr("act.invalid_choice", server_locale(interaction)))
            return
        await enforce(interaction, self.case_id, self.action, self.arg, self.target_id)


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"vigil:cancel"
):
    def __init__(self, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("act.cancel", locale),
                style=discord.ButtonStyle.secondary,
                custom_id="vigil:cancel",
            )
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
    ) -> CancelButton:
        return cls()

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        await reply_or_edit(interaction, tr("act.cancelled", server_locale(interaction)))


class TimeoutSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=r"vigil:timeout:(?P<case_id>[0-9]{1,19})(?::(?P<target>[0-9]{1,20}))?",
):
    def __init__(self, case_id: int, target_id: int | None, locale: str | None = None) -> None:
        target = f":{target_id}" if target_id is not None else ""
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:timeout:{case_id}{target}",
                placeholder=tr("act.choose_duration", locale),
                options=[
                    discord.SelectOption(label=timeout_label(seconds, locale), value=seconds)
                    for seconds in TIMEOUT_CHOICES
                ],
            )
        )
        self.case_id = case_id
        self.target_id = target_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Select[discord.ui.View],
        match: re.Match[str],
    ) -> TimeoutSelect:
        return cls(int(match["case_id"]), parse_target(match))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        values = self.item.values
        if len(values) != 1 or values[0] not in TIMEOUT_CHOICES:
            await send_private(interaction, tr("act.invalid_duration", server_locale(interaction)))
            return
        await enforce(interaction, self.case_id, CaseAction.TIMEOUT, values[0], self.target_id)


class DismissSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=r"vigil:dismiss:(?P<case_id>[0-9]{1,19})(?::(?P<target>[0-9]{1,20}))?",
):
    def __init__(self, case_id: int, target_id: int | None, locale: str | None = None) -> None:
        target = f":{target_id}" if target_id is not None else ""
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:dismiss:{case_id}{target}",
                placeholder=tr("act.dismiss_placeholder", locale),
                options=[
                    discord.SelectOption(label=dismiss_label(r, locale), value=r.value)
                    for r in DismissReason
                ],
            )
        )
        self.case_id = case_id
        self.target_id = target_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Select[discord.ui.View],
        match: re.Match[str],
    ) -> DismissSelect:
        return cls(int(match["case_id"]), parse_target(match))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        locale = server_locale(interaction)
        if not is_moderator(interaction):
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        values = self.item.values
        if len(values) != 1 or DismissReason.parse(values[0]) is None:
            await send_private(interaction, tr("act.invalid_reason", locale))
            return
        reason = DismissReason(values[0])
        if not await shown_for_target(interaction, self.case_id, self.target_id):
            return
        case = await record(interaction, self.case_id, CaseAction.DISMISS, detail=reason.value)
        if case is not None:
            why = dismiss_inline(reason, locale)
            await reply_or_edit(
                interaction, tr("act.dismissed", locale, number=case.number, reason=why)
            )


# --------------------------------------------------------------------------- modals


NOTE_FORM = "note-form"
ESCALATE_FORM = "escalate-form"
CASE_FORM_PATTERN = r"(?P<case_id>[0-9]{1,19}):(?P<target>[0-9]{1,20})"


class NoteModal(discord.ui.Modal):
    """A private note on a case. Stateless (see cogs/forms.py): the custom ID names the case
    and its target, so two moderators' forms on one case are each their own."""

    def __init__(self, case: Case, locale: str | None = None) -> None:
        super().__init__(
            title=tr("act.note_title", locale, number=case.number)[:45],
            custom_id=form_custom_id(NOTE_FORM, case.id, case.target_id),
            timeout=None,
        )
        self.note: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="note",
            style=discord.TextStyle.paragraph,
            max_length=MAX_NOTE,
            placeholder=tr("act.note_placeholder", locale),
        )
        self.add_item(discord.ui.Label(text=tr("act.note_label", locale), component=self.note))


async def on_note_form(interaction: Interaction, form: FormSubmit) -> None:
    locale = server_locale(interaction)
    if not is_moderator(interaction):
        await send_private(interaction, tr(MODERATORS_ONLY, locale))
        return
    case_id = form.id("case_id")
    assert case_id is not None
    text = clean_user_text(form.first("note"), MAX_NOTE)
    if not text:
        await send_private(interaction, tr("act.note_empty", locale))
        return
    if not await shown_for_target(interaction, case_id, form.id("target")):
        return
    case = await record(interaction, case_id, CaseAction.NOTE, note=text)
    if case is not None:
        await send_private(interaction, tr("act.note_added", locale, number=case.number))


class EscalateModal(discord.ui.Modal):
    """Where a case was escalated to, and the reference. Stateless, like NoteModal."""

    def __init__(self, case: Case, locale: str | None = None) -> None:
        super().__init__(
            title=tr("act.escalate_title", locale, number=case.number)[:45],
            custom_id=form_custom_id(ESCALATE_FORM, case.id, case.target_id),
            timeout=None,
        )
        self.where: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id="where",
            options=[
                discord.SelectOption(label=escalation_label(t, locale), value=t.value)
                for t in EscalationTarget
            ],
        )
        self.reference: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="reference",
            required=False,
            max_length=MAX_REFERENCE,
            placeholder=tr("act.escalate_placeholder", locale),
        )
        self.add_item(discord.ui.Label(text=tr("act.escalate_where", locale), component=self.where))
        self.add_item(
            discord.ui.Label(text=tr("act.escalate_reference", locale), component=self.reference)
        )


async def on_escalate_form(interaction: Interaction, form: FormSubmit) -> None:
    locale = server_locale(interaction)
    if not is_moderator(interaction):
        await send_private(interaction, tr(MODERATORS_ONLY, locale))
        return
    case_id = form.id("case_id")
    assert case_id is not None
    values = form.values.get("where") or []
    if len(values) != 1 or EscalationTarget.parse(values[0]) is None:
        await send_private(interaction, tr("act.escalate_invalid", locale))
        return
    reference = clean_user_text(form.first("reference"), MAX_REFERENCE)
    if not await shown_for_target(interaction, case_id, form.id("target")):
        return
    case = await record(interaction, case_id, CaseAction.ESCALATE, detail=values[0], note=reference)
    if case is not None:
        data = await interaction.client.services.cases.alert_data(case.id)
        summary = (
            describe_event(data.events[-1], locale)
            if data and data.events
            else tr("act.recorded_plain", locale)
        )
        await send_private(
            interaction, tr("act.recorded", locale, number=case.number, summary=summary)
        )
