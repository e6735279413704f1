"""The dashboard's defences that do not depend on a page: response headers (a strict
Content-Security-Policy: no script at all) on every answer, errors included; the CSRF check
every POST passes; the rate limits (sign-in per client, requests per signed-in user); and an
access log that names routes, never paths (a path may hold a case number; no path or query
holds a reporter, but the log keeps to the route all the same)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from dashboard.bridge import DiscordUnavailable
from dashboard.config import DashboardConfig, IPNetwork, normal_origin
from dashboard.render import Answer

log = logging.getLogger("vigil.dashboard")

CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Failure = Callable[[web.Request, int], web.Response]
"""The error page for a status (503: Discord unavailable; 500: anything else unexpected)."""
RETRY_AFTER_SECONDS = 30


def _route(request: web.Request) -> str:
    route = request.match_info.route.resource
    return route.canonical if route is not None else "-"


def security_headers(config: DashboardConfig, failure: Failure) -> Middleware:
    """Every answer carries the same headers: pages, redirects, refusals, and the pages for
    what went wrong (Discord unreachable: 503; any other error: 500, logged by route)."""

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
        except DiscordUnavailable as why:
            log.warning("dashboard %s: Discord unavailable (%s)", _route(request), why)
            response = failure(request, 503)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        except Exception:
            log.exception("dashboard %s %s: unexpected error", request.method, _route(request))
            response = failure(request, 500)
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
        log.info(
            "dashboard %s %s %s %.0f ms",
            request.method,
            _route(request),
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        if isinstance(response, web.HTTPException) and response.status >= 300:
            raise response
        return response

    return middleware


def client_key(request: web.Request, trusted: Iterable[IPNetwork]) -> str:
    """Who is signing in, for the rate limit: the peer's address, or, when the peer is one
    of the `trusted` reverse proxies, the address that proxy saw (X-Forwarded-For read from
    the right, past every trusted proxy: what a client writes there itself is on the left
    and never believed). An IPv6 client is its /64, what one household or server is given."""
    proxies = tuple(trusted)
    address = _address(request.remote or "")
    if address is not None and _trusted(address, proxies):
        forwarded = [
            part.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for part in header.split(",")
        ]
        for hop in reversed(forwarded):
            hop_address = _address(hop)
            if hop_address is None:
                break  # a proxy wrote nonsense: keep the last address we could believe
            address = hop_address
            if not _trusted(hop_address, proxies):
                break
    if address is None:
        return (request.remote or "?")[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[IPNetwork, ...]
) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


class SlidingLimit:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._keys: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        cutoff = now - self.window
        if len(self._keys) > self._max_keys:
            self._keys = {k: v for k, v in self._keys.items() if v and v[-1] >= cutoff}
        mine = self._keys.setdefault(key, deque())
        while mine and mine[0] < cutoff:
            mine.popleft()
        return mine

    def count(self, key: Hashable, now: float) -> int:
        return len(self._recent(key, now))

    def allow(self, key: Hashable, now: float | None = None, limit: int | None = None) -> bool:
        now = time.monotonic() if now is None else now
        mine = self._recent(key, now)
        if len(mine) >= (self.limit if limit is None else limit):
            return False
        mine.append(now)
        return True


class SignInLimiter:
    """At most `per_client` sign-in steps per client per `window` seconds. When all clients
    together pass `overall`, each client may still take `fair_share` steps: a crowd (or one
    attacker with many addresses) slows everyone down to a few tries, never to none, so
    nobody can lock the moderators out."""

    def __init__(
        self,
        per_client: int = 20,
        overall: int = 500,
        window: float = 300.0,
        fair_share: int = 3,
    ) -> None:
        self._clients = SlidingLimit(per_client, window, max_keys=50_000)
        self._all = SlidingLimit(overall, window)
        self._fair_share = min(fair_share, per_client)

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        busy = self._all.count("all", now) >= self._all.limit
        if not self._clients.allow(client, now, self._fair_share if busy else None):
            return False
        if not busy:
            self._all.allow("all", now)
        return True


def csrf_ok(
    request: web.Request, form: Mapping[str, object], expected: str, config: DashboardConfig
) -> bool:
    """The form carries this session's CSRF token, and a browser that names the page's
    origin names ours, compared as browsers compare origins (scheme and host in any case,
    a default port written or not); defence in depth: the cookie is SameSite=Lax too."""
    origin = request.headers.get("Origin")
    if origin is not None and normal_origin(origin) != config.origin:
        return False
    sent = form.get("csrf")
    return isinstance(sent, str) and hmac.compare_digest(sent, expected)
