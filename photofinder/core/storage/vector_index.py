"""An hnswlib index per method on disk: a cache of the catalogue's vectors, kept in sync."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np
import numpy.typing as npt

from photofinder.core.errors import IndexSaveError
from photofinder.core.storage.atomic import atomic_path, remove_stale_temps
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.sqlite_errors import os_error_reason

M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 64
FORMAT = 2  # 2: the metadata holds the index file's size and BLAKE2b digest
REBUILD_DELETED_FRACTION = 0.3
STALE_TEMP_S = 600.0  # an unfinished save older than this was killed midway
FREE_SPACE_SLACK = 256 * 1024

# hnswlib 0.8 saveIndex: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
# label_offset, offsetData (size_t), maxlevel (int), enterpoint (uint32), maxM, maxM0, M
# (size_t), mult (double), ef_construction (size_t); then cur_element_count level-0 records,
# then per element a uint32 linkListSize and that many bytes of upper-level links.
_HEADER = struct.Struct("<6QiI3QdQ")
_LINK_SIZE = struct.Struct("<I")


class CorruptIndexFileError(ValueError):
    """An hnswlib file whose structure is not what saveIndex writes (short or damaged)."""


def file_digest(path: Path) -> str:
    """BLAKE2b of a file's content, hex."""
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_index_file(path: Path, dim: int) -> None:
    """Walk an hnswlib file as hnswlib's loadIndex does; raise CorruptIndexFileError unless
    the header fits this dimension and the per-element link lists end exactly at the end."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        count, per_element, per_level, max_level = _read_header(handle.read(_HEADER.size), dim)
        tail_start = _HEADER.size + count * per_element
        if tail_start + 4 * count > size:
            raise CorruptIndexFileError(f"{size} bytes, shorter than its {count} elements")
        handle.seek(tail_start)
        tail = handle.read()
    _walk_link_lists(tail, count, per_level, max_level)


def _read_header(header: bytes, dim: int) -> tuple[int, int, int, int]:
    """(element count, bytes per level-0 record, bytes per upper level, top level)."""
    if len(header) < _HEADER.size:
        raise CorruptIndexFileError(f"{len(header)} bytes, shorter than the header")
    (offset_level0, max_elements, count, per_element, label_offset, offset_data, max_level,
     entry_point, max_m, max_m0, m, _mult, _ef) = _HEADER.unpack(header)
    links_level0 = max_m0 * 4 + 4
    expected = (0, links_level0, links_level0 + dim * 4, links_level0 + dim * 4 + 8)
    if (offset_level0, offset_data, label_offset, per_element) != expected or (
        count > max_elements or max_m != m
        or (count and (entry_point >= count or max_level < 0))
    ):  # an empty index has maxlevel -1 and no entry point
        raise CorruptIndexFileError("the header does not describe this index")
    return count, per_element, max_m * 4 + 4, max_level


def _walk_link_lists(tail: bytes, count: int, per_level: int, max_level: int) -> None:
    position = 0
    for _ in range(count):
        if position + 4 > len(tail):
            raise CorruptIndexFileError("the link lists end early")
        (length,) = _LINK_SIZE.unpack_from(tail, position)
        if length % per_level or length // per_level > max_level:
            raise CorruptIndexFileError("a link list has an impossible size")
        position += 4 + length
    if position != len(tail):
        raise CorruptIndexFileError("the link lists do not end at the end of the file")


@dataclass(frozen=True)
class IndexKey:
    method: str
    version: str
    dim: int

    @property
    def stem(self) -> str:
        return f"{self.method}@{self.version}"


class VectorIndex:
    """Cosine similarity search (inner product on unit vectors) keyed by catalogue file ids.

    The catalogue is the truth: on open the index is loaded and brought up to date with it
    (vectors written since the last save are added, ids no longer catalogued are removed), and
    a missing, corrupt or mismatched file is rebuilt from the catalogue's vectors."""

    def __init__(self, folder: Path, key: IndexKey) -> None:
        self.key = key
        self.path = folder / f"{key.stem}.hnsw"
        self.meta_path = folder / f"{key.stem}.json"
        self._lock = threading.RLock()
        self._index = self._empty(1024)
        self._live: set[int] = set()
        self._deleted = 0
        self.synced_seq = 0
        self.dirty = False

    # --- lifecycle ---------------------------------------------------------------------------
    def _empty(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="ip", dim=self.key.dim)
        index.init_index(max_elements=capacity, ef_construction=EF_CONSTRUCTION, M=M)
        index.set_ef(EF_SEARCH)
        return index

    def open(self, catalog: Catalog) -> VectorIndex:
        """Load from disk if it matches, then sync with the catalogue (rebuild if needed)."""
        with self._lock:
            remove_stale_temps(self.path.parent, STALE_TEMP_S)
            if not self._load():
                self._reset(catalog)
            self.sync(catalog)
            return self

    def _load(self) -> bool:
        """Load the saved file when its metadata matches and its size and digest prove it is
        the file that was saved (hnswlib itself crashes on some damaged files)."""
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
            if meta.get("format") != FORMAT or meta.get("dim") != self.key.dim:
                return False
            if self.path.stat().st_size != int(meta["size"]):
                return False
            if file_digest(self.path) != meta["blake2b"]:
                return False
            index = hnswlib.Index(space="ip", dim=self.key.dim)
            index.load_index(str(self.path), max_elements=int(meta["capacity"]))
            index.set_ef(EF_SEARCH)
            labels = set(int(i) for i in index.get_ids_list())
            if len(labels) != int(meta["count"]):
                return False
        except (OSError, ValueError, KeyError, RuntimeError, TypeError):
            return False
        self._index = index
        self._live = labels  # deleted-marked labels are pruned by the next sync
        self._deleted = int(meta.get("deleted", 0))
        self.synced_seq = int(meta["synced_seq"])
        return True

    def _reset(self, catalog: Catalog) -> None:
        count = len(catalog.vector_ids(self.key.method, self.key.version))
        self._index = self._empty(max(1024, int(count * 1.25)))
        self._live = set()
        self._deleted = 0
        self.synced_seq = 0
        self.dirty = True

    def sync(self, catalog: Catalog) -> None:
        """Apply what the catalogue changed since the last sync."""
        with self._lock:
            wanted = catalog.vector_ids(self.key.method, self.key.version)
            gone = self._live - wanted
            if gone and (self._deleted + len(gone)) > REBUILD_DELETED_FRACTION * max(
                1, len(self._live)
            ):
                self._reset(catalog)
                gone = set()
            for label in gone:
                self.remove(label)
            latest = catalog.max_vector_seq(self.key.method, self.key.version)
            missing = wanted - self._live
            if latest > self.synced_seq or missing:
                after = 0 if missing else self.synced_seq
                for ids, vectors in catalog.vectors_since(
                    self.key.method, self.key.version, after, self.key.dim
                ):
                    self.add(ids, vectors)
                self.synced_seq = latest

    def save(self) -> None:
        """Write index and metadata atomically, both written before either replaces the old
        files. Raises IndexSaveError (the previous files kept) when the disk is full, read-only
        or the write came out short."""
        with self._lock:
            try:
                self._check_free_space()
                with atomic_path(self.meta_path) as meta_tmp, atomic_path(self.path) as tmp:
                    self._index.save_index(str(tmp))
                    check_index_file(tmp, self.key.dim)
                    meta_tmp.write_bytes(self._metadata(tmp))
            except CorruptIndexFileError as exc:
                raise self._save_error("the disk is full (or the write failed)") from exc
            except OSError as exc:
                raise self._save_error(os_error_reason(exc)) from exc
            except RuntimeError as exc:  # hnswlib could not open the file
                raise self._save_error(str(exc)) from exc
            self.dirty = False

    def _metadata(self, saved: Path) -> bytes:
        meta = {
            "format": FORMAT,
            "method": self.key.method,
            "version": self.key.version,
            "dim": self.key.dim,
            "capacity": self._index.get_max_elements(),
            "count": self._index.element_count,
            "deleted": self._deleted,
            "synced_seq": self.synced_seq,
            "size": saved.stat().st_size,
            "blake2b": file_digest(saved),
        }
        return json.dumps(meta, indent=1).encode()

    def _check_free_space(self) -> None:
        """Refuse before writing when the disk clearly cannot hold the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        count = int(self._index.element_count)
        per_element = (2 * M + 1) * 4 + self.key.dim * 4 + 8 + 4
        upper_links = (M + 1) * 4 * count // (M - 1)
        needed = _HEADER.size + count * per_element + upper_links + FREE_SPACE_SLACK
        free = shutil.disk_usage(self.path.parent).free
        if free < needed:
            raise self._save_error(
                f"the disk is full ({free // 1024} KB free, about {needed // 1024} KB needed)"
            )

    def _save_error(self, reason: str) -> IndexSaveError:
        return IndexSaveError(
            f"could not save the search index {self.path}: {reason}; the previous index is kept"
        )

    # --- edits and queries -------------------------------------------------------------------
    def add(self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            needed = self._index.element_count + len(ids)
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, int(self._index.get_max_elements() * 1.5)))
            # One thread: a parallel build links neighbours in a different order each time, so
            # two rebuilds of one library would find different candidate pairs.
            self._index.add_items(np.ascontiguousarray(vectors, np.float32), ids, 1)
            self._live.update(int(i) for i in ids)
            self.dirty = True

    def remove(self, label: int) -> None:
        with self._lock:
            if label not in self._live:
                return
            try:
                self._index.mark_deleted(label)
                self._deleted += 1
            except RuntimeError:  # already marked in the saved file
                pass
            self._live.discard(label)
            self.dirty = True

    def vectors(self, labels: Sequence[int]) -> npt.NDArray[np.float32]:
        """The stored vectors of indexed labels (rows in the order asked)."""
        with self._lock:
            if not labels:
                return np.zeros((0, self.key.dim), np.float32)
            return np.asarray(self._index.get_items(list(labels)), np.float32)

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, label: int) -> bool:
        return label in self._live

    def query(
        self, vectors: npt.NDArray[np.float32], k: int, ef: int = EF_SEARCH
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Top-k ids and cosine similarities per query row, best first; a larger `ef` searches
        wider (slower, fewer missed neighbours)."""
        with self._lock:
            k = min(k, len(self._live))
            if k <= 0:
                empty = np.zeros((len(vectors), 0))
                return empty.astype(np.int64), empty.astype(np.float32)
            self._index.set_ef(max(ef, k + 16))
            labels, distances = self._index.knn_query(np.atleast_2d(vectors), k=k)
            return labels.astype(np.int64), (1.0 - distances).astype(np.float32)
