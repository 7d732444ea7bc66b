"""Vectors per file and method in the catalogue, and the close pairs recorded between them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from photofinder.core.storage.catalog_connection import SettingsTable

VECTORS_PER_CHUNK = 4096  # rows per chunk that vectors_since yields by default


def _neighbours_key(method: str, version: str) -> str:
    return f"neighbours_seq:{method}:{version}"


class VectorTables(SettingsTable):
    """The vectors and neighbours tables (and the neighbours' progress mark in settings)."""

    def put_vector(
        self, file_id: int, method: str, version: str, vector: npt.NDArray[np.float32]
    ) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO vectors(file_id, method, version, vector) VALUES (?, ?, ?, ?)",
            (file_id, method, version, np.ascontiguousarray(vector, np.float32).tobytes()),
        )

    def vector(self, file_id: int, method: str, version: str) -> npt.NDArray[np.float32] | None:
        row = self._conn.execute(
            "SELECT vector FROM vectors WHERE file_id = ? AND method = ? AND version = ?",
            (file_id, method, version),
        ).fetchone()
        return np.frombuffer(row[0], np.float32).copy() if row else None

    def vector_ids(self, method: str, version: str) -> set[int]:
        rows = self._conn.execute(
            "SELECT file_id FROM vectors WHERE method = ? AND version = ?", (method, version)
        )
        return {int(r[0]) for r in rows}

    def max_vector_seq(self, method: str, version: str) -> int:
        row = self._conn.execute(
            "SELECT MAX(seq) FROM vectors WHERE method = ? AND version = ?", (method, version)
        ).fetchone()
        return int(row[0] or 0)

    def vectors_since(
        self, method: str, version: str, after_seq: int, dim: int, chunk: int = VECTORS_PER_CHUNK
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]:
        """Vectors written after a sequence number, in chunks of (ids, matrix)."""
        cursor = self._conn.execute(
            "SELECT file_id, vector FROM vectors WHERE method = ? AND version = ? AND seq > ? "
            "ORDER BY seq",
            (method, version, after_seq),
        )
        while rows := cursor.fetchmany(chunk):
            ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            matrix = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(-1, dim)
            yield ids, matrix

    def add_neighbours(self, method: str, version: str, pairs: Iterable[tuple[int, int]]) -> None:
        """Record candidate pairs (smaller id first)."""
        with self.transaction():
            self._conn.executemany(
                "INSERT OR IGNORE INTO neighbours(method, version, a, b) VALUES (?, ?, ?, ?)",
                [(method, version, a, b) for a, b in pairs],
            )

    def neighbours_seq(self, method: str, version: str) -> int:
        """The last vector sequence number whose neighbours are recorded."""
        return int(self.get_setting(_neighbours_key(method, version)) or 0)

    def set_neighbours_seq(self, method: str, version: str, seq: int) -> None:
        self.set_setting(_neighbours_key(method, version), str(seq))

    def neighbours(self, method: str, version: str) -> list[tuple[int, int]]:
        rows = self._conn.execute(
            "SELECT a, b FROM neighbours WHERE method = ? AND version = ?", (method, version)
        )
        return [(int(a), int(b)) for a, b in rows]
