"""A compiled yes/no check of a body against the spec's schemas: the emulator's fast path.

Why: jsonschema's ``iter_errors`` builds an error object for every failing branch of every
``oneOf`` it tries (a message component is a ``oneOf`` of a dozen kinds), and that was about a
quarter of the e2e workers' CPU. Almost every body the bot sends is valid, so the emulator first
asks this check, which only answers valid or not; only when it says "not valid" does jsonschema
run, and it alone decides and words the verdict. A "valid" here must therefore never be wrong:
``tests/emulator_selftest/test_fast_validation.py`` compares both on bodies the bot sends and on
thousands of mutations of them.

How it stays faithful: it implements only the keywords Discord's spec uses, with jsonschema's
Draft 2020-12 semantics (an integer-valued float is an integer, ``True`` is neither a number
nor equal to ``1``, ``format`` and ``contentEncoding`` only annotate, ``$ref`` siblings apply).
A schema that holds any other keyword is refused (:class:`Unsupported`), and the caller then
uses jsonschema alone. Each schema object of the document is compiled once into a closure and
shared by every route that reaches it; ``$ref`` cycles go through a late-bound cell.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

#: Keywords that only annotate for jsonschema's Draft202012Validator as the emulator builds it
#: (no format checker), so they never change a verdict.
ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "format",
        "contentEncoding",
        "contentMediaType",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "examples",
        "$comment",
        "x-discord-union",
    }
)

#: Keywords this module checks; any keyword outside these and ANNOTATIONS refuses the schema.
CHECKED = frozenset(
    {
        "$ref",
        "type",
        "const",
        "enum",
        "allOf",
        "anyOf",
        "oneOf",
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "pattern",
    }
)


class Unsupported(Exception):
    """The schema uses something this module does not check: use jsonschema alone."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int)


def _is_number(value: Any) -> bool:
    if type(value) is int or type(value) is float:  # what json.loads gives: the quick answer
        return True
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "integer": _is_integer,
    "number": _is_number,
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema's ``const``, ``enum`` and ``uniqueItems`` see it: booleans
    equal only booleans, ``1 == 1.0``, objects compare by keys and values, arrays in order."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, (dict, list)) or isinstance(two, (dict, list)):
        return False
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def unique(items: list[Any]) -> bool:
    """No two items ``equal`` (the lists the spec bounds are short: pairwise is fine).

    Never more lenient than jsonschema's ``uniq``: that one compares neighbours after sorting
    when the items sort, which can miss two equal items sorted apart (``[[True], [1],
    [True]]``); pairwise finds every equal pair, so at worst this says "not unique" and
    jsonschema decides.
    """
    for i, item in enumerate(items):
        for other in items[i + 1 :]:
            if equal(item, other):
                return False
    return True


def _resolve_pointer(doc: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise Unsupported(f"$ref outside the document: {ref}")
    node: Any = doc
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise Unsupported(f"unresolvable $ref {ref}")
    return node


def _all(checks: list[Check]) -> Check:
    """One check passing only if each of ``checks`` does (in order, stopping at the first
    failure; an explicit loop is cheaper than ``all()`` over a generator)."""
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    every = tuple(checks)

    def check(value: Any) -> bool:
        for one in every:  # noqa: SIM110 (a generator per call costs more)
            if not one(value):
                return False
        return True

    return check


def _one_of_values(options: list[Any]) -> Check:
    """``const`` (one option) or ``enum``: the value ``equal`` to an option. Options that are
    all strings, or all non-boolean integers, get a set lookup with the same answer as
    ``equal``: a string equals only an equal string; an integer equals an equal int or float
    but never a boolean."""
    if len(options) == 1 and (options[0] is None or isinstance(options[0], bool)):
        only = options[0]
        return lambda v: v is only
    if all(isinstance(o, str) for o in options):
        strings = frozenset(options)
        return lambda v: isinstance(v, str) and v in strings
    if all(isinstance(o, int) and not isinstance(o, bool) for o in options):
        ints = frozenset(options)
        return lambda v: (type(v) is int or type(v) is float) and v in ints
    return lambda v: any(equal(v, o) for o in options)


class Compiler:
    """Compiles schema objects of one document (refs are JSON pointers into it) to checks.

    One compiler per document: compiled checks are cached by the identity of the schema
    object, so every route that reaches a shared component reuses one closure.
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self._by_id: dict[int, Check] = {}
        self._refs: dict[str, Check] = {}
        # Keeps compiled schema objects alive so their ids stay unique while cached.
        self._keep: list[Any] = []

    def compile_root(self, schema: Any) -> Check:
        """A check for ``schema`` (a route's body schema, or a component); raises
        :class:`Unsupported` if any part it reaches is not understood (the route then uses
        jsonschema alone).

        After a refusal the caches are dropped: closures built during the failed attempt may
        hold a ``$ref`` cell that was never bound. Checks returned earlier stay whole.
        """
        try:
            return self.compile(schema)
        except Unsupported:
            self._by_id.clear()
            self._refs.clear()
            self._keep.clear()
            raise

    def compile(self, schema: Any) -> Check:
        """A check for ``schema`` (cached per schema object)."""
        if schema is True:
            return lambda _v: True
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema is not an object: {schema!r}")
        cached = self._by_id.get(id(schema))
        if cached is not None:
            return cached
        check = self._compile_object(schema)
        self._by_id[id(schema)] = check
        self._keep.append(schema)
        return check

    def _ref(self, ref: str) -> Check:
        found = self._refs.get(ref)
        if found is not None:
            return found
        target_check: list[Check] = []

        def late(value: Any) -> bool:  # bound once the target is compiled (cycles)
            return target_check[0](value)

        self._refs[ref] = late
        target_check.append(self.compile(_resolve_pointer(self.doc, ref)))
        # Later references skip the indirection.
        self._refs[ref] = target_check[0]
        return target_check[0]

    def _compile_object(self, schema: dict[str, Any]) -> Check:
        unknown = set(schema) - CHECKED - ANNOTATIONS
        if unknown:
            raise Unsupported(f"keywords not checked here: {sorted(unknown)}")
        # Cheap scalar checks first, so a failing oneOf branch fails fast.
        checks: list[Check] = []
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "const" in schema:
            checks.append(_one_of_values([schema["const"]]))
        if "enum" in schema:
            checks.append(_one_of_values(list(schema["enum"])))
        checks.extend(self._string(schema))
        checks.extend(self._number(schema))
        object_check = self._object(schema)
        if object_check is not None:
            checks.append(object_check)
        array_check = self._array(schema)
        if array_check is not None:
            checks.append(array_check)
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str):
                raise Unsupported("$ref is not a string")
            checks.append(self._ref(ref))
        checks.extend(self._combinators(schema))
        return _all(checks)

    def _type(self, declared: Any) -> Check:
        names = [declared] if isinstance(declared, str) else list(declared)
        try:
            type_checks = tuple(_TYPE_CHECKS[n] for n in names)
        except (KeyError, TypeError) as exc:
            raise Unsupported(f"type {declared!r}") from exc
        if len(type_checks) == 1:
            return type_checks[0]
        return lambda v: any(t(v) for t in type_checks)

    @staticmethod
    def _string(schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "minLength" in schema:
            low = schema["minLength"]
            checks.append(lambda v: not isinstance(v, str) or len(v) >= low)
        if "maxLength" in schema:
            high = schema["maxLength"]
            checks.append(lambda v: not isinstance(v, str) or len(v) <= high)
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            checks.append(lambda v: not isinstance(v, str) or search(v) is not None)
        return checks

    @staticmethod
    def _number(schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "minimum" in schema:
            low = schema["minimum"]
            checks.append(lambda v: not _is_number(v) or v >= low)
        if "maximum" in schema:
            high = schema["maximum"]
            checks.append(lambda v: not _is_number(v) or v <= high)
        return checks

    def _object(self, schema: dict[str, Any]) -> Check | None:
        keys = {"properties", "required", "additionalProperties", "minProperties"}
        keys |= {"maxProperties"}
        if not keys & set(schema):
            return None
        props = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        # Members pinned to a value (a component's ``type``, say) are checked first: that is
        # what tells the branches of a oneOf apart, so a wrong branch fails at once.
        pinned = tuple(
            (name, props[name])
            for name, sub in schema.get("properties", {}).items()
            if isinstance(sub, dict) and ("const" in sub or "enum" in sub)
        )
        required = tuple(schema.get("required", ()))
        extra: Check | None = None
        forbid_extra = False
        if "additionalProperties" in schema:
            additional = schema["additionalProperties"]
            if additional is False:
                forbid_extra = True
            else:
                extra = self.compile(additional)
        min_props = schema.get("minProperties")
        max_props = schema.get("maxProperties")

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name, pin in pinned:
                if name in value and not pin(value[name]):
                    return False
            for name in required:
                if name not in value:
                    return False
            if min_props is not None and len(value) < min_props:
                return False
            if max_props is not None and len(value) > max_props:
                return False
            for name, item in value.items():
                sub = props.get(name)
                if sub is not None:
                    if not sub(item):
                        return False
                elif forbid_extra or (extra is not None and not extra(item)):
                    return False
            return True

        return check

    def _array(self, schema: dict[str, Any]) -> Check | None:
        if not {"items", "minItems", "maxItems", "uniqueItems"} & set(schema):
            return None
        items = self.compile(schema["items"]) if "items" in schema else None
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        distinct = bool(schema.get("uniqueItems", False))

        def check(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            if min_items is not None and len(value) < min_items:
                return False
            if max_items is not None and len(value) > max_items:
                return False
            if items is not None and not all(items(v) for v in value):
                return False
            return not distinct or unique(value)

        return check

    def _combinators(self, schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "allOf" in schema:
            checks.append(_all([self.compile(s) for s in schema["allOf"]]))
        if "anyOf" in schema:
            subs_any = tuple(self.compile(s) for s in schema["anyOf"])
            checks.append(lambda v: any(s(v) for s in subs_any))
        if "oneOf" in schema:
            subs_one = tuple(self.compile(s) for s in schema["oneOf"])

            def one_of(value: Any) -> bool:
                matched = False
                for sub in subs_one:
                    if sub(value):
                        if matched:
                            return False
                        matched = True
                return matched

            checks.append(one_of)
        return checks
