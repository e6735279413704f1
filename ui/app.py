"""The bot class and the services it carries. bot.py builds both; cogs only read them."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from core.clock import Clock
from core.hotlines import HotlineDirectory
from core.i18n import tr
from core.moderation import REQUIRED_PERMISSION
from core.outbox import AlertDispatcher, AlertSignal
from core.ports import Store
from core.reasons import Reason
from core.relay import RelayService
from core.retention import RetentionService
from core.service import CaseService, ReportService, SettingsService
from core.settings import Settings
from ui.interaction_http import InteractionHTTP
from ui.readers import ChannelReaders
from ui.translator import VigilTranslator
from vigil_ops.metrics import InteractionKind, Metrics

log = logging.getLogger(__name__)

INITIAL_EXTENSIONS: tuple[str, ...] = (
    "cogs.forms",
    "cogs.reporting",
    "cogs.case_actions",
    "cogs.alerts",
    "cogs.guild_admin",
    "cogs.hotlines",
    "cogs.data_care",
    "cogs.ops",
    "cogs.dashboard",
    "cogs.relay",
)

COMMAND_TREE_HASH_KEY = "command_tree_hash"

# Young collections every 5,000 net allocations instead of 700, and a full collection only
# every 100 older ones instead of 10. A full collection scans every object that is alive, and
# in a storm that is a thousand reports in flight: 50-130 ms each, three per 1,000 reports at
# Python's defaults, about a sixth of the bot's CPU (benchmarks/RESULTS.md, issue 19).
# Cyclic garbage still goes; the oldest just waits longer for its turn.
GC_THRESHOLDS = (5_000, 10, 100)


def settle_heap(*, collect: bool) -> None:
    """Move what is alive now (modules, commands, translations, the guild cache) out of the
    collector's way for good, and set the thresholds above. `collect` first when nothing is
    being served yet, so no garbage is frozen with it."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# Everything the code does in a guild, and nothing more: the invite link asks for exactly this.
# Alerts need the first three; each moderator action adds the one it uses (core/moderation.py).
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the alert channel
    send_messages=True,  # post alerts, audit lines and notices
    embed_links=True,  # alerts are embeds
    read_message_history=True,  # read a reported message to check who wrote it before deleting
    create_public_threads=True,  # a thread per case, under its alert (t15-relay)
    send_messages_in_threads=True,  # reminders, notes and reporters' answers in that thread
    **dict.fromkeys(REQUIRED_PERMISSION.values(), True),
)


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    store: Store
    reports: ReportService
    cases: CaseService
    guild_settings: SettingsService
    retention: RetentionService
    hotlines: HotlineDirectory
    alert_signal: AlertSignal  # a case's alert changed
    feedback_signal: AlertSignal  # reporters are owed a feedback DM
    metrics: Metrics  # operators' Prometheus families (served by cogs.ops when enabled)
    relay: RelayService  # questions to reporters and their answers (t15-relay)
    dispatcher: AlertDispatcher | None = None  # set by cogs.alerts while it is loaded


_CALLBACK_PATH = re.compile(r"/interactions/(\d+)/[^/]+/callback$")


def interaction_kind(interaction: discord.Interaction[Any]) -> InteractionKind:
    if interaction.type is discord.InteractionType.application_command:
        command_type = dict(interaction.data or {}).get("type", 1)
        return InteractionKind.COMMAND if command_type == 1 else InteractionKind.CONTEXT_MENU
    if interaction.type is discord.InteractionType.component:
        return InteractionKind.COMPONENT
    if interaction.type is discord.InteractionType.modal_submit:
        return InteractionKind.MODAL
    return InteractionKind.AUTOCOMPLETE


class AnswerTimer:
    """`vigil_interaction_answer_seconds` in one place, whichever cog or view answers: from the
    interaction's creation (its snowflake) to the end of Vigil's first callback to Discord,
    seen on the HTTP session (aiohttp's request tracing; the callback URL names the interaction).
    Only the kind is kept per interaction, and only until its first answer."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._kinds: dict[int, InteractionKind] = {}
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._request_end)

    def arrived(self, interaction: discord.Interaction[Any]) -> None:
        if len(self._kinds) > 10_000:  # interactions nobody answered: forget the oldest
            self._kinds.pop(next(iter(self._kinds)))
        self._kinds[interaction.id] = interaction_kind(interaction)

    async def _request_end(
        self,
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        match = _CALLBACK_PATH.search(params.url.path)
        if match is None:
            return
        interaction_id = int(match.group(1))
        kind = self._kinds.pop(interaction_id, None)
        if kind is None:
            return
        created = discord.utils.snowflake_time(interaction_id)
        seconds = (datetime.now(UTC) - created).total_seconds()
        self._metrics.interaction_answered(kind, seconds)


class VigilTree(app_commands.CommandTree["VigilBot"]):
    async def on_error(
        self, interaction: discord.Interaction[VigilBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer every failure politely; the bot keeps serving. A failure on Vigil's side in a
        member's command (`/report`, `/hotlines`, Report user or message) is answered with the
        help for the report's reason (the general help without one) and the country menu, as
        a failed press or form is: nobody in danger is left with a bare error line."""
        locale = interaction.locale.value
        if isinstance(error, app_commands.CheckFailure):
            message = str(error) or tr("error.not_allowed", locale)
        else:
            log.error("command %r failed", interaction.command, exc_info=error)
            # Imported here: ui.country_menu builds on this module (VigilBot).
            from ui.country_menu import answer_failure

            command = interaction.command
            managers = command is not None and command.qualified_name.split()[0] == "reports"
            chosen = getattr(interaction.namespace, "reason", None)
            reason = Reason.parse(getattr(chosen, "value", chosen)) or Reason.OTHER
            await answer_failure(interaction, with_help=not managers, reason=reason)
            return
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about a failed command")


class VigilBot(commands.AutoShardedBot):
    def __init__(self, services: Services, *, force_sync: bool = False) -> None:
        settings = services.settings
        kwargs: dict[str, Any] = {}
        if settings.shard_count is not None:
            kwargs["shard_count"] = settings.shard_count
        if settings.shard_ids is not None:
            kwargs["shard_ids"] = list(settings.shard_ids)
        self.answer_timer = AnswerTimer(services.metrics)
        # Reports' first answers and follow-ups: lean, pooled, timed (ui/interaction_http.py).
        self.interaction_http = InteractionHTTP(self.answer_timer.trace)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents(guilds=True),
            # Global default: nothing Vigil sends pings anyone unless a send opts in.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=VigilTree,
            chunk_guilds_at_startup=False,
            http_trace=self.answer_timer.trace,
            **kwargs,
        )
        self.services = services
        self.readers = ChannelReaders()  # who reads a channel: the alerts' route, #audit
        self.force_sync = force_sync
        self._shutdown: asyncio.Future[None] | None = None
        self._heap_settled = False

    async def setup_hook(self) -> None:
        if self.services.settings.api_base_url is not None:
            await self._follow_api_gateway()
        for extension in INITIAL_EXTENSIONS:
            await self.load_extension(extension)
        await self.tree.set_translator(VigilTranslator())
        await self.sync_commands_if_changed()
        settle_heap(collect=True)  # before the gateway: nothing is in flight yet

    async def _follow_api_gateway(self) -> None:
        """Connect to the gateway the configured API names, also after an invalid session."""
        _, url, _ = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("using the gateway named by %s", self.services.settings.api_base_url)

    async def command_payload(self) -> list[dict[str, Any]]:
        """Exactly what a sync sends, translations included. Built once per start and used for
        both the change check and the upload: building it asks the translator about every
        description and choice in every Discord locale (~5,000 calls, a tenth of a start)."""
        commands = self.tree.get_commands()
        translator = self.tree.translator
        if translator is None:
            return [c.to_dict(self.tree) for c in commands]
        return [await c.get_translated_payload(self.tree, translator) for c in commands]

    @staticmethod
    def command_tree_hash(payload: list[dict[str, Any]]) -> str:
        """A hash of the payload, so a new or changed translation also counts as a change."""
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()

    async def sync_commands_if_changed(self) -> bool:
        """One bulk overwrite, only when the tree changed (or --sync): syncs are rate limited."""
        payload = await self.command_payload()
        digest = self.command_tree_hash(payload)
        stored = await self.services.store.read(lambda tx: tx.meta.get(COMMAND_TREE_HASH_KEY))
        if stored == digest and not self.force_sync:
            log.info("application commands unchanged; not syncing")
            return False
        try:
            synced = await self._upload_commands(payload)
        except discord.HTTPException:
            # Serve with the commands Discord already has; the next start tries again.
            log.exception("could not sync application commands")
            return False
        await self.services.store.write(lambda tx: tx.meta.set(COMMAND_TREE_HASH_KEY, digest))
        log.info("synced %d application commands", synced)
        return True

    async def _upload_commands(self, payload: list[dict[str, Any]]) -> int:
        """What ``tree.sync()`` does for global commands, with the payload already built: one
        bulk overwrite; a 400 "invalid form body" names the commands, as discord.py's
        ``CommandSyncFailure`` does. Returns how many commands Discord now has."""
        if self.application_id is None:
            raise app_commands.MissingApplicationID
        try:
            data = await self.http.bulk_upsert_global_commands(self.application_id, payload=payload)
        except discord.HTTPException as error:
            if error.status == 400 and error.code == 50035:
                raise app_commands.CommandSyncFailure(error, self.tree.get_commands()) from None
            raise
        return len(data)

    async def on_interaction(self, interaction: discord.Interaction[VigilBot]) -> None:
        self.answer_timer.arrived(interaction)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))
        if not self._heap_settled:
            # The guild cache lives for the whole run: keep the collector from scanning it
            # again and again during report storms. Once: interactions may already be in
            # flight (discord.py delivers them before on_ready), and a later ready (after a
            # new session) would freeze whatever they left behind.
            self._heap_settled = True
            settle_heap(collect=False)

    async def close(self) -> None:
        """Unload cogs (the outbox gets its last attempt there), then close the database.

        Safe to call from a signal handler and again from the caller: every caller waits for
        the same shutdown, so none of it is cut short.
        """
        if self._shutdown is None:
            self._shutdown = asyncio.ensure_future(self._close_once())
        await asyncio.shield(self._shutdown)

    async def _close_once(self) -> None:
        await super().close()
        await self.interaction_http.close()
        await self.services.store.close()
        log.info("database closed; goodbye")
