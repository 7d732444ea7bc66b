"""SIFT-VLAD: RootSIFT descriptors aggregated by VLAD over a codebook learned from the library."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise
from photofinder.core.embedders.codebook import fit_pca, kmeans, subsample
from photofinder.core.embedders.fitted import FittedMethod, State
from photofinder.core.embedders.keypoints import root_sift
from photofinder.core.embedders.spec import MethodSpec

WORDS = 16  # codebook size: VLAD is WORDS × 128 before PCA
PCA_DIM = 256
PCA_MIN_PHOTOS = 384  # fewer sample photos: keep the raw VLAD (a PCA would be noise)
MAX_DESCRIPTORS = 100_000

BASE = MethodInfo(
    name="sift-vlad",
    version="1",
    dim=PCA_DIM,
    family="classical keypoints",
    description=(
        f"SIFT keypoints (RootSIFT) aggregated by VLAD over a {WORDS}-word k-means codebook "
        f"learned from your photos; intra + power + L2 normalised, PCA to {PCA_DIM}-d "
        f"(kept at {WORDS * 128}-d when fewer than {PCA_MIN_PHOTOS} photos are sampled)."
    ),
)


def vlad(descriptors: FloatArray, centres: FloatArray) -> FloatArray:
    """Sum of residuals to the nearest centre per word, intra-normalised, power, L2."""
    k, d = centres.shape
    out = np.zeros((k, d), np.float32)
    if len(descriptors):
        distances = (
            (descriptors**2).sum(1)[:, None] - 2.0 * descriptors @ centres.T + (centres**2).sum(1)
        )
        nearest = distances.argmin(axis=1)
        np.add.at(out, nearest, descriptors - centres[nearest])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    flat = out.reshape(-1)
    flat = np.sign(flat) * np.sqrt(np.abs(flat))
    norm = float(np.linalg.norm(flat))
    result: FloatArray = flat / norm if norm > 1e-12 else flat
    return result


def fit_state(images: Sequence[Image.Image], words: int | None = None) -> State:
    descriptors = [root_sift(image) for image in images]
    centres = kmeans(subsample(descriptors, MAX_DESCRIPTORS), words or WORDS)
    state: State = {"centres": centres}
    if len(images) >= PCA_MIN_PHOTOS:
        vectors = np.stack([vlad(d, centres) for d in descriptors])
        mean, components = fit_pca(vectors, PCA_DIM)
        state["pca_mean"], state["pca_components"] = mean, components
    return state


def dim_of(state: State) -> int:
    if "pca_components" in state:
        return int(state["pca_components"].shape[1])
    return int(np.prod(state["centres"].shape))


METHOD = FittedMethod(BASE, fit_state, dim_of)


class SiftVlad:
    def __init__(self, models_dir: Path) -> None:
        state = METHOD.require_state(models_dir, "codebook")
        self.info = METHOD.info(models_dir)
        self.device = "cpu"
        self._centres = np.asarray(state["centres"], np.float32)
        mean, components = state.get("pca_mean"), state.get("pca_components")
        self._mean = None if mean is None else np.asarray(mean, np.float32)
        self._components = None if components is None else np.asarray(components, np.float32)

    def prepare(self, image: Image.Image) -> FloatArray:
        return vlad(root_sift(image), self._centres)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        out: FloatArray = np.asarray(batch, np.float32).reshape(len(batch), -1)
        if self._mean is not None and self._components is not None:
            out = ((out - self._mean) @ self._components).astype(np.float32)
        empty = np.linalg.norm(out, axis=1) < 1e-12  # no keypoints at all
        out[empty] = 1.0
        return l2_normalise(out)


def _load(device: str, cache_dir: Path, models_dir: Path) -> SiftVlad:
    del device, cache_dir
    return SiftVlad(models_dir)


SPEC = MethodSpec(BASE.name, METHOD.info, _load, METHOD.fit, METHOD.is_fitted)
