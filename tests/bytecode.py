"""Where the test run's bytecode goes when PYTHONDONTWRITEBYTECODE is set.

Why: with the variable set, every pytest worker compiled each product module and rewrote the
asserts of every test module it collected again, and every forked bot compiled the ten cogs
that discord.py's ``load_extension`` executes afresh: ~13 CPU-seconds of a run of the
end-to-end suite on four workers. The variable's purpose is a tree without ``__pycache__``;
this keeps that (bytecode goes to a per-user cache outside the tree, Python's own
``pycache_prefix``) and lets later runs reuse it. ``VIGIL_TEST_BYTECODE_CACHE=0`` keeps
Python's behaviour as set. Without the variable, nothing changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OPT_OUT = "VIGIL_TEST_BYTECODE_CACHE"


def bytecode_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigil-tests" / "bytecode"


def cache_bytecode_outside_the_tree() -> Path | None:
    """Turn bytecode writing on, into `bytecode_cache_dir()`, for this process and the
    processes it starts (pytest-xdist workers, the fork server, bots). Returns the directory,
    or None when nothing changed."""
    if not sys.dont_write_bytecode or os.environ.get(OPT_OUT) == "0":
        return None
    cache = bytecode_cache_dir()
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    if cache.stat().st_uid != os.getuid():
        return None  # never load bytecode another user could have written
    sys.pycache_prefix = str(cache)
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return cache
