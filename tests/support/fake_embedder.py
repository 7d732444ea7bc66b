"""A fast deterministic stand-in for the CNN, for pipeline and GUI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.embedders import method_info
from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise

_PROJECTION = np.random.default_rng(1234).standard_normal((3 * 16 * 16, 256)).astype(np.float32)


class FakeEmbedder:
    """Projects a 16×16 colour thumbnail: near-identical pictures get near-identical vectors."""

    def __init__(self, info: MethodInfo, device: str = "cpu") -> None:
        self.info = info
        self.device = device
        self.batches: list[int] = []

    def prepare(self, image: Image.Image) -> FloatArray:
        small = image.convert("RGB").resize((16, 16), Image.Resampling.BILINEAR)
        return (np.asarray(small, np.float32) / 255.0 - 0.5).reshape(-1)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        self.batches.append(len(batch))
        return l2_normalise(batch.reshape(len(batch), -1) @ _PROJECTION)


def load_fake_embedder(name: str, device: str, cache_dir: Path) -> FakeEmbedder:
    return FakeEmbedder(method_info(name), device)
