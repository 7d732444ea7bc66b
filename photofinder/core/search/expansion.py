"""Plain search as users get it: copies of the query first, then photos like it, and copies
turned by a quarter or half turn found through turned queries.

A query vector alone ranks the photos of the query's class well near the top and loses them
further down. Two classic remedies (Radenović et al., alpha query expansion and database-side
augmentation) fix much of that: the query is averaged with its best neighbours, weighted by
similarity**EXPANSION_ALPHA, and the best RERANK_DEPTH photos for that query are ranked by
their neighbourhoods (each photo averaged with its own NEIGHBOURHOOD closest photos) instead
of by themselves. The stored vectors never change. Fitted on 9 classes of the tuning half of
benchmarks/heldout_split.txt and measured on its other 8 (benchmarks/descriptor_study.py),
class mAP@100 went from 0.927 to 0.967 with expansion, 0.985 with both. Expansion blurs the
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

EXPANSION_NEIGHBOURS = 20
EXPANSION_ALPHA = 1.0
RERANK_DEPTH = 200  # photos ranked by their neighbourhoods
NEIGHBOURHOOD = 10
NEIGHBOURHOOD_ALPHA = 3.0
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
    expanded = search_vectors(index, catalog, expanded_vectors, max(k + 1, RERANK_DEPTH), skip)
    expanded = [_by_neighbourhood(index, query, hits)
                for query, hits in zip(expanded_vectors, expanded, strict=True)]
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


def _by_neighbourhood(index: VectorIndex, query: FloatArray, hits: list[SearchHit]
                      ) -> list[SearchHit]:
    """The first RERANK_DEPTH hits ordered by the query's similarity to their neighbourhoods
    (each photo plus its NEIGHBOURHOOD closest, weighted by similarity**NEIGHBOURHOOD_ALPHA),
    the rest after them as they were."""
    head, tail = hits[:RERANK_DEPTH], hits[RERANK_DEPTH:]
    if not head:
        return hits
    own = index.vectors([h.file_id for h in head])
    labels, scores = index.query(own, NEIGHBOURHOOD + 1)
    ids = sorted({int(x) for x in labels.ravel()})
    row_of = {label: row for row, label in enumerate(ids)}
    around = index.vectors(ids)
    weights = np.where(labels == np.asarray([h.file_id for h in head])[:, None], 0.0,
                       np.clip(scores, 0.0, None) ** NEIGHBOURHOOD_ALPHA)
    rows = np.vectorize(row_of.__getitem__, otypes=[np.int64])(labels)
    neighbourhoods = own + (weights[..., None] * around[rows]).sum(axis=1)
    neighbourhoods /= np.maximum(np.linalg.norm(neighbourhoods, axis=1, keepdims=True), 1e-12)
    order = np.argsort(-(neighbourhoods @ query), kind="stable")
    return [head[i] for i in order.tolist()] + tail


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
