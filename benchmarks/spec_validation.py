"""How long the emulator takes to validate the bodies Vigil sends: jsonschema alone vs the
compiled fast check in front of it (emulator/fastcheck.py).

    python -m benchmarks.spec_validation [--rounds 5] [--corpus FILE]

The corpus is ``tests/emulator_selftest/corpus/bot_bodies.jsonl`` by default (one ``[method,
template, body]`` or ``[method, template, content_type, body]`` per line, or a JSON array of
them): bodies the bot really sends. Each round takes a fresh ``Spec`` per mode (the document
parse is not timed; compiling validators is) and times ``Spec.validate_body`` over every body,
with the fast path off (A) and on (B), interleaved A, B, A, B so a busy machine weighs on
both alike. ``validate_body`` memoises per exact body, so each body is checked once a round,
as in one e2e worker. Prints per-round times, the medians and their ratio; every body must be
valid in both modes (exit 1 otherwise), never a speed threshold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import command_line, machine
from emulator.spec import Spec, default_spec_path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "tests" / "emulator_selftest" / "corpus" / "bot_bodies.jsonl"


def load_corpus(path: Path) -> list[tuple[str, str, str, Any]]:
    text = path.read_text(encoding="utf-8")
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    out = []
    for row in rows:
        if len(row) == 3:
            method, template, body = row
            content_type = "application/json"
        else:
            method, template, content_type, body = row
        out.append((method, template, content_type, body))
    return out


def one_round(doc_path: Path, corpus: list[tuple[str, str, str, Any]], fast: bool) -> float:
    spec = Spec(doc_path, fast=fast)
    started = time.perf_counter()
    for method, template, content_type, body in corpus:
        error = spec.validate_body(method, template, body, content_type)
        if error is not None:
            sys.exit(f"invalid body with fast={fast}: {error}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    doc_path = default_spec_path()
    print(f"# {command_line()}")
    print(f"# {machine()}")
    print(f"# {len(corpus)} bodies, {len({(m, t) for m, t, _, _ in corpus})} routes")
    times: dict[bool, list[float]] = {False: [], True: []}
    for n in range(args.rounds):
        for fast in (False, True):
            times[fast].append(one_round(doc_path, corpus, fast))
        print(f"round {n + 1}: jsonschema {times[False][-1]:.3f} s, fast {times[True][-1]:.3f} s")
    a, b = statistics.median(times[False]), statistics.median(times[True])
    print(f"median: jsonschema {a:.3f} s, fast {b:.3f} s, {a / b:.1f}x")
    print(
        f"per body: jsonschema {a / len(corpus) * 1e3:.2f} ms, fast {b / len(corpus) * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
