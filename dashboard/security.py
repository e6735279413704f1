"""The dashboard's defences that do not depend on a page: response headers (a strict
Content-Security-Policy: no script at all), the CSRF check every POST passes, the sign-in rate
limit, and an access log that names routes, never paths (a path may hold a case number; no
path or query holds a reporter, but the log keeps to the route all the same)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from dashboard.config import DashboardConfig
from dashboard.render import Answer

log = logging.getLogger("vigil.dashboard")

CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def security_headers(config: DashboardConfig) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            response = await handler(request)
        except web.HTTPException as answer:
            response = answer
        except Answer as page:
            response = page.response
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = (
            "same-origin"  # no address leaves the site; POSTs keep their Origin
        )
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        if config.secure:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "-"
        log.info(
            "dashboard %s %s %s %.0f ms",
            request.method,
            name,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        if isinstance(response, web.HTTPException) and response.status >= 300:
            raise response
        return response

    return middleware


def client_key(request: web.Request) -> str:
    """Who is signing in, for the rate limit: the peer, or behind a reverse proxy on this
    machine (the default bind is 127.0.0.1) the address it forwarded."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "")
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    if local and forwarded:
        return forwarded.split(",")[-1].strip()[:64]
    return peer


class SignInLimiter:
    """At most `per_client` sign-in steps per client and `overall` in all per `window`
    seconds (sliding windows); beyond, 429 until the window moves on."""

    def __init__(self, per_client: int = 20, overall: int = 200, window: float = 300.0) -> None:
        self._per_client = per_client
        self._overall = overall
        self._window = window
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        cutoff = now - self._window
        while self._all and self._all[0] < cutoff:
            self._all.popleft()
        if len(self._clients) > 10_000:
            self._clients = {k: v for k, v in self._clients.items() if v and v[-1] >= cutoff}
        mine = self._clients.setdefault(client, deque())
        while mine and mine[0] < cutoff:
            mine.popleft()
        if len(mine) >= self._per_client or len(self._all) >= self._overall:
            return False
        mine.append(now)
        self._all.append(now)
        return True


def csrf_ok(
    request: web.Request, form: Mapping[str, object], expected: str, config: DashboardConfig
) -> bool:
    """The form carries this session's CSRF token, and a browser that names the page's
    origin names ours (defence in depth: the cookie is SameSite=Lax too)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != config.origin:
        return False
    sent = form.get("csrf")
    return isinstance(sent, str) and hmac.compare_digest(sent, expected)
