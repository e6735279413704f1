"""The dashboard's configuration, derived once from the bot's settings."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.settings import Settings

DISCORD_API = "https://discord.com/api/v10"
DISCORD_AUTHORIZE = "https://discord.com/oauth2/authorize"
SCOPES = ("identify", "guilds")


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_origin(url: str) -> str | None:
    """`scheme://host[:port]` of a URL or an Origin header, as browsers compare origins:
    scheme and host in lower case, the scheme's default port left out. None: not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    host: str
    port: int
    public_url: str  # no trailing slash
    client_id: int
    client_secret: str
    api_base: str  # Discord's REST API (the emulator's in tests)
    authorize_url: str
    session_hours: int = 12
    # Whose X-Forwarded-For the sign-in rate limit believes (see `from_settings`).
    trusted_proxies: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, client_id: int | None = None) -> DashboardConfig:
        """`client_id`: the application ID Discord reported at login (the token's own ID
        otherwise; they are the same for every bot made in the Developer Portal)."""
        assert settings.dashboard_port is not None and settings.client_secret is not None
        api = settings.api_base_url or DISCORD_API
        public_url = settings.dashboard_public_url or f"http://127.0.0.1:{settings.dashboard_port}"
        proxies = settings.dashboard_trusted_proxies
        if proxies is None:
            # Behind https the site is served through a reverse proxy, by default on this
            # machine (the dashboard binds 127.0.0.1); over plain http nobody forwards.
            proxies = LOOPBACK if public_url.startswith("https://") else ()
        return cls(
            host=settings.dashboard_host,
            port=settings.dashboard_port,
            public_url=public_url,
            client_id=client_id or settings.application_id,
            client_secret=settings.client_secret,
            api_base=api,
            # Discord's consent screen is on its website; a configured API (the emulator)
            # serves it beside the API, where Discord also answers it.
            authorize_url=(
                settings.api_base_url + "/oauth2/authorize"
                if settings.api_base_url
                else DISCORD_AUTHORIZE
            ),
            trusted_proxies=tuple(ipaddress.ip_network(p, strict=False) for p in proxies),
        )

    @property
    def redirect_uri(self) -> str:
        """Register exactly this in the Developer Portal (OAuth2 > Redirects)."""
        return self.public_url + "/callback"

    @property
    def secure(self) -> bool:
        """Served over https (through a reverse proxy): cookies are marked Secure."""
        return self.public_url.startswith("https://")

    @property
    def origin(self) -> str:
        """The site's origin, normalised (see `normal_origin`)."""
        origin = normal_origin(self.public_url)
        assert origin is not None  # the settings checked the public URL
        return origin

    @property
    def session_cookie(self) -> str:
        """Behind https the `__Host-` prefix: the browser keeps it only if it is Secure, for
        the whole site and this host alone (no other subdomain can set or shadow it)."""
        return self._cookie_prefix + "vigil_session"

    @property
    def sign_in_cookie(self) -> str:
        return self._cookie_prefix + "vigil_signin"

    @property
    def _cookie_prefix(self) -> str:
        return "__Host-" if self.secure else ""

    @property
    def signing_key(self) -> bytes:
        """The cookies' HMAC key, derived from the client secret: the same in every process
        sharing the settings, and a rotated secret signs everyone out."""
        return hmac.new(
            self.client_secret.encode(), b"vigil dashboard cookies v1", hashlib.sha256
        ).digest()
