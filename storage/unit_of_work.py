"""The repositories a transaction sees, built the same way on every backend."""

from __future__ import annotations

from dataclasses import dataclass

from storage.cases import CaseRepository
from storage.dashboard_sessions import DashboardSessionRepository
from storage.guild_data import GuildDataRepository
from storage.guild_settings import GuildSettingsRepository
from storage.meta import MetaRepository
from storage.relay import RelayRepository
from storage.reports import ReportRepository
from storage.review import ReviewRepository
from storage.sql import Executor
from storage.stats import StatsRepository


@dataclass(frozen=True, slots=True)
class StoreUnitOfWork:
    reports: ReportRepository
    cases: CaseRepository
    settings: GuildSettingsRepository
    meta: MetaRepository
    guild_data: GuildDataRepository
    stats: StatsRepository
    dashboard: DashboardSessionRepository
    review: ReviewRepository
    relay: RelayRepository


def build_unit_of_work(executor: Executor) -> StoreUnitOfWork:
    return StoreUnitOfWork(
        reports=ReportRepository(executor),
        cases=CaseRepository(executor),
        settings=GuildSettingsRepository(executor),
        meta=MetaRepository(executor),
        guild_data=GuildDataRepository(executor),
        stats=StatsRepository(executor),
        dashboard=DashboardSessionRepository(executor),
        review=ReviewRepository(executor),
        relay=RelayRepository(executor),
    )
