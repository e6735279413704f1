"""The extension for the relay between moderators and reporters (issue 15): the Answer and
"Stop messages about this report" buttons of a question's DM, Add details on a reporter's
confirmation, and their forms. The items live in ui/relay.py; registered here, they answer
presses of messages sent before a restart too."""

from __future__ import annotations

from discord.ext import commands

from ui.app import VigilBot
from ui.forms import register_form, unregister_form
from ui.relay import (
    ANSWER_FORM,
    ASK_FORM,
    ASK_FORM_PATTERN,
    DETAILS_FORM,
    QUESTION_FORM_PATTERN,
    REPORT_FORM_PATTERN,
    AddDetailsButton,
    AnswerButton,
    StopButton,
    on_answer_form,
    on_ask_form,
    on_details_form,
)


class Relay(commands.Cog):
    ITEMS = (AnswerButton, StopButton, AddDetailsButton)
    FORMS = (
        (ASK_FORM, ASK_FORM_PATTERN, on_ask_form),
        (ANSWER_FORM, QUESTION_FORM_PATTERN, on_answer_form),
        (DETAILS_FORM, REPORT_FORM_PATTERN, on_details_form),
    )

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        for kind, pattern, handler in self.FORMS:
            register_form(kind, pattern, handler)
        self.bot.add_dynamic_items(*self.ITEMS)

    async def cog_unload(self) -> None:
        for kind, _, _ in self.FORMS:
            unregister_form(kind)
        self.bot.remove_dynamic_items(*self.ITEMS)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Relay(bot))
