"""`python bot.py backup PATH`: a consistent copy of the SQLite database, while the bot runs.

SQLite's online backup API copies pages under a read transaction, so the copy is one
consistent snapshot even while the bot keeps committing reports (WAL lets both proceed).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from storage import UnsupportedDatabaseURL, sqlite_path


def backup_database(source: Path, destination: Path) -> int:
    """Copy `source` to `destination` (created 0600). Returns the number of reports copied."""
    if destination.exists():
        raise FileExistsError(f"{destination} already exists; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(destination, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst, pages=1024)
            (reports,) = dst.execute("SELECT COUNT(*) FROM reports").fetchone()
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    if check != "ok":
        raise RuntimeError(f"the copy failed SQLite's integrity check: {check}")
    return int(reports)


def backup_command(database_url: str, destination: str) -> int:
    """The CLI: one line on success or on failure, exit status 0 or 2."""
    try:
        source = sqlite_path(database_url or "sqlite:///data/vigil.db")
    except UnsupportedDatabaseURL:
        print(
            "vigil: backup copies the SQLite database; for PostgreSQL use pg_dump",
            file=sys.stderr,
        )
        return 2
    if source is None or not source.exists():
        print(f"vigil: no SQLite database at {source}: check DATABASE_URL", file=sys.stderr)
        return 2
    try:
        reports = backup_database(source, Path(destination))
    except (OSError, sqlite3.Error, RuntimeError) as error:
        print(f"vigil: backup failed: {error}", file=sys.stderr)
        return 2
    print(f"vigil: backed up {source} to {destination} ({reports} reports)")
    return 0
