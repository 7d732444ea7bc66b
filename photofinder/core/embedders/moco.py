"""MoCo v2 (self-supervised ResNet-50): import of a checkpoint in the reference format.

The file (e.g. `moco_v2_800ep_pretrain.pth.tar`) holds `state_dict` with keys
`module.encoder_q.*`; the prefix is stripped, the MLP head (`fc.*`) dropped, and the
backbone's average-pooled 2048-d features are used. Loaded with `weights_only=True`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.spec import MethodSpec
from photofinder.core.embedders.torchvision_models import TorchvisionEmbedder
from photofinder.core.embedders.weights import (
    StateDict,
    WeightsSource,
    load_weights,
    missing_reason,
    weights_state,
)

if TYPE_CHECKING:
    import torch

PREFIXES = ("module.encoder_q.", "encoder_q.", "module.")
RESIZE = 256

BASE = MethodInfo(
    name="moco-v2",
    version="1",
    dim=2048,
    family="self-supervised",
    description=(
        "MoCo v2 ResNet-50 (self-supervised, no labels) from an imported checkpoint: "
        "encoder_q backbone, MLP head dropped, average-pooled 2048-d."
    ),
)


def backbone() -> torch.nn.Module:
    """ResNet-50 without its classifier: the shape a converted checkpoint must fit."""
    import torch
    from torchvision.models import resnet50

    model: torch.nn.Module = resnet50(weights=None)
    model.fc = torch.nn.Identity()
    return model


def convert(raw: Mapping[str, Any]) -> StateDict:
    """MoCo checkpoint (or an already converted backbone state_dict) → backbone state_dict."""
    import torch

    nested = raw.get("state_dict")
    source: Mapping[str, Any] = nested if isinstance(nested, Mapping) else raw
    has_query = any(str(k).startswith(("module.encoder_q.", "encoder_q.")) for k in source)
    state: StateDict = {}
    for key, value in source.items():
        name = str(key)
        if has_query and "encoder_q." not in name:
            continue  # the key encoder, the queue
        for prefix in PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if name.startswith("fc.") or not isinstance(value, torch.Tensor):
            continue  # the MLP projection head
        state[name] = value
    if not state:
        raise ValueError(
            "no backbone tensors found (expected keys like module.encoder_q.conv1.weight)"
        )
    return state


SOURCE = WeightsSource("moco-v2", backbone, convert, None, "", "moco_v2_800ep_pretrain.pth.tar")


def _info(folder: Path) -> MethodInfo:
    state = weights_state(SOURCE, folder)
    base = replace(BASE, version=f"1-{state.tag}")
    if state.present:
        return base
    return replace(base, available=False, reason=missing_reason(SOURCE))


def _load(device: str, cache_dir: Path, folder: Path) -> TorchvisionEmbedder:
    weights = load_weights(SOURCE, folder)
    info = _info(folder)

    def features() -> torch.nn.Module:
        model = backbone()
        model.load_state_dict(weights)
        return model.eval()

    return TorchvisionEmbedder(info, RESIZE, features, device, cache_dir)


SPEC = MethodSpec(BASE.name, _info, _load)
