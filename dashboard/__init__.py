"""The moderators' web dashboard: an optional aiohttp site inside the bot process.

Off unless DASHBOARD_PORT is set (core/settings.py). Moderators sign in with Discord (OAuth2,
`identify` + `guilds`) and see, for each server where they may moderate with Vigil, the queue,
cases, members, team figures and settings, in the server's language (core/i18n catalogues).

Like ui/, it is an edge: it reads and acts through core's services (every action through
`CaseService`, exactly as the alert's buttons), never through SQL. It does not import
discord.py either: what it needs from Discord (who may moderate where, names, channels, the
audit line after an action) comes through `bridge.DiscordSide`, which ui/dashboard_side.py
implements with the bot and cogs/dashboard.py wires in.
"""
