"""Self-test configuration: make ``emulator`` importable and load its fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.emulator.fixtures import bot_factory, emulator, floor_bot  # noqa: E402

__all__ = ["bot_factory", "emulator", "floor_bot"]
