"""Run a bot script unchanged, recording how long its garbage collections pause it.

    python benchmarks/gc_probe.py SCRIPT [args...]     (or SCRIPT from $STORM_GC_TARGET)

Used by `benchmarks.storm --gc-stats`: a `gc.callbacks` hook times every collection; when
the process exits, per-generation count, total and longest pause (and the pauses of the
window between two SIGUSR1 signals, see below) are written as JSON to
`$STORM_GC_STATS`. SIGUSR1 toggles the window: the storm sends it just before its first
dispatch and again once the outbox has settled, so start-up collections are left out.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import runpy
import signal
import sys
import time
from pathlib import Path
from typing import Any

_started: list[float] = []
_window = {"open": False}
_pauses: list[tuple[int, float]] = []  # (generation, seconds) inside the window


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        took = time.perf_counter() - _started.pop()
        if _window["open"]:
            _pauses.append((int(info["generation"]), took))


def _toggle(signum: int, frame: object) -> None:
    _window["open"] = not _window["open"]


def _dump() -> None:
    out = os.environ.get("STORM_GC_STATS")
    if not out:
        return
    stats = {}
    for gen in (0, 1, 2):
        times = [t for g, t in _pauses if g == gen]
        stats[str(gen)] = {
            "count": len(times),
            "total_ms": 1000 * sum(times),
            "max_ms": 1000 * max(times, default=0.0),
        }
    Path(out).write_text(json.dumps(stats))


def _on_term(signum: int, frame: object) -> None:
    """Scripts that leave SIGTERM at its default (discord.py's `Client.run`) die without
    running atexit: write the stats first, then die the default way. (bot.py replaces this
    handler with its own graceful shutdown, after which atexit writes them.)"""
    _dump()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    args = sys.argv[1:] or [os.environ["STORM_GC_TARGET"]]
    script = Path(args[0]).resolve()
    sys.argv = [str(script), *args[1:]]
    sys.path[0] = str(script.parent)
    gc.callbacks.append(_on_gc)
    signal.signal(signal.SIGUSR1, _toggle)
    signal.signal(signal.SIGTERM, _on_term)
    atexit.register(_dump)
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
