"""Keypoints stored per photo while it is indexed (photofinder.core.matching.stored_keypoints
encodes them; here they are bytes), under the version of what detected them. They live and go
with the photo's thumbnail: a changed file drops them, a copy or a move keeps them."""

from __future__ import annotations

from collections.abc import Iterable

from photofinder.core.storage.catalog_connection import CatalogConnection
from photofinder.core.storage.catalog_records import id_marks

IDS_PER_QUERY = 500  # ids per `IN (...)` list, well under SQLite's limit on parameters


class KeypointTables(CatalogConnection):
    """Reading photos' keypoints (`FileStates.mark_ok` stores them)."""

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
