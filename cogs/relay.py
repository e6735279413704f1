"""The extension for the relay between moderators and reporters (issue 15): the Answer and
"Stop messages about this report" buttons of a question's DM, Add details on a reporter's
confirmation, and their forms. The items live in ui/relay.py; registered here, they answer
presses of messages sent before a restart too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from discord.ext import commands

from core.models import RelayMessage
from core.relay import UNCONFIRMED_AFTER
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
    find_question_dm,
    on_answer_form,
    on_ask_form,
    on_details_form,
)

log = logging.getLogger(__name__)


class Relay(commands.Cog):
    ITEMS = (AnswerButton, StopButton, AddDetailsButton)
    FORMS = (
        (ASK_FORM, ASK_FORM_PATTERN, on_ask_form),
        (ANSWER_FORM, QUESTION_FORM_PATTERN, on_answer_form),
        (DETAILS_FORM, REPORT_FORM_PATTERN, on_details_form),
    )

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        for kind, pattern, handler in self.FORMS:
            register_form(kind, pattern, handler)
        self.bot.add_dynamic_items(*self.ITEMS)
        self._task = asyncio.create_task(self._watch_unconfirmed(), name="vigil-relay-unconfirmed")

    async def cog_unload(self) -> None:
        for kind, _, _ in self.FORMS:
            unregister_form(kind)
        self.bot.remove_dynamic_items(*self.ITEMS)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch_unconfirmed(self) -> None:
        """Once a minute, settle the questions a dead process stored but never confirmed
        (core/relay.py `RelayService.settle_unconfirmed`): without this, such a question stays
        "delivery not confirmed yet" for ever and never reaches the case's thread."""
        minute = self.bot.services.settings.reminder_minute_seconds
        older_than = timedelta(seconds=UNCONFIRMED_AFTER.total_seconds() * minute / 60)
        while True:
            await asyncio.sleep(minute)
            try:
                settled = await self.bot.services.relay.settle_unconfirmed(older_than, self._find)
                for question_id, state in settled:
                    log.warning(
                        "question %s was left unconfirmed; settled as %s", question_id, state
                    )
            except Exception:
                log.exception("unconfirmed questions not looked for; again in a minute")

    async def _find(self, question: RelayMessage) -> tuple[int, int] | None:
        return await find_question_dm(self.bot, question)


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(Relay(bot))
