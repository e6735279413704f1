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
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import discord

from core.case_view import AlertAction, member_actions
from core.followthrough import (
    DELETE_ANYWAY,
    DELETE_ANYWAY_ARG,
    deletion_waits_for_escalation,
)
from core.i18n import tr
from core.models import AlertData, Case, CaseAction, DismissReason, EscalationTarget
from core.outbox import AlertMessage, DeliveryFailed, Destination
from core.service import CaseActionRefused
from core.signals import seen_by
from core.text import clean_user_text, safe_name
from ui.alert_view import (
    BAN_DELETE_CHOICES,
    TIMEOUT_CHOICES,
    AlertContent,
    action_label,
    action_verb,
    ban_delete_label,
    describe_event,
    describe_refusal,
    dismiss_inline,
    dismiss_label,
    escalation_label,
    render_alert,
    render_case_record,
    render_evidence,
    render_message,
    status_label,
    timeout_label,
)
from ui.app import VigilBot
from ui.case_common import (
    MAX_NOTE,
    MAX_REFERENCE,
    MODERATORS_ONLY,
    Interaction,
    check_enforcement,
    is_moderator,
    post_audit_line,
    record,
    reply_or_edit,
    server_locale,
)
from ui.case_export import send_export
from ui.deletion import DeletionStep, NothingDeleted, Skip, deletion_plan, describe_plan, skip_lines
from ui.forms import FormSubmit, form_custom_id, stateless
from ui.items import ARRIVED, Access, CaseItem, VigilItem, groups, snowflake
from ui.markup import mention_user, message_url
from ui.relay import on_ask
from ui.replies import (
    alert_embed,
    alert_mentions,
    button_style,
    fit_embeds,
    private_answer,
    send_private,
)
from ui.routing import route_alert
from ui.welfare import on_check_in

log = logging.getLogger(__name__)

#: How long a press waits for the alert's route (a few member lookups, usually cached) before
#: it answers with a plain acknowledgement and leaves the redraw to the outbox: Discord gives
#: an interaction 3 s, and the action was recorded before this.
ROUTE_BUDGET_SECONDS = 1.5
#: The route's wait ends at the latest this long after Discord created the interaction,
#: whatever recording the action took: 0.5 s of Discord's 3 s are left for the answer itself.
ANSWER_BY_SECONDS = 2.5
#: How much longer than this process measured itself the press's way here may have taken, by
#: Discord's clock (its snowflake): a host clock seconds ahead would otherwise leave no time.
WAY_HERE_SECONDS = 0.5


def route_budget(interaction: Interaction) -> float:
    """Seconds the alert's route may take for this press: ROUTE_BUDGET_SECONDS, less whatever
    recording the action already took of Discord's 3 s (0 or less: no time left to route).
    Counted on this process's clock from the press's arrival (ui.items.ARRIVED), plus its way
    here by Discord's clock, trusted up to WAY_HERE_SECONDS: the host's clock and Discord's
    may differ by seconds either way."""
    now = time.monotonic()
    here = now - float(interaction.extras.get(ARRIVED, now))
    by_discord = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    elapsed = max(here, min(by_discord, here + WAY_HERE_SECONDS))
    return min(ROUTE_BUDGET_SECONDS, ANSWER_BY_SECONDS - elapsed)


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


def case_record_message(
    data: AlertData, locale: str | None, viewer_id: int
) -> tuple[list[discord.Embed], discord.ui.View]:
    """`/reports case`: the alert as it stands, with the alert's own buttons (a press there is
    checked exactly like one on the alert), and the case's full record, as `viewer_id` may
    read it (never naming them as possible retaliation: core.signals.seen_by)."""
    data = seen_by(data, frozenset({viewer_id}))
    content = render_alert(data, locale)
    case = data.case
    full = discord.Embed(
        title=tr("admin.full_record", locale, number=case.number), colour=content.colour
    )
    for field in render_case_record(data, locale):
        full.add_field(name=field.name, value=field.value, inline=False)
    if case.alert_message_id and case.alert_channel_id:
        url = message_url(case.guild_id, case.alert_channel_id, case.alert_message_id)
        full.description = f"[{tr('admin.jump', locale)}]({url})"
    # Within Discord's 6,000 characters for the two together, for a redraw (edit_message) as
    # for the first answer (send_private fits them too).
    return fit_embeds([alert_embed(content), full]), alert_view(case.id, content)


async def refresh_alert_in_place(interaction: Interaction, data: AlertData) -> None:
    """Answer a press on the alert itself by redrawing it (one request, no second message),
    exactly as the outbox would draw it there: routed (ui/routing.py), so withheld for a case
    about the owner, with the line saying why it is not in the alert channel, and never
    naming someone who reads it as possible retaliation. If the route has moved on (the
    target can read this channel now), or cannot be told, nothing is redrawn here: the outbox,
    woken by the action, moves or redraws it."""
    case = data.case
    where: Destination | None = None
    budget = route_budget(interaction)
    try:
        if data.settings.alert_channel_id is not None and budget > 0:
            async with asyncio.timeout(budget):  # within Discord's 3 s to answer
                where = await route_alert(
                    interaction.client,
                    case.guild_id,
                    data.settings,
                    case.target_id,
                    data.signals.retaliation,
                )
    except (DeliveryFailed, discord.DiscordException, aiohttp.ClientError, TimeoutError) as error:
        log.warning("alert of case %s not redrawn in place: %s", case.id, error)
    if where is None or where.channel_id != interaction.channel_id:
        await interaction.response.defer()
        return
    locale = server_locale(interaction)
    content = render_message(AlertMessage(data, locale, where.rerouted, where.readers))
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


# --------------------------------------------------------------------------- the alert's buttons


class CaseButton(
    CaseItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:case:(?P<key>[a-z_]{2,20}):(?P<case_id>[0-9]{1,19})",
):
    """A button on the alert. `key` is untrusted: one that names no AlertAction is junk,
    answered as a stale button."""

    fields = groups(key=AlertAction, case_id=snowflake)

    def __init__(
        self,
        key: AlertAction,
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

    async def on_press(self, interaction: Interaction) -> None:
        locale = server_locale(interaction)
        try:
            await BUTTON_HANDLERS[self.key](interaction, self.case_id)
        except CaseActionRefused as refused:
            await reply_or_edit(interaction, describe_refusal(refused, locale))


async def on_status_button(interaction: Interaction, case_id: int, action: CaseAction) -> None:
    case = await record(interaction, case_id, action)
    if case is None:
        return
    cases = interaction.client.services.cases
    locale = server_locale(interaction)
    message = interaction.message
    if message is not None and not private_answer(message):
        case = await _with_alert_recorded(interaction, case)
    if message is not None and _is_the_alert(message, interaction.channel_id, case):
        data = await cases.alert_data(case.id)
        if data is not None:
            await refresh_alert_in_place(interaction, data)
        return
    # Anywhere else the alert is redrawn by the outbox (recording the action woke it), where it
    # is: it is never marked as drawn, nor moved, by a press on another message (a custom ID
    # names any case; a message carries no trust either).
    if message is not None and _is_the_record(message, case, locale, interaction):
        story = await cases.alert_data(case.id, story=True)
        if story is not None:
            embeds, view = case_record_message(story, locale, interaction.user.id)
            await interaction.response.edit_message(embeds=embeds, view=view)
            return
    # One private line, naming no member: a press from elsewhere shows nothing of the case
    # that the presser could not read where its alert is.
    status = status_label(case.status, locale)
    await send_private(
        interaction, tr("act.status_recorded", locale, number=case.number, status=status)
    )


#: How long a press on a just-posted alert waits for the post to be recorded (the press can
#: overtake the POST's answer by a moment), in steps of ALERT_RECORD_STEP seconds.
ALERT_RECORD_STEPS = 20
ALERT_RECORD_STEP = 0.05


async def _with_alert_recorded(interaction: Interaction, case: Case) -> Case:
    """The case once its alert's first post, if under way, is recorded (at most ~1 s: well
    within Discord's 3 s to answer); as it is otherwise."""
    cases = interaction.client.services.cases
    for _ in range(ALERT_RECORD_STEPS):
        if case.alert_message_id is not None or not case.alert_post_started:
            return case
        await asyncio.sleep(ALERT_RECORD_STEP)
        data = await cases.alert_data(case.id)
        if data is None:
            return case
        case = data.case
    return case


def _is_the_alert(message: discord.Message, channel_id: int | None, case: Case) -> bool:
    """Whether a press came from this case's alert, where the database says it is."""
    return message.id == case.alert_message_id and channel_id == case.alert_channel_id


def _is_the_record(
    message: discord.Message, case: Case, locale: str | None, interaction: Interaction
) -> bool:
    """Whether a press came from this case's private `/reports case` copy, pressed by someone
    who may read it (`/reports case` needs Manage Server; the buttons alone need less)."""
    record_title = tr("admin.full_record", locale, number=case.number)
    return (
        private_answer(message)
        and interaction.permissions.manage_guild
        and len(message.embeds) == 2
        and message.embeds[1].title == record_title
    )


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
    # Its own rule: a moderator (CaseButton.access), any case state, not about themselves.
    await services.cases.require(
        interaction.guild_id, case_id, AlertAction.EXPORT.records, interaction.user.id
    )
    data = await services.cases.alert_data(case_id)
    assert data is not None
    await send_export(interaction, data)


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
        data = await services.cases.alert_data(case_id)
        gated = data is not None and deletion_waits_for_escalation(data)
        if gated:  # t14-followthrough: child safety, step 3 (Escalated) not recorded yet
            reminder = tr("act.delete_escalate_first", locale, button=tr("action.escalate", locale))
        prompt = (reminder + "\n" + describe_plan(plan, case, name, locale))[:2000]
        if count and gated:
            label = tr("act.delete_anyway_button", locale, count=count)
            view.add_item(ConfirmButton(action, case_id, target, DELETE_ANYWAY_ARG, label))
        elif count:
            label = tr("act.delete_button", locale, count=count)
            view.add_item(ConfirmButton(action, case_id, target, "0", label))
    view.add_item(CancelButton(locale))
    await send_private(interaction, prompt, view=view)


# --- t14-evidence: Show evidence ---
MAX_EVIDENCE_MESSAGES = 10


async def on_show_evidence(interaction: Interaction, case_id: int) -> None:
    """The kept message texts of a case, ephemerally and behind spoilers, to the moderator who
    asked (never the case's target: the service refuses and records nothing). Who looked and
    when goes into the case's audit trail before anything is shown."""
    assert interaction.guild_id is not None
    locale = server_locale(interaction)
    _, reports = await interaction.client.services.cases.view_evidence(
        interaction.guild_id, case_id, interaction.user.id
    )
    messages = render_evidence(reports, locale)
    if not messages:
        await send_private(interaction, tr("evidence.none", locale))
        return
    if len(messages) > MAX_EVIDENCE_MESSAGES:
        messages = [*messages[: MAX_EVIDENCE_MESSAGES - 1], tr("evidence.more_in_export", locale)]
    for message in messages:
        await send_private(interaction, message)


# --- end t14-evidence ---


# --- t15-welfare: More actions ---


async def on_more_actions(interaction: Interaction, case_id: int) -> None:
    """A welfare case keeps what acts on the member one step away: the same buttons as on any
    alert, shown privately to the moderator who asked. Each still goes through its own
    confirmation and every check (permissions, hierarchy, not one's own case)."""
    assert interaction.guild_id is not None
    services = interaction.client.services
    locale = server_locale(interaction)
    case = await services.cases.require(
        interaction.guild_id, case_id, AlertAction.MORE.records, interaction.user.id
    )
    data = await services.cases.alert_data(case_id)
    assert data is not None
    view = discord.ui.View(timeout=None)
    for state in member_actions(data, row=0):
        view.add_item(
            CaseButton(
                state.action,
                case_id,
                label=action_label(state.action, locale),
                style=discord.ButtonStyle.danger,
                disabled=state.disabled,
                row=state.row,
            )
        )
    name = safe_name(case.target_name)
    prompt = tr(
        "act.more_prompt",
        locale,
        name=name,
        number=case.number,
        button=tr("action.check_in", locale),
    )
    await send_private(interaction, prompt, view=view)


# --- end t15-welfare ---


def _status(action: CaseAction) -> Handler:
    async def handler(interaction: Interaction, case_id: int) -> None:
        await on_status_button(interaction, case_id, action)

    return handler


def _enforce(action: CaseAction) -> Handler:
    async def handler(interaction: Interaction, case_id: int) -> None:
        await on_enforcement_button(interaction, case_id, action)

    return handler


Handler = Callable[[Interaction, int], Awaitable[None]]

BUTTON_HANDLERS: dict[AlertAction, Handler] = {
    AlertAction.ACKNOWLEDGE: _status(CaseAction.ACKNOWLEDGE),
    AlertAction.RESOLVE: _status(CaseAction.RESOLVE),
    AlertAction.DISMISS: on_dismiss,
    AlertAction.NOTE: on_note,
    AlertAction.ESCALATE: on_escalate,
    AlertAction.EXPORT: on_export,
    AlertAction.TIMEOUT: _enforce(CaseAction.TIMEOUT),
    AlertAction.KICK: _enforce(CaseAction.KICK),
    AlertAction.BAN: _enforce(CaseAction.BAN),
    AlertAction.DELETE_MESSAGES: _enforce(CaseAction.DELETE_MESSAGES),
    AlertAction.SHOW_EVIDENCE: on_show_evidence,
    AlertAction.CHECK_IN: on_check_in,  # t15-welfare
    AlertAction.MORE: on_more_actions,  # t15-welfare
    AlertAction.ASK_REPORTER: on_ask,  # t15-relay
}
"""What a press of each alert button does (the case ID is untrusted: each handler re-reads
the case). A new button: a member of core.case_view.AlertAction, its line in alert_actions(),
its label key in ui.alert_view.ACTION_LABEL_KEYS and its handler here."""


# --------------------------------------------------------------------------- confirmations


async def enforce(
    interaction: Interaction,
    item: CaseItem[Any],
    action: CaseAction,
    arg: str,
    target_id: int | None,
) -> None:
    """Check again (time has passed since the prompt), act on Discord, then record it.

    The presser's permission was checked by the item (`CaseItem.access`); the case is re-read
    here, after the defer, because Discord calls follow.

    ``target_id`` is the member the confirmation was shown for: a confirmation whose case now
    names someone else (or an old one that names nobody) changes nothing."""
    locale = server_locale(interaction)
    guild = interaction.guild
    assert guild is not None
    await interaction.response.defer()  # Discord calls below may take a moment
    services = interaction.client.services
    case = await item.load_case(interaction, action)
    if case is None:
        return
    if case.target_id != target_id:
        await interaction.edit_original_response(
            content=tr("act.confirmation_outdated", locale, number=case.number), view=None
        )
        return
    detail = arg
    if action is CaseAction.DELETE_MESSAGES:  # t14-followthrough: checked again at click time
        data = await services.cases.alert_data(case.id)
        if data is not None and deletion_waits_for_escalation(data):
            if arg != DELETE_ANYWAY_ARG:
                await interaction.edit_original_response(
                    content=tr(
                        "act.delete_escalate_first",
                        locale,
                        button=tr("action.escalate", locale),
                    ),
                    view=None,
                )
                return
            detail = DELETE_ANYWAY
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
        guild.id, item.case_id, action, interaction.user.id, detail
    )
    if recorded is None:
        log.warning(
            "%s for case %s was carried out; the case no longer exists", action.value, item.case_id
        )
        text = tr("act.done_case_gone", locale, done=done, number=case.number)
    else:
        await post_audit_line(
            interaction.client, recorded.case, locale, actor_id=interaction.user.id, action=action
        )
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
    CaseItem[discord.ui.Button[discord.ui.View]],
    template=(
        r"vigil:confirm:(?P<key>kick|ban|delete_messages):(?P<case_id>[0-9]{1,19})"
        r"(?::(?P<target>[0-9]{1,20}))?:(?P<arg>[0-9]{1,7})"
    ),
):
    """Confirms kick, ban or delete: names the case, the member it was shown for and the
    choice. A confirmation from before targets were named carries none and is refused."""

    fields = groups(key=CaseAction, case_id=snowflake, target=snowflake, arg=str)

    def __init__(
        self,
        key: CaseAction,
        case_id: int,
        target: int | None,
        arg: str,
        label: str = "Confirm",
    ) -> None:
        suffix = f":{target}" if target is not None else ""
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.danger,
                custom_id=f"vigil:confirm:{key.value}:{case_id}{suffix}:{arg}",
            )
        )
        self.action = key
        self.case_id = case_id
        self.target_id = target
        self.arg = arg

    async def on_press(self, interaction: Interaction) -> None:
        if self.action is CaseAction.BAN and self.arg not in BAN_DELETE_CHOICES:
            await send_private(interaction, tr("act.invalid_choice", server_locale(interaction)))
            return
        await enforce(interaction, self, self.action, self.arg, self.target_id)


class CancelButton(VigilItem[discord.ui.Button[discord.ui.View]], template=r"vigil:cancel"):
    """Closes a confirmation; anyone who sees it (the moderator who opened it) may."""

    def __init__(self, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("act.cancel", locale),
                style=discord.ButtonStyle.secondary,
                custom_id="vigil:cancel",
            )
        )

    async def on_press(self, interaction: Interaction) -> None:
        await reply_or_edit(interaction, tr("act.cancelled", server_locale(interaction)))


class TimeoutSelect(
    CaseItem[discord.ui.Select[discord.ui.View]],
    template=r"vigil:timeout:(?P<case_id>[0-9]{1,19})(?::(?P<target>[0-9]{1,20}))?",
):
    fields = groups(case_id=snowflake, target=snowflake)

    def __init__(self, case_id: int, target: int | None, locale: str | None = None) -> None:
        suffix = f":{target}" if target is not None else ""
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:timeout:{case_id}{suffix}",
                placeholder=tr("act.choose_duration", locale),
                options=[
                    discord.SelectOption(label=timeout_label(seconds, locale), value=seconds)
                    for seconds in TIMEOUT_CHOICES
                ],
            )
        )
        self.case_id = case_id
        self.target_id = target

    async def on_press(self, interaction: Interaction) -> None:
        values = self.item.values
        if len(values) != 1 or values[0] not in TIMEOUT_CHOICES:
            await send_private(interaction, tr("act.invalid_duration", server_locale(interaction)))
            return
        await enforce(interaction, self, CaseAction.TIMEOUT, values[0], self.target_id)


class DismissSelect(
    CaseItem[discord.ui.Select[discord.ui.View]],
    template=r"vigil:dismiss:(?P<case_id>[0-9]{1,19})(?::(?P<target>[0-9]{1,20}))?",
):
    fields = groups(case_id=snowflake, target=snowflake)

    def __init__(self, case_id: int, target: int | None, locale: str | None = None) -> None:
        suffix = f":{target}" if target is not None else ""
        super().__init__(
            discord.ui.Select(
                custom_id=f"vigil:dismiss:{case_id}{suffix}",
                placeholder=tr("act.dismiss_placeholder", locale),
                options=[
                    discord.SelectOption(label=dismiss_label(r, locale), value=r.value)
                    for r in DismissReason
                ],
            )
        )
        self.case_id = case_id
        self.target_id = target

    async def on_press(self, interaction: Interaction) -> None:
        locale = server_locale(interaction)
        values = self.item.values
        reason = DismissReason.parse(values[0]) if len(values) == 1 else None
        if reason is None:
            await send_private(interaction, tr("act.invalid_reason", locale))
            return
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


# --- t14-followthrough: "don't count" a member's reports (from /reports history) ---


class CountReportsButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:countreports:(?P<user_id>[0-9]{1,20}):(?P<counts>[01])",
):
    """Sets a member's reports to "don't count" (counts=0) or back (1), silently: the member
    is never told. The user ID is untrusted: only ever used as the member to switch, after
    the clicker's permission is checked at click time (`access`): Manage Server, as for
    `/reports history`, the only place that shows it. A switch never silences reports about
    the manager who set it (decided where each report is counted)."""

    fields = groups(user_id=snowflake, counts=lambda text: text == "1")
    access = Access.MANAGE_SERVER
    denied = "admin.manage_server_only"

    def __init__(self, user_id: int, counts: bool, locale: str | None = None) -> None:
        key = "admin.count_again_button" if counts else "admin.dont_count_button"
        super().__init__(
            discord.ui.Button(
                label=tr(key, locale)[:80],
                style=discord.ButtonStyle.secondary,
                custom_id=f"vigil:countreports:{user_id}:{int(counts)}",
            )
        )
        self.user_id = user_id
        self.counts = counts

    async def on_press(self, interaction: Interaction) -> None:
        locale = server_locale(interaction)
        if interaction.guild_id is None:
            await send_private(interaction, tr(MODERATORS_ONLY, locale))
            return
        if self.user_id == interaction.user.id:
            await send_private(interaction, tr("admin.not_about_yourself", locale))
            return
        await interaction.client.services.cases.set_reports_count(
            interaction.guild_id, self.user_id, self.counts, interaction.user.id
        )
        key = "admin.count_again_done" if self.counts else "admin.dont_count_done"
        view = discord.ui.View(timeout=None)
        view.add_item(CountReportsButton(self.user_id, not self.counts, locale))
        await send_private(
            interaction, tr(key, locale, mention=mention_user(self.user_id)), view=view
        )
