"""The extension for the alert's buttons, confirmations, notes and escalations.

The items themselves live in ui/case_actions.py; this registers them and their forms."""

from __future__ import annotations

from discord.ext import commands

from ui.app import VigilBot
from ui.case_actions import (
    CASE_FORM_PATTERN,
    ESCALATE_FORM,
    NOTE_FORM,
    CancelButton,
    CaseButton,
    ConfirmButton,
    CountReportsButton,
    DismissSelect,
    TimeoutSelect,
    on_escalate_form,
    on_note_form,
)
from ui.case_common import drain_background
from ui.forms import register_form, unregister_form


class CaseActions(commands.Cog):
    ITEMS = (
        CaseButton,
        ConfirmButton,
        CancelButton,
        TimeoutSelect,
        DismissSelect,
        CountReportsButton,  # t14-followthrough
    )

    def __init__(self, bot: VigilBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        register_form(NOTE_FORM, CASE_FORM_PATTERN, on_note_form)
        register_form(ESCALATE_FORM, CASE_FORM_PATTERN, on_escalate_form)
        self.bot.add_dynamic_items(*self.ITEMS)

    async def cog_unload(self) -> None:
        unregister_form(NOTE_FORM)
        unregister_form(ESCALATE_FORM)
        self.bot.remove_dynamic_items(*self.ITEMS)
        # Audit lines still being posted get a moment before the database closes.
        await drain_background()


async def setup(bot: VigilBot) -> None:
    await bot.add_cog(CaseActions(bot))
