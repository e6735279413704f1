"""Where a case's alert goes, decided the same way by the outbox (cogs/alerts.py) and by a
button that redraws the alert in place (ui/case_actions.py): a redraw must never put back what
the route keeps out of that channel."""

from __future__ import annotations

import discord

from core.models import GuildSettings
from core.outbox import TO_ADMIN_CHANNEL, TO_OWNER_DM, WITHHELD, DeliveryFailed, Destination
from ui.app import VigilBot


async def route_alert(
    bot: VigilBot,
    guild_id: int,
    settings: GuildSettings,
    target_id: int,
    named: frozenset[int] = frozenset(),
) -> Destination:
    """The alert channel, unless the reported member can read it: then the admin channel (if
    they can't read that), else the owner's DMs. A case about the owner (who reads every
    channel) stays in the alert channel, withheld. With the destination come those of `named`
    (the members the retaliation line names) who can read it: the alert leaves them out.

    Discord's errors are raised as they are (the outbox words them as problems); a server this
    process does not see is `DeliveryFailed("internal:not_served")`."""
    assert settings.alert_channel_id is not None
    guild = bot.get_guild(guild_id)
    if guild is None:
        raise DeliveryFailed("internal:not_served")  # (a rare race: it left meanwhile)
    readers, target = bot.readers, frozenset({target_id})
    channel_id = settings.alert_channel_id
    if not await readers.among(guild, channel_id, target):
        return Destination(channel_id, readers=await readers.among(guild, channel_id, named))
    admin = settings.admin_channel_id
    if admin is not None and not await readers.among(guild, admin, target):
        return Destination(admin, TO_ADMIN_CHANNEL, await readers.among(guild, admin, named))
    if guild.owner_id is None or guild.owner_id == target_id:
        return Destination(channel_id, WITHHELD)  # no signals are shown in it
    dm = await bot.create_dm(discord.Object(guild.owner_id))
    return Destination(dm.id, TO_OWNER_DM, named & {guild.owner_id})
