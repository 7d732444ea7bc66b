"""Deterministic generator of near-duplicate query images for retrieval benchmarks.

The implementation lives in photofinder/core/neardup.py (used by `photofinder compare`);
re-exported here so the benchmarks and the app share one copy."""

from __future__ import annotations

from photofinder.core.evaluation.neardup import (
    KINDS,
    SAVE_QUALITY,
    TRANSFORMS,
    Transform,
    caption,
    color,
    crop,
    jpeg,
    load_original,
    make_neardup_set,
    mirror,
    rotate90,
    rotate_small,
    scale,
)

__all__ = [
    "KINDS",
    "SAVE_QUALITY",
    "TRANSFORMS",
    "Transform",
    "caption",
    "color",
    "crop",
    "jpeg",
    "load_original",
    "make_neardup_set",
    "mirror",
    "rotate90",
    "rotate_small",
    "scale",
]
