"""HOG: one global histogram-of-oriented-gradients vector per photo (no learning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise

SIDE = 128
CELL = 16
ORIENTATIONS = 8
DIM = (SIDE // CELL) ** 2 * ORIENTATIONS

INFO = MethodInfo(
    name="hog",
    version=f"1-s{SIDE}c{CELL}o{ORIENTATIONS}",
    dim=DIM,
    family="classical global",
    description=(
        f"HOG (skimage) of the photo squashed to {SIDE}×{SIDE} grey: {ORIENTATIONS} "
        f"orientations per {CELL}-px cell, L2-Hys per cell, square-root + L2 normalised."
    ),
)


def hog_vector(image: Image.Image) -> FloatArray:
    from skimage.feature import hog

    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    features = hog(
        np.asarray(grey, np.float32) / 255.0,
        orientations=ORIENTATIONS,
        pixels_per_cell=(CELL, CELL),
        cells_per_block=(1, 1),
        block_norm="L2-Hys",
        feature_vector=True,
    )
    return np.sqrt(np.maximum(np.asarray(features, np.float32), 0.0))


class HogEmbedder:
    info = INFO

    def __init__(self, device: str, cache_dir: Path) -> None:
        del device, cache_dir
        self.device = "cpu"  # numpy/skimage only

    def prepare(self, image: Image.Image) -> FloatArray:
        return hog_vector(image)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        out = np.asarray(batch, np.float32).reshape(len(batch), DIM)
        empty = np.linalg.norm(out, axis=1) < 1e-12  # a flat picture has no gradients
        out[empty] = 1.0
        return l2_normalise(out)
