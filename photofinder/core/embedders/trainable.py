"""Shared by the trained methods (fine-tuned on album names, SimCLR on unlabelled photos).

EfficientNet-Lite0 is split in two. The frozen *trunk* (stem + MBConv blocks 0–14, input
224×224 → 192×7×7) runs once per photo (its activations are cached) or, for augmented views,
through ONNX Runtime without gradients. The trainable *stage* is the last MBConv block (15),
the 1×1 conv head and its batch norm, GeM pooling (p=3) and a linear projection 1280 → 256
whose initial weights are the default method's PCA, so an untrained stage reproduces
`efficientnet-lite0` exactly: training starts from the default method.

Trained weights live in `<data_dir>/models/<method>.npz` (written atomically); the method
version is `1-<8 hex digits of the weights>`, so vectors of different trainings never mix.
A training in progress keeps `<method>.checkpoint.pt` beside it (one per finished epoch)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from photofinder.core.embedders import efficientnet_lite0
from photofinder.core.embedders.base import FloatArray, MethodInfo
from photofinder.core.embedders.codebook import fingerprint, save_state
from photofinder.core.embedders.fitted import State, read_state
from photofinder.core.embedders.runtime import Runner, make_runner
from photofinder.core.embedders.spec import MethodSpec
from photofinder.core.errors import MethodUnavailableError

if TYPE_CHECKING:
    import torch

SPLIT = 15  # blocks[:SPLIT] are the frozen trunk, blocks[SPLIT:] + head are trained
TRUNK_SHAPE = (192, 7, 7)  # trunk output for a 224×224 input
EMBED_DIM = 256
INPUT_SIZE = efficientnet_lite0.INPUT_SIZE
WEIGHT_PREFIX = "w."
META_PREFIX = "meta."


def _torch_tag() -> str:
    return f"torch{version('torch').split('+')[0]}"


def trunk_cache_key() -> str:
    """Name of the trunk's ONNX export in the model cache."""
    return f"efficientnet-lite0-trunk{SPLIT}-{_torch_tag()}"


def build_trunk() -> torch.nn.Module:
    """Stem + blocks[:SPLIT] with the bundled weights: (N, 3, 224, 224) → (N, 192, 7, 7)."""
    import torch

    model: Any = efficientnet_lite0.load_classifier()

    class Trunk(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_stem = model._conv_stem
            self.bn0 = model._bn0
            self.act = model._swish
            self.blocks = torch.nn.ModuleList(list(model._blocks)[:SPLIT])

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            x: torch.Tensor = self.act(self.bn0(self.conv_stem(pixels)))
            for block in self.blocks:
                x = block(x)
            return x

    trunk = Trunk().eval()
    for parameter in trunk.parameters():
        parameter.requires_grad_(False)
    return trunk


def trunk_runner(device: str, cache_dir: Path) -> Runner:
    """The frozen trunk: ONNX Runtime on the CPU (exported once, cached), torch elsewhere."""
    return make_runner(build_trunk, device, cache_dir, trunk_cache_key(), INPUT_SIZE)


def build_stage() -> torch.nn.Module:
    """The trainable stage, initialised to reproduce the default method (block 15, head,
    GeM, PCA as a linear layer): (N, 192, 7, 7) → (N, 256), L2-normalised."""
    import torch

    model: Any = efficientnet_lite0.load_classifier()
    projection = efficientnet_lite0.Projection()

    class Stage(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = torch.nn.ModuleList(list(model._blocks)[SPLIT:])
            self.conv_head = model._conv_head
            self.bn1 = model._bn1
            self.act = model._swish
            self.proj = torch.nn.Linear(efficientnet_lite0.FEATURE_DIM, EMBED_DIM)
            components = torch.from_numpy(projection.components)  # (1280, 256)
            with torch.no_grad():
                self.proj.weight.copy_(components.T)
                self.proj.bias.copy_(-(torch.from_numpy(projection.mean) @ components))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = block(x)
            x = self.act(self.bn1(self.conv_head(x)))
            gem = efficientnet_lite0.GEM_P
            pooled = x.clamp(min=1e-6).pow(gem).mean(dim=(2, 3)).pow(1.0 / gem)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            return torch.nn.functional.normalize(self.proj(pooled), dim=1)

    return Stage()


def freeze_batchnorm(module: torch.nn.Module) -> None:
    """Keep batch-norm statistics as learned on ImageNet (small batches would wreck them);
    their affine weights still train."""
    import torch

    for child in module.modules():
        if isinstance(child, torch.nn.BatchNorm2d):
            child.eval()


def build_network(stage: torch.nn.Module) -> torch.nn.Module:
    """Trunk + stage: 224×224 pixels in [-1, 1] → 256-d unit vectors (what is exported)."""
    import torch

    trunk = build_trunk()

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = trunk
            self.stage = stage

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.stage(self.trunk(pixels))
            return out

    return Network().eval()


def stage_arrays(stage: torch.nn.Module) -> dict[str, FloatArray]:
    """The stage's weights and batch-norm buffers as float32 arrays (what is saved)."""
    return {
        WEIGHT_PREFIX + key: np.ascontiguousarray(value.detach().cpu().numpy(), np.float32)
        for key, value in stage.state_dict().items()
        if value.is_floating_point()
    }


def load_stage_arrays(stage: torch.nn.Module, state: State) -> None:
    import torch

    weights = {
        key[len(WEIGHT_PREFIX):]: torch.from_numpy(np.array(value, np.float32))
        for key, value in state.items()
        if key.startswith(WEIGHT_PREFIX)
    }
    stage.load_state_dict(weights, strict=False)


def weights_fingerprint(state: State) -> str:
    return fingerprint(*(state[k] for k in sorted(state) if k.startswith(WEIGHT_PREFIX)))


@dataclass(frozen=True)
class TrainedMethod:
    """A method whose stage weights come from `photofinder train KIND FOLDER`."""

    base: MethodInfo
    train_command: str  # e.g. "photofinder train finetune FOLDER"

    @property
    def name(self) -> str:
        return self.base.name

    def path(self, models_dir: Path) -> Path:
        return models_dir / f"{self.name}.npz"

    def checkpoint_path(self, models_dir: Path) -> Path:
        return models_dir / f"{self.name}.checkpoint.pt"

    def state(self, models_dir: Path) -> State | None:
        state = read_state(self.path(models_dir))
        if state is None or not any(k.startswith(WEIGHT_PREFIX) for k in state):
            return None
        return state

    def info(self, models_dir: Path) -> MethodInfo:
        state = self.state(models_dir)
        if state is None:
            return replace(self.base, version=f"{self.base.version}-untrained", available=False,
                           reason=f"not trained yet: run `{self.train_command}`")
        return replace(self.base, version=f"{self.base.version}-{weights_fingerprint(state)}")

    def meta(self, models_dir: Path) -> dict[str, str]:
        state = self.state(models_dir) or {}
        return {k[len(META_PREFIX):]: str(v) for k, v in state.items()
                if k.startswith(META_PREFIX)}

    def save(self, models_dir: Path, stage: torch.nn.Module, meta: dict[str, str]) -> Path:
        """Write the trained weights atomically; returns the file."""
        arrays: dict[str, np.ndarray] = dict(stage_arrays(stage))
        arrays.update({META_PREFIX + k: np.array(v) for k, v in meta.items()})
        target = self.path(models_dir)
        save_state(target, arrays)
        return target

    def load_stage(self, models_dir: Path) -> torch.nn.Module:
        state = self.state(models_dir)
        if state is None:
            raise MethodUnavailableError(
                f"{self.name} is not trained yet: run `{self.train_command}`")
        stage = build_stage()
        load_stage_arrays(stage, state)
        return stage.eval()

    def load(self, device: str, cache_dir: Path, models_dir: Path) -> TrainedEmbedder:
        return TrainedEmbedder(self, device, cache_dir, models_dir)

    def spec(self) -> MethodSpec:
        return MethodSpec(self.name, self.info, self.load)


class TrainedEmbedder:
    """Trunk + trained stage; ONNX Runtime on the CPU (exported per weights version, cached
    in the model cache), torch on GPUs. Input: the whole photo squashed to 224×224."""

    def __init__(self, method: TrainedMethod, device: str, cache_dir: Path,
                 models_dir: Path) -> None:
        stage = method.load_stage(models_dir)  # raises when untrained
        self.info = method.info(models_dir)
        self.device = device
        key = f"{method.name}-{self.info.version}-{_torch_tag()}"
        self._run = make_runner(lambda: build_network(stage), device, cache_dir, key,
                                INPUT_SIZE)

    def prepare(self, image: Image.Image) -> FloatArray:
        return efficientnet_lite0.prepare(image)

    def embed_prepared(self, batch: FloatArray) -> FloatArray:
        return self._run(batch)
