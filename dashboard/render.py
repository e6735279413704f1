"""Pages from Jinja2 templates, autoescaped, in one language per page."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

from core.i18n import tr
from dashboard import words


class Answer(Exception):
    """A finished page (an error page) that ends a handler early; the middleware sends it."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


@functools.cache
def _environment() -> Environment:
    """The templates' environment, one per process: it keeps compiled templates (compiling
    them is most of a first page's cost), and the test suite's fork server compiles them all
    once before it forks bots (:func:`compile_templates`). Templates changed on disk are
    compiled again (Jinja2's auto_reload)."""
    env = Environment(
        loader=PackageLoader("dashboard", "templates"),
        autoescape=True,  # every value, names and report texts included, is escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = resources.files("dashboard").joinpath("static", "dashboard.css").read_bytes()
    version = hashlib.sha256(css).hexdigest()[:12]
    # A versioned address: the stylesheet may be cached for long, never served stale.
    env.globals["static"] = lambda name: f"/static/{name}?v={version}"
    env.filters["join_reason"] = lambda pair, locale: f"{pair[0].label_in(locale)} {pair[1]}"
    return env


def compile_templates() -> None:
    """Compile every template now (see :func:`_environment`)."""
    env = _environment()
    for name in env.list_templates():
        env.get_template(name)


class Renderer:
    def __init__(self) -> None:
        self.env = _environment()

    def html(self, template: str, locale: str | None, **context: Any) -> str:
        def t(key: str, **params: object) -> str:
            return words.plain(tr(key, locale, **params))

        return self.env.get_template(template).render(
            t=t, lang=words.language(locale), locale=locale, words=words, **context
        )

    def page(
        self, template: str, locale: str | None, status: int = 200, **context: Any
    ) -> web.Response:
        return web.Response(
            text=self.html(template, locale, **context), status=status, content_type="text/html"
        )
