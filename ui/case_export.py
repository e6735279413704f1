"""The escalation packet as a file: built by core/export.py, sent privately to a moderator."""

from __future__ import annotations

import io
import logging

import discord

from core.export import build_export, export_json
from core.i18n import tr
from core.models import AlertData
from ui.alert_view import (
    describe_event,
)
from ui.case_common import Interaction, server_locale
from ui.replies import NO_MENTIONS

log = logging.getLogger(__name__)


async def send_export(
    interaction: Interaction, data: AlertData, *, include_reporters: bool = False
) -> None:
    """The escalation packet, privately, as a JSON file. Never media: there is none to send.

    Reporters are "Reporter 1, 2, ..." unless the moderator asked for their IDs; that choice is
    recorded as a note in the case history before the file leaves, so it is always audited,
    and so is the kept message text the packet carries (`CaseService.export_case`: the same
    transaction that reads what goes in the file). The message is in the server's language;
    the file itself stays English (it goes to Discord, NCMEC, the police)."""
    services = interaction.client.services
    locale = server_locale(interaction)
    guild = interaction.guild
    exported = await services.cases.export_case(
        data.case.guild_id,
        data.case.id,
        interaction.user.id,
        reporters_note=tr("act.export_audit_note", locale) if include_reporters else None,
    )
    # The file is the same whoever exports it: it says nothing of how reports counted (a
    # moderator named as possible retaliation would read it there), only what was reported.
    data = exported
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
