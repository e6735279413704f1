"""Ask the reporter (issue 15): the alert's Ask reporter form, the question's DM with its Answer
and "Stop messages about this report" buttons, and Add details on a reporter's confirmation.

Every item is a DynamicItem (registered by cogs/relay.py) and every form is stateless
(ui/forms.py): a press names only a question or a report, re-read at click time, and only the
reporter it was for may answer, stop or add (anyone else is told it is not theirs, and nothing
changes). Moderators are checked like on every alert button, and a reported moderator cannot
question their own reporters. Moderator-facing text follows the server's language; a reporter's
follows their own, and every answer to a reporter carries the help for their report's reason.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import aiohttp
import discord

from core.guidance import GUIDANCE_TITLE_KEY
from core.i18n import tr
from core.models import DeliveryState, RelayMessage
from core.reasons import Reason
from core.relay import (
    MAX_RELAY_TEXT,
    Question,
    RelayRefusal,
    RelayRefused,
    ReporterTurn,
    reporter_order,
    reporter_tag,
)
from core.service import CaseActionRefused
from core.text import safe_name, trim
from ui.alert_view import describe_refusal
from ui.app import VigilBot
from ui.case_common import MODERATORS_ONLY, Interaction, is_moderator, server_locale
from ui.country_menu import cached_guidance, reader_locale, region_for, reply_with_help
from ui.forms import FormSubmit, form_custom_id, stateless
from ui.items import VigilItem, groups, snowflake
from ui.relay_view import (
    describe_relay_refusal,
    describe_reporter_refusal,
    quoted,
    render_asked,
    render_not_delivered,
    render_question_dm,
    reporter_label,
)
from ui.replies import NO_MENTIONS, guidance_embed, send_private

log = logging.getLogger(__name__)

ASK_FORM = "ask-form"
ANSWER_FORM = "relay-answer"
DETAILS_FORM = "relay-details"
ASK_FORM_PATTERN = r"(?P<case_id>[0-9]{1,19}):(?P<target>[0-9]{1,20})"
QUESTION_FORM_PATTERN = r"(?P<question_id>[0-9]{1,19})"
REPORT_FORM_PATTERN = r"(?P<report_id>[0-9]{1,19})"
MAX_LISTED_REPORTERS = 25  # a select's options
#: Looking for a question's DM: from a minute before it was stored (clocks differ), the
#: first messages of the DM channel from then on.
FIND_DM_MARGIN = timedelta(minutes=1)
FIND_DM_LIMIT = 200


def question_nonce(question_id: int) -> str:
    """One per question: a retried DM is not sent twice."""
    return f"vigil-q-{question_id}"[:25]


# --------------------------------------------------------------------------- moderators


class AskModal(discord.ui.Modal):
    """Which reporter (numbered as on the alert) and the question. Stateless: the custom ID
    names the case and its target, so an old form never asks about another member's case."""

    def __init__(
        self, case_id: int, target_id: int, number: int, reporters: list[int], locale: str
    ):
        super().__init__(
            title=tr("relay.ask_title", locale, number=number)[:45],
            custom_id=form_custom_id(ASK_FORM, case_id, target_id),
            timeout=None,
        )
        # Each choice is "N-tag": the number as the alert shows it, and who that was when the
        # form opened (core.relay.reporter_tag), checked again when the form is sent.
        self.reporter: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id="reporter",
            options=[
                discord.SelectOption(
                    label=reporter_label(n, locale)[:100],
                    value=f"{n}-{reporter_tag(case_id, reporter_id)}",
                )
                for n, reporter_id in enumerate(reporters[:MAX_LISTED_REPORTERS], start=1)
            ],
        )
        self.question: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="question", style=discord.TextStyle.paragraph, max_length=MAX_RELAY_TEXT
        )
        self.add_item(discord.ui.Label(text=tr("relay.ask_who", locale), component=self.reporter))
        self.add_item(
            discord.ui.Label(
                text=tr("relay.ask_question", locale),
                description=tr("relay.ask_help", locale)[:100],
                component=self.question,
            )
        )


async def on_ask(interaction: Interaction, case_id: int) -> None:
    """The alert's Ask reporter: the form, for a moderator who is not the case's target."""
    assert interaction.guild_id is not None
    services = interaction.client.services
    case = await services.cases.require(interaction.guild_id, case_id, None, interaction.user.id)
    locale = server_locale(interaction)
    data = await services.cases.alert_data(case_id)
    reporters = reporter_order(data.reports) if data is not None else []
    refused = None
    if not case.status.is_active:
        refused = RelayRefused(RelayRefusal.CLOSED, case.number)
    elif not reporters:  # all of them erased
        refused = RelayRefused(RelayRefusal.NO_REPORTER, case.number, 1)
    if refused is not None:
        await send_private(interaction, describe_relay_refusal(refused, locale))
        return
    modal = AskModal(case.id, case.target_id, case.number, reporters, locale)
    await interaction.response.send_modal(stateless(modal))


_CHOICE = re.compile(r"(?P<number>[0-9]{1,3})(?:-(?P<tag>[0-9a-f]{12}))?")


def chosen_reporter(value: str | None) -> tuple[int, str]:
    """The form's "N-tag" choice. A bare number (a form opened before tags) has the empty
    tag, which matches nobody: refused as renumbered (open the form again). Anything else
    is number 0, which no reporter has. Either way nothing is sent."""
    match = _CHOICE.fullmatch(value or "")
    if match is None:
        return 0, ""
    return int(match["number"]), match["tag"] or ""


async def on_ask_form(interaction: Interaction, form: FormSubmit) -> None:
    """Store the question, DM it to the reporter, tell the moderator at once what happened
    (sent, DMs closed, refused): all privately, in the server's language."""
    locale = server_locale(interaction)
    if not is_moderator(interaction) or interaction.guild_id is None:
        await send_private(interaction, tr(MODERATORS_ONLY, locale))
        return
    case_id = form.id("case_id")
    assert case_id is not None
    number, tag = chosen_reporter(form.first("reporter"))
    services = interaction.client.services
    # Two Discord calls follow (open the DM, send): answer Discord's 3 seconds first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        outcome = await services.relay.ask(
            interaction.guild_id,
            case_id,
            form.id("target"),
            interaction.user.id,
            number,
            form.first("question"),
            tag,
        )
    except CaseActionRefused as refused:
        await send_private(interaction, describe_refusal(refused, locale))
        return
    if isinstance(outcome, RelayRefused):
        await send_private(interaction, describe_relay_refusal(outcome, locale))
        return
    bot = interaction.client
    state, _, _ = await services.relay.deliver(outcome, lambda q: send_question(bot, q))
    if state is DeliveryState.SENT:
        guild = interaction.guild
        server = guild.name if guild else ""
        # A case about the owner: its alert is withheld, nothing goes under it (ui/routing.py).
        data = await services.cases.alert_data(outcome.case_id)
        withheld = guild is not None and data is not None and guild.owner_id == data.case.target_id
        text = render_asked(
            outcome.number,
            server,
            outcome.thread_id,
            locale,
            withheld_case=outcome.case_number if withheld else None,
        )
    else:
        text = render_not_delivered(outcome.number, state, locale)
    await send_private(interaction, text)


async def send_question(
    bot: VigilBot, question: Question
) -> tuple[DeliveryState, int | None, int | None]:
    """The question's DM, from "the moderators of {server}" (never a moderator's name), with
    the help for the reporter's reason. A DM has no reader's language: the server's is used.
    Returns the delivery state and where the DM is."""
    guild = bot.get_guild(question.guild_id)
    locale = str(guild.preferred_locale) if guild else None
    text = render_question_dm(guild.name if guild else None, question.target_name, locale)
    asked = discord.Embed(
        title=tr("relay.dm_question_title", locale), description=quoted(question.text)
    )
    region = await region_for(bot, question.guild_id, locale or "en")
    guidance = cached_guidance(bot.services.hotlines, question.reason.value, region, locale or "en")
    help_embed = guidance_embed(
        guidance, title=tr(GUIDANCE_TITLE_KEY, locale), include_headline=False
    )
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(question.id, locale))
    view.add_item(StopButton(question.id, locale))
    view.stop()  # components only: the registered DynamicItems answer every press
    try:
        channel = await bot.create_dm(discord.Object(question.reporter_id))
        message = await channel.send(
            text,
            embeds=[asked, help_embed],
            view=view,
            allowed_mentions=NO_MENTIONS,
            nonce=question_nonce(question.id),
        )
    except discord.Forbidden:
        return DeliveryState.DMS_CLOSED, None, None  # 50007: they don't accept DMs from Vigil
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
        log.warning("question %s not delivered: %s", question.id, error)
        return DeliveryState.FAILED, None, None
    return DeliveryState.SENT, channel.id, message.id


async def find_question_dm(bot: VigilBot, question: RelayMessage) -> tuple[int, int] | None:
    """Where the question's DM is, if it reached the reporter: the bot's message in their DM
    channel from the question's time on (a shared channel: other servers' messages and the
    reporter's own come and go in it) with the question's Answer button, or its nonce where
    Discord returns one (it does not when messages are fetched). None when it is not there, or
    the channel cannot be opened or read (an account gone): nothing was delivered. Other
    failures raise: look again later."""
    if bot.user is None:
        raise RuntimeError("not logged in: whose messages are the bot's is not known yet")
    me = bot.user.id
    nonce = question_nonce(question.id)
    answer_id = f"vigil:relay:answer:{question.id}"
    since = discord.Object(discord.utils.time_snowflake(question.created_at - FIND_DM_MARGIN))
    try:
        channel = await bot.create_dm(discord.Object(question.reporter_id))
        async for message in channel.history(limit=FIND_DM_LIMIT, after=since, oldest_first=True):
            if message.author.id != me:
                continue
            if message.nonce is not None and str(message.nonce) == nonce:
                return channel.id, message.id
            for row in message.components:
                for item in getattr(row, "children", ()):
                    if getattr(item, "custom_id", None) == answer_id:
                        return channel.id, message.id
    except (discord.Forbidden, discord.NotFound):
        return None
    return None


# --------------------------------------------------------------------------- reporters


def server_name(bot: VigilBot, guild_id: int, locale: str) -> str:
    guild = bot.get_guild(guild_id)
    return safe_name(guild.name) if guild else tr("feedback.your_server", locale)


async def answer_reporter(
    interaction: Interaction, text: str, reason: Reason, guild_id: int | None
) -> None:
    """Every answer to a reporter carries the help for their report's reason (a stranger's
    press gets the help that fits everyone)."""
    locale = reader_locale(interaction)
    region = await region_for(interaction.client, guild_id, locale)
    await reply_with_help(interaction.client, interaction, reason, region, text)


async def refuse_reporter(interaction: Interaction, refused: RelayRefused) -> None:
    """Nothing changed: said to the presser, with the help for their report's reason when it
    is theirs (a stranger gets the help that fits everyone, and learns nothing of the case)."""
    locale = reader_locale(interaction)
    await answer_reporter(
        interaction,
        describe_reporter_refusal(refused, locale),
        refused.reason or Reason.OTHER,
        refused.guild_id,
    )


async def tell_reporter(
    interaction: Interaction, outcome: ReporterTurn | RelayRefused, key: str
) -> None:
    """A reporter's press or form, taken (the words of `key`, naming the server) or refused,
    each with the help for their report's reason."""
    if isinstance(outcome, RelayRefused):
        await refuse_reporter(interaction, outcome)
        return
    locale = reader_locale(interaction)
    server = server_name(interaction.client, outcome.guild_id, locale)
    text = tr(key, locale, server=server)
    await answer_reporter(interaction, text, outcome.reason, outcome.guild_id)


class AnswerButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:relay:answer:(?P<question_id>[0-9]{1,19})",
):
    """On a question's DM: opens the answer form, for the reporter it was sent to only."""

    fields = groups(question_id=snowflake)

    def __init__(self, question_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("relay.answer_button", locale)[:80],
                style=discord.ButtonStyle.primary,
                custom_id=f"vigil:relay:answer:{question_id}",
            )
        )
        self.question_id = question_id

    async def on_press(self, interaction: Interaction) -> None:
        turn = await interaction.client.services.relay.check_question(
            self.question_id, interaction.user.id
        )
        if isinstance(turn, RelayRefused):
            await refuse_reporter(interaction, turn)
            return
        modal = AnswerModal(self.question_id, turn, reader_locale(interaction))
        await interaction.response.send_modal(stateless(modal))


class AnswerModal(discord.ui.Modal):
    def __init__(self, question_id: int, turn: ReporterTurn, locale: str) -> None:
        super().__init__(
            title=tr("relay.answer_title", locale)[:45],
            custom_id=form_custom_id(ANSWER_FORM, question_id),
            timeout=None,
        )
        self.answer: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="answer", style=discord.TextStyle.paragraph, max_length=MAX_RELAY_TEXT
        )
        # What they answer, as a reminder (the moderators' words, shortened).
        asked = trim(" ".join((turn.question_text or "").split()), 100) or None
        self.add_item(
            discord.ui.Label(
                text=tr("relay.answer_label", locale)[:45], description=asked, component=self.answer
            )
        )


async def on_answer_form(interaction: Interaction, form: FormSubmit) -> None:
    question_id = form.id("question_id")
    assert question_id is not None
    outcome = await interaction.client.services.relay.answer(
        question_id, interaction.user.id, form.first("answer")
    )
    await tell_reporter(interaction, outcome, "relay.answered_thanks")


class StopButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:relay:stop:(?P<question_id>[0-9]{1,19})",
):
    """On a question's DM: "Stop messages about this report", for its reporter only; never
    asked about that case again."""

    fields = groups(question_id=snowflake)

    def __init__(self, question_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("relay.stop_button", locale)[:80],
                style=discord.ButtonStyle.secondary,
                custom_id=f"vigil:relay:stop:{question_id}",
            )
        )
        self.question_id = question_id

    async def on_press(self, interaction: Interaction) -> None:
        outcome = await interaction.client.services.relay.stop(
            self.question_id, interaction.user.id
        )
        await tell_reporter(interaction, outcome, "relay.stopped")


class AddDetailsButton(
    VigilItem[discord.ui.Button[discord.ui.View]],
    template=r"vigil:relay:details:(?P<report_id>[0-9]{1,19})",
):
    """On a reporter's (ephemeral) confirmation: add information to that report later, also
    after a restart. Only the report's reporter, in its server, may."""

    fields = groups(report_id=snowflake)

    def __init__(self, report_id: int, locale: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr("relay.details_button", locale)[:80],
                style=discord.ButtonStyle.secondary,
                custom_id=f"vigil:relay:details:{report_id}",
            )
        )
        self.report_id = report_id

    async def on_press(self, interaction: Interaction) -> None:
        turn = await interaction.client.services.relay.check_report(
            self.report_id, interaction.user.id, interaction.guild_id
        )
        if isinstance(turn, RelayRefused):
            await refuse_reporter(interaction, turn)
            return
        locale = reader_locale(interaction)
        modal = DetailsModal(self.report_id, locale)
        await interaction.response.send_modal(stateless(modal))


class DetailsModal(discord.ui.Modal):
    def __init__(self, report_id: int, locale: str) -> None:
        super().__init__(
            title=tr("relay.details_title", locale)[:45],
            custom_id=form_custom_id(DETAILS_FORM, report_id),
            timeout=None,
        )
        self.details: discord.ui.TextInput[discord.ui.View] = discord.ui.TextInput(
            custom_id="details", style=discord.TextStyle.paragraph, max_length=MAX_RELAY_TEXT
        )
        self.add_item(
            discord.ui.Label(
                text=tr("relay.details_label", locale)[:45],
                description=tr("modal.details_description", locale)[:100],
                component=self.details,
            )
        )


async def on_details_form(interaction: Interaction, form: FormSubmit) -> None:
    report_id = form.id("report_id")
    assert report_id is not None
    outcome = await interaction.client.services.relay.add_details(
        report_id, interaction.user.id, interaction.guild_id, form.first("details")
    )
    await tell_reporter(interaction, outcome, "relay.details_added")
