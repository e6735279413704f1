"""`python bot.py demo`: the offline story runs from a clean environment, shows the key moments,
and fails loudly (non-zero) when a step does not happen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.botproc import REPO_ROOT


def run_demo(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The demo as a person would run it: no token, no database, somewhere else than the repo."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "bot.py"), "demo"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.long_scenario(seconds=3)
def test_demo_plays_the_story_without_a_token(tmp_path: Path):
    # A deployment's .env where the demo is run is not read (this one would stop the bot).
    (tmp_path / ".env").write_text("REPORT_RATE_LIMIT=lots\nDATABASE_URL=sqlite:///prod.db\n")
    done = run_demo(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    moments = [
        "Your report about Dave has been received",  # the reporter's ephemeral answer
        "Case #1: reports about Dave",  # the alert
        "Distinct reporters: 3",
        "Dave is timed out for 1 hour",  # the moderator's confirmation
        "@maya timed out the member (1 hour)",  # the alert updated
        "DM from Vigil to alice",  # the feedback DM
        "have acted on your report about Dave",
        "call 999",  # child safety: the emergency number first, then the hotline
        "Internet Watch Foundation",
        "URGENT: Case #2",
        "@Moderators",  # the moderator-role mention on the urgent alert
        "every body valid against Discord's OpenAPI spec",
    ]
    missing = [m for m in moments if m not in out]
    assert not missing, out
    assert out.index("Case #1") < out.index("timed out for 1 hour") < out.index("URGENT")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "prod.db").exists()


def test_demo_fails_when_the_bot_cannot_start(tmp_path: Path):
    # A setting the bot refuses: the bot exits at once, so the story cannot happen.
    done = run_demo(tmp_path, REPORT_RATE_LIMIT="lots")
    assert done.returncode != 0
    assert "vigil demo: FAILED: Vigil did not start" in done.stderr
    assert "REPORT_RATE_LIMIT" in done.stderr  # the bot's own one-line reason, from its log
