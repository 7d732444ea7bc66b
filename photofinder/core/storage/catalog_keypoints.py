"""Keypoints stored per photo while it is indexed (photofinder.core.matching.stored_keypoints
encodes them; here they are bytes), under the version of what detected them. They live and go
with the photo's thumbnail: a changed file drops them, a copy or a move keeps them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from photofinder.core.storage.catalog_connection import CatalogConnection
from photofinder.core.storage.catalog_records import id_marks

IDS_PER_QUERY = 500  # ids per `IN (...)` list, well under SQLite's limit on parameters


class KeypointTables(CatalogConnection):
    """Reading photos' keypoints, and storing those of photos catalogued before (indexing
    stores the others with `FileStates.mark_ok`)."""

    def ids_without_keypoints(self, version: str) -> list[int]:
        """Read photos with a thumbnail but no keypoints of `version`."""
        rows = self._conn.execute(
            "SELECT f.id FROM files f JOIN thumbnails t ON t.file_id = f.id "
            "WHERE f.status = 'ok' AND NOT EXISTS (SELECT 1 FROM keypoints k "
            "WHERE k.file_id = f.id AND k.version = ?) ORDER BY f.id", (version,))
        return [int(row[0]) for row in rows]

    def add_keypoints(self, keypoints: Mapping[int, bytes], version: str) -> None:
        """Store keypoints of `version` for photos still read and catalogued (one that
        changed or went meanwhile is left alone), in one transaction."""
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO keypoints(file_id, version, data) SELECT ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM files WHERE id = ? AND status = 'ok')",
                [(file_id, version, data, file_id) for file_id, data in keypoints.items()])

    def keypoints_of(self, ids: Iterable[int], version: str) -> dict[int, bytes]:
        """file id → its stored keypoints of `version`; photos without are left out."""
        found: dict[int, bytes] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), IDS_PER_QUERY):
            chunk = id_list[start : start + IDS_PER_QUERY]
            rows = self._conn.execute(
                f"SELECT file_id, data FROM keypoints WHERE version = ? "
                f"AND file_id IN ({id_marks(chunk)})", [version, *chunk])
            found.update((int(file_id), bytes(data)) for file_id, data in rows)
        return found
