"""An hnswlib index per method on disk: a cache of the catalogue's vectors, kept in sync."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np
import numpy.typing as npt

from photofinder.core.atomic import atomic_write_bytes, atomic_write_with
from photofinder.core.catalog import Catalog

M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 64
FORMAT = 1
REBUILD_DELETED_FRACTION = 0.3


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
            if not self._load():
                self._reset(catalog)
            self.sync(catalog)
            return self

    def _load(self) -> bool:
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
            if meta.get("format") != FORMAT or meta.get("dim") != self.key.dim:
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
        """Write index and metadata atomically (index first; metadata names what it holds)."""
        with self._lock:
            atomic_write_with(self.path, lambda tmp: self._index.save_index(str(tmp)))
            meta = {
                "format": FORMAT,
                "method": self.key.method,
                "version": self.key.version,
                "dim": self.key.dim,
                "capacity": self._index.get_max_elements(),
                "count": self._index.element_count,
                "deleted": self._deleted,
                "synced_seq": self.synced_seq,
            }
            atomic_write_bytes(self.meta_path, json.dumps(meta, indent=1).encode())
            self.dirty = False

    # --- edits and queries -------------------------------------------------------------------
    def add(self, ids: npt.NDArray[np.int64], vectors: npt.NDArray[np.float32]) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            needed = self._index.element_count + len(ids)
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, int(self._index.get_max_elements() * 1.5)))
            threads = -1 if len(ids) >= 1000 else 1  # bulk (re)builds use every core
            self._index.add_items(np.ascontiguousarray(vectors, np.float32), ids, threads)
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
