"""The dashboard's web application: routes, the sign-in, and the per-request checks.

Every guild page loads the session from its signed cookie, then asks the bot whether this
user may moderate this server (`DiscordSide.access`: what Discord said about the member at
most half a minute ago): nothing the browser sends is trusted for that, Discord is only asked
about servers it listed for the user at sign-in and that Vigil is in, and a case is always
looked up inside the server of the URL, so another server's case cannot be reached by
changing a number. Every POST carries the session's CSRF token. Actions go through
`CaseService` with the same checks as the alert's buttons; reading the kept message text and
exporting need what the alert's buttons need too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from charts.stats_chart import ChartText, render_stats_chart
from core.case_view import AlertAction, alert_actions
from core.clock import Clock
from core.followthrough import child_safety_steps
from core.hotlines import HotlineDirectory
from core.i18n import LANGUAGES, country_name, tr
from core.models import AlertData, CaseAction, DismissReason, EscalationTarget
from core.outcomes import Outcome
from core.ports import DashboardSession, Store
from core.reasons import Reason
from core.relay import relay_story, reporter_order
from core.review import ReviewService, summarise
from core.service import CaseActionRefused, CaseService, SettingsService
from core.setup_rules import SETUP_RANGES, SetupForm, check_setup
from core.signals import seen_by
from core.snowflakes import parse_id
from core.stats import DEFAULT_STATS_DAYS, MAX_STATS_DAYS, guild_stats
from core.text import clean_user_text
from core.welfare import asked_for_support, is_welfare_case, offers_check_in
from dashboard import words
from dashboard.bridge import DiscordSide, DiscordUnavailable, GuildAccess
from dashboard.config import DashboardConfig
from dashboard.oauth import OAuthClient, SignInFailed
from dashboard.render import Answer, Renderer
from dashboard.security import (
    SignInLimiter,
    SlidingLimit,
    client_key,
    csrf_ok,
    security_headers,
)
from dashboard.sessions import SIGN_IN_MINUTES, Sessions

log = logging.getLogger(__name__)

NOTE_LIMIT = 1000  # ui/case_common.MAX_NOTE: the alert's note form
REFERENCE_LIMIT = 100  # ui/case_common.MAX_REFERENCE
STATS_PERIODS = (7, 30, 90, 365)
REQUESTS_PER_USER = 300
REQUEST_WINDOW_SECONDS = 300.0
"""A signed-in user's pages per five minutes: far more than anyone reads, far fewer than a
script probing servers or cases would want."""
DONE_KEYS = {
    "acknowledge": "dash.done_acknowledge",
    "dismiss": "dash.done_dismiss",
    "note": "dash.done_note",
    "escalate": "dash.done_escalate",
    "saved": "dash.done_saved",
}
WEB_ACTIONS = {
    "acknowledge": CaseAction.ACKNOWLEDGE,
    "dismiss": CaseAction.DISMISS,
    "note": CaseAction.NOTE,
    "escalate": CaseAction.ESCALATE,
}


@dataclass(frozen=True, slots=True)
class DashboardDeps:
    """What the dashboard uses of the bot's composition root."""

    store: Store
    clock: Clock
    cases: CaseService
    guild_settings: SettingsService
    hotlines: HotlineDirectory
    discord: DiscordSide


def static_dir() -> Path:
    return Path(str(resources.files("dashboard").joinpath("static")))


def browser_locale(request: web.Request) -> str | None:
    """The first language of Accept-Language that Vigil has a catalogue for (sign-in page)."""
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";", 1)[0].strip()
        if not tag:
            continue
        normal = tag.replace("-", "_")
        for code in LANGUAGES:
            if code.lower() == normal.lower() or code.split("_")[0] == normal.split("_")[0].lower():
                return tag
    return None


class Dashboard:
    def __init__(self, config: DashboardConfig, deps: DashboardDeps) -> None:
        self.config = config
        self.deps = deps
        self.review = ReviewService(deps.store)
        self.sessions = Sessions(
            deps.store, deps.clock, config.signing_key, timedelta(hours=config.session_hours)
        )
        self.oauth = OAuthClient(config)
        self.limiter = SignInLimiter()
        self.requests = SlidingLimit(REQUESTS_PER_USER, REQUEST_WINDOW_SECONDS)
        self.render = Renderer()

    # ------------------------------------------------------------------ the application
    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[security_headers(self.config, self._failure)], client_max_size=64 * 1024
        )
        guild = r"/g/{guild_id:[0-9]{1,20}}"
        case = guild + r"/cases/{number:[0-9]{1,10}}"
        app.router.add_get("/", self.home)
        app.router.add_get("/login", self.login)
        app.router.add_get("/callback", self.callback)
        app.router.add_post("/logout", self.logout)
        app.router.add_get(guild, self.guild_home)
        app.router.add_get(guild + "/queue", self.queue)
        app.router.add_get(case, self.case)
        app.router.add_post(case + "/evidence", self.evidence)
        app.router.add_post(case + "/act", self.act)
        app.router.add_post(case + "/export", self.export)
        app.router.add_get(guild + "/members", self.members)
        app.router.add_post(guild + "/members", self.members)
        app.router.add_get(guild + "/stats", self.stats)
        app.router.add_get(guild + "/stats.png", self.stats_chart)
        app.router.add_get(guild + "/settings", self.settings)
        app.router.add_post(guild + "/settings", self.settings)
        app.router.add_static("/static", static_dir(), append_version=True)
        return app

    # ------------------------------------------------------------------ helpers
    def _cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.config.secure,
        )

    def _forget(self, response: web.StreamResponse, name: str) -> None:
        """Delete a cookie with the attributes it was set with (a `__Host-` cookie is only
        replaced by one that is Secure too)."""
        response.del_cookie(
            name, path="/", secure=self.config.secure, httponly=True, samesite="Lax"
        )

    def _failure(self, request: web.Request, status: int) -> web.Response:
        """What went wrong, politely: Discord could not be asked (503), or anything else (500,
        logged by the middleware). Nothing was changed either way."""
        key = "dash.discord_unavailable" if status == 503 else "dash.server_error"
        return self._error(status, key, browser_locale(request))

    def _error(
        self,
        status: int,
        key: str,
        locale: str | None,
        session: DashboardSession | None = None,
        **params: object,
    ) -> web.Response:
        return self.render.page(
            "error.html",
            locale,
            status=status,
            message=words.plain(tr(key, locale, **params)),
            session=session,
            access=None,
        )

    async def _session(self, request: web.Request) -> DashboardSession | None:
        return await self.sessions.load(request.cookies.get(self.config.session_cookie))

    def _count(self, session: DashboardSession) -> None:
        """One more request by this signed-in user; beyond their share, 429 (a script, not
        a person: see REQUESTS_PER_USER)."""
        if not self.requests.allow(session.user_id):
            raise Answer(self._error(429, "dash.too_many_requests", session.locale, session))

    async def _guild(self, request: web.Request) -> tuple[DashboardSession, GuildAccess]:
        """The signed-in user and what they may do in the URL's server, checked now.

        Discord is asked (with the bot's token) only about a server Discord listed for this
        user at sign-in and that Vigil is in: a guessed or foreign server ID is refused
        before any request, so nobody can make the bot hammer Discord with refused calls."""
        session = await self._session(request)
        if session is None:
            if request.method == "GET":
                raise web.HTTPFound("/")
            raise Answer(self._error(403, "dash.signed_out", browser_locale(request)))
        self._count(session)
        guild_id = parse_id(request.match_info["guild_id"])
        access = None
        if (
            guild_id is not None
            and guild_id in session.guild_ids
            and await self.deps.discord.serves(guild_id)
        ):
            # A change is allowed as Discord says now; a page may use what it said seconds
            # ago (a removed role counts for what is shown within ACCESS_TTL_SECONDS).
            fresh = request.method != "GET"
            access = await self.deps.discord.access(guild_id, session.user_id, fresh=fresh)
        if access is None:
            raise Answer(self._error(403, "dash.no_access", session.locale, session))
        return session, access

    async def _form(
        self, request: web.Request, session: DashboardSession, access: GuildAccess
    ) -> dict[str, str]:
        """The POSTed form, after its CSRF token: a forged POST changes nothing."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not csrf_ok(request, form, session.csrf_token, self.config):
            raise Answer(self._error(403, "dash.bad_form", access.locale, session))
        return form

    async def _case_data(
        self, request: web.Request, session: DashboardSession, access: GuildAccess
    ) -> AlertData:
        number = int(request.match_info["number"])
        data = await self.deps.cases.by_number(access.guild_id, number, story=True)
        if data is None or data.case.guild_id != access.guild_id:
            raise Answer(self._error(404, "admin.no_case", access.locale, session, number=number))
        if data.case.target_id == session.user_id:
            raise Answer(
                self._error(403, "refused.own_case", access.locale, session, number=number)
            )
        return data

    def _moderator(self, session: DashboardSession, access: GuildAccess) -> None:
        """What the alert's buttons require (Manage Messages or Timeout Members where the
        alerts are), for everything beyond reading: the moderator role alone reads."""
        if not access.can_act:
            raise Answer(self._error(403, "act.moderators_only", access.locale, session))

    async def _names(self, guild_id: int, ids: Iterable[int]) -> dict[int, str]:
        wanted = {i for i in ids if i}
        return await self.deps.discord.names(guild_id, wanted) if wanted else {}

    def _page(
        self,
        template: str,
        session: DashboardSession,
        access: GuildAccess,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        return self.render.page(
            template,
            access.locale,
            status=status,
            session=session,
            access=access,
            now=self.deps.clock.now(),
            **context,
        )

    # ------------------------------------------------------------------ sign-in
    async def home(self, request: web.Request) -> web.StreamResponse:
        session = await self._session(request)
        if session is None:
            return self.render.page(
                "login.html", browser_locale(request), session=None, access=None, message=None
            )
        self._count(session)
        candidates = set(session.guild_ids) & await self.deps.discord.vigil_guild_ids()
        checks = await asyncio.gather(
            *(self.deps.discord.access(g, session.user_id) for g in sorted(candidates)),
            return_exceptions=True,
        )
        # A list missing a server would mislead: say what went wrong (Discord first).
        failures = sorted(
            (c for c in checks if isinstance(c, BaseException)),
            key=lambda f: not isinstance(f, DiscordUnavailable),
        )
        if failures:
            raise failures[0]
        servers = sorted(
            (a for a in checks if isinstance(a, GuildAccess)), key=lambda a: a.name.casefold()
        )
        return self.render.page(
            "servers.html", session.locale, session=session, access=None, servers=servers
        )

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not self.limiter.allow(client_key(request, self.config.trusted_proxies)):
            return self._error(429, "dash.slow_down", browser_locale(request))
        await self.sessions.purge_sign_ins()
        state, cookie = await self.sessions.begin_sign_in()
        response = web.HTTPFound(self.oauth.authorize_url(state))
        self._cookie(response, self.config.sign_in_cookie, cookie, SIGN_IN_MINUTES * 60)
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        """Discord's redirect back. A valid state (this browser's, from its own /login,
        which the rate limit counted) is never refused for the rate limit: only failed
        attempts count, so nobody can keep others from finishing their sign-in."""
        locale = browser_locale(request)
        query = request.query
        if "error" in query:
            return self._error(400, "dash.sign_in_cancelled", locale)
        if not await self.sessions.finish_sign_in(
            query.get("state"), request.cookies.get(self.config.sign_in_cookie)
        ):
            if not self.limiter.allow(client_key(request, self.config.trusted_proxies)):
                return self._error(429, "dash.slow_down", locale)
            return self._error(400, "dash.sign_in_expired", locale)
        code = query.get("code", "")
        if not code or len(code) > 200:
            return self._error(400, "dash.sign_in_expired", locale)
        try:
            user = await self.oauth.sign_in(code)
        except SignInFailed as failed:
            log.warning("dashboard sign-in failed: %s", failed)
            return self._error(502, "dash.sign_in_failed", locale)
        # Signing in again ends the session this browser had: one browser, one session.
        await self.sessions.close(request.cookies.get(self.config.session_cookie))
        cookie = await self.sessions.open(user.id, user.name, user.locale, user.guild_ids)
        response = web.HTTPFound("/")
        self._forget(response, self.config.sign_in_cookie)
        self._cookie(
            response,
            self.config.session_cookie,
            cookie,
            int(self.sessions.lifetime.total_seconds()),
        )
        await self.sessions.purge()
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = await self._session(request)
        if session is None:
            raise web.HTTPFound("/")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not csrf_ok(request, form, session.csrf_token, self.config):
            return self._error(403, "dash.bad_form", session.locale, session)
        await self.sessions.close(request.cookies.get(self.config.session_cookie))
        response = web.HTTPFound("/")
        self._forget(response, self.config.session_cookie)
        return response

    # ------------------------------------------------------------------ queue and cases
    async def guild_home(self, request: web.Request) -> web.StreamResponse:
        await self._guild(request)
        raise web.HTTPFound(f"/g/{request.match_info['guild_id']}/queue")

    async def queue(self, request: web.Request) -> web.StreamResponse:
        session, access = await self._guild(request)
        raw = request.query.get("page", "1")
        page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
        overview = await self.review.queue(access.guild_id, page, session.user_id)
        names = await self._names(access.guild_id, (s.case.handled_by or 0 for s in overview.cases))
        return self._page("queue.html", session, access, overview=overview, names=names)

    async def _case_page(
        self,
        session: DashboardSession,
        access: GuildAccess,
        data: AlertData,
        *,
        status: int = 200,
        evidence: list[Any] | None = None,
        error: str | None = None,
        done: str | None = None,
    ) -> web.Response:
        # What the viewer reads of a case never names them as possible retaliation.
        data = seen_by(data, frozenset({session.user_id}))
        story = relay_story(data)
        ids = {data.case.target_id, data.case.handled_by or 0}
        ids |= {r.reporter_id for r in data.reports} | {e.actor_id for e in data.events}
        ids |= {e.moderator_id or 0 for e in story}
        names = await self._names(access.guild_id, ids)
        # The whole story (issue 18): reports, actions and notes, the reporter Q&A as the
        # thread words it (reporters by number), and each reminder sent (t15-followup).
        timeline: list[tuple[Any, str, Any]] = [(r.created_at, "report", r) for r in data.reports]
        timeline += [(e.created_at, "event", e) for e in data.events]
        timeline += [(e.at, "relay", e) for e in story]
        timeline += [(r.sent_at, "reminder", r) for r in data.reminders]
        timeline.sort(key=lambda item: item[0])
        numbers = {rid: n for n, rid in enumerate(reporter_order(data.reports), start=1)}
        enabled = {a.action for a in alert_actions(data) if a.enabled}

        def name_list(user_ids: Iterable[int]) -> str:
            return ", ".join(names.get(i, str(i)) for i in sorted(user_ids))

        return self._page(
            "case.html",
            session,
            access,
            status=status,
            data=data,
            case=data.case,
            names=names,
            timeline=timeline,
            numbers=numbers,
            enabled=enabled,
            actions=AlertAction,
            steps=child_safety_steps(data),
            check_in=offers_check_in(data),
            welfare=is_welfare_case(data),
            asked=asked_for_support(data.reports),
            summary=summarise(data.case, list(data.reports), set()),
            name_list=name_list,
            evidence=evidence,
            error=error,
            done=done,
            dismiss_reasons=list(DismissReason),
            escalation_targets=list(EscalationTarget),
            note_limit=NOTE_LIMIT,
            reference_limit=REFERENCE_LIMIT,
        )

    async def case(self, request: web.Request) -> web.StreamResponse:
        session, access = await self._guild(request)
        data = await self._case_data(request, session, access)
        done = DONE_KEYS.get(request.query.get("done", ""))
        return await self._case_page(session, access, data, done=done)

    async def evidence(self, request: web.Request) -> web.StreamResponse:
        """Show the kept message texts: logged in the case's audit trail first, by the same
        service call as the alert's Show evidence button."""
        session, access = await self._guild(request)
        await self._form(request, session, access)
        self._moderator(session, access)
        data = await self._case_data(request, session, access)
        try:
            _, reports = await self.deps.cases.view_evidence(
                access.guild_id, data.case.id, session.user_id
            )
        except CaseActionRefused as refused:
            return await self._case_page(
                session,
                access,
                data,
                status=409,
                error=words.describe_refusal(refused, access.locale),
            )
        fresh = await self.deps.cases.alert_data(data.case.id, story=True) or data
        return await self._case_page(session, access, fresh, evidence=reports)

    async def act(self, request: web.Request) -> web.StreamResponse:
        session, access = await self._guild(request)
        form = await self._form(request, session, access)
        data = await self._case_data(request, session, access)
        locale = access.locale
        self._moderator(session, access)
        name = form.get("action", "")
        action = WEB_ACTIONS.get(name)
        note: str | None = None
        detail: str | None = None
        problem: str | None = None
        if action is CaseAction.DISMISS:
            reason = DismissReason.parse(form.get("reason"))
            problem = None if reason else "act.invalid_reason"
            detail = reason.value if reason else None
        elif action is CaseAction.NOTE:
            note = clean_user_text(form.get("note"), NOTE_LIMIT)
            problem = None if note else "act.note_empty"
        elif action is CaseAction.ESCALATE:
            target = EscalationTarget.parse(form.get("where"))
            problem = None if target else "act.escalate_invalid"
            detail = target.value if target else None
            note = clean_user_text(form.get("reference"), REFERENCE_LIMIT)
        elif action is None:
            problem = "act.invalid_choice"
        if problem is not None or action is None:
            return await self._case_page(
                session, access, data, status=400, error=words.plain(tr(problem or "", locale))
            )
        try:
            case = await self.deps.cases.act(
                access.guild_id, data.case.id, action, session.user_id, note=note, detail=detail
            )
        except CaseActionRefused as refused:
            fresh = await self.deps.cases.alert_data(data.case.id, story=True) or data
            return await self._case_page(
                session, access, fresh, status=409, error=words.describe_refusal(refused, locale)
            )
        self.deps.discord.after_action(case, locale, actor_id=session.user_id, action=action)
        raise web.HTTPSeeOther(f"/g/{access.guild_id}/cases/{case.number}?done={name}")

    async def export(self, request: web.Request) -> web.StreamResponse:
        """The escalation packet, for those the alert's Export button serves. With reporters'
        IDs only for Manage Server, the rule of `/reports export include_reporters:True` (the
        alert's Export button never has them). What the file reveals is recorded in the
        case's history first, in the transaction that reads it (`CaseService.export_case`):
        the kept message text, and the reporters' IDs as a note. The choice travels in the
        POSTed form: no reporter is ever in a URL or a log."""
        session, access = await self._guild(request)
        form = await self._form(request, session, access)
        self._moderator(session, access)
        data = await self._case_data(request, session, access)
        include_reporters = form.get("include_reporters") == "1"
        if include_reporters and not access.can_manage:
            return self._error(403, "admin.manage_server_only", access.locale, session)
        try:
            exported = await self.deps.cases.export_case(
                access.guild_id,
                data.case.id,
                session.user_id,
                reporters_note=(
                    tr("act.export_audit_note", access.locale) if include_reporters else None
                ),
            )
        except CaseActionRefused as refused:
            return await self._case_page(
                session,
                access,
                data,
                status=409,
                error=words.describe_refusal(refused, access.locale),
            )
        packet = self.deps.discord.export_packet(
            exported,
            session.user_id,
            access.name,
            include_reporters=include_reporters,
        )
        filename = f"vigil-case-{exported.case.number}-{exported.case.guild_id}.json"
        return web.Response(
            body=packet,
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # ------------------------------------------------------------------ members
    async def members(self, request: web.Request) -> web.StreamResponse:
        """Search by ID or name; a member's page. POST only for anything naming a person, so
        no member (and no reporter) ever appears in a URL, a history or a proxy's log."""
        session, access = await self._guild(request)
        if request.method == "GET":
            return self._page(
                "members.html", session, access, query="", results=None, record=None, names={}
            )
        form = await self._form(request, session, access)
        user_id = parse_id(form.get("user", "").strip())
        results: list[tuple[int, str | None]] | None = None
        query = form.get("q", "").strip()[:100]
        if user_id is None:
            results = await self.review.search(access.guild_id, query, session.user_id)
            if len(results) == 1:
                user_id = results[0][0]
        if user_id is None:
            names = await self._names(access.guild_id, (r[0] for r in results or []))
            return self._page(
                "members.html",
                session,
                access,
                query=query,
                results=results,
                record=None,
                names=names,
            )
        if user_id == session.user_id:
            return self._error(403, "admin.not_about_yourself", access.locale, session)
        record = await self.review.member(access.guild_id, user_id, session.user_id)
        ids = {user_id} | {c.handled_by or 0 for c in record.cases}
        ids |= {r.reporter_id for r in record.reports_about} | {e.actor_id for e in record.events}
        ids |= {r.target_id for r in record.reports_by}
        names = await self._names(access.guild_id, ids)
        numbers = {c.id: c.number for c in record.cases}
        return self._page(
            "members.html",
            session,
            access,
            query=query,
            results=None,
            record=record,
            names=names,
            numbers=numbers,
        )

    # ------------------------------------------------------------------ stats
    def _days(self, request: web.Request) -> int:
        raw = request.query.get("days", str(DEFAULT_STATS_DAYS))
        days = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 5 else DEFAULT_STATS_DAYS
        return max(1, min(MAX_STATS_DAYS, days))

    async def stats(self, request: web.Request) -> web.StreamResponse:
        session, access = await self._guild(request)
        days = self._days(request)
        figures = await guild_stats(self.deps.store, access.guild_id, days, self.deps.clock.now())
        return self._page(
            "stats.html",
            session,
            access,
            stats=figures,
            days=days,
            periods=STATS_PERIODS,
            max_days=MAX_STATS_DAYS,
        )

    async def stats_chart(self, request: web.Request) -> web.StreamResponse:
        _, access = await self._guild(request)
        days = self._days(request)
        figures = await guild_stats(self.deps.store, access.guild_id, days, self.deps.clock.now())
        png = await asyncio.to_thread(render_stats_chart, figures, chart_text(days, access.locale))
        return web.Response(body=png, content_type="image/png")

    # ------------------------------------------------------------------ settings
    async def settings(self, request: web.Request) -> web.StreamResponse:
        """Manage Server only, to read as to change, like `/reports config` and
        `/reports setup`; channels the member cannot see are not named."""
        session, access = await self._guild(request)
        if not access.can_manage:
            return self._error(403, "admin.manage_server_only", access.locale, session)
        form = await self._form(request, session, access) if request.method == "POST" else None
        current = await self.deps.guild_settings.get(access.guild_id)
        choices = await self.deps.discord.setup_choices(access.guild_id, session.user_id)
        configured = {current.alert_channel_id, current.audit_channel_id, current.admin_channel_id}
        # A hidden channel already chosen stays (unnamed), so saving other fields keeps it.
        hidden_chosen = choices.hidden_channels & configured
        error: str | None = None
        status = 200
        if form is not None:
            # A hidden channel may stay where it is, never be chosen anew (by a forged form).
            for field, now in (
                ("alert_channel", current.alert_channel_id),
                ("audit_channel", current.audit_channel_id),
                ("admin_channel", current.admin_channel_id),
            ):
                chosen = parse_id(form.get(field, "").strip())
                if chosen in choices.hidden_channels and chosen != now:
                    form[field] = "0"  # refused below as not one of the server's channels
            submitted = SetupForm(
                alert_channel_id=form.get("alert_channel", ""),
                threshold=form.get("threshold", ""),
                window_hours=form.get("window_hours", ""),
                min_account_age_days=form.get("min_account_age_days", ""),
                retention_days=form.get("retention_days", ""),
                urgent_reminder_minutes=form.get("urgent_reminder_minutes", ""),
                reporter_feedback=form.get("reporter_feedback") == "1",
                region=form.get("region", ""),
                mod_role_id=form.get("mod_role", ""),
                audit_channel_id=form.get("audit_channel", ""),
                admin_channel_id=form.get("admin_channel", ""),
            )
            checked = check_setup(
                current,
                submitted,
                text_channels={c.id for c in choices.text_channels} | hidden_chosen,
                roles={r.id for r in choices.roles},
                everyone_role=choices.everyone_role,
                directory=self.deps.hotlines,
                locale=access.locale,
            )
            if isinstance(checked, Outcome):
                error, status = words.describe_outcome(checked, access.locale), 422
            else:
                await self.deps.guild_settings.save(checked)
                raise web.HTTPSeeOther(f"/g/{access.guild_id}/settings?done=saved")
        countries = sorted(
            (
                (c.code, country_name(c.code, c.name, access.locale))
                for c in self.deps.hotlines.countries()
            ),
            key=lambda pair: pair[1].casefold(),
        )
        # Checked now, through the bot, by the code /reports setup and /reports config use.
        warnings = await self.deps.discord.setup_warnings(
            access.guild_id, session.user_id, current, access.locale
        )
        return self._page(
            "settings.html",
            session,
            access,
            status=status,
            current=current,
            choices=choices,
            hidden_chosen=hidden_chosen,
            countries=countries,
            ranges=SETUP_RANGES,
            error=error,
            warnings=warnings,
            done=DONE_KEYS.get(request.query.get("done", "")),
        )


def chart_text(days: int, locale: str | None) -> ChartText:
    """The chart's words, as /reports stats gives them (ui/stats_view.chart_text)."""
    return ChartText(
        title=tr("stats.title", locale, days=days),
        reports_axis=tr("stats.chart_reports_axis", locale),
        first_action_axis=tr("stats.chart_first_action_axis", locale),
        urgent=tr("stats.urgent_label", locale),
        normal=tr("stats.normal_label", locale),
        minutes=tr("stats.unit_minutes", locale),
        hours=tr("stats.unit_hours", locale),
        no_reports=tr("stats.chart_no_reports", locale),
        reasons={reason: tr(f"reason.{reason.value}", locale) for reason in Reason},
    )


class DashboardServer:
    """The site's lifetime: `await start()` when the bot starts, `await stop()` when it closes."""

    def __init__(self, config: DashboardConfig, deps: DashboardDeps) -> None:
        self.config = config
        self.dashboard = Dashboard(config, deps)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.dashboard.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.config.port
        log.info(
            "dashboard on http://%s:%s/ (public address %s)",
            self.config.host,
            self.port,
            self.config.public_url,
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
