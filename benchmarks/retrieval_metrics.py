"""Retrieval metrics: the implementation lives in photofinder/core/metrics.py (used by
`photofinder compare`); re-exported here for the benchmarks."""

from __future__ import annotations

from photofinder.core.evaluation.metrics import (
    FloatArray,
    average_precisions,
    class_map,
    class_map_and_precision,
    l2_normalize,
    neardup_recall_at_1,
    precision_at_k,
)

__all__ = [
    "FloatArray",
    "average_precisions",
    "class_map",
    "class_map_and_precision",
    "l2_normalize",
    "neardup_recall_at_1",
    "precision_at_k",
]
