"""The dashboard's security rules, offline (t18-sec): whose X-Forwarded-For is believed and
how a client is keyed, the Origin comparison, the sign-in limit under a flood, the cookies'
names, and the trusted-proxies setting. End to end: tests/e2e/test_dashboard_security.py."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from core.settings import SettingsError, load_settings
from dashboard.config import DashboardConfig, normal_origin
from dashboard.security import SignInLimiter, client_key, csrf_ok
from tests.core.test_settings import TOKEN

BASE = {"DISCORD_TOKEN": TOKEN, "DASHBOARD_PORT": "8088", "DISCORD_CLIENT_SECRET": "s3cret"}


def config(**env: str) -> DashboardConfig:
    return DashboardConfig.from_settings(load_settings({**BASE, **env}))


def request(peer: str, forwarded: str | None = None, **headers: str) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 4242) if name == "peername" else default
    )
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return make_mocked_request("GET", "/login", headers=headers, transport=transport)


def test_trusted_proxies_default_to_this_machine_only_behind_https():
    assert config().trusted_proxies == ()  # plain http on 127.0.0.1: nobody forwards
    behind = config(DASHBOARD_PUBLIC_URL="https://vigil.example.org")
    assert [str(n) for n in behind.trusted_proxies] == ["127.0.0.0/8", "::1/128"]
    chosen = config(
        DASHBOARD_PUBLIC_URL="https://vigil.example.org",
        DASHBOARD_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7",
    )
    assert [str(n) for n in chosen.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]
    none = config(DASHBOARD_PUBLIC_URL="https://v.example.org", DASHBOARD_TRUSTED_PROXIES="none")
    assert none.trusted_proxies == ()


def test_a_bad_trusted_proxy_names_the_setting():
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, "DASHBOARD_TRUSTED_PROXIES": "127.0.0.1, proxy.local"})
    assert caught.value.setting == "DASHBOARD_TRUSTED_PROXIES"
    assert "proxy.local" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("peer", "forwarded", "key"),
    [
        # Nobody trusted: the peer, whatever the header says.
        ("127.0.0.1", "203.0.113.9", "127.0.0.1"),
        ("198.51.100.4", None, "198.51.100.4"),
    ],
)
def test_without_trusted_proxies_the_peer_is_the_client(peer, forwarded, key):
    assert client_key(request(peer, forwarded), ()) == key


LOCAL = config(DASHBOARD_PUBLIC_URL="https://vigil.example.org").trusted_proxies


@pytest.mark.parametrize(
    ("peer", "forwarded", "key"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("::1", "203.0.113.9", "203.0.113.9"),
        # What the client wrote itself is on the left: never believed.
        ("127.0.0.1", "192.0.2.1, 10.9.9.9, 203.0.113.9", "203.0.113.9"),
        # A client elsewhere is not our proxy: its header is ignored.
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),
        # No header, or nonsense from the proxy: the proxy itself.
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        # IPv6 clients by /64; an IPv4-mapped address is the IPv4 one.
        ("127.0.0.1", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:aa:bb::1", None, "2001:db8:aa:bb::/64"),
        ("127.0.0.1", "::ffff:203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "[2001:db8::1]", "2001:db8::/64"),
    ],
)
def test_behind_the_local_proxy_the_forwarded_client_is_the_client(peer, forwarded, key):
    assert client_key(request(peer, forwarded), LOCAL) == key


def test_a_chain_of_trusted_proxies_is_walked_from_the_right():
    trusted = config(DASHBOARD_TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8").trusted_proxies
    forwarded = "192.0.2.66, 203.0.113.9, 10.1.1.1"  # client-written, client, inner proxy
    assert client_key(request("127.0.0.1", forwarded), trusted) == "203.0.113.9"
    two_headers = make_mocked_request(
        "GET",
        "/login",
        headers=[("X-Forwarded-For", "192.0.2.66"), ("X-Forwarded-For", "203.0.113.9")],
        transport=request("127.0.0.1").transport,
    )
    assert client_key(two_headers, trusted) == "203.0.113.9"


def test_one_client_or_a_crowd_never_locks_everyone_out():
    limiter = SignInLimiter(per_client=20, overall=100, window=300, fair_share=3)
    # One client alone: stopped at its own limit, everyone else unaffected.
    assert sum(limiter.allow("attacker", now=0) for _ in range(1000)) == 20
    assert limiter.allow("moderator", now=1)
    # A crowd of addresses fills the overall cap: each newcomer still gets a few tries.
    crowd = sum(limiter.allow(f"bot-{i}", now=2) for i in range(5000) for _ in range(5))
    assert crowd < 5000 * 5
    assert [limiter.allow("late moderator", now=3) for _ in range(4)] == [True] * 3 + [False]
    assert limiter.allow("fresh", now=400)  # the window moved on


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (None, True),  # no Origin (an old browser): the token decides
        ("https://vigil.example.org", True),
        ("HTTPS://Vigil.Example.ORG", True),
        ("https://vigil.example.org:443", True),
        ("https://vigil.example.org:8443", False),
        ("http://vigil.example.org", False),
        ("https://vigil.example.org.evil.example", False),
        ("https://evil.example", False),
        ("null", False),
        ("", False),
        ("https://vigil.example.org:99999", False),
    ],
)
def test_the_origin_is_compared_as_browsers_compare_origins(origin, accepted):
    site = config(DASHBOARD_PUBLIC_URL="https://vigil.example.org:443/")
    headers: dict[str, Any] = {} if origin is None else {"Origin": origin}
    checked = csrf_ok(request("127.0.0.1", **headers), {"csrf": "t"}, "t", site)
    assert checked is accepted
    assert not csrf_ok(request("127.0.0.1", **headers), {"csrf": "x"}, "t", site)


def test_origins_are_normalised():
    assert normal_origin("http://LOCALHOST:80/x") == "http://localhost"
    assert normal_origin("http://127.0.0.1:8088") == "http://127.0.0.1:8088"
    assert normal_origin("https://[::1]:443") == "https://[::1]"
    assert normal_origin("ftp://vigil.example.org") is None
    assert normal_origin("https://user@vigil.example.org") is None


def test_cookies_are_host_prefixed_behind_https():
    assert (config().session_cookie, config().sign_in_cookie) == ("vigil_session", "vigil_signin")
    https = config(DASHBOARD_PUBLIC_URL="https://vigil.example.org")
    assert https.session_cookie == "__Host-vigil_session"
    assert https.sign_in_cookie == "__Host-vigil_signin"
