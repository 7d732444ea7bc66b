"""Plain search: copies first in plain order, the rest ranked by the expanded query, turned
copies found by turned queries; scores are always the plain query's cosine similarity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from photofinder.core.search.expansion import (
    COPY_LEVEL,
    TURNED_COPY,
    _by_neighbourhood,
    similar_photos,
)
from photofinder.core.search.knn import search_vectors
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.vector_index import IndexKey, VectorIndex


def unit(*values: float) -> npt.NDArray[np.float32]:
    vector = np.asarray(values, np.float32)
    return vector / np.linalg.norm(vector)


def library_of(tmp_path: Path, vectors: dict[str, npt.NDArray[np.float32]], dim: int = 3
               ) -> tuple[VectorIndex, Catalog, dict[int, str]]:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root(tmp_path)
    names = {}
    for name, vector in vectors.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(b"photo")
        file_id = catalog.upsert_seen(root.id, str(path), 1, 1)
        catalog.put_vector(file_id, "m", "1", vector)
        names[file_id] = name
    return VectorIndex(tmp_path / "idx", IndexKey("m", "1", dim)).open(catalog), catalog, names


def test_photos_like_the_best_match_come_before_a_photo_only_like_the_query(
    tmp_path: Path,
) -> None:
    query = unit(1, 0, 0)
    photos = {"alike": unit(0.85, 0.5, 0), "alike_of_alike": unit(0.5, 0.85, 0.1),
              "other": unit(0.6, -0.2, 0.75)}
    index, catalog, names = library_of(tmp_path, photos)
    plain = [names[h.file_id] for h in search_vectors(index, catalog, query[None], 3)[0]]
    assert plain == ["alike", "other", "alike_of_alike"]
    hits = similar_photos(index, catalog, query[None], 3)[0]
    assert [names[h.file_id] for h in hits] == ["alike", "alike_of_alike", "other"]
    for hit in hits:  # each score is the query's own similarity, not the expanded query's
        assert hit.score == np.float32(photos[names[hit.file_id]] @ query).item()


def test_copies_stay_first_in_plain_order(tmp_path: Path) -> None:
    query = unit(1, 0, 0)
    photos = {"copy": unit(1, 0.1, 0), "crop": unit(1, 0, 0.4), "near_crop": unit(0.9, 0, 0.9),
              "far": unit(0.3, 0, 1)}
    index, catalog, names = library_of(tmp_path, photos)
    assert photos["crop"] @ query >= COPY_LEVEL > photos["near_crop"] @ query
    hits = similar_photos(index, catalog, query[None], 4)[0]
    assert [names[h.file_id] for h in hits][:2] == ["copy", "crop"]


def test_a_turned_copy_leads_and_a_turned_look_alike_does_not(tmp_path: Path) -> None:
    query = unit(1, 0, 0)
    photos = {"turned_copy": unit(0, 1, 0.05), "alike": unit(0.8, 0, 0.6),
              "turned_alike": unit(0, 0.3, 1)}
    index, catalog, names = library_of(tmp_path, photos)
    turned_back = np.stack([unit(0, 1, 0), unit(0.5, 0.5, 0.7), unit(-1, 0, 0)])
    assert photos["turned_copy"] @ turned_back[0] >= TURNED_COPY
    assert photos["turned_alike"] @ turned_back[1] < TURNED_COPY
    hits = similar_photos(index, catalog, query[None], 3, turned=[turned_back])[0]
    assert [names[h.file_id] for h in hits][:2] == ["turned_copy", "alike"]
    plain_only = similar_photos(index, catalog, query[None], 3)[0]
    assert names[plain_only[0].file_id] == "alike"


def test_the_query_itself_is_left_out(tmp_path: Path) -> None:
    photos = {"me": unit(1, 0, 0), "copy": unit(1, 0.05, 0), "other": unit(0, 1, 0)}
    index, catalog, names = library_of(tmp_path, photos)
    me = next(i for i, n in names.items() if n == "me")
    hits = similar_photos(index, catalog, photos["me"][None], 5, exclude=[me])[0]
    assert [names[h.file_id] for h in hits] == ["copy", "other"]


def test_a_photo_among_photos_like_the_query_ranks_above_a_lone_look_alike(
    tmp_path: Path,
) -> None:
    query = unit(1, 0, 0, 0)
    photos = {
        "copy": unit(1, 0.05, 0, 0),
        "lone": unit(0.72, 0, 0, 0.69),  # as close to the query, but its neighbours are not
        "lone_n1": unit(0.1, 0, 0, 1), "lone_n2": unit(0.05, 0, 0.1, 1),
        "member": unit(0.7, 0.71, 0, 0),  # among photos that are like the query
        "member_n1": unit(0.75, 0.66, 0, 0), "member_n2": unit(0.8, 0.6, 0, 0),
    }
    index, catalog, names = library_of(tmp_path, photos, dim=4)
    plain = search_vectors(index, catalog, query[None], 7)[0]
    assert [names[h.file_id] for h in plain].index("lone") < [
        names[h.file_id] for h in plain].index("member")
    ranked = [names[h.file_id] for h in similar_photos(index, catalog, query[None], 7)[0]]
    assert ranked[0] == "copy" and ranked.index("member") < ranked.index("lone")
    # the neighbourhoods alone reorder them, whatever the expanded query does
    by_neighbourhood = [names[h.file_id] for h in _by_neighbourhood(index, query, plain)]
    assert by_neighbourhood.index("member") < by_neighbourhood.index("lone")
