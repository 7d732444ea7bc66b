"""The hnswlib index: queries, atomic saves, and repair from the catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from photofinder.core.embedders.base import l2_normalise
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.vector_index import IndexKey, VectorIndex

KEY = IndexKey("m", "1", 16)


def catalogue_with_vectors(tmp_path: Path, count: int) -> tuple[Catalog, np.ndarray, list[int]]:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    vectors = l2_normalise(np.random.default_rng(0).standard_normal((count, 16)).astype(np.float32))
    ids = []
    for i, vector in enumerate(vectors):
        file_id = catalog.upsert_seen(root.id, str(tmp_path / f"{i}.jpg"), 1, 1)
        catalog.put_vector(file_id, "m", "1", vector)
        ids.append(file_id)
    return catalog, vectors, ids


def test_query_finds_itself_with_score_one(tmp_path: Path) -> None:
    catalog, vectors, ids = catalogue_with_vectors(tmp_path, 200)
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    labels, scores = index.query(vectors[:5], 3)
    assert labels[:, 0].tolist() == ids[:5]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_saved_index_reloads_and_catches_up_with_the_catalogue(tmp_path: Path) -> None:
    catalog, vectors, ids = catalogue_with_vectors(tmp_path, 50)
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    index.save()
    # The catalogue moves on without the index (a crash before the next save):
    catalog.delete_files(ids[:10])
    catalog.put_vector(ids[20], "m", "1", vectors[0])
    reopened = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    assert len(reopened) == 40
    assert ids[0] not in reopened
    labels, _ = reopened.query(vectors[:1], 1)
    assert labels[0, 0] == ids[20]


def test_corrupt_or_mismatched_index_is_rebuilt(tmp_path: Path) -> None:
    catalog, vectors, ids = catalogue_with_vectors(tmp_path, 30)
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    index.save()
    index.path.write_bytes(b"garbage")
    rebuilt = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    assert len(rebuilt) == 30
    assert rebuilt.query(vectors[3:4], 1)[0][0, 0] == ids[3]


def test_index_grows_past_its_capacity(tmp_path: Path) -> None:
    catalog, _, _ = catalogue_with_vectors(tmp_path, 1)
    index = VectorIndex(tmp_path / "idx", KEY).open(catalog)
    more = l2_normalise(np.random.default_rng(1).standard_normal((3000, 16)).astype(np.float32))
    index.add(np.arange(1000, 4000, dtype=np.int64), more)
    assert len(index) == 3001
    assert index.query(more[:1], 1)[0][0, 0] == 1000
