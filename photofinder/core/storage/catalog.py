"""The catalogue: watched roots, files with their state, thumbnails and vectors, in SQLite."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from photofinder.core.storage.locks import library_lock
from photofinder.core.storage.schema import migrate, refuse_emptied_catalog
from photofinder.core.storage.sqlite_errors import catalog_error

FILE_COLUMNS = (
    "id, root_id, path, size, mtime_ns, content_hash, width, height, format, captured_at, "
    "status, error, camera"
)


@dataclass(frozen=True)
class Root:
    id: int
    path: str
    excluded: bool
    photo_count: int = 0


@dataclass(frozen=True)
class FileRecord:
    id: int
    root_id: int | None
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    width: int | None
    height: int | None
    format: str | None
    captured_at: str | None
    status: str
    error: str | None
    camera: str | None = None


@dataclass(frozen=True)
class PhotoMetadata:
    """What one read of a photo tells us, stored on its file row."""

    content_hash: str
    width: int
    height: int
    format: str
    captured_at: str | None
    camera: str | None = None
    layout_hash: int | None = None


@dataclass(frozen=True)
class StatusCounts:
    total: int
    indexed: int
    pending: int
    failed: int


_UINT64 = (1 << 64) - 1


def _signed(value: int | None) -> int | None:
    """SQLite integers are signed 64-bit: store an unsigned 64-bit hash as its two's complement."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def _neighbours_key(method: str, version: str) -> str:
    return f"neighbours_seq:{method}:{version}"


def path_to_db(path: str) -> str | bytes:
    """A path as the catalogue stores it: TEXT when it is valid UTF-8, else its OS bytes as
    a BLOB (a name with undecodable bytes holds lone surrogates that SQLite cannot encode)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_db(value: object) -> str:
    """A stored path back as the str the OS functions take (a BLOB through os.fsdecode)."""
    return os.fsdecode(value) if isinstance(value, bytes) else str(value)


def _file(row: tuple[object, ...]) -> FileRecord:
    values = list(row)
    values[2] = path_from_db(values[2])  # FILE_COLUMNS: path is the third
    return FileRecord(*values)  # type: ignore[arg-type]


def _is_under(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
               for folder in folders)


class Catalog:
    """One SQLite connection; use one Catalog per thread (WAL lets readers run beside a writer)."""

    def __init__(self, path: Path) -> None:
        """Open (creating or migrating under the folder's "catalog" lock, so that processes
        starting together never race); an emptied catalogue where a library existed raises
        CatalogDamagedError instead of becoming an empty library."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._in_tx = False
        with library_lock(path.parent, "catalog"):
            try:
                self._conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
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

    # --- roots -----------------------------------------------------------------------------
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

    # --- files -----------------------------------------------------------------------------
    def file_by_id(self, file_id: int) -> FileRecord | None:
        row = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE id = ?", (file_id,)
        ).fetchone()
        return _file(row) if row else None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files WHERE path = ?", (path_to_db(path),)
        ).fetchone()
        return _file(row) if row else None

    def files_by_ids(self, ids: Iterable[int]) -> dict[int, FileRecord]:
        found: dict[int, FileRecord] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            chunk = id_list[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT {FILE_COLUMNS} FROM files WHERE id IN ({marks})", chunk
            ):
                record = _file(row)
                found[record.id] = record
        return found

    def files_under(self, root_id: int) -> dict[str, tuple[int, int, int]]:
        """path -> (id, size, mtime_ns) of every file catalogued under a root."""
        rows = self._conn.execute(
            "SELECT path, id, size, mtime_ns FROM files WHERE root_id = ?", (root_id,)
        )
        return {path_from_db(p): (int(i), int(s), int(m)) for p, i, s, m in rows}

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

    def mark_ok(self, file_id: int, meta: PhotoMetadata, thumbnail: bytes) -> None:
        self._conn.execute(
            "UPDATE files SET content_hash = ?, width = ?, height = ?, format = ?, "
            "captured_at = ?, camera = ?, layout_hash = ?, status = 'ok', error = NULL, "
            "updated_at = ? WHERE id = ?",
            (meta.content_hash, meta.width, meta.height, meta.format, meta.captured_at,
             meta.camera, _signed(meta.layout_hash), time.time(), file_id),
        )
        self._conn.execute(
            "INSERT OR REPLACE INTO thumbnails(file_id, jpeg) VALUES (?, ?)", (file_id, thumbnail)
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
        marks = ",".join("?" * len(root_ids))
        cursor = self._conn.execute(
            "UPDATE files SET status = 'pending', error = NULL, error_transient = 0, "
            f"updated_at = ? WHERE status = 'failed' AND root_id IN ({marks}) "
            "AND (? OR error_transient = 1)",
            (time.time(), *root_ids, int(everything)),
        )
        return int(cursor.rowcount)

    def copy_photo(self, source_id: int, target_id: int) -> None:
        """An exact copy of a catalogued photo: reuse its metadata, thumbnail and vectors."""
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
            "INSERT OR REPLACE INTO vectors(file_id, method, version, vector) "
            "SELECT ?, method, version, vector FROM vectors WHERE file_id = ?",
            (target_id, source_id),
        )

    def work_for(self, method: str, version: str, root_ids: list[int]) -> list[FileRecord]:
        """Files under these roots that still need a read or a vector for this method."""
        if not root_ids:
            return []
        marks = ",".join("?" * len(root_ids))
        rows = self._conn.execute(
            f"SELECT {FILE_COLUMNS} FROM files f WHERE f.root_id IN ({marks}) AND ("
            "f.status = 'pending' OR (f.status = 'ok' AND NOT EXISTS ("
            "SELECT 1 FROM vectors v WHERE v.file_id = f.id AND v.method = ? AND v.version = ?)))"
            " ORDER BY f.path",
            (*root_ids, method, version),
        ).fetchall()
        return [_file(r) for r in rows]

    def hashes_with_vectors(self, method: str, version: str) -> dict[str, int]:
        """content hash -> a file id that already has a vector for this method."""
        rows = self._conn.execute(
            "SELECT f.content_hash, f.id FROM files f JOIN vectors v ON v.file_id = f.id "
            "WHERE v.method = ? AND v.version = ? AND f.status = 'ok'",
            (method, version),
        )
        return {str(h): int(i) for h, i in rows if h}

    def thumbnail(self, file_id: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT jpeg FROM thumbnails WHERE file_id = ?", (file_id,)
        ).fetchone()
        return bytes(row[0]) if row else None

    # --- vectors ---------------------------------------------------------------------------
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
        self, method: str, version: str, after_seq: int, dim: int, chunk: int = 4096
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

    # --- status ----------------------------------------------------------------------------
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
        return [int(r[0]) for r in rows], [int(r[1]) & _UINT64 for r in rows]

    def ids_without_layout_hash(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT id FROM files WHERE status = 'ok' AND layout_hash IS NULL ORDER BY id"
        )
        return [int(r[0]) for r in rows]

    def set_layout_hashes(self, hashes: dict[int, int]) -> None:
        with self.transaction():
            self._conn.executemany(
                "UPDATE files SET layout_hash = ? WHERE id = ?",
                [(_signed(h), i) for i, h in hashes.items()],
            )

    # --- user decisions on duplicates (by content hash: they survive moves and re-indexing) --
    def add_decisions(self, hash_pairs: Iterable[tuple[str, str]], kind: str) -> None:
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO decisions(hash_a, hash_b, kind, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(min(a, b), max(a, b), kind, time.time()) for a, b in hash_pairs],
            )

    def remove_decisions(self, hash_pairs: Iterable[tuple[str, str]]) -> None:
        with self.transaction():
            self._conn.executemany(
                "DELETE FROM decisions WHERE hash_a = ? AND hash_b = ?",
                [(min(a, b), max(a, b)) for a, b in hash_pairs],
            )

    def decided_pairs(self, hash_pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (sorted) hash pairs the user ruled on: not duplicates, or keep all."""
        wanted = {(min(a, b), max(a, b)) for a, b in hash_pairs}
        if not wanted:
            return set()
        rows = self._conn.execute("SELECT hash_a, hash_b FROM decisions")
        return {(str(a), str(b)) for a, b in rows} & wanted

    # --- folder errors and settings --------------------------------------------------------
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

    def get_setting(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value)
        )
