"""Learned state of the classical methods (k-means codebooks, PCA), saved atomically."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from photofinder.core.embedders.base import FloatArray
from photofinder.core.storage.atomic import atomic_write_bytes


def state_path(models_dir: Path, method: str, version: str) -> Path:
    return models_dir / f"{method}-{version}.npz"


def save_state(path: Path, arrays: Mapping[str, npt.NDArray[np.generic]]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def fingerprint(*arrays: npt.NDArray[np.generic]) -> str:
    """8 hex digits that change whenever any of the arrays changes."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:8]


def kmeans(samples: FloatArray, k: int, seed: int = 0, iterations: int = 20) -> FloatArray:
    """k-means++ centres (cv2.kmeans), deterministic for a given seed."""
    import cv2

    data = np.ascontiguousarray(samples, np.float32)
    k = max(1, min(k, len(data)))
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, iterations, 1e-4)
    cluster: Any = cv2.kmeans  # its stubs differ between OpenCV releases
    _, _, centres = cluster(data, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    result: FloatArray = np.asarray(centres, np.float32)
    return result


def subsample(rows: Sequence[FloatArray], limit: int, seed: int = 0) -> FloatArray:
    """Stack per-photo descriptor arrays, keeping at most `limit` rows (seeded)."""
    stacked = np.concatenate([r for r in rows if len(r)]) if any(len(r) for r in rows) else None
    if stacked is None:
        raise ValueError("no descriptors found in the sample photos")
    if len(stacked) > limit:
        picked = np.random.default_rng(seed).choice(len(stacked), limit, replace=False)
        stacked = stacked[np.sort(picked)]
    result: FloatArray = np.asarray(stacked, np.float32)
    return result


def fit_pca(vectors: FloatArray, dim: int) -> tuple[FloatArray, FloatArray]:
    """(mean, components (D, dim)) of the rows, by SVD."""
    mean = vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    return mean.astype(np.float32), np.ascontiguousarray(vt[:dim].T, np.float32)


def sample_photos(
    photos: Iterable[Path], excluded: Iterable[Path] = (), limit: int = 500, seed: int = 0
) -> list[Path]:
    """Up to `limit` of the photos, none below an excluded folder (a seeded sample, sorted)."""
    skip = [Path(p) for p in excluded]
    found = sorted({Path(p) for p in photos if not any(Path(p).is_relative_to(s) for s in skip)})
    if len(found) > limit:
        found = sorted(random.Random(seed).sample(found, limit))
    return found
