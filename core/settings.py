"""Vigil's settings: read once at start from the environment (and `.env`), typed, validated.

A bad value stops the bot with one line naming the setting and the fix, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "sqlite:///data/vigil.db"
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_HOST_SHAPE = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|[0-9A-Fa-f:.]+)$")
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")


class SettingsError(Exception):
    """One setting is missing or malformed. str() is the one line shown to the operator."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"{setting} {problem}: {fix}")
        self.setting = setting


@dataclass(frozen=True, slots=True)
class Settings:
    token: str
    application_id: int
    log_level: str = "INFO"
    database_url: str = DEFAULT_DATABASE_URL
    api_base_url: str | None = None
    sqlite_synchronous: str = "NORMAL"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    report_rate_limit: int = 5
    report_rate_window_minutes: int = 10
    alert_retry_max_seconds: int = 60
    retention_sweep_minutes: int = 60
    departed_guild_grace_days: int = 30
    metrics_port: int | None = None  # None: no metrics/health endpoint
    metrics_host: str = "127.0.0.1"
    health_outbox_max_age_seconds: int = 300
    # FOR TESTS ONLY: how many seconds a "minute" lasts in the urgent-reminder schedule and
    # in the look for questions left unconfirmed (cogs/relay.py), so the end-to-end suite sees
    # them without waiting minutes. Leave it at 60.
    reminder_minute_seconds: float = 60.0
    # FOR TESTS ONLY: the shortest time between two edits of one alert (edits in between are
    # folded into the next), so the end-to-end suite does not wait a second for each edit it
    # checks. Leave it at 1: it is what keeps a storm's edits within Discord's rate limits.
    alert_edit_interval_seconds: float = 1.0
    log_format: str = "text"  # or "json"
    # t18-dash: the moderators' web dashboard (None: off). See dashboard/.
    dashboard_port: int | None = None
    dashboard_host: str = "127.0.0.1"
    dashboard_public_url: str | None = None  # where browsers reach it (the OAuth2 redirect)
    client_secret: str | None = None  # DISCORD_CLIENT_SECRET: the application's OAuth2 secret
    # DASHBOARD_TRUSTED_PROXIES: addresses or networks whose X-Forwarded-For the sign-in rate
    # limit believes. None: the default (this machine's own proxy, only behind https).
    dashboard_trusted_proxies: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # never let the token reach a log line through a repr
        return (
            f"Settings(application_id={self.application_id}, "
            f"database_url={redact_url(self.database_url)!r})"
        )


def redact_url(url: str) -> str:
    """A database URL without its password, for logs and reprs."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return url.replace(f":{parsed.password}@", ":[redacted]@", 1)


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with its user ID in base64; for bots that is the application ID."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(name, f"is {raw!r}", f"set it to a whole number from {low} to {high}")
    return int(raw)


def _decimal(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,3})?", raw) or not low <= float(raw) <= high:
        raise SettingsError(name, f"is {raw!r}", f"set it to a number from {low:g} to {high:g}")
    return float(raw)


def load_settings(env: Mapping[str, str]) -> Settings:
    token = env.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise SettingsError(
            "DISCORD_TOKEN",
            "is not set",
            "copy .env.example to .env and paste your bot token from the Discord Developer "
            "Portal (Applications > your app > Bot > Reset Token); "
            "or run `python bot.py demo` to see Vigil working offline, without a token",
        )
    application_id = application_id_from_token(token) if _TOKEN_SHAPE.match(token) else None
    if application_id is None:
        raise SettingsError(
            "DISCORD_TOKEN",
            "does not look like a bot token",
            "paste the whole token from the Developer Portal's Bot page (three parts joined by "
            "dots), not the client secret or the public key",
        )

    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in _LOG_LEVELS:
        raise SettingsError(
            "LOG_LEVEL", f"is {log_level!r}", f"use one of {', '.join(_LOG_LEVELS)}"
        )

    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    postgres = database_url.startswith(("postgresql://", "postgres://"))
    if postgres and not urlparse(database_url).path.strip("/"):
        raise SettingsError(
            "DATABASE_URL",
            "names no database",
            "use postgresql://user:password@host:5432/database",
        )
    if (
        not postgres
        and not database_url.startswith("sqlite:///")
        and database_url != "sqlite://:memory:"
    ):
        raise SettingsError(
            "DATABASE_URL",
            f"uses an unsupported scheme ({database_url.split(':', 1)[0]!r})",
            "use sqlite:///relative/path.db, sqlite:////absolute/path.db or "
            "postgresql://user:password@host:5432/database",
        )

    api_base_url = env.get("DISCORD_API_BASE_URL", "").strip().rstrip("/") or None
    if api_base_url is not None:
        parsed = urlparse(api_base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(
                "DISCORD_API_BASE_URL",
                f"is {api_base_url!r}",
                "give a full URL such as http://127.0.0.1:8080/api/v10, or leave it unset",
            )

    synchronous = env.get("SQLITE_SYNCHRONOUS", "NORMAL").strip().upper() or "NORMAL"
    if synchronous not in ("NORMAL", "FULL"):
        raise SettingsError(
            "SQLITE_SYNCHRONOUS", f"is {synchronous!r}", "use NORMAL (default) or FULL"
        )

    shard_count_raw = env.get("SHARD_COUNT", "").strip()
    shard_count = _int(env, "SHARD_COUNT", 0, 1, 65535) if shard_count_raw else None
    shard_ids: tuple[int, ...] | None = None
    shard_ids_raw = env.get("SHARD_IDS", "").strip()
    if shard_ids_raw:
        parts = [p.strip() for p in shard_ids_raw.split(",")]
        if shard_count is None or not all(p.isdigit() and int(p) < shard_count for p in parts):
            raise SettingsError(
                "SHARD_IDS",
                f"is {shard_ids_raw!r}",
                "set SHARD_COUNT too and list shard numbers below it, e.g. SHARD_IDS=0,1",
            )
        shard_ids = tuple(int(p) for p in parts)

    metrics_port_raw = env.get("METRICS_PORT", "").strip()
    metrics_port = _int(env, "METRICS_PORT", 0, 1, 65535) if metrics_port_raw else None
    metrics_host = env.get("METRICS_HOST", "").strip() or "127.0.0.1"
    if not _HOST_SHAPE.match(metrics_host):
        raise SettingsError(
            "METRICS_HOST",
            f"is {metrics_host!r}",
            "give an address to listen on, e.g. 127.0.0.1 (default) or 0.0.0.0 in a container",
        )
    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise SettingsError("LOG_FORMAT", f"is {log_format!r}", "use text (default) or json")

    dashboard = _dashboard(env)
    return Settings(
        token=token,
        application_id=application_id,
        log_level=log_level,
        database_url=database_url,
        api_base_url=api_base_url,
        sqlite_synchronous=synchronous,
        shard_count=shard_count,
        shard_ids=shard_ids,
        report_rate_limit=_int(env, "REPORT_RATE_LIMIT", 5, 1, 1000),
        report_rate_window_minutes=_int(env, "REPORT_RATE_WINDOW_MINUTES", 10, 1, 1440),
        alert_retry_max_seconds=_int(env, "ALERT_RETRY_MAX_SECONDS", 60, 1, 3600),
        retention_sweep_minutes=_int(env, "RETENTION_SWEEP_MINUTES", 60, 1, 1440),
        departed_guild_grace_days=_int(env, "DEPARTED_GUILD_GRACE_DAYS", 30, 0, 365),
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        health_outbox_max_age_seconds=_int(env, "HEALTH_OUTBOX_MAX_AGE_SECONDS", 300, 30, 86400),
        reminder_minute_seconds=_decimal(env, "REMINDER_MINUTE_SECONDS", 60.0, 0.1, 60.0),
        alert_edit_interval_seconds=_decimal(env, "ALERT_EDIT_INTERVAL_SECONDS", 1.0, 0.05, 1.0),
        log_format=log_format,
        dashboard_port=dashboard[0],
        dashboard_host=dashboard[1],
        dashboard_public_url=dashboard[2],
        client_secret=dashboard[3],
        dashboard_trusted_proxies=_trusted_proxies(env),
    )


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...] | None:
    """DASHBOARD_TRUSTED_PROXIES: comma-separated addresses or networks (CIDR) of the reverse
    proxies in front of the dashboard, `none` for none; unset: the default (see dashboard/)."""
    raw = env.get("DASHBOARD_TRUSTED_PROXIES", "").strip()
    if not raw:
        return None
    if raw.lower() == "none":
        return ()
    networks: list[str] = []
    for part in raw.split(","):
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise SettingsError(
                "DASHBOARD_TRUSTED_PROXIES",
                f"has {part.strip()!r}",
                "give the reverse proxy's addresses or networks, comma-separated, e.g. "
                "127.0.0.1,::1 or 10.0.0.0/8 (or none to believe no X-Forwarded-For)",
            ) from None
    return tuple(networks)


_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _dashboard(env: Mapping[str, str]) -> tuple[int | None, str, str | None, str | None]:
    """(port, host, public URL, client secret) of the web dashboard; off without a port.

    Secure by default: bound to 127.0.0.1; a public URL must be https unless it is this
    machine itself (cookies are marked Secure behind https); OAuth2 needs the client secret."""
    host = env.get("DASHBOARD_HOST", "").strip() or "127.0.0.1"
    if not _HOST_SHAPE.match(host):
        raise SettingsError(
            "DASHBOARD_HOST",
            f"is {host!r}",
            "give an address to listen on, e.g. 127.0.0.1 (default) or 0.0.0.0 in a container",
        )
    secret = env.get("DISCORD_CLIENT_SECRET", "").strip() or None
    if not env.get("DASHBOARD_PORT", "").strip():
        return None, host, None, secret
    port = _int(env, "DASHBOARD_PORT", 0, 1, 65535)
    if secret is None:
        raise SettingsError(
            "DISCORD_CLIENT_SECRET",
            "is not set but DASHBOARD_PORT is",
            "paste the client secret from the Developer Portal (Applications > your app > "
            "OAuth2 > Client Secret), or unset DASHBOARD_PORT to turn the dashboard off",
        )
    raw_url = env.get("DASHBOARD_PUBLIC_URL", "").strip().rstrip("/")
    public_url = raw_url or f"http://127.0.0.1:{port}"
    parsed = urlparse(public_url)
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.hostname
        or parsed.query
        or parsed.fragment
        or parsed.username
        or (parsed.scheme == "http" and parsed.hostname not in _LOCAL_HOSTS)
    ):
        raise SettingsError(
            "DASHBOARD_PUBLIC_URL",
            f"is {raw_url!r}",
            "give the https:// address browsers use, e.g. https://vigil.example.org behind a "
            "reverse proxy with TLS (plain http only for 127.0.0.1 or localhost)",
        )
    return port, host, public_url, secret


# Interaction tokens let anyone answer as Vigil for 15 minutes: they sit in webhook and
# callback URLs and in INTERACTION_CREATE payloads.
_TOKEN_PATTERNS = (
    (re.compile(r"(/interactions/[0-9]+/)[^/\s'\"?]+"), r"\1[redacted]"),
    (re.compile(r"(/webhooks/[0-9]+/)[^/\s'\"?]+"), r"\1[redacted]"),
    (re.compile(r"""(["']token["']\s*:\s*["'])[^"']*"""), r"\1[redacted]"),
    # PostgreSQL quotes a rejected row in its error detail: it may hold what a reporter wrote.
    (re.compile(r"(Failing row contains ).*"), r"\1[withheld]"),
)
WITHHELD = "[payload withheld]"


def _summarise(arg: object) -> object:
    """A log argument of a discord.py logger, without what people wrote or who they are.

    Gateway events keep their op code, name and sequence (enough to debug a connection);
    everything else that looks like a payload (a dict, a list, a JSON string, bytes) is
    withheld: INTERACTION_CREATE carries report details and reporter IDs, and request and
    response bodies carry alerts.
    """
    if isinstance(arg, Mapping):
        if "op" in arg:
            return f"{{op: {arg.get('op')}, t: {arg.get('t')}, s: {arg.get('s')}}} (data withheld)"
        return WITHHELD
    if isinstance(arg, list | tuple | set | bytes | bytearray | memoryview):
        return WITHHELD
    if isinstance(arg, str) and arg.lstrip()[:1] in ("{", "["):
        return WITHHELD
    return arg


class RedactingFilter(logging.Filter):
    """Keeps secrets and people's words out of every log record, at every level.

    Replaces the bot token (and any other given secret) and interaction tokens (in URLs and
    payloads) everywhere, tracebacks included; withholds the payloads discord.py logs at DEBUG
    (gateway events, request and response bodies), which hold report details and reporter IDs.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern, replacement in _TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] == "discord" and record.args:
            args = record.args
            if isinstance(args, Mapping):  # logging's form for one mapping argument
                record.args = (_summarise(args),)
            else:
                record.args = tuple(_summarise(a) for a in args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} (arguments withheld)"
        record.msg = self._redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True
