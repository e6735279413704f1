"""Discord presentation: embeds, components, modals, confirmations and every message text.

Imports discord.py and core/ (decisions as plain data); never touches storage. cogs/ hold the
extensions that wire these to interactions."""
