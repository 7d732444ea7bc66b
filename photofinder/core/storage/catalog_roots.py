"""Watched folders in the catalogue, and what their last scans could not read or left out."""

from __future__ import annotations

import os
import time
from pathlib import Path

from photofinder.core.storage.catalog_connection import CatalogConnection
from photofinder.core.storage.catalog_records import Root, path_from_db, path_to_db


def _is_under(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
               for folder in folders)


class RootsTables(CatalogConnection):
    """The roots, folder_errors and skipped tables."""

    def add_root(self, path: Path, excluded: bool = False) -> Root:
        text = str(path)
        self._conn.execute(
            "INSERT INTO roots(path, excluded, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET excluded = excluded.excluded",
            (path_to_db(text), int(excluded), time.time()),
        )
        row = self._conn.execute(
            "SELECT id FROM roots WHERE path = ?", (path_to_db(text),)
        ).fetchone()
        return Root(id=int(row[0]), path=text, excluded=excluded)

    def remove_root(self, path: Path) -> int:
        """Forget a root and every file catalogued under it; returns how many files went."""
        with self.transaction():
            row = self._conn.execute(
                "SELECT id FROM roots WHERE path = ?", (path_to_db(str(path)),)
            ).fetchone()
            if row is None:
                return 0
            count = self._conn.execute(
                "DELETE FROM files WHERE root_id = ?", (row[0],)
            ).rowcount
            self._conn.execute("DELETE FROM roots WHERE id = ?", (row[0],))
            self._delete_skipped_under([str(path)])
            return int(count)

    def merge_root(self, inner_id: int, outer_id: int) -> None:
        """Fold a watched folder into one that contains it, keeping its files' records."""
        with self.transaction():
            self._conn.execute(
                "UPDATE files SET root_id = ? WHERE root_id = ?", (outer_id, inner_id)
            )
            self._conn.execute("DELETE FROM roots WHERE id = ?", (inner_id,))

    def roots(self) -> list[Root]:
        rows = self._conn.execute(
            "SELECT r.id, r.path, r.excluded, COUNT(f.id) FROM roots r "
            "LEFT JOIN files f ON f.root_id = r.id AND f.status = 'ok' "
            "GROUP BY r.id ORDER BY r.path"
        ).fetchall()
        return [Root(int(i), path_from_db(p), bool(e), int(n)) for i, p, e, n in rows]

    def set_folder_errors(self, errors: dict[str, str]) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM folder_errors")
            now = time.time()
            self._conn.executemany(
                "INSERT INTO folder_errors(path, reason, seen_at) VALUES (?, ?, ?)",
                [(path_to_db(p), r, now) for p, r in errors.items()],
            )

    def folder_errors(self) -> list[tuple[str, str]]:
        rows = self._conn.execute("SELECT path, reason FROM folder_errors ORDER BY path")
        return [(path_from_db(p), str(r)) for p, r in rows]

    def set_skipped(self, entries: dict[str, str], under: list[str] | None = None) -> None:
        """Replace the skipped links and special files (path -> reason) found below the
        folders in `under` (everywhere when None) by `entries`."""
        with self.transaction():
            if under is None:
                self._conn.execute("DELETE FROM skipped")
            else:
                self._delete_skipped_under(under)
            now = time.time()
            self._conn.executemany(
                "INSERT OR REPLACE INTO skipped(path, reason, seen_at) VALUES (?, ?, ?)",
                [(path_to_db(p), r, now) for p, r in entries.items()],
            )

    def _delete_skipped_under(self, folders: list[str]) -> None:
        stale = [
            (stored,) for (stored,) in self._conn.execute("SELECT path FROM skipped")
            if _is_under(path_from_db(stored), folders)
        ]
        self._conn.executemany("DELETE FROM skipped WHERE path = ?", stale)

    def skipped(self) -> list[tuple[str, str]]:
        """(path, reason) of each link or special file the last scans left out."""
        rows = self._conn.execute("SELECT path, reason FROM skipped")
        return sorted((path_from_db(p), str(r)) for p, r in rows)
