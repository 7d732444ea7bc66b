"""Retrieval metrics on L2-normalised embeddings (cosine similarity), numpy only (used by
`photofinder compare` and the benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


def l2_normalize(vectors: npt.ArrayLike) -> FloatArray:
    """Row-wise L2 normalisation (zero rows stay zero), as float32."""
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: FloatArray = arr / np.maximum(norms, np.float32(1e-12))
    return out


def _ranked_relevance(vectors: npt.ArrayLike, labels: Sequence[str]) -> npt.NDArray[np.bool_]:
    """(N, N-1) relevance of each query's ranked neighbours, the query itself excluded."""
    v = l2_normalize(vectors)
    lab = np.asarray(labels)
    n = v.shape[0]
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, : n - 1]
    relevant: npt.NDArray[np.bool_] = lab[order] == lab[:, None]
    return relevant


def average_precisions(vectors: npt.ArrayLike, labels: Sequence[str]) -> FloatArray:
    """Per-query average precision; relevant = same label, the query itself excluded.

    Queries whose class has no other member get AP 0 (callers should avoid singletons).
    """
    rel = _ranked_relevance(vectors, labels)
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    n_rel = rel.sum(axis=1)
    precision_sum = (rel * (hits / ranks)).sum(axis=1)
    aps: FloatArray = np.where(n_rel > 0, precision_sum / np.maximum(n_rel, 1), 0.0).astype(
        np.float32
    )
    return aps


def class_map(vectors: npt.ArrayLike, labels: Sequence[str]) -> float:
    """Class-level mean average precision over all queries (each query excluded)."""
    return float(average_precisions(vectors, labels).mean())


def precision_at_k(vectors: npt.ArrayLike, labels: Sequence[str], k: int = 10) -> float:
    """Mean fraction of same-label items among each query's ``k`` nearest others."""
    rel = _ranked_relevance(vectors, labels)
    return float(rel[:, :k].mean())


def class_map_and_precision(
    vectors: npt.ArrayLike, labels: Sequence[str], k: int = 10
) -> tuple[float, float]:
    """``(class_map, precision_at_k)`` from a single ranking (cheaper than two calls)."""
    rel = _ranked_relevance(vectors, labels)
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    n_rel = np.maximum(rel.sum(axis=1), 1)
    aps = (rel * (hits / ranks)).sum(axis=1) / n_rel
    return float(aps.mean()), float(rel[:, :k].mean())


def neardup_recall_at_1(
    query_vectors: npt.ArrayLike,
    query_kinds: Sequence[str],
    target_indices: Sequence[int],
    gallery_vectors: npt.ArrayLike,
) -> dict[str, float]:
    """Rank-1 recall of each near-dup query's original in the gallery, per kind.

    ``target_indices[i]`` is the gallery row of query ``i``'s original; every other gallery
    row is a distractor. Returns ``{kind: recall}`` plus ``"all"`` over every query.
    """
    q = l2_normalize(query_vectors)
    g = l2_normalize(gallery_vectors)
    top1 = np.argmax(q @ g.T, axis=1)
    correct = top1 == np.asarray(target_indices)
    kinds = np.asarray(query_kinds)
    result = {
        str(kind): float(correct[kinds == kind].mean()) for kind in dict.fromkeys(query_kinds)
    }
    result["all"] = float(correct.mean())
    return result
