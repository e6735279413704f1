"""Discord's OAuth2 authorization-code flow, for the web dashboard's "Sign in with Discord".

Discord serves these outside its OpenAPI document (the spec names them only as the OAuth2
security scheme's URLs), so they are routes of their own, checked against Discord's
documentation ("OAuth2", authorization code grant):

* ``GET /oauth2/authorize?client_id&redirect_uri&response_type=code&scope&state``: the
  consent screen. A test decides who approves (``emu.oauth.approve_as("maya")``): the browser
  is then redirected at once to ``redirect_uri?code=...&state=...``; with nobody chosen, a
  small page lists the cast to pick from (and Cancel, which answers ``error=access_denied``).
* ``POST /oauth2/token`` (``application/x-www-form-urlencoded``: ``grant_type=
  authorization_code``, ``code``, ``redirect_uri``; the client ID and secret by HTTP Basic
  auth or in the form): ``{access_token, token_type: "Bearer", expires_in, refresh_token,
  scope}``. A code is good once, for 10 minutes, with the redirect URI it was issued for.
* The access token then opens ``GET /users/@me`` (scope ``identify``) and
  ``GET /users/@me/guilds`` (scope ``guilds``) as that user: the spec's routes, validated and
  recorded like every other request (server.py); their answers follow the spec's schemas
  (``UserPIIResponse``, ``MyGuildResponse``), which the self-tests check.

A malformed request (an unknown client, a redirect URI that was not registered, a scope
that does not exist) is a violation: Discord would refuse it, so the test fails.
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from .models import User
from .recording import Violation

if TYPE_CHECKING:
    from .server import Emulator

CODE_SECONDS = 600.0
TOKEN_SECONDS = 604_800
KNOWN_SCOPES = frozenset(
    {"identify", "email", "guilds", "guilds.members.read", "connections", "openid"}
)
"""The scopes a dashboard might ask for (others exist; none of them is for a web sign-in)."""
CLIENT_SECRET = "emulator-client-secret"


@dataclass
class Grant:
    user_id: int
    scopes: frozenset[str]
    redirect_uri: str
    expires: float


@dataclass
class OAuth2:
    """The emulator's OAuth2 provider state: registered redirects, codes and tokens."""

    emu: Emulator
    client_secret: str = CLIENT_SECRET
    #: Redirect URIs registered in the Developer Portal (exact match, like Discord).
    redirect_uris: set[str] = field(default_factory=set)
    #: The cast member who approves the next consent screens (None: show the page).
    approver: str | None = None
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Grant] = field(default_factory=dict)
    #: Every authorize request's query, in order (tests read state, scope, redirect_uri).
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def approve_as(self, name: str | None) -> None:
        """Who approves the consent screen from now on (None: the page asks)."""
        self.approver = name

    def register_redirect(self, uri: str) -> None:
        self.redirect_uris.add(uri)

    def issue_token(self, user: str, scopes: tuple[str, ...] = ("identify", "guilds")) -> str:
        """An access token for ``user`` without the browser dance (self-tests)."""
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Grant(
            self.emu.world.user(user).id, frozenset(scopes), "", time.monotonic() + TOKEN_SECONDS
        )
        return token

    # -- routes ------------------------------------------------------------------------------
    def add_routes(self, app: web.Application, prefix: str) -> None:
        app.router.add_get(prefix + "/oauth2/authorize", self.authorize)
        app.router.add_post(prefix + "/oauth2/authorize", self.consent)
        app.router.add_post(prefix + "/oauth2/token", self.token)

    def _violation(self, method: str, path: str, message: str) -> web.Response:
        self.emu.violations.append(Violation(method, path, path, message))
        return web.Response(status=400, text=f"Discord would refuse this: {message}\n")

    def _check_authorize(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != str(self.emu.world.application_id):
            return f"client_id {query.get('client_id')!r} is not this application"
        if query.get("response_type") != "code":
            return "response_type must be 'code' (authorization code grant)"
        uri = query.get("redirect_uri", "")
        if uri not in self.redirect_uris:
            return f"redirect_uri {uri!r} is not registered (register_redirect)"
        scopes = query.get("scope", "").split()
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if not scopes or unknown:
            return f"scope must list known scopes separated by spaces, got {scopes!r}"
        return None

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.authorize_requests.append(query)
        problem = self._check_authorize(query)
        if problem:
            return self._violation("GET", "/oauth2/authorize", problem)
        if self.approver is not None:
            return self._redirect(query, self.approver)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        names = sorted(n for n, u in self.emu.world.users.items() if not u.bot)
        buttons = "".join(
            f'<button name="user" value="{html.escape(n)}">{html.escape(n)}</button> '
            for n in names
        )
        page = (
            "<!doctype html><title>Discord (emulator): authorise</title>"
            "<h1>Sign in as</h1><form method=post>"
            f"{hidden}{buttons}<button name=deny value=1>Cancel</button></form>"
        )
        return web.Response(text=page, content_type="text/html")

    async def consent(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()}
        query = {k: v for k, v in form.items() if k not in ("user", "deny")}
        problem = self._check_authorize(query)
        if problem:
            return self._violation("POST", "/oauth2/authorize", problem)
        if form.get("deny") or form.get("user") not in self.emu.world.users:
            params = {"error": "access_denied", "error_description": "The resource owner denied"}
            if "state" in query:
                params["state"] = query["state"]
            raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(params)}")
        return self._redirect(query, form["user"])

    def _redirect(self, query: dict[str, str], name: str) -> web.StreamResponse:
        code = secrets.token_urlsafe(18)
        self.codes[code] = Grant(
            self.emu.world.user(name).id,
            frozenset(query["scope"].split()),
            query["redirect_uri"],
            time.monotonic() + CODE_SECONDS,
        )
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if urlsplit(query["redirect_uri"]).query else "?"
        raise web.HTTPFound(f"{query['redirect_uri']}{separator}{urlencode(params)}")

    def _client(self, request: web.Request, form: dict[str, str]) -> tuple[str, str] | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                pair = base64.b64decode(auth[6:]).decode()
            except ValueError:
                return None
            client_id, _, secret = pair.partition(":")
            return client_id, secret
        if "client_id" in form and "client_secret" in form:
            return form["client_id"], form["client_secret"]
        return None

    async def token(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/x-www-form-urlencoded":
            return self._violation(
                "POST", "/oauth2/token", "the body must be application/x-www-form-urlencoded"
            )
        form = {k: str(v) for k, v in (await request.post()).items()}
        client = self._client(request, form)
        if client != (str(self.emu.world.application_id), self.client_secret):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return self._violation("POST", "/oauth2/token", "grant_type must be authorization_code")
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires < time.monotonic():
            return _invalid_grant('Invalid "code" in request.')
        if form.get("redirect_uri") != grant.redirect_uri:
            return _invalid_grant('Invalid "redirect_uri" in request.')
        access = secrets.token_urlsafe(24)
        self.tokens[access] = Grant(
            grant.user_id, grant.scopes, grant.redirect_uri, time.monotonic() + TOKEN_SECONDS
        )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "refresh_token": secrets.token_urlsafe(24),
            "scope": " ".join(sorted(grant.scopes)),
        }
        return web.json_response(body)

    # -- bearer access -----------------------------------------------------------------------
    def bearer_user(self, authorization: str | None, accepted: frozenset[str]) -> User | None:
        """The user a ``Bearer`` token stands for, if it is live and holds one of the scopes
        the route's spec entry accepts (``security: OAuth2: [...]``); None: refuse."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        grant = self.tokens.get(authorization[7:])
        if grant is None or grant.expires < time.monotonic() or not accepted & grant.scopes:
            return None
        return self.emu.world.find_user(grant.user_id)


def _invalid_grant(description: str) -> web.Response:
    return web.json_response(
        {"error": "invalid_grant", "error_description": description}, status=400
    )
