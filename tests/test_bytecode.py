"""tests/bytecode.py: with PYTHONDONTWRITEBYTECODE set, bytecode goes to a per-user cache
outside the tree (never next to the sources), for the processes the run starts too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from tests.bytecode import cache_bytecode_outside_the_tree
print(cache_bytecode_outside_the_tree())
sys.path.insert(0, sys.argv[2])
import probe_module
child = "import sys; sys.path.insert(0, sys.argv[1]); import probe_child"
subprocess.run([sys.executable, "-c", child, sys.argv[2]], check=True)
"""


def _run(tmp_path: Path, **env: str) -> tuple[str, list[str], list[str]]:
    """Run the probe; returns what it printed, the files next to the sources and those in
    the cache."""
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "probe_module.py").write_text("VALUE = 1\n")
    (sources / "probe_child.py").write_text("VALUE = 2\n")
    cache = tmp_path / "cache"
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, root, str(sources)],
        env={**base, "XDG_CACHE_HOME": str(cache), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    beside = sorted(p.name for p in sources.rglob("*.pyc"))
    cached = sorted(p.name for p in cache.rglob("*.pyc") if "probe_" in p.name)
    return out.stdout.strip(), beside, cached


def test_with_the_variable_set_bytecode_goes_to_the_cache_for_children_too(
    tmp_path: Path,
) -> None:
    printed, beside, cached = _run(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert printed == str(tmp_path / "cache" / "vigil-tests" / "bytecode")
    assert beside == [], "nothing is written next to the sources"
    assert [name.split(".")[0] for name in cached] == ["probe_child", "probe_module"]


@pytest.mark.parametrize(
    "env",
    [{"PYTHONDONTWRITEBYTECODE": "1", "VIGIL_TEST_BYTECODE_CACHE": "0"}, {}],
    ids=["opted-out", "variable-unset"],
)
def test_otherwise_python_behaves_as_set(tmp_path: Path, env: dict[str, str]) -> None:
    printed, beside, cached = _run(tmp_path, **env)
    assert printed == "None" and cached == []
    if env:
        assert beside == []
