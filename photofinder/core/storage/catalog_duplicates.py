"""What the duplicate search reads from the catalogue (exact copies, layout hashes) and the
user's decisions on pairs, kept by content hash so that they survive moves and re-indexing."""

from __future__ import annotations

import time
from collections.abc import Iterable

from photofinder.core.storage.catalog_connection import CatalogConnection
from photofinder.core.storage.catalog_records import UINT64_MASK, signed_64


def _sorted_pair(a: str, b: str) -> tuple[str, str]:
    return min(a, b), max(a, b)


class DuplicateTables(CatalogConnection):
    """Content and layout hashes of the files, and the decisions table."""

    def hash_groups(self) -> list[list[int]]:
        """Ids of files sharing a content hash (exact copies), groups of two or more."""
        rows = self._conn.execute(
            "SELECT group_concat(id) FROM files WHERE status = 'ok' AND content_hash IS NOT NULL "
            "GROUP BY content_hash HAVING COUNT(*) > 1"
        )
        return [sorted(int(i) for i in str(r[0]).split(",")) for r in rows]

    def layout_hashes(self) -> tuple[list[int], list[int]]:
        """Ids and layout hashes (unsigned) of the indexed photos that have one."""
        rows = self._conn.execute(
            "SELECT id, layout_hash FROM files WHERE status = 'ok' AND layout_hash IS NOT NULL "
            "ORDER BY id"
        ).fetchall()
        return [int(r[0]) for r in rows], [int(r[1]) & UINT64_MASK for r in rows]

    def ids_without_layout_hash(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT id FROM files WHERE status = 'ok' AND layout_hash IS NULL ORDER BY id"
        )
        return [int(r[0]) for r in rows]

    def set_layout_hashes(self, hashes: dict[int, int]) -> None:
        with self.transaction():
            self._conn.executemany(
                "UPDATE files SET layout_hash = ? WHERE id = ?",
                [(signed_64(h), i) for i, h in hashes.items()],
            )

    def add_decisions(self, hash_pairs: Iterable[tuple[str, str]], kind: str) -> None:
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO decisions(hash_a, hash_b, kind, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(*_sorted_pair(a, b), kind, time.time()) for a, b in hash_pairs],
            )

    def remove_decisions(self, hash_pairs: Iterable[tuple[str, str]]) -> None:
        with self.transaction():
            self._conn.executemany(
                "DELETE FROM decisions WHERE hash_a = ? AND hash_b = ?",
                [_sorted_pair(a, b) for a, b in hash_pairs],
            )

    def decided_pairs(self, hash_pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (sorted) hash pairs the user ruled on: not duplicates, or keep all."""
        wanted = {_sorted_pair(a, b) for a, b in hash_pairs}
        if not wanted:
            return set()
        rows = self._conn.execute("SELECT hash_a, hash_b FROM decisions")
        return {(str(a), str(b)) for a, b in rows} & wanted
