"""What every embedding method provides: metadata, input preparation and batched embedding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MethodInfo:
    name: str
    version: str
    dim: int
    family: str
    description: str
    available: bool = True
    reason: str = ""
    # The similarity under which a photo is not a copy of a query, for this method's vectors:
    # precise search checks only candidates at or above it. None: check every candidate.
    copy_floor: float | None = None


class Embedder(Protocol):
    """A loaded method. `prepare` is thread-safe and runs in decode workers; `embed_prepared`
    runs on one thread, batched."""

    info: MethodInfo
    device: str

    def prepare(self, image: Image.Image) -> FloatArray: ...

    def embed_prepared(self, batch: FloatArray) -> FloatArray: ...


def embed_images(embedder: Embedder, images: Sequence[Image.Image]) -> FloatArray:
    """Embed PIL images in one batch (queries, tests)."""
    if not images:
        return np.zeros((0, embedder.info.dim), np.float32)
    batch = np.stack([embedder.prepare(image) for image in images])
    return embedder.embed_prepared(batch)


def l2_normalise(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: FloatArray = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised
