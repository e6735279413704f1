"""Vigil's entry point and composition root: read settings, build services, run the bot.

python bot.py               run (settings from the environment or ./.env)
python bot.py --sync        also force a sync of application commands
python bot.py --invite-url  print the links that add Vigil to a server or install it for you
python bot.py migrate-to postgresql://...  copy the SQLite database (DATABASE_URL) into PostgreSQL
python bot.py backup PATH   a consistent copy of the SQLite database, safe while the bot runs
python bot.py demo          Vigil working offline against the bundled Discord emulator
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import discord
from dotenv import load_dotenv

from core.clock import SystemClock
from core.hotlines import HotlineDirectory
from core.outbox import AlertSignal
from core.policy import RateLimit
from core.relay import RelayService
from core.retention import RetentionService
from core.service import CaseService, ReportService, SettingsService
from core.settings import RedactingFilter, Settings, SettingsError, load_settings
from storage import open_store
from storage.backup import backup_command
from storage.migrate import SchemaTooNew
from storage.sqlite import SqliteTooOld
from storage.transfer import migrate_to_command
from ui.app import REQUIRED_PERMISSIONS, Services, VigilBot
from vigil_ops.json_logs import JsonFormatter
from vigil_ops.metered_store import MeteredStore
from vigil_ops.metrics import Metrics

EXIT_BAD_SETTINGS = 2
EXIT_SCHEMA_TOO_NEW = 3  # the database was upgraded by a newer Vigil
log = logging.getLogger("vigil")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bot.py", description="Run the Vigil Discord bot.")
    parser.add_argument("--sync", action="store_true", help="force a sync of slash commands")
    parser.add_argument("--invite-url", action="store_true", help="print the invite link and exit")
    commands = parser.add_subparsers(dest="command")
    migrate_to = commands.add_parser(
        "migrate-to", help="copy the SQLite database into an empty PostgreSQL database and exit"
    )
    migrate_to.add_argument("url", help="postgresql://user:password@host:5432/database")
    backup = commands.add_parser(
        "backup", help="copy the SQLite database (DATABASE_URL) to PATH, even while running"
    )
    backup.add_argument("path", help="a new file, e.g. backups/vigil-2026-11-28.db")
    commands.add_parser(
        "demo", help="show Vigil working offline (no token, no network) against an emulator"
    )
    return parser.parse_args(argv)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    # Filters run before the formatter: both formats only ever see redacted records.
    handler.addFilter(RedactingFilter([settings.token, settings.client_secret or ""]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    if settings.log_level != "DEBUG":
        logging.getLogger("discord").setLevel(logging.WARNING)


def invite_url(settings: Settings) -> str:
    return discord.utils.oauth_url(
        settings.application_id,
        permissions=REQUIRED_PERMISSIONS,
        scopes=("bot", "applications.commands"),
    )


def user_install_url(settings: Settings) -> str:
    """The link a member follows to install Vigil for themself (integration type 1: user
    install), for /hotlines and "Report message" in DMs. Built by hand: oauth_url has no
    integration_type. No bot scope and no permissions: a user install joins no server."""
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={settings.application_id}&integration_type=1&scope=applications.commands"
    )


async def build_services(settings: Settings) -> Services:
    metrics = Metrics(settings.shard_ids)
    # Every transaction is timed for operators; core/ and the backends never see metrics.
    store = MeteredStore(
        await open_store(settings.database_url, synchronous=settings.sqlite_synchronous), metrics
    )
    clock = SystemClock()
    signal_ = AlertSignal()
    feedback_signal = AlertSignal()
    rate_limit = RateLimit(
        max_reports=settings.report_rate_limit,
        per=timedelta(minutes=settings.report_rate_window_minutes),
    )
    return Services(
        settings=settings,
        clock=clock,
        store=store,
        reports=ReportService(
            store,
            clock,
            rate_limit,
            on_alert_change=signal_,
            reminder_minute=timedelta(seconds=settings.reminder_minute_seconds),
        ),
        cases=CaseService(
            store, clock, on_alert_change=signal_, on_feedback_queued=feedback_signal
        ),
        guild_settings=SettingsService(store, clock, on_alert_change=signal_),
        retention=RetentionService(
            store, clock, grace_days=settings.departed_guild_grace_days, on_alert_change=signal_
        ),
        hotlines=HotlineDirectory.load(),
        alert_signal=signal_,
        feedback_signal=feedback_signal,
        metrics=metrics,
        relay=RelayService(store, clock, on_change=signal_),
    )


async def run(settings: Settings, force_sync: bool) -> None:
    if settings.api_base_url is not None:
        # REST (and interaction webhooks, which share the route class) go to the configured API.
        discord.http.Route.BASE = settings.api_base_url
    services = await build_services(settings)
    bot = VigilBot(services, force_sync=force_sync)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    try:
        async with bot:
            await bot.start(settings.token)
    finally:
        await bot.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "demo":
        # Before .env is read: the demo never picks up a real deployment's settings.
        from emulator.demo import main as demo  # only the demo needs the emulator

        return demo()
    load_dotenv(Path.cwd() / ".env")
    if args.command == "migrate-to":
        return migrate_to_command(os.environ.get("DATABASE_URL", "").strip(), args.url)
    if args.command == "backup":
        return backup_command(os.environ.get("DATABASE_URL", "").strip(), args.path)
    try:
        settings = load_settings(os.environ)
    except SettingsError as error:
        print(f"vigil: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if args.invite_url:
        print(f"Add Vigil to a server: {invite_url(settings)}")
        print(f"Install Vigil for yourself: {user_install_url(settings)}")
        return 0
    configure_logging(settings)
    try:
        asyncio.run(run(settings, args.sync))
    except discord.LoginFailure:
        log.error("Discord refused the token: check DISCORD_TOKEN in .env")
        return EXIT_BAD_SETTINGS
    except SchemaTooNew as error:
        log.error("%s", error)
        return EXIT_SCHEMA_TOO_NEW
    except SqliteTooOld as error:
        log.error("%s", error)
        return EXIT_BAD_SETTINGS
    return 0


if __name__ == "__main__":
    sys.exit(main())
