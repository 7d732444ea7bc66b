"""Catalogued files: looking them up, and the states indexing moves them through."""

from __future__ import annotations

import time
from collections.abc import Iterable

from photofinder.core.storage.catalog_connection import CatalogConnection
from photofinder.core.storage.catalog_records import (
    FILE_COLUMNS,
    FileRecord,
    PhotoMetadata,
    StatusCounts,
    file_record,
    id_marks,
    path_from_db,
    path_to_db,
    signed_64,
)

IDS_PER_QUERY = 500  # ids per `IN (...)` list, well under SQLite's limit on parameters


class FileLookups(CatalogConnection):
    """Reading file records, thumbnails and counts."""

    def file_by_id(self, file_id: int) -> FileRecord | None:
        row = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE id = ?", (file_id,)
        ).fetchone()
        return file_record(row) if row else None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE path = ?", (path_to_db(path),)
        ).fetchone()
        return file_record(row) if row else None

    def files_by_ids(self, ids: Iterable[int]) -> dict[int, FileRecord]:
        found: dict[int, FileRecord] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), IDS_PER_QUERY):
            chunk = id_list[start : start + IDS_PER_QUERY]
            for row in self._conn.execute(
                f"SELECT {FILE_COLUMNS} FROM files WHERE id IN ({id_marks(chunk)})", chunk
            ):
                record = file_record(row)
                found[record.id] = record
        return found

    def paths_by_ids(self, ids: Iterable[int]) -> dict[int, str]:
        """id -> path of the files with these ids (those catalogued)."""
        found: dict[int, str] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), IDS_PER_QUERY):
            chunk = id_list[start : start + IDS_PER_QUERY]
            found.update(
                (int(i), path_from_db(p)) for i, p in self._conn.execute(
                    f"SELECT id, path FROM files WHERE id IN ({id_marks(chunk)})", chunk))
        return found

    def files_under(self, root_id: int) -> dict[str, tuple[int, int, int]]:
        """path -> (id, size, mtime_ns) of every file catalogued under a root."""
        rows = self._conn.execute(
            "SELECT path, id, size, mtime_ns FROM files WHERE root_id = ?", (root_id,)
        )
        return {path_from_db(p): (int(i), int(s), int(m)) for p, i, s, m in rows}

    def thumbnail(self, file_id: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT jpeg FROM thumbnails WHERE file_id = ?", (file_id,)
        ).fetchone()
        return bytes(row[0]) if row else None

    def status_counts(self, method: str, version: str) -> StatusCounts:
        total, failed = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'failed'), 0) FROM files"
        ).fetchone()
        indexed = self._conn.execute(
            "SELECT COUNT(*) FROM vectors v JOIN files f ON f.id = v.file_id "
            "WHERE v.method = ? AND v.version = ? AND f.status = 'ok'",
            (method, version),
        ).fetchone()[0]
        return StatusCounts(
            total=int(total), indexed=int(indexed), failed=int(failed),
            pending=int(total) - int(indexed) - int(failed),
        )

    def failed_files(self) -> list[tuple[str, str]]:
        rows = self._conn.execute(
            "SELECT path, COALESCE(error, '') FROM files WHERE status = 'failed' ORDER BY path"
        )
        return [(path_from_db(p), str(e)) for p, e in rows]


class FileStates(CatalogConnection):
    """What indexing writes: seen, moved, read (ok or failed), copied, gone."""

    def upsert_seen(self, root_id: int, path: str, size: int, mtime_ns: int) -> int:
        """Record a new or changed file as pending (its old vectors and thumbnail dropped)."""
        with self.transaction():
            stored = path_to_db(path)
            row = self._conn.execute("SELECT id FROM files WHERE path = ?", (stored,)).fetchone()
            now = time.time()
            if row is None:
                cursor = self._conn.execute(
                    "INSERT INTO files(root_id, path, size, mtime_ns, status, updated_at) "
                    "VALUES (?, ?, ?, ?, 'pending', ?)",
                    (root_id, stored, size, mtime_ns, now),
                )
                return int(cursor.lastrowid or 0)
            file_id = int(row[0])
            self._conn.execute(
                "UPDATE files SET root_id = ?, size = ?, mtime_ns = ?, status = 'pending', "
                "error = NULL, content_hash = NULL, updated_at = ? WHERE id = ?",
                (root_id, size, mtime_ns, now, file_id),
            )
            self._conn.execute("DELETE FROM vectors WHERE file_id = ?", (file_id,))
            self._conn.execute("DELETE FROM thumbnails WHERE file_id = ?", (file_id,))
            self._conn.execute("DELETE FROM keypoints WHERE file_id = ?", (file_id,))
            return file_id

    def move_file(self, file_id: int, root_id: int, path: str, size: int, mtime_ns: int) -> None:
        """A catalogued photo was renamed or moved: keep its id, vectors and thumbnail."""
        self._conn.execute(
            "UPDATE files SET root_id = ?, path = ?, size = ?, mtime_ns = ?, updated_at = ? "
            "WHERE id = ?",
            (root_id, path_to_db(path), size, mtime_ns, time.time(), file_id),
        )

    def delete_files(self, ids: Iterable[int]) -> None:
        with self.transaction():
            self._conn.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in ids])

    def mark_ok(
        self, file_id: int, meta: PhotoMetadata, thumbnail: bytes,
        keypoints: tuple[str, bytes] | None = None,
    ) -> None:
        """The file was read: its metadata, thumbnail and (version, bytes) of its keypoints."""
        self._conn.execute(
            "UPDATE files SET content_hash = ?, width = ?, height = ?, format = ?, "
            "captured_at = ?, camera = ?, layout_hash = ?, status = 'ok', error = NULL, "
            "updated_at = ? WHERE id = ?",
            (meta.content_hash, meta.width, meta.height, meta.format, meta.captured_at,
             meta.camera, signed_64(meta.layout_hash), time.time(), file_id),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO thumbnails(file_id, jpeg) VALUES (?, ?)", (file_id, thumbnail)
        )
        self._conn.execute("DELETE FROM keypoints WHERE file_id = ?", (file_id,))
        if keypoints is not None:
            self._conn.execute(
                "INSERT INTO keypoints(file_id, version, data) VALUES (?, ?, ?)",
                (file_id, *keypoints),
            )

    def mark_failed(self, file_id: int, reason: str, transient: bool = False) -> None:
        """Record a failed read; a transient one (permission, I/O) is retried on each update."""
        self._conn.execute(
            "UPDATE files SET status = 'failed', error = ?, error_transient = ?, updated_at = ? "
            "WHERE id = ?",
            (reason, int(transient), time.time(), file_id),
        )

    def requeue_failed(self, root_ids: list[int], everything: bool = False) -> int:
        """Set the transient failures (or all of them) under these roots back to pending, so
        the next run reads them again; returns how many."""
        if not root_ids:
            return 0
        cursor = self._conn.execute(
            "UPDATE files SET status = 'pending', error = NULL, error_transient = 0, "
            f"updated_at = ? WHERE status = 'failed' AND root_id IN ({id_marks(root_ids)}) "
            "AND (? OR error_transient = 1)",
            (time.time(), *root_ids, int(everything)),
        )
        return int(cursor.rowcount)

    def copy_photo(self, source_id: int, target_id: int) -> None:
        """An exact copy of a catalogued photo: reuse its metadata, thumbnail, keypoints and
        vectors."""
        self._conn.execute(
            "UPDATE files SET (content_hash, width, height, format, captured_at, camera, "
            "layout_hash, status, error) = (SELECT content_hash, width, height, format, "
            "captured_at, camera, layout_hash, 'ok', NULL FROM files WHERE id = ?), "
            "updated_at = ? WHERE id = ?",
            (source_id, time.time(), target_id),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO thumbnails(file_id, jpeg) "
            "SELECT ?, jpeg FROM thumbnails WHERE file_id = ?",
            (target_id, source_id),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO keypoints(file_id, version, data) "
            "SELECT ?, version, data FROM keypoints WHERE file_id = ?",
            (target_id, source_id),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO vectors(file_id, method, version, vector) "
            "SELECT ?, method, version, vector FROM vectors WHERE file_id = ?",
            (target_id, source_id),
        )

    def work_for(self, method: str, version: str, root_ids: list[int]) -> list[FileRecord]:
        """Files under these roots that still need a read or a vector for this method."""
        if not root_ids:
            return []
        rows = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files f WHERE f.root_id IN ({id_marks(root_ids)}) AND ("
            "f.status = 'pending' OR (f.status = 'ok' AND NOT EXISTS ("
            "SELECT 1 FROM vectors v WHERE v.file_id = f.id AND v.method = ? AND v.version = ?)))"
            " ORDER BY f.path",
            (*root_ids, method, version),
        ).fetchall()
        return [file_record(r) for r in rows]

    def hashes_with_vectors(self, method: str, version: str) -> dict[str, int]:
        """content hash -> a file id that already has a vector for this method."""
        rows = self._conn.execute(
            "SELECT f.content_hash, f.id FROM files f JOIN vectors v ON v.file_id = f.id "
            "WHERE v.method = ? AND v.version = ? AND f.status = 'ok'",
            (method, version),
        )
        return {str(h): int(i) for h, i in rows if h}
