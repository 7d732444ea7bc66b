"""Top-K similar photos for query vectors, mapped back to catalogue files that are there now."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from photofinder.core.photos.presence import PresentFiles
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.vector_index import VectorIndex

DEPTH_GROWTH = 2  # a row left short by absent files asks the index for this many times more


@dataclass(frozen=True)
class SearchHit:
    """One photo found for a query. Precise search checks the top hits with keypoints and
    sets `inliers`; a plain search (or a hit past the checked ones) leaves it None."""

    file_id: int
    path: str
    score: float  # cosine similarity: 1.0 identical, higher is more similar
    inliers: int | None = None  # keypoint inliers that agree on one transform, when checked


def search_vectors(
    index: VectorIndex,
    catalog: Catalog,
    vectors: npt.NDArray[np.float32],
    k: int,
    exclude: list[int | None] | None = None,
) -> list[list[SearchHit]]:
    """Best-first hits per query row; `exclude[i]` drops that file id (the query itself).
    A catalogued photo that is not a regular file at its path now (its folder was renamed or
    unplugged, it was deleted, it is a link) is never a hit; the index is asked for more
    neighbours until each row has `k` hits or the index has no more."""
    if len(vectors) == 0:
        return []
    present = PresentFiles()
    results: list[list[SearchHit]] = [[] for _ in range(len(vectors))]
    rows = list(range(len(vectors)))
    depth = k + 1  # one more: the query itself may be among its neighbours
    while rows:
        labels, scores = index.query(vectors[rows], depth)
        records = catalog.files_by_ids({int(x) for x in labels.ravel()})
        short = []
        for row, row_labels, row_scores in zip(rows, labels, scores, strict=True):
            skip = exclude[row] if exclude else None
            hits = [
                SearchHit(int(label), records[int(label)].path, float(score))
                for label, score in zip(row_labels, row_scores, strict=True)
                if int(label) != skip and _is_hit(records.get(int(label)), present)
            ]
            results[row] = hits[:k]
            if len(hits) < k and len(row_labels) < len(index):
                short.append(row)
        rows, depth = short, depth * DEPTH_GROWTH
    return results


def _is_hit(record: FileRecord | None, present: PresentFiles) -> bool:
    return record is not None and present(record.path)
