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

import io
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import discord
from discord.ext import commands

from cogs.app import VigilBot
from cogs.replies import NO_MENTIONS, alert_embed, alert_mentions, button_style, send_private
from core.alert_view import (
    BAN_DELETE_CHOICES,
    TIMEOUT_CHOICES,
    AlertContent,
    action_verb,
    ban_delete_label,
    describe_event,
    describe_refusal,
    dismiss_inline,
    dismiss_label,
    escalation_label,
    render_alert,
    render_audit_line,
    status_label,
    timeout_label,
)
from core.export import build_export, export_json
from core.i18n import tr
from core.models import AlertData, Case, CaseAction, DismissReason, EscalationTarget
from core.moderation import Actor, TargetMember, refusal_for
from core.service import CaseActionRefused
from core.text import clean_user_text, safe_name

log = logging.getLogger(__name__)

Interaction = discord.Interaction[VigilBot]
ButtonItem = discord.ui.Button[discord.ui.View]
SelectItem = discord.ui.Select[discord.ui.View]

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
    """Record an action; on refusal tell the moderator why (privately) and return None."""
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
    await post_audit_line(interaction.client, case, server_locale(interaction))
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
        server_locale(interaction),
    )
    return why, member


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
        interaction.guild_id, case_id, CaseAction.DISMISS
    )
    locale = server_locale(interaction)
    view = discord.ui.View(timeout=None)
    view.add_item(DismissSelect(case_id, locale))
    view.add_item(CancelButton(locale))
    await send_private(interaction, tr("act.dismiss_prompt", locale, number=case.number), view=view)


async def on_note(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    case = await interaction.client.services.cases.require(
        interaction.guild_id, case_id, CaseAction.NOTE
    )
    await interaction.response.send_modal(NoteModal(case, server_locale(interaction)))


async def on_escalate(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    case = await interaction.client.services.cases.require(
        interaction.guild_id, case_id, CaseAction.ESCALATE
    )
    await interaction.response.send_modal(EscalateModal(case, server_locale(interaction)))


async def on_export(interaction: Interaction, case_id: int) -> None:
    assert interaction.guild_id is not None
    services = interaction.client.services
    await services.cases.require(interaction.guild_id, case_id, CaseAction.NOTE)
    data = await services.cases.alert_data(case_id)
    assert data is not None
    await send_export(interaction, data)


async def send_export(interaction: Interaction, data: AlertData) -> None:
    """The escalation packet, privately, as a JSON file. Never media: there is none to send.

    The message is in the server's language; the file itself stays English (it goes to
    Discord, NCMEC, the police)."""
    services = interaction.client.services
    locale = server_locale(interaction)
    guild = interaction.guild
    packet = build_export(
        data,
        guild_name=guild.name if guild else str(data.case.guild_id),
        directory=services.hotlines,
        generated_at=services.clock.now(),
        generated_by=interaction.user.id,
    )
    places = [
        f"- {p['organisation']}" + (f": <{p['url']}>" if p.get("url") else "")
        for p in packet["where_to_file"][:5]
    ]
    file = discord.File(
        io.BytesIO(export_json(packet)),
        filename=f"vigil-case-{data.case.number}-{data.case.guild_id}.json",
    )
    text = "\n".join(
        [
            tr("act.export_title", locale, number=data.case.number),
            tr("act.export_where", locale),
            *places,
            tr("act.export_links", locale),
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
    case = await services.cases.require(interaction.guild_id, case_id, action)
    why, member = await check_enforcement(interaction, case, action)
    if why is not None:
        cant = tr("act.cant", locale, action=action_verb(action, locale), why=why)
        await send_private(interaction, cant)
        return
    name = safe_name(member.display_name if member else case.target_name)
    view = discord.ui.View(timeout=None)
    if action is CaseAction.TIMEOUT:
        view.add_item(TimeoutSelect(case_id, locale))
        prompt = tr("act.timeout_prompt", locale, name=name, number=case.number)
    elif action is CaseAction.KICK:
        label = tr("act.kick_button", locale, name=name)
        view.add_item(ConfirmButton(action, case_id, "0", label))
        prompt = tr("act.kick_prompt", locale, name=name)
    elif action is CaseAction.BAN:
        for seconds in BAN_DELETE_CHOICES:
            label = tr("act.ban_button", locale, choice=ban_delete_label(seconds, locale))
            view.add_item(ConfirmButton(action, case_id, seconds, label))
        prompt = tr("act.ban_prompt", locale, name=name)
    else:
        data = await services.cases.alert_data(case_id)
        count = len({r.message_link for r in data.reports if r.message_link}) if data else 0
        label = tr("act.delete_button", locale, count=count)
        view.add_item(ConfirmButton(action, case_id, "0", label))
        prompt = tr("act.delete_prompt", locale, count=count, number=case.number)
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


async def enforce(interaction: Interaction, case_id: int, action: CaseAction, arg: str) -> None:
    """Check again (time has passed since the prompt), act on Discord, then record it."""
    locale = server_locale(interaction)
    if not is_moderator(interaction):
        await send_private(interaction, tr(MODERATORS_ONLY, locale))
        return
    guild = interaction.guild
    assert guild is not None
    await interaction.response.defer()  # Discord calls below may take a moment
    services = interaction.client.services
    try:
        case = await services.cases.require(guild.id, case_id, action)
    except CaseActionRefused as refused:
        await interaction.edit_original_response(
            content=describe_refusal(refused, locale), view=None
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
        done = await carry_out(interaction.client, guild, case, action, arg, member, reason, locale)
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
    data = await bot.services.cases.alert_data(case.id)
    messages = dict.fromkeys(
        (r.channel_id, r.message_id)
        for r in (data.reports if data else ())
        if r.channel_id and r.message_id
    )
    deleted = 0
    for channel_id, message_id in messages:
        partial = bot.get_partial_messageable(channel_id, guild_id=guild.id)
        try:
            await partial.get_partial_message(message_id).delete()
            deleted += 1
        except discord.NotFound:
            pass  # already gone
    return tr("act.deleted", locale, deleted=deleted, gone=len(messages) - deleted)


class ConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"vigil:confirm:(?P<key>kick|ban|delete_messages):(?P<case_id>[0-9]{1,19})"
        r":(?P<arg>[0-9]{1,7})"
    ),
):
    def __init__(self, action: CaseAction, case_id: int, arg: str, label: str = "Confirm") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.danger,
                custom_id=f"vigil:confirm:{action.value}:{case_id}:{arg}",
            )
        )
        self.action = action
        self.case_id = case_id
        self.arg = arg

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Button[discord.ui.View],
        match: re.Match[str],
    ) -> ConfirmButton:
        return cls(CaseAction(match["key"]), int(match["case_id"]), match["arg"])

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        if self.action is CaseAction.BAN and self.arg not in BAN_DELETE_CHOICES:
            await send_private(interaction, tr("act.invalid_choice", server_locale(interaction)))
            return
        await enforce(interaction, self.case_id, self.action, self.arg)


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
    template=r"vigil:timeout:(?P<case_id>[0-9]{1,19})",
):
    def __init__(self, case_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:timeout:{case_id}",
                placeholder=tr("act.choose_duration", locale),
                options=[
                    discord.SelectOption(label=timeout_label(seconds, locale), value=seconds)
                    for seconds in TIMEOUT_CHOICES
                ],
            )
        )
        self.case_id = case_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Select[discord.ui.View],
        match: re.Match[str],
    ) -> TimeoutSelect:
        return cls(int(match["case_id"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        values = self.item.values
        if len(values) != 1 or values[0] not in TIMEOUT_CHOICES:
            await send_private(interaction, tr("act.invalid_duration", server_locale(interaction)))
            return
        await enforce(interaction, self.case_id, CaseAction.TIMEOUT, values[0])


class DismissSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=r"vigil:dismiss:(?P<case_id>[0-9]{1,19})",
):
    def __init__(self, case_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:dismiss:{case_id}",
                placeholder=tr("act.dismiss_placeholder", locale),
                options=[
                    discord.SelectOption(label=dismiss_label(r, locale), value=r.value)
                    for r in DismissReason
                ],
            )
        )
        self.case_id = case_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: Interaction,
        item: discord.ui.Select[discord.ui.View],
        match: re.Match[str],
    ) -> DismissSelect:
        return cls(int(match["case_id"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        locale = server_locale(interaction)
        if not is_moderator(interaction):
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        values = self.item.values
        if len(values) != 1 or values[0] not in DismissReason._value2member_map_:
            await send_private(interaction, tr("act.invalid_reason", locale))
            return
        reason = DismissReason(values[0])
        case = await record(interaction, self.case_id, CaseAction.DISMISS, detail=reason.value)
        if case is not None:
            why = dismiss_inline(reason, locale)
            await reply_or_edit(
                interaction, tr("act.dismissed", locale, number=case.number, reason=why)
            )


# --------------------------------------------------------------------------- modals


class NoteModal(discord.ui.Modal):
    def __init__(self, case: Case, locale: str | None = None) -> None:
        super().__init__(
            title=tr("act.note_title", locale, number=case.number)[:45],
            custom_id=f"vigil:note-form:{case.id}",
            timeout=900,
        )
        self.case_id = case.id
        self.note: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="note",
            style=discord.TextStyle.paragraph,
            max_length=MAX_NOTE,
            placeholder=tr("act.note_placeholder", locale),
        )
        self.add_item(discord.ui.Label(text=tr("act.note_label", locale), component=self.note))

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        locale = server_locale(interaction)
        if not is_moderator(interaction):
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        text = clean_user_text(self.note.value, MAX_NOTE)
        if not text:
            await send_private(interaction, tr("act.note_empty", locale))
            return
        case = await record(interaction, self.case_id, CaseAction.NOTE, note=text)
        if case is not None:
            await send_private(interaction, tr("act.note_added", locale, number=case.number))

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception
    ) -> None:
        await answer_form_error(interaction, error)


class EscalateModal(discord.ui.Modal):
    def __init__(self, case: Case, locale: str | None = None) -> None:
        super().__init__(
            title=tr("act.escalate_title", locale, number=case.number)[:45],
            custom_id=f"vigil:escalate-form:{case.id}",
            timeout=900,
        )
        self.case_id = case.id
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

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        locale = server_locale(interaction)
        if not is_moderator(interaction):
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        values = self.where.values
        if len(values) != 1 or values[0] not in EscalationTarget._value2member_map_:
            await send_private(interaction, tr("act.escalate_invalid", locale))
            return
        reference = clean_user_text(self.reference.value, MAX_REFERENCE)
        case = await record(
            interaction, self.case_id, CaseAction.ESCALATE, detail=values[0], note=reference
        )
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

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception
    ) -> None:
        await answer_form_error(interaction, error)


async def answer_form_error(interaction: Interaction, error: Exception) -> None:
    """A form that failed still gets a polite answer, never silence."""
    log.error("moderator form failed", exc_info=error)
    text = tr("error.generic", server_locale(interaction))
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await send_private(interaction, text)


class CaseActions(commands.Cog):
    ITEMS = (CaseButton, ConfirmButton, CancelButton, TimeoutSelect, DismissSelect)

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*self.ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*self.ITEMS)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(CaseActions(bot))
