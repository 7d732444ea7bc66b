"""Top-K similar photos for query vectors, mapped back to catalogue files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from photofinder.core.catalog import Catalog
from photofinder.core.vector_index import VectorIndex


@dataclass(frozen=True)
class SearchHit:
    file_id: int
    path: str
    score: float  # cosine similarity: 1.0 identical, higher is more similar


def search_vectors(
    index: VectorIndex,
    catalog: Catalog,
    vectors: npt.NDArray[np.float32],
    k: int,
    exclude: list[int | None] | None = None,
) -> list[list[SearchHit]]:
    """Best-first hits per query row; `exclude[i]` drops that file id (the query itself)."""
    if len(vectors) == 0:
        return []
    labels, scores = index.query(vectors, k + 1)
    records = catalog.files_by_ids({int(x) for x in labels.ravel()})
    results: list[list[SearchHit]] = []
    for row, (row_labels, row_scores) in enumerate(zip(labels, scores, strict=True)):
        skip = exclude[row] if exclude else None
        hits = [
            SearchHit(int(label), records[int(label)].path, float(score))
            for label, score in zip(row_labels, row_scores, strict=True)
            if int(label) != skip and int(label) in records
        ]
        results.append(hits[:k])
    return results
