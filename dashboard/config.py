"""The dashboard's configuration, derived once from the bot's settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.settings import Settings

DISCORD_API = "https://discord.com/api/v10"
DISCORD_AUTHORIZE = "https://discord.com/oauth2/authorize"
SCOPES = ("identify", "guilds")


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

    @classmethod
    def from_settings(cls, settings: Settings, client_id: int | None = None) -> DashboardConfig:
        """`client_id`: the application ID Discord reported at login (the token's own ID
        otherwise; they are the same for every bot made in the Developer Portal)."""
        assert settings.dashboard_port is not None and settings.client_secret is not None
        api = settings.api_base_url or DISCORD_API
        return cls(
            host=settings.dashboard_host,
            port=settings.dashboard_port,
            public_url=settings.dashboard_public_url
            or f"http://127.0.0.1:{settings.dashboard_port}",
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
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def signing_key(self) -> bytes:
        """The cookies' HMAC key, derived from the client secret: the same in every process
        sharing the settings, and a rotated secret signs everyone out."""
        return hmac.new(
            self.client_secret.encode(), b"vigil dashboard cookies v1", hashlib.sha256
        ).digest()
