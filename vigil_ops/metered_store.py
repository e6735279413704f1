"""A `Store` that times every transaction into `vigil_db_transaction_seconds`.

Wraps the real store (composition root: `store = MeteredStore(store, metrics)`), so neither
the backends nor core/ learn about metrics. The time is what the caller waits: from asking for
the transaction to its commit (group commit and pool waits included), failures included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from core.ports import Store, UnitOfWork
from vigil_ops.metrics import Metrics, TransactionMode

T = TypeVar("T")


class MeteredStore:
    def __init__(self, inner: Store, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def write(self, fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T:
        start = time.perf_counter()
        try:
            return await self.inner.write(fn)
        finally:
            self._metrics.transaction(TransactionMode.WRITE, time.perf_counter() - start)

    async def read(self, fn: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T:
        start = time.perf_counter()
        try:
            return await self.inner.read(fn)
        finally:
            self._metrics.transaction(TransactionMode.READ, time.perf_counter() - start)

    def claim(self, name: str) -> AbstractAsyncContextManager[bool]:
        return self.inner.claim(name)

    async def try_lead(self, name: str) -> bool:
        return await self.inner.try_lead(name)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        """Backend extras (`schema_version`, `backup`, ...) pass through unchanged."""
        return getattr(self.inner, name)


def _conforms(store: MeteredStore) -> Store:
    return store  # mypy checks that MeteredStore is a Store
