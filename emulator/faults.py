"""Injectable HTTP faults (429 / 5xx / 403 ...) matched by method, spec template and params.

Faults are checked after route matching and validation, before the handler runs, so a faulted
request never mutates the world, exactly like a request Discord rejected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Default bodies Discord returns for the common fault statuses.
DEFAULT_BODIES: dict[int, dict[str, Any]] = {
    403: {"code": 50013, "message": "Missing Permissions"},
    404: {"code": 10003, "message": "Unknown Channel"},
    500: {"code": 0, "message": "500: Internal Server Error"},
    502: {"code": 0, "message": "502: Bad Gateway"},
    503: {"code": 0, "message": "503: Service Unavailable"},
}


@dataclass
class FaultRule:
    """One fault: answers matching requests with ``status`` while it is active."""

    method: str | None
    path: str | None
    status: int
    count: int | None = None
    until: Callable[[], bool] | None = None
    expires_at: float | None = None
    retry_after: float = 0.2
    is_global: bool = False
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    predicate: Callable[[Any], bool] | None = None
    #: Drop the connection instead of answering (the client sees the server disconnect, as
    #: when a network path to Discord fails mid-request); ``status`` is then unused.
    disconnect: bool = False
    hits: int = 0

    def active(self) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.expires_at is not None and time.monotonic() >= self.expires_at:
            return False
        return not (self.until is not None and self.until())

    def matches(self, method: str, template: str | None, params: dict[str, str], req: Any) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path and self.path != template:
            return False
        for k, v in self.params.items():
            if params.get(k) != str(v):
                return False
        return not (self.predicate is not None and not self.predicate(req))

    def response_body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        if self.status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
        return DEFAULT_BODIES.get(self.status, {"code": 0, "message": f"{self.status}"})

    def response_headers(self) -> dict[str, str]:
        if self.status != 429:
            return {}
        # discord.py only honours a 429 that carries a Via header (otherwise it assumes a
        # Cloudflare ban) and reads retry_after from the JSON body.
        headers = {
            "Retry-After": str(max(1, round(self.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
            "X-RateLimit-Bucket": "emulator-fault",
            "X-RateLimit-Scope": "global" if self.is_global else "user",
            "Via": "1.1 google",
        }
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        return headers


@dataclass
class HoldRule:
    """Lets matching requests through (the world changes, as on Discord) but holds back the
    response until released: the client never learns the result, as when a process dies
    after its request reached Discord."""

    method: str
    path: str
    count: int = 1
    params: dict[str, str] = field(default_factory=dict)
    hits: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class Faults:
    """Registry of active fault rules (``emulator.faults``)."""

    def __init__(self, known_templates: frozenset[str] | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.holds: list[HoldRule] = []
        self._known = known_templates

    def hold(self, method: str, path: str, *, count: int = 1, **params: str | int) -> HoldRule:
        """Hold back the responses of the next ``count`` matching requests (see HoldRule)."""
        if self._known is not None and path not in self._known:
            raise ValueError(f"{path!r} is not a spec path template")
        rule = HoldRule(method.upper(), path, count, {k: str(v) for k, v in params.items()})
        self.holds.append(rule)
        return rule

    def check_hold(
        self, method: str, template: str | None, params: dict[str, str]
    ) -> HoldRule | None:
        for rule in self.holds:
            if rule.hits >= rule.count or rule.method != method.upper() or rule.path != template:
                continue
            if any(params.get(k) != v for k, v in rule.params.items()):
                continue
            rule.hits += 1
            return rule
        return None

    def add(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int = 500,
        *,
        count: int | None = None,
        until: Callable[[], bool] | float | None = None,
        retry_after: float = 0.2,
        is_global: bool = False,
        body: dict[str, Any] | None = None,
        predicate: Callable[[Any], bool] | None = None,
        disconnect: bool = False,
        **params: str | int,
    ) -> FaultRule:
        """Add a fault.

        ``path`` is a spec template (``/channels/{channel_id}/messages``); extra keyword
        arguments match template parameters (``channel_id=123``). ``count`` limits how many
        requests are faulted; ``until`` is a callable returning True when the fault should stop
        or a duration in seconds. With neither, the fault stays until removed. ``disconnect``
        drops the connection without an answer (the client raises a connection error; an
        idempotent request may be retried once by the HTTP client, so give such a fault no
        ``count`` of 1).
        """
        if path is not None and self._known is not None and path not in self._known:
            # A typo here would silently never fire and make a fault test vacuous.
            raise ValueError(
                f"{path!r} is not a spec path template (e.g. /channels/{{channel_id}})"
            )
        rule = FaultRule(
            method=method,
            path=path,
            status=status,
            count=count,
            retry_after=retry_after,
            is_global=is_global,
            params={k: str(v) for k, v in params.items()},
            body=body,
            predicate=predicate,
            disconnect=disconnect,
        )
        if callable(until):
            rule.until = until
        elif until is not None:
            rule.expires_at = time.monotonic() + float(until)
        self.rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        if rule in self.rules:
            self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def check(
        self, method: str, template: str | None, params: dict[str, str], req: Any
    ) -> FaultRule | None:
        """Return the first active matching rule (and count the hit)."""
        for rule in list(self.rules):
            if not rule.active():
                continue
            if rule.matches(method, template, params, req):
                rule.hits += 1
                return rule
        return None
