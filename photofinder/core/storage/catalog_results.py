"""The catalogue's change counter and the duplicate groups remembered under it.

Triggers (schema step 9) move the counter whenever something duplicate groups depend on
changes, in the same transaction as the change; a remembered result carries the counter it
was found at, so it answers only while nothing has changed since. A cache: repair drops it."""

from __future__ import annotations

from dataclasses import dataclass

from photofinder.core.storage.catalog_connection import CACHE_WRITE_TIMEOUT_S, CatalogConnection


@dataclass(frozen=True)
class StoredResult:
    """A remembered duplicate search, as stored: what the caller wrote, never interpreted."""

    changes: int  # the counter when the search read the catalogue
    groups: str
    considered: bytes
    absent: bytes


class ResultTables(CatalogConnection):
    """The change counter, and reading and storing remembered duplicate searches."""

    def change_count(self) -> int:
        row = self._conn.execute("SELECT counter FROM changes WHERE id = 1").fetchone()
        return int(row[0]) if row else -1

    def stored_result(self, key: str) -> StoredResult | None:
        row = self._conn.execute(
            "SELECT changes, groups, considered, absent FROM duplicate_results WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        changes, groups, considered, absent = row
        if not (isinstance(groups, str) and isinstance(considered, bytes)
                and isinstance(absent, bytes)):
            return None  # not what was written: found again
        return StoredResult(int(changes), groups, considered, absent)

    def store_result(self, key: str, result: StoredResult) -> None:
        """Keep `result` under `key` (replacing the last), waiting at most
        CACHE_WRITE_TIMEOUT_S for another writer (CatalogError when it does not finish)."""
        with self._busy_timeout(CACHE_WRITE_TIMEOUT_S), self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO duplicate_results(key, changes, groups, considered, "
                "absent) VALUES (?, ?, ?, ?, ?)",
                (key, result.changes, result.groups, result.considered, result.absent),
            )
