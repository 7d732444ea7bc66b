"""Pretrained torchvision networks as embedding methods: ResNet-50, MobileNetV3-L, ViT-B/16.

Weights: imported with `photofinder models import NAME FILE`, else torchvision's download on
first use (see photofinder/core/weights.py). Preprocessing follows the weights' transforms
(resize the shorter side, centre crop 224, ImageNet mean/std), in numpy/PIL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from photofinder.core.embedders.base import FloatArray, MethodInfo, l2_normalise
from photofinder.core.embedders.runtime import Runner, TorchRunner, make_runner
from photofinder.core.embedders.spec import MethodSpec
from photofinder.core.embedders.weights import (
    OfficialWeights,
    StateDict,
    WeightsSource,
    load_weights,
    missing_reason,
    weights_state,
)
from photofinder.core.storage.atomic import atomic_write_bytes

if TYPE_CHECKING:
    import torch

CROP = 224
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
ONNX_ON_CPU = True  # tests switch this off to skip the export


def prepare_imagenet(image: Image.Image, resize: int, crop: int = CROP) -> FloatArray:
    """Shorter side to `resize` (bilinear, antialiased), centre crop, ImageNet-normalised, CHW."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    factor = resize / max(1, min(w, h))
    size = (max(crop, round(w * factor)), max(crop, round(h * factor)))
    rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    left, top = (size[0] - crop) // 2, (size[1] - crop) // 2
    pixels = np.asarray(rgb.crop((left, top, left + crop, top + crop)), np.float32) / 255.0
    return np.ascontiguousarray(((pixels - MEAN) / STD).transpose(2, 0, 1))


def plain_state_dict(raw: Mapping[str, Any]) -> StateDict:
    """A state_dict as saved by torchvision (or one nested under "state_dict"/"model")."""
    import torch

    for key in ("state_dict", "model"):
        nested = raw.get(key)
        if isinstance(nested, Mapping):
            raw = nested
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise ValueError("no tensors in the file")
    return state


@dataclass(frozen=True)
class Architecture:
    name: str
    family: str
    dim: int
    resize: int
    description: str
    source: WeightsSource
    features: Callable[[torch.nn.Module], torch.nn.Module]  # classifier → pooled features


def _resnet50() -> torch.nn.Module:
    from torchvision.models import resnet50

    model: torch.nn.Module = resnet50(weights=None)
    return model


def _mobilenet_v3() -> torch.nn.Module:
    from torchvision.models import mobilenet_v3_large

    model: torch.nn.Module = mobilenet_v3_large(weights=None)
    return model


def _vit_b16() -> torch.nn.Module:
    from torchvision.models import vit_b_16

    model: torch.nn.Module = vit_b_16(weights=None)
    return model


def _drop_head(attribute: str) -> Callable[[torch.nn.Module], torch.nn.Module]:
    def features(model: torch.nn.Module) -> torch.nn.Module:
        import torch

        setattr(model, attribute, torch.nn.Identity())
        return model

    return features


def _vit_tokens_mean(model: torch.nn.Module) -> torch.nn.Module:
    """All output tokens (class token included) averaged, after the encoder's LayerNorm."""
    import torch

    class TokenMean(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vit = model

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            vit: Any = self.vit
            tokens = vit._process_input(pixels)
            cls = vit.class_token.expand(tokens.shape[0], -1, -1)
            encoded: torch.Tensor = vit.encoder(torch.cat([cls, tokens], dim=1))
            return encoded.mean(dim=1)

    return TokenMean()


_HUB = "https://download.pytorch.org/models/"

ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture(
            "resnet50", "pretrained CNN", 2048, 232,
            "ResNet-50 (torchvision IMAGENET1K_V2), classifier dropped: average-pooled 2048-d.",
            WeightsSource("resnet50", _resnet50, plain_state_dict,
                          OfficialWeights("ResNet50_Weights", "IMAGENET1K_V2",
                                          _HUB + "resnet50-11ad3fa6.pth"), "98 MB",
                          "resnet50-11ad3fa6.pth"),
            _drop_head("fc"),
        ),
        Architecture(
            "mobilenet-v3", "pretrained CNN", 960, 232,
            "MobileNetV3-Large (torchvision IMAGENET1K_V2), classifier dropped: pooled 960-d.",
            WeightsSource("mobilenet-v3", _mobilenet_v3, plain_state_dict,
                          OfficialWeights("MobileNet_V3_Large_Weights", "IMAGENET1K_V2",
                                          _HUB + "mobilenet_v3_large-5c1a4163.pth"), "21 MB",
                          "mobilenet_v3_large-5c1a4163.pth"),
            _drop_head("classifier"),
        ),
        Architecture(
            "vit-b16", "vision transformer", 768, 256,
            "ViT-B/16 (torchvision IMAGENET1K_V1): output tokens averaged, 768-d.",
            WeightsSource("vit-b16", _vit_b16, plain_state_dict,
                          OfficialWeights("ViT_B_16_Weights", "IMAGENET1K_V1",
                                          _HUB + "vit_b_16-c867db91.pth"), "330 MB",
                          "vit_b_16-c867db91.pth"),
            _vit_tokens_mean,
        ),
    )
}  # fmt: skip


def make_torch_runner(
    name: str,
    build_features: Callable[[], torch.nn.Module],
    device: str,
    cache_dir: Path,
    version_tag: str,
) -> Runner:
    """ONNX Runtime on CPU when the export works (cached per weights), else torch eager. A
    failed export is remembered for these weights and this torch, and not tried again."""
    if device != "cpu" or not ONNX_ON_CPU:
        return TorchRunner(build_features(), device)
    key = f"{name}-{version_tag}-torch{version('torch').split('+')[0]}"
    no_export = cache_dir / f"{key}.no-onnx"
    if no_export.exists():
        return TorchRunner(build_features(), device)
    try:
        return make_runner(build_features, device, cache_dir, key, CROP)
    except Exception as exc:  # e.g. ViT's fused attention, which the exporter does not know
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(no_export, f"{type(exc).__name__}: {exc}\n".encode())
        return TorchRunner(build_features(), device)


class TorchvisionEmbedder:
    """A pooled-feature network with weights from the models folder or torchvision."""

    def __init__(
        self,
        info: MethodInfo,
        resize: int,
        features: Callable[[], torch.nn.Module],
        device: str,
        cache_dir: Path,
    ) -> None:
        self.info = info
        self.device = device
        self._resize = resize
        self._run = make_torch_runner(info.name, features, device, cache_dir, info.version)

    def prepare(self, image: Image.Image) -> FloatArray:
        return prepare_imagenet(image, self._resize)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        return l2_normalise(self._run(np.asarray(batch, np.float32)))


def _base_info(arch: Architecture) -> MethodInfo:
    return MethodInfo(arch.name, "1", arch.dim, arch.family, arch.description)


def _spec(arch: Architecture) -> MethodSpec:
    def info(folder: Path) -> MethodInfo:
        state = weights_state(arch.source, folder)
        base = replace(_base_info(arch), version=f"1-{state.tag}")
        return base if state.present else replace(base, reason=missing_reason(arch.source))

    def load(device: str, cache_dir: Path, folder: Path) -> TorchvisionEmbedder:
        method = info(folder)
        weights = load_weights(arch.source, folder)  # raises a clear error when missing
        method = info(folder)  # a download just happened: now versioned by what is there

        def features() -> torch.nn.Module:
            model = arch.source.build()
            model.load_state_dict(weights)
            return arch.features(model).eval()

        return TorchvisionEmbedder(method, arch.resize, features, device, cache_dir)

    return MethodSpec(arch.name, info, load)


SPECS: list[MethodSpec] = [_spec(arch) for arch in ARCHITECTURES.values()]
SOURCES: dict[str, WeightsSource] = {a.name: a.source for a in ARCHITECTURES.values()}
