"""discord.py extensions: thin adapters from interactions to core services."""
