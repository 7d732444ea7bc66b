"""The catalogue's SQLite connection: opening (locked, migrated) and write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from photofinder.core.storage.locks import library_lock
from photofinder.core.storage.schema import migrate, refuse_emptied_catalog
from photofinder.core.storage.sqlite_errors import catalog_error

BUSY_TIMEOUT_S = 30.0  # how long a write waits for another process's transaction to end
# Writing a cache (verdicts, remembered groups) waits this long, not BUSY_TIMEOUT_S, for another
# process's write to end (its caller then carries on without storing).
CACHE_WRITE_TIMEOUT_S = 2.0


class CatalogConnection:
    """One SQLite connection; use one per thread (WAL lets readers run beside a writer)."""

    def __init__(self, path: Path) -> None:
        """Open (creating or migrating under the folder's "catalog" lock, so that processes
        starting together never race); an emptied catalogue where a library existed raises
        CatalogDamagedError instead of becoming an empty library."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._in_tx = False
        with library_lock(path.parent, "catalog"):
            try:
                self._conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            except sqlite3.Error as exc:
                raise catalog_error(exc, path) from exc
            try:
                refuse_emptied_catalog(self._conn, path)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                migrate(self._conn)
            except BaseException as exc:
                self._conn.close()
                if isinstance(exc, sqlite3.Error):
                    raise catalog_error(exc, path) from exc
                raise

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so that a crash keeps all of them or none."""
        if self._in_tx:
            yield
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise catalog_error(exc, self.path) from exc
        self._in_tx = True
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:  # SQLite rolls back by itself after some errors
                with suppress(sqlite3.Error):  # the error that got us here is the one to show
                    self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise catalog_error(exc, self.path) from exc
            raise
        finally:
            self._in_tx = False

    @contextmanager
    def _busy_timeout(self, seconds: float) -> Iterator[None]:
        """Wait at most `seconds` for a lock inside the block, then as long as usual again."""
        self._conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


class SettingsTable(CatalogConnection):
    """Key-value settings stored with the catalogue."""

    def get_setting(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value)
        )
