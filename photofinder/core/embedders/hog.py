"""HOG: one global histogram-of-oriented-gradients vector per photo (no learning).

The histogram is Dalal–Triggs HOG as scikit-image computes it (centred differences, unsigned
orientations hard-binned per cell, mean magnitude per cell, L2-Hys per block), in numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise

SIDE = 128
CELL = 16
ORIENTATIONS = 8
DIM = (SIDE // CELL) ** 2 * ORIENTATIONS
HYS_CLIP = 0.2  # L2-Hys: normalised values are clipped here, then normalised again
NORM_EPS = 1e-5  # keeps the norm of an empty cell away from zero
Histograms = npt.NDArray[np.float64]

INFO = MethodInfo(
    name="hog",
    version=f"1-s{SIDE}c{CELL}o{ORIENTATIONS}",
    dim=DIM,
    family="classical global",
    description=(
        f"HOG of the photo squashed to {SIDE}×{SIDE} grey: {ORIENTATIONS} "
        f"orientations per {CELL}-px cell, L2-Hys per cell, square-root + L2 normalised."
    ),
)


def centred_gradients(grey: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row and column differences [-1, 0, 1], zero on the border rows and columns."""
    rows = np.zeros_like(grey)
    cols = np.zeros_like(grey)
    rows[1:-1, :] = grey[2:, :] - grey[:-2, :]
    cols[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    return rows, cols


def cell_histograms(grey: FloatArray, cell: int, orientations: int) -> Histograms:
    """(cells down, cells across, orientations): mean gradient magnitude per unsigned
    orientation bin of each whole cell; pixels past the last whole cell are left out."""
    g_row, g_col = (g.astype(np.float64) for g in centred_gradients(grey))
    magnitude = np.hypot(g_col, g_row)
    degrees = np.rad2deg(np.arctan2(g_row, g_col)) % 180.0
    edges = (np.float32(180.0 / orientations) * np.arange(1, orientations, dtype=np.float32))
    bins = np.digitize(degrees, edges.astype(np.float64))  # edge ≤ angle < next edge
    down, across = grey.shape[0] // cell, grey.shape[1] // cell
    pixel_rows, pixel_cols = np.indices((down * cell, across * cell))
    cell_of_pixel = (pixel_rows // cell) * across + pixel_cols // cell
    slot = (cell_of_pixel * orientations + bins[: down * cell, : across * cell]).ravel()
    sums = np.bincount(slot, weights=magnitude[: down * cell, : across * cell].ravel(),
                       minlength=down * across * orientations)
    return (sums / (cell * cell)).reshape(down, across, orientations)


def l2_hys(histograms: Histograms) -> Histograms:
    """L2-Hys of each cell's histogram (one-cell blocks): L2, clip at 0.2, L2 again."""
    norm = np.sqrt(np.sum(histograms**2, axis=-1, keepdims=True) + NORM_EPS**2)
    clipped = np.minimum(histograms / norm, HYS_CLIP)
    normalised: Histograms = clipped / np.sqrt(
        np.sum(clipped**2, axis=-1, keepdims=True) + NORM_EPS**2)
    return normalised


def hog_vector(image: Image.Image) -> FloatArray:
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, np.float32) / np.float32(255.0)
    features = l2_hys(cell_histograms(pixels, CELL, ORIENTATIONS)).astype(np.float32).ravel()
    return np.sqrt(np.maximum(features, 0.0))


class HogEmbedder:
    info = INFO

    def __init__(self, device: str, cache_dir: Path) -> None:
        del device, cache_dir
        self.device = "cpu"  # numpy only

    def prepare(self, image: Image.Image) -> FloatArray:
        return hog_vector(image)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        out = np.asarray(batch, np.float32).reshape(len(batch), DIM)
        empty = np.linalg.norm(out, axis=1) < 1e-12  # a flat picture has no gradients
        out[empty] = 1.0
        return l2_normalise(out)
