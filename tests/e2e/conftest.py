"""End-to-end fixtures: the real `python bot.py` against the offline Discord emulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import BotProcess, Emulator
from emulator.interactions import InteractionResult
from tests.dbquery import query

MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
SYNC = "/applications/{application_id}/commands"
EPHEMERAL = 1 << 6


class Vigil:
    """A running Vigil and the moves a test makes, named the way a moderator would."""

    def __init__(
        self,
        emulator: Emulator,
        start: Callable[..., Awaitable[BotProcess]],
        db: Path,
        database_url: str | None = None,
    ) -> None:
        self.emu = emulator
        self._start = start
        self.db = db
        self.database_url = database_url or f"sqlite:///{db}"
        self.proc: BotProcess | None = None
        self.world = emulator.world
        self.guild = emulator.world.guild_a
        self.alerts_channel = self.guild.channel("mod-alerts")

    async def start(self, *, args: list[str] | None = None, **env: str) -> BotProcess:
        # INFO keeps the bot's own CPU for the scenario (DEBUG logs every gateway payload);
        # a test that needs the DEBUG log passes LOG_LEVEL="DEBUG". Retries of refused alerts
        # back off to 2 s at most (60 s in production) so fault scenarios finish quickly.
        env = {
            "DATABASE_URL": self.database_url,
            "LOG_LEVEL": "INFO",
            "ALERT_RETRY_MAX_SECONDS": "2",
            **env,
        }
        self.proc = await self._start(db_path=self.db, env=env, args=args)
        return self.proc

    async def restart(
        self, *, kill: bool = False, args: list[str] | None = None, **env: str
    ) -> BotProcess:
        assert self.proc is not None
        if kill:
            self.proc.kill()
            await self.proc.wait()
        else:
            await self.proc.stop()
        return await self.start(args=args, **env)

    async def run(self, payload: dict[str, Any], timeout: float = 5.0) -> InteractionResult:
        return await self.emu.interact(payload, timeout=timeout)

    async def slash(self, command: str, user: str, **options: Any) -> InteractionResult:
        return await self.run(self.emu.build.slash(command, user=user, options=options))

    async def setup(self, user: str = "olivia", **options: Any) -> InteractionResult:
        options.setdefault("alert_channel", "mod-alerts")
        return await self.slash("reports setup", user, **options)

    async def report(
        self, reporter: str, target: str, reason: str = "harassment", **options: Any
    ) -> InteractionResult:
        return await self.slash("report", reporter, member=target, reason=reason, **options)

    def alerts(self, channel: Any = None) -> list[dict[str, Any]]:
        channel = channel or self.alerts_channel
        return self.emu.channel_messages(channel.id)

    def alert_posts(self, channel: Any = None) -> list[Any]:
        channel = channel or self.alerts_channel
        return [
            r
            for r in self.emu.requests_to("POST", MESSAGES)
            if r.params.get("channel_id") == str(channel.id) and r.status == 200
        ]

    async def wait_alerts(self, count: int, channel: Any = None, timeout: float = 10.0) -> None:
        await self.emu.waiters.wait_for(
            lambda: len(self.alerts(channel)) >= count or None, timeout, f"{count} alert(s)"
        )

    async def wait_alert_text(self, needle: str, timeout: float = 10.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            for message in self.alerts():
                if needle in alert_text(message):
                    return message
            return None

        return await self.emu.waiters.wait_for(check, timeout, f"an alert containing {needle!r}")

    def db_rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return query(self.database_url, sql, params)

    def report_count(self) -> int:
        return int(self.db_rows("SELECT COUNT(*) FROM reports")[0][0])


def alert_text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f["name"] + "\n" + f["value"] for f in embed.get("fields") or []]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def result_text(result: InteractionResult) -> str:
    parts = [result.content or ""]
    for embed in result.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(parts)


@pytest.fixture
async def vigil(
    emulator: Emulator,
    bot_factory: Callable[..., Awaitable[BotProcess]],
    tmp_path: Path,
    database_url: str,
) -> Vigil:
    """Vigil on each backend (`database_url` is parametrised: SQLite, PostgreSQL)."""
    v = Vigil(emulator, bot_factory, tmp_path / "vigil.db", database_url)
    await v.start()
    return v


def _expected_wait(item: pytest.Item) -> float:
    marker = item.get_closest_marker("long_scenario")
    return float(marker.kwargs.get("seconds", 1)) if marker is not None else 0.0


#: How far into the run the waiting scenarios are spread (the rest of the run stays CPU-bound
#: tests only, so no worker ends the run alone in a wait).
SPREAD_OVER = 0.85


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Scenarios that wait on purpose (a channel refusing for 10 s, a gateway resumed, a
    second process) are spread, longest first, over the first part of the run, between tests
    that keep the CPU busy. Why: a worker in such a wait leaves its core idle; all of them
    first (as at stop 27) left the two cores ~70 % idle for the run's first 40 s, all of them
    last would leave one worker ending the run alone. pytest-xdist hands each worker two
    tests at a time in this order (``--maxschedchunk 1``, pyproject's addopts), so spread
    out, about one worker in six is waiting at any time. The order is the same in every
    worker (xdist checks that they collected one order)."""
    waiting = sorted((i for i in items if _expected_wait(i) > 0), key=_expected_wait, reverse=True)
    busy = [i for i in items if _expected_wait(i) == 0]
    if not waiting:
        return
    step = len(busy) * SPREAD_OVER / len(waiting)
    order: list[pytest.Item] = []
    queue = iter(waiting)
    placed = 0
    for index, item in enumerate(busy):
        while placed < len(waiting) and placed * step <= index:
            order.append(next(queue))
            placed += 1
        order.append(item)
    order.extend(queue)
    items[:] = order
