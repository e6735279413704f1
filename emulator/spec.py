"""Validation of the bot's requests against Discord's official OpenAPI 3.1 spec.

The spec is ~1 MB, so it is parsed once per process and validators are compiled lazily per
(method, path template). Schemas are referenced *into* the spec document (a JSON pointer into
``paths/.../requestBody``) so every nested ``#/components/...`` ``$ref`` resolves against the
spec itself through a ``referencing`` Registry, with the Draft 2020-12 dialect OpenAPI 3.1 uses.

Each body is first put to a compiled yes/no check (``emulator/fastcheck.py``, same verdicts,
several times cheaper); jsonschema runs only when that check says "not valid", and then it
alone decides and words the verdict. ``VIGIL_EMULATOR_FAST_CHECK=0`` turns the fast path off.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import (  # type: ignore[import-untyped]
    ValidationError,
    best_match,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .fastcheck import Check, Compiler, Unsupported

SPEC_URI = "urn:discord:openapi"
REPO_ROOT = Path(__file__).resolve().parents[1]


SHARED_SPEC = REPO_ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"
# A copy of that file (MIT, LICENSE beside it), so a lone clone of the repository can run the
# tests too; tests/emulator_selftest checks the copy is identical to shared/'s when both exist.
VENDORED_SPEC = Path(__file__).resolve().parent / "discord-api-spec" / "openapi.json"


def default_spec_path() -> Path:
    """``$VIGIL_DISCORD_SPEC``, else ``<repo>/../shared/discord-api-spec/openapi.json``, else
    the copy under emulator/discord-api-spec/."""
    env = os.environ.get("VIGIL_DISCORD_SPEC")
    if env:
        return Path(env)
    return SHARED_SPEC if SHARED_SPEC.exists() else VENDORED_SPEC


@dataclass(frozen=True)
class RouteMatch:
    """A request path matched to a spec template."""

    template: str
    params: dict[str, str]
    methods: frozenset[str]


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class Spec:
    """Route matching and body validation for one spec file."""

    def __init__(self, path: Path, fast: bool | None = None) -> None:
        """``fast``: put bodies to the compiled check first (default: unless
        ``VIGIL_EMULATOR_FAST_CHECK=0``)."""
        self.path = path
        with path.open(encoding="utf-8") as fh:
            doc: dict[str, Any] = json.load(fh)
        self._patch_quirks(doc)
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self._routes: list[tuple[re.Pattern[str], str, list[str], frozenset[str], int]] = []
        for template, item in doc["paths"].items():
            names = re.findall(r"{(\w+)}", template)
            regex = "^" + re.sub(r"\\{\w+\\}", r"([^/]+)", re.escape(template)) + "$"
            methods = frozenset(m.upper() for m in item if m != "parameters")
            literal = len([s for s in template.split("/") if s and not s.startswith("{")])
            self._routes.append((re.compile(regex), template, names, methods, literal))
        # Prefer templates with more literal segments: /users/@me beats /users/{user_id}.
        self._routes.sort(key=lambda r: -r[4])
        self._validators: dict[tuple[str, str, str], Draft202012Validator | None] = {}
        self._verdicts: dict[tuple[str, str, str, str], str | None] = {}
        if fast is None:
            fast = os.environ.get("VIGIL_EMULATOR_FAST_CHECK", "1") != "0"
        self.fast_enabled = fast
        self._compiler = Compiler(doc)
        self._fast: dict[tuple[str, str, str], Check | None] = {}

    @staticmethod
    def _patch_quirks(doc: dict[str, Any]) -> None:
        """Documented deviations from the literal spec (see README "Deviations").

        SnowflakeType is declared as a digit *string*, but Discord's API accepts integer
        snowflakes too and discord.py sends ints in several bodies (e.g. allowed_mentions
        ``users``/``roles``, ``message_reference.message_id``). Rejecting them would flag
        requests Discord accepts, so SnowflakeType also admits non-negative integers.
        """
        schemas = doc["components"]["schemas"]
        original = schemas["SnowflakeType"]
        schemas["SnowflakeType"] = {
            "anyOf": [original, {"type": "integer", "minimum": 0}],
        }

    def match(self, method: str, path: str) -> RouteMatch | None:
        """Find the spec template for ``path``; ``None`` if no template matches at all."""
        fallback: RouteMatch | None = None
        for regex, template, names, methods, _ in self._routes:
            m = regex.match(path)
            if not m:
                continue
            rm = RouteMatch(template, dict(zip(names, m.groups(), strict=True)), methods)
            if method.upper() in methods:
                return rm
            fallback = fallback or rm
        return fallback

    def request_schema(self, method: str, template: str, content_type: str) -> Any:
        op = self.doc["paths"][template].get(method.lower(), {})
        body = op.get("requestBody")
        if not body:
            return None
        return body.get("content", {}).get(content_type, {}).get("schema")

    def body_required(self, method: str, template: str) -> bool:
        op = self.doc["paths"][template].get(method.lower(), {})
        return bool(op.get("requestBody", {}).get("required", False))

    def has_body(self, method: str, template: str) -> bool:
        op = self.doc["paths"][template].get(method.lower(), {})
        return "requestBody" in op

    def validator(
        self, method: str, template: str, content_type: str = "application/json"
    ) -> Draft202012Validator | None:
        """Compiled validator for a route's request body, cached; ``None`` if no body schema."""
        key = (method.upper(), template, content_type)
        if key not in self._validators:
            if self.request_schema(method, template, content_type) is None:
                self._validators[key] = None
            else:
                pointer = "/".join(
                    _pointer_escape(p)
                    for p in (
                        "paths",
                        template,
                        method.lower(),
                        "requestBody",
                        "content",
                        content_type,
                        "schema",
                    )
                )
                schema = {"$ref": f"{SPEC_URI}#/{pointer}"}
                self._validators[key] = Draft202012Validator(schema, registry=self.registry)
        return self._validators[key]

    def fast_check(
        self, method: str, template: str, content_type: str = "application/json"
    ) -> Check | None:
        """The compiled yes/no check of a route's body, cached; ``None`` if the route has no
        body schema or its schema uses a keyword the check does not implement."""
        key = (method.upper(), template, content_type)
        if key not in self._fast:
            self._fast[key] = self._compile(self.request_schema(method, template, content_type))
        return self._fast[key]

    def fast_schema_check(self, name: str) -> Check | None:
        """The compiled yes/no check of ``components/schemas/<name>`` (as ``fast_check``)."""
        key = ("SCHEMA", name, "")
        if key not in self._fast:
            self._fast[key] = self._compile(self.doc["components"]["schemas"][name])
        return self._fast[key]

    def _compile(self, schema: Any) -> Check | None:
        if schema is None:
            return None
        try:
            return self._compiler.compile_root(schema)
        except Unsupported:
            return None

    def validate_body(
        self, method: str, template: str, body: Any, content_type: str = "application/json"
    ) -> str | None:
        """Return a readable error message, or ``None`` if the body is valid.

        Memoised on the exact body: validation is deterministic, and every test's bot sends
        some identical bodies (the command sync, setup replies), so each is checked once.
        """
        try:
            key = (method.upper(), template, content_type, json.dumps(body, sort_keys=True))
        except (TypeError, ValueError):
            return self._validate_body(method, template, body, content_type)
        if key not in self._verdicts:
            if len(self._verdicts) > 20_000:
                self._verdicts.clear()
            self._verdicts[key] = self._validate_body(method, template, body, content_type)
        return self._verdicts[key]

    def _validate_body(
        self, method: str, template: str, body: Any, content_type: str = "application/json"
    ) -> str | None:
        validator = self.validator(method, template, content_type)
        if body is None and validator is not None and not self.body_required(method, template):
            return None
        if validator is None:
            if body is None:
                return None
            if not self.has_body(method, template):
                return f"{method} {template} takes no request body, got {_short(body)}"
            return None
        if self.fast_enabled:
            check = self.fast_check(method, template, content_type)
            if check is not None and check(body):
                return None
        errors = list(validator.iter_errors(body))
        if not errors:
            return None
        err = best_match(errors)
        return _describe(err, body)

    def validate_schema(self, name: str, value: Any) -> str | None:
        """Validate ``value`` against ``components/schemas/<name>`` (e.g. a response object
        such as ``MessageResponse`` or ``PrivateChannelResponse`` that Discord also embeds in
        gateway payloads); a readable error, or ``None`` if valid."""
        key = ("SCHEMA", name, "")
        if key not in self._validators:
            if name not in self.doc["components"]["schemas"]:
                raise KeyError(f"no schema {name!r} in the spec")
            ref = {"$ref": f"{SPEC_URI}#/components/schemas/{_pointer_escape(name)}"}
            self._validators[key] = Draft202012Validator(ref, registry=self.registry)
        validator = self._validators[key]
        assert validator is not None
        if self.fast_enabled:
            check = self.fast_schema_check(name)
            if check is not None and check(value):
                return None
        errors = list(validator.iter_errors(value))
        return _describe(best_match(errors), value) if errors else None

    def oauth_scopes(self, method: str, template: str) -> frozenset[str]:
        """The OAuth2 scopes that open a route to a user's Bearer token (its ``security``
        entry; empty: bot token only)."""
        op = self.doc["paths"][template].get(method.lower(), {})
        for requirement in op.get("security", []):
            if "OAuth2" in requirement:
                return frozenset(requirement["OAuth2"])
        return frozenset()

    def query_params(self, method: str, template: str) -> dict[str, Any]:
        op = self.doc["paths"][template].get(method.lower(), {})
        return {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _leaf_errors(err: ValidationError) -> list[ValidationError]:
    """Flatten anyOf/oneOf contexts, skipping alternatives rejected only by their ``type``
    discriminator (those are noise: the body clearly was not meant to be that variant)."""
    if not err.context:
        return [err]
    by_alt: dict[Any, list[ValidationError]] = {}
    for sub in err.context:
        alt = sub.relative_schema_path[0] if sub.relative_schema_path else None
        by_alt.setdefault(alt, []).append(sub)
    plausible = [
        subs
        for subs in by_alt.values()
        if not any(list(s.relative_path) == ["type"] and s.validator == "enum" for s in subs)
        and not any(s.validator == "type" and not list(s.relative_path) for s in subs)
    ]
    if not plausible:
        return [err]
    leaves: list[ValidationError] = []
    for subs in plausible:
        for sub in subs:
            leaves.extend(_leaf_errors(sub))
    return leaves


def _describe(err: ValidationError, body: Any) -> str:
    leaves = _leaf_errors(err)
    parts = []
    for leaf in leaves[:3]:
        where = "/".join(str(p) for p in leaf.absolute_path) or "<root>"
        parts.append(f"at {where}: {leaf.message[:300]}")
    return "; ".join(parts) + f"; body={_short(body)}"


@functools.lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> Spec:
    """Parse the spec once per process (per path)."""
    return Spec(Path(path) if path else default_spec_path())


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(value)
