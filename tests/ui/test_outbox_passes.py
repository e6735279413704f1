"""The alert outbox's after-pass work (cogs/alerts.py) in a storm (issue 19): every report
that joins a case wakes the outbox, so passes follow each other many times a second. Looking
for purged alerts to delete is a database read; the outbox is told to look when this process
purged cases (it also looks every CLEANUP_CHECK_SECONDS for other processes' purges: tested
in tests/core/test_outbox_cleanup.py), not at every pass."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import bot as composition
from cogs.alerts import Alerts
from core.settings import load_settings
from tests.core.test_settings import TOKEN


async def test_purged_alerts_are_looked_for_after_a_purge_not_at_every_pass(tmp_path: Path):
    settings = load_settings(
        {"DISCORD_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}"}
    )
    services = await composition.build_services(settings)
    try:
        cog = Alerts(SimpleNamespace(services=services))  # type: ignore[arg-type]
        looks: list[None] = []
        cog.dispatcher.cleanup_queued = lambda: looks.append(None)  # type: ignore[method-assign]
        for _ in range(10):
            await cog.after_pass()
        assert looks == []  # nothing purged here (the outbox's first pass looks by itself)
        services.retention.cleanups_queued += 2  # this process's retention sweep purged cases
        for _ in range(10):
            await cog.after_pass()
        assert len(looks) == 1
    finally:
        await services.store.close()
