"""ORB-BoW: binary ORB descriptors → tf-idf bag of visual words over a learned vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise
from photofinder.core.embedders.codebook import kmeans, subsample
from photofinder.core.embedders.fitted import FittedMethod, State
from photofinder.core.embedders.keypoints import orb_bits
from photofinder.core.embedders.spec import MethodSpec

WORDS = 256
MAX_DESCRIPTORS = 50_000

BASE = MethodInfo(
    name="orb-bow",
    version="1",
    dim=WORDS,
    family="classical keypoints",
    description=(
        f"ORB binary descriptors quantised (Hamming) to a {WORDS}-word vocabulary learned "
        "from your photos; tf-idf histogram, square-root + L2 normalised."
    ),
)


def assign(bits: npt.NDArray[np.uint8], words: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """Nearest word of each descriptor by Hamming distance (bits as 0/1 rows)."""
    b = bits.astype(np.float32)
    w = words.astype(np.float32)
    hamming = b @ (1.0 - w).T + (1.0 - b) @ w.T
    result: npt.NDArray[np.intp] = hamming.argmin(axis=1)
    return result


def histogram(bits: npt.NDArray[np.uint8], words: npt.NDArray[np.uint8]) -> FloatArray:
    """Term frequencies of the words in one photo."""
    counts = np.zeros(len(words), np.float32)
    if len(bits):
        np.add.at(counts, assign(bits, words), 1.0)
        counts /= counts.sum()
    return counts


def fit_state(images: Sequence[Image.Image], words: int | None = None) -> State:
    descriptors = [orb_bits(image) for image in images]
    floats = [d.astype(np.float32) for d in descriptors]
    centres = kmeans(subsample(floats, MAX_DESCRIPTORS), words or WORDS)
    binary = (centres >= 0.5).astype(np.uint8)  # majority bit of each cluster
    present = np.stack([histogram(d, binary) > 0 for d in descriptors])
    idf = np.log((1.0 + len(images)) / (1.0 + present.sum(axis=0))).astype(np.float32) + 1.0
    return {"words": binary, "idf": idf}


def dim_of(state: State) -> int:
    return int(state["words"].shape[0])


METHOD = FittedMethod(BASE, fit_state, dim_of)


class OrbBow:
    def __init__(self, models_dir: Path) -> None:
        state = METHOD.require_state(models_dir, "vocabulary")
        self.info = METHOD.info(models_dir)
        self.device = "cpu"
        self._words = np.asarray(state["words"], np.uint8)
        self._idf = np.asarray(state["idf"], np.float32)

    def prepare(self, image: Image.Image) -> FloatArray:
        return histogram(orb_bits(image), self._words)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        out = np.sqrt(np.asarray(batch, np.float32).reshape(len(batch), -1) * self._idf)
        empty = np.linalg.norm(out, axis=1) < 1e-12  # no keypoints at all
        out[empty] = 1.0
        return l2_normalise(out)


def _load(device: str, cache_dir: Path, models_dir: Path) -> OrbBow:
    del device, cache_dir
    return OrbBow(models_dir)


SPEC = MethodSpec(BASE.name, METHOD.info, _load, METHOD.fit, METHOD.is_fitted)
