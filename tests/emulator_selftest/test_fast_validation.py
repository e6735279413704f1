"""The emulator's compiled body check (emulator/fastcheck.py) gives jsonschema's verdicts.

The emulator trusts a "valid" from the fast check and asks jsonschema only on "not valid", so
a wrong "valid" would let a bad body through. These tests put both to the same bodies: the
ones Vigil really sends (``corpus/bot_bodies.jsonl``) and mutations of them that break each part
in the ways a bot gets a body wrong (wrong type, null, a missing field, a string or array too
long, an unknown property, a value outside an enum or const, a boolean for an integer...), and
require the same valid/invalid answer for every one. They also pin the keyword semantics where
Python and JSON Schema differ (``True == 1``, ``1.0`` an integer, annotations that never
assert).

``corpus/bot_bodies.jsonl`` holds one ``[method, template, body]`` per line: for every route and
body shape (keys and value types) seen while the e2e suite ran, the smallest and the largest
body, captured with a temporary hook on ``Spec.validate_body``. ``VIGIL_FAST_CHECK_MUTATIONS``
(default 16 per body) sets how many mutations of each body are tried; 0 tries them all.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from emulator.fastcheck import Compiler, Unsupported
from emulator.spec import Spec, default_spec_path, load_spec

CORPUS = Path(__file__).resolve().parent / "corpus" / "bot_bodies.jsonl"
PER_BODY = int(os.environ.get("VIGIL_FAST_CHECK_MUTATIONS", "16"))
UNKNOWN = "zz_not_in_the_spec"


def _corpus() -> list[tuple[str, str, Any]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [tuple(json.loads(line)) for line in fh if line.strip()]  # type: ignore[misc]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return out


def _deleted(body: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(body)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def _alternatives(value: Any) -> list[Any]:
    """What a buggy bot might send instead of ``value``."""
    alts: list[Any] = [None]
    if isinstance(value, bool):
        alts += [not value, 1 if value else 0, "true", []]
    elif isinstance(value, int):
        alts += [value + 1, value - 1, -1, 0, 1000, 2**64, float(value), value + 0.5, True]
        alts += [str(value), [value], {}]
    elif isinstance(value, float):
        alts += [int(value), -value, "1.5", True]
    elif isinstance(value, str):
        alts += ["", "x" * 101, "x" * 2001, "x" * 4097, "x" * 6001, value * 50, "bogus"]
        alts += [7, True, [value], {}]
        if value.isdigit():
            alts += [int(value), "-" + value, value + "a"]
    elif isinstance(value, list):
        alts += [{}, "[]", []]
        if value:
            alts += [value * 2, value * 6, (value * 101)[:101], value[:1] * 26, [None], [7]]
            alts += [[*value, value[0]]]
    elif isinstance(value, dict):
        alts += [[], "{}", {}, {**value, UNKNOWN: 1}]
    return alts


_DELETE = object()


def mutations(body: Any, limit: int = 0, rng: random.Random | None = None) -> list[Any]:
    """Mutations of ``body``: each part replaced by each alternative, each object member
    removed, each object given an unknown member; ``limit`` (with ``rng``) picks that many at
    random first, so only those are built (copying a large body thousands of times is slow)."""
    candidates: list[tuple[tuple[Any, ...], Any]] = []
    for path, value in _paths(body):
        candidates += [(path, alt) for alt in _alternatives(value)]
        if path:
            candidates.append((path, _DELETE))
    if limit and len(candidates) > limit:
        candidates = (rng or random.Random(0)).sample(candidates, limit)
    found: dict[str, Any] = {}
    for path, alt in candidates:
        mutated = _deleted(body, path) if alt is _DELETE else _replaced(body, path, alt)
        found.setdefault(json.dumps(mutated, sort_keys=True), mutated)
    return list(found.values())


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(default_spec_path(), fast=True)


def test_every_route_and_component_compiles(spec: Spec) -> None:
    """The whole spec is within the keywords the fast check implements, so no route silently
    falls back to jsonschema alone (it would still be right, only slow)."""
    refused = []
    for template, item in spec.doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for content_type in op.get("requestBody", {}).get("content", {}):
                if spec.request_schema(method, template, content_type) is None:
                    continue
                if spec.fast_check(method, template, content_type) is None:
                    refused.append((method, template, content_type))
    refused += [n for n in spec.doc["components"]["schemas"] if spec.fast_schema_check(n) is None]
    assert not refused


def test_corpus_bodies_valid_for_both(spec: Spec) -> None:
    corpus = _corpus()
    assert len({(m, t) for m, t, _ in corpus}) >= 10
    for method, template, body in corpus:
        check = spec.fast_check(method, template)
        validator = spec.validator(method, template)
        assert check is not None and validator is not None, (method, template)
        assert validator.is_valid(body), (method, template, body)
        assert check(body), (method, template, body)


def test_mutations_get_the_same_verdict(spec: Spec) -> None:
    """Both agree on every mutation tried, and the mutations are not all of one kind."""
    rng = random.Random(20240601)
    verdicts = {True: 0, False: 0}
    disagreements = []
    for method, template, body in _corpus():
        check = spec.fast_check(method, template)
        validator = spec.validator(method, template)
        assert check is not None and validator is not None
        for mutated in mutations(body, PER_BODY, rng):
            expected = validator.is_valid(mutated)
            verdicts[expected] += 1
            if check(mutated) != expected:
                disagreements.append((method, template, expected, json.dumps(mutated)[:300]))
    assert not disagreements, disagreements[:5]
    assert verdicts[False] >= 500 and verdicts[True] >= 50, verdicts


def test_messages_unchanged_by_the_fast_path(spec: Spec) -> None:
    """``validate_body`` words a rejection exactly as jsonschema alone does (it is jsonschema
    that words it), and accepts what jsonschema accepts."""
    fresh = Spec(spec.path, fast=False)
    rng = random.Random(7)
    for method, template, body in _corpus()[::6]:
        for mutated in mutations(body, 5, rng):
            assert spec.validate_body(method, template, mutated) == fresh.validate_body(
                method, template, mutated
            )


def test_fast_path_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid body never reaches jsonschema's iter_errors (the cost this path removes)."""
    spec = Spec(default_spec_path(), fast=True)
    method, template, body = _corpus()[0]
    calls = []
    validator = spec.validator(method, template)
    assert validator is not None
    monkeypatch.setattr(
        type(validator), "iter_errors", lambda _self, instance: calls.append(instance) or iter(())
    )
    assert spec.validate_body(method, template, body) is None
    assert calls == []


# Keyword semantics where a naive check and jsonschema's Draft 2020-12 part ways.
EDGE_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"const": 1}, [1, 1.0, True, False, "1", None]),
    ({"const": False}, [False, 0, 0.0, None, []]),
    ({"const": {"a": [1, True]}}, [{"a": [1, True]}, {"a": [True, 1]}, {"a": [1.0, True]}]),
    ({"enum": [0, "a", None]}, [False, 0, 0.0, "a", None, "b"]),
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None, 2**70]),
    ({"type": "number"}, [1, 1.5, True, "1"]),
    ({"type": ["string", "null"]}, ["", None, 0, False]),
    ({"type": "array"}, [[], {}, "[]"]),
    ({"type": "object", "required": ["a"]}, [{}, {"a": None}, [], "a"]),
    ({"required": ["a"]}, ["not an object", {"b": 1}]),
    ({"uniqueItems": True}, [[1, 1.0], [1, True], [0, False], [{"a": 1}, {"a": 1}], [[1], [True]]]),
    ({"uniqueItems": True}, [["a", "a"], [{"a": 1, "b": 2}, {"b": 2, "a": 1}], [[1], [1.0]]]),
    ({"maxLength": 2}, ["ab", "abc", "éé", "😀😀", "😀😀😀", 123]),
    ({"minLength": 1}, ["", "a", None]),
    ({"minimum": 0, "maximum": 5}, [-1, 0, 5, 5.5, True, "9"]),
    ({"maxItems": 1, "minItems": 1}, [[], [1], [1, 2], "ab"]),
    ({"maxProperties": 1, "minProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, []]),
    ({"pattern": "^[0-9]+$"}, ["123", "12a", "", 5]),
    ({"format": "date-time", "contentEncoding": "base64"}, ["not a date", "!!"]),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, [1, 1.5, "x"]),
    ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, [1, "x", None]),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, [0, 1, 3]),
    (
        {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
        [{"a": "x"}, {"a": 1}, {"b": 1}, {}],
    ),
    (
        {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        [{"a": "x", "b": 1}, {"b": "x"}],
    ),
    ({"items": {"type": "integer"}}, [[1, 2], [1, "2"], []]),
    ({"$ref": "#/components/schemas/Int", "description": "x"}, [1, "1"]),
    ({"$ref": "#/components/schemas/Tree"}, [{"kids": [{"kids": []}]}, {"kids": [{"kids": 1}]}]),
]
DOC = {
    "components": {
        "schemas": {
            "Int": {"type": "integer"},
            "Tree": {
                "type": "object",
                "properties": {
                    "kids": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}
                },
            },
        }
    }
}


@pytest.mark.parametrize(("schema", "instances"), EDGE_CASES)
def test_keyword_semantics_match_jsonschema(schema: dict[str, Any], instances: list[Any]) -> None:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = {**copy.deepcopy(DOC), "probe": schema}
    registry: Registry[Any] = Registry().with_resource(
        "urn:probe", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": "urn:probe#/probe"}, registry=registry)
    check = Compiler(doc).compile_root(doc["probe"])
    for instance in instances:
        assert check(instance) == validator.is_valid(instance), instance


def test_unique_items_stricter_where_jsonschema_misses_a_pair() -> None:
    """jsonschema's ``uniq`` compares sorted neighbours, so ``[[True], [1], [True]]`` passes
    it (the two ``[True]`` sort apart); the fast check compares every pair and says "not
    unique", which only sends such a body on to jsonschema. Stricter is safe; laxer is not."""
    schema = {"uniqueItems": True}
    body = [[True], [1], [True]]
    assert Draft202012Validator(schema).is_valid(body)
    assert not Compiler({}).compile_root(schema)(body)


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"type": "string"}},
        {"prefixItems": [{"type": "string"}]},
        {"properties": {"a": {"unevaluatedProperties": False}}},
        {"patternProperties": {"^a": {"type": "string"}}},
        {"$ref": "https://example.invalid/schema.json"},
        {"type": "decimal"},
    ],
)
def test_unknown_keywords_refuse_the_fast_path(schema: dict[str, Any]) -> None:
    """Anything outside the implemented keywords is refused, never silently passed."""
    with pytest.raises(Unsupported):
        Compiler({"probe": schema}).compile_root(schema)


def test_refusal_leaves_no_half_built_check() -> None:
    """A route refused halfway (its ref cell never bound) does not poison a later route that
    shares a component with it."""
    doc = {
        "A": {"properties": {"b": {"$ref": "#/B"}}, "not": {}},
        "B": {"properties": {"again": {"$ref": "#/B"}, "bad": {"$ref": "#/Bad"}}},
        "Bad": {"if": {}},
        "C": {"properties": {"b": {"$ref": "#/B"}}},
        "D": {"properties": {"b": {"$ref": "#/Int"}}},
        "Int": {"type": "integer"},
    }
    compiler = Compiler(doc)
    for name in ("A", "C"):
        with pytest.raises(Unsupported):
            compiler.compile_root(doc[name])
    check = compiler.compile_root(doc["D"])
    assert check({"b": 1}) and not check({"b": "1"})


def test_shared_spec_uses_the_fast_path() -> None:
    """The process-wide spec the emulator uses has the fast path on by default."""
    assert load_spec().fast_enabled is (os.environ.get("VIGIL_EMULATOR_FAST_CHECK", "1") != "0")
