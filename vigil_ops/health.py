"""`/healthz` and `/metrics` over HTTP (aiohttp, which discord.py already depends on).

`/healthz` answers 200 only while (1) the gateway is connected, (2) the database answers a
`SELECT 1` within a few seconds, and (3) the alert outbox's oldest unposted alert (and its last
pass) is younger than `outbox_max_age`; otherwise 503 with a one-line reason, for systemd
watchdogs and Docker/Kubernetes probes. The checks come in as small callables (`HealthChecks`),
so this module knows nothing of discord.py or the store: the bot supplies them.

Bound to 127.0.0.1 unless told otherwise: metrics describe the server's activity and are for
the operator's own scraper, not the internet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from vigil_ops.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class HealthChecks:
    """What the bot provides. `database_answers` runs `SELECT 1` through the store, e.g.
    `lambda: store.read(lambda tx: tx.stats.ping())`; `outbox_oldest_age` is seconds (None:
    no outbox pass yet, healthy during start-up), e.g. `metrics.outbox_oldest_age`."""

    gateway_connected: Callable[[], bool]
    database_answers: Callable[[], Awaitable[bool]]
    outbox_oldest_age: Callable[[], float | None]
    outbox_max_age: float = 300.0
    database_timeout: float = DATABASE_TIMEOUT_SECONDS


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str  # one line, no secrets, no names


async def check_health(checks: HealthChecks) -> Health:
    if not checks.gateway_connected():
        return Health(False, "gateway not connected")
    try:
        async with asyncio.timeout(checks.database_timeout):
            answered = await checks.database_answers()
    except TimeoutError:
        return Health(False, f"database did not answer within {checks.database_timeout:g} s")
    except Exception as error:  # the reason names the error's class only, never its text
        return Health(False, f"database error ({type(error).__name__})")
    if not answered:
        return Health(False, "database did not answer")
    age = checks.outbox_oldest_age()
    if age is not None and age > checks.outbox_max_age:
        return Health(
            False,
            f"alert outbox stuck: oldest entry {age:.0f} s old (limit {checks.outbox_max_age:g} s)",
        )
    return Health(True, "ok")


def create_app(metrics: Metrics, checks: HealthChecks) -> web.Application:
    async def serve_metrics(_request: web.Request) -> web.Response:
        body = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def serve_health(_request: web.Request) -> web.Response:
        health = await check_health(checks)
        return web.Response(
            status=200 if health.ok else 503,
            text=health.reason + "\n",
            headers={"Cache-Control": "no-store"},
        )

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    app.router.add_get("/healthz", serve_health)
    return app


class OpsServer:
    """The HTTP endpoint's lifetime: `await start()` in setup_hook, `await stop()` in close()."""

    def __init__(
        self, metrics: Metrics, checks: HealthChecks, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._app = create_app(metrics, checks)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the bound port (useful with port 0)

    async def start(self) -> None:
        runner = web.AppRunner(self._app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self._port
        log.info("metrics and health endpoint on http://%s:%s/", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
