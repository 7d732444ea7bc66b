"""Plain search as users get it: copies of the query first, then photos like it ranked by a
query expanded with its closest neighbours (alpha query expansion, Radenović et al.), and
copies turned by a quarter or half turn found through turned queries.

A query vector alone ranks the photos of the query's class well near the top and loses them
further down; averaging it with its best neighbours (weighted by similarity**EXPANSION_ALPHA)
moves it to the middle of its class. On the tuning half of benchmarks/heldout_split.txt this
took class mAP@100 from 0.927 to 0.959 (benchmarks/descriptor_study.py). Expansion blurs the
query, which hurts finding an edited copy, so the first plain hit and every plain hit at
COPY_LEVEL or above stay first, in plain order. Scores are always the query's own cosine
similarity to the photo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from photofinder.core.search.knn import SearchHit, search_vectors
from photofinder.core.storage.catalog import Catalog
from photofinder.core.storage.vector_index import VectorIndex

FloatArray = npt.NDArray[np.float32]

EXPANSION_NEIGHBOURS = 10
EXPANSION_ALPHA = 3.0
COPY_LEVEL = 0.9  # a plain hit this similar is a copy of the query: it stays first
# A turned query's hit leads only when it is at least this similar, and more than the plain
# query's best hit: a photo turned back is as close as a copy, other photos are not.
TURNED_COPY = 0.85


def similar_photos(
    index: VectorIndex,
    catalog: Catalog,
    vectors: FloatArray,
    k: int,
    exclude: Sequence[int | None] | None = None,
    turned: Sequence[FloatArray | None] | None = None,
) -> list[list[SearchHit]]:
    """Best hits per query row (see the module): `turned[i]`, when given, holds the vectors of
    query i turned by 90°, 180° and 270°."""
    if len(vectors) == 0:
        return []
    skip = list(exclude) if exclude is not None else None
    plain = search_vectors(index, catalog, vectors, max(k, EXPANSION_NEIGHBOURS), skip)
    expanded_vectors = _expanded(index, vectors, plain)
    expanded = search_vectors(index, catalog, expanded_vectors, k + 1, skip)
    results = []
    for row, (first, second) in enumerate(zip(plain, expanded, strict=True)):
        leading = [h for number, h in enumerate(first) if number == 0 or h.score >= COPY_LEVEL]
        turned_row = turned[row] if turned is not None else None
        if turned_row is not None:
            leading = _turned_first(index, catalog, turned_row, leading, skip, row)
        taken = {h.file_id for h in leading}
        rest = [h for h in second if h.file_id not in taken]
        results.append((leading + _rescored(index, vectors[row], rest))[:k])
    return results


def _expanded(index: VectorIndex, vectors: FloatArray, plain: list[list[SearchHit]]
              ) -> FloatArray:
    """Each query plus its best plain hits weighted by similarity**EXPANSION_ALPHA, normalised."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    for row, hits in enumerate(plain):
        top = hits[:EXPANSION_NEIGHBOURS]
        if not top:
            continue
        neighbours = index.vectors([h.file_id for h in top])
        weights = np.clip([h.score for h in top], 0.0, None) ** EXPANSION_ALPHA
        out[row] += (weights[:, None] * neighbours).sum(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.asarray(out / np.maximum(norms, 1e-12), np.float32)


def _rescored(index: VectorIndex, query: FloatArray, hits: list[SearchHit]) -> list[SearchHit]:
    """The hits in their order, each scored by its cosine similarity to the plain query."""
    if not hits:
        return []
    scores = index.vectors([h.file_id for h in hits]) @ query
    return [SearchHit(h.file_id, h.path, float(s), h.inliers)
            for h, s in zip(hits, scores.tolist(), strict=True)]


def _turned_first(
    index: VectorIndex,
    catalog: Catalog,
    turned: FloatArray,
    leading: list[SearchHit],
    skip: list[int | None] | None,
    row: int,
) -> list[SearchHit]:
    """`leading` with the photos a turned query finds at TURNED_COPY (and better than the
    plain best) put first, best first."""
    exclude = [skip[row]] * len(turned) if skip is not None else None
    best_plain = leading[0].score if leading else -1.0
    found: dict[int, SearchHit] = {}
    for hits in search_vectors(index, catalog, turned, 1, exclude):
        for hit in hits:
            if hit.score >= max(TURNED_COPY, best_plain) and (
                    hit.file_id not in found or hit.score > found[hit.file_id].score):
                found[hit.file_id] = hit
    front = sorted(found.values(), key=lambda h: -h.score)
    return front + [h for h in leading if h.file_id not in found]
