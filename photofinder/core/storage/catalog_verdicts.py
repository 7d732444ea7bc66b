"""The duplicate checker's verdicts on pairs of photos, kept by content hash and the checker's
version, so a pair is checked once however often, and from wherever, duplicates are looked for.
A cache: `photofinder repair` drops it, and a new checker version ignores the old rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from photofinder.core.storage.catalog_connection import CACHE_WRITE_TIMEOUT_S, CatalogConnection

HashPair = tuple[str, str]  # two content hashes, the smaller first
LOOKUP_CHUNK = 400  # pairs per query: 2 variables each, under SQLite's oldest limit of 999


def hash_pair(a: str, b: str) -> HashPair:
    """The pair as stored: the smaller hash first."""
    return (a, b) if a <= b else (b, a)


class VerdictTables(CatalogConnection):
    """Read and store the checker's verdicts."""

    def verdicts(self, pairs: Iterable[HashPair], version: str) -> dict[HashPair, bool]:
        """The stored verdicts of `version` on these pairs (any order within a pair), keyed by
        the sorted pair; pairs never judged are left out."""
        wanted = sorted({hash_pair(a, b) for a, b in pairs})
        found: dict[HashPair, bool] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            rows = self._conn.execute(
                f"WITH wanted(a, b) AS (VALUES {', '.join(['(?, ?)'] * len(chunk))}) "
                "SELECT v.hash_a, v.hash_b, v.same FROM wanted JOIN verdicts v "
                "ON v.hash_a = wanted.a AND v.hash_b = wanted.b AND v.version = ?",
                [*(h for pair in chunk for h in pair), version],
            )
            found.update(((str(a), str(b)), bool(same)) for a, b, same in rows)
        return found

    def add_verdicts(self, verdicts: Mapping[HashPair, bool], version: str) -> None:
        """Store verdicts of `version` in one transaction, waiting at most
        CACHE_WRITE_TIMEOUT_S for another writer (CatalogError when it does not finish)."""
        if not verdicts:
            return
        rows = [(*hash_pair(a, b), version, int(same)) for (a, b), same in verdicts.items()]
        with self._busy_timeout(CACHE_WRITE_TIMEOUT_S), self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO verdicts(hash_a, hash_b, version, same) "
                "VALUES (?, ?, ?, ?)", rows)

    def verdict_count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])
