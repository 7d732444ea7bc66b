"""Catalogues as an older PhotoFinder left them, for the migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from photofinder.core.storage.schema import MIGRATIONS


def catalogue_at(path: Path, version: int) -> Path:
    """A catalogue at schema `version` with one watched folder, '/p'."""
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:version]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO roots(path, excluded, added_at) VALUES ('/p', 0, 0)")
    conn.commit()
    conn.close()
    return path
