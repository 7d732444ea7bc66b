"""Embedding methods: a registry of what exists, what can run here, and how to load it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from photofinder.core.embedders import (
    efficientnet_lite0,
    finetune,
    hog,
    moco,
    orb_bow,
    sift_vlad,
    simclr,
    torchvision_models,
)
from photofinder.core.embedders.base import Embedder, MethodInfo
from photofinder.core.embedders.devices import (
    NO_TORCH_REASON,
    require_torch_extra,
    resolve_device,
    torch_extra_installed,
)
from photofinder.core.embedders.spec import MethodSpec
from photofinder.core.embedders.weights import WeightsSource, models_dir
from photofinder.core.errors import MethodUnavailableError, PhotoFinderError
from photofinder.core.storage.paths import resolve_paths

DEFAULT_METHOD = efficientnet_lite0.INFO.name

Factory = Callable[[str, Path], Embedder]

_FACTORIES: dict[str, tuple[MethodInfo, Factory]] = {
    efficientnet_lite0.INFO.name: (efficientnet_lite0.INFO, efficientnet_lite0.EfficientNetLite0),
    hog.INFO.name: (hog.INFO, hog.HogEmbedder),
}

# Methods whose version/dim/availability depend on files in `<data_dir>/models/`: a codebook
# learned from the library, or weights downloaded or imported (`photofinder models import`).
_SPECS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (sift_vlad.SPEC, orb_bow.SPEC, *torchvision_models.SPECS, moco.SPEC,
                 finetune.SPEC, simclr.SPEC)
}
_WEIGHTS: dict[str, WeightsSource] = {**torchvision_models.SOURCES, moco.SOURCE.method: moco.SOURCE}
# Methods that run only with `photofinder[torch]` (torchvision networks, trained stages).
_NEEDS_TORCH = frozenset({*torchvision_models.ARCHITECTURES, moco.BASE.name, finetune.BASE.name,
                          simclr.BASE.name})

# Listed so users see why it is missing, with what to use instead.
_UNAVAILABLE: list[MethodInfo] = [
    MethodInfo(
        name="surf",
        version="-",
        dim=64,
        family="classical keypoints",
        description="SURF keypoint descriptors",
        available=False,
        reason="patented (non-free) and not part of OpenCV builds; use SIFT or ORB instead",
    ),
]


def default_models_dir() -> Path:
    """`<data_dir>/models` of the data folder in effect (argument-less: env or platform)."""
    return models_dir(resolve_paths().data_dir)


def _spec_info(spec: MethodSpec, folder: Path) -> MethodInfo:
    """The spec's own info, or unavailable with the install command when it needs torch."""
    info = spec.info(folder)
    if spec.name in _NEEDS_TORCH and not torch_extra_installed():
        return replace(info, available=False, reason=NO_TORCH_REASON)
    return info


def list_methods(folder: Path | None = None) -> list[MethodInfo]:
    folder = folder or default_models_dir()
    specs = [_spec_info(spec, folder) for spec in _SPECS.values()]
    return [info for info, _ in _FACTORIES.values()] + specs + _UNAVAILABLE


def method_names() -> list[str]:
    """The names `--method` accepts (without reading the models folder or loading anything)."""
    return [*_FACTORIES, *_SPECS]


def method_spec(name: str) -> MethodSpec | None:
    """The spec of a method that reads the models folder (None for self-contained ones)."""
    return _SPECS.get(name)


def weights_source(name: str) -> WeightsSource:
    """What `photofinder models import NAME FILE` checks a file against."""
    if name not in _WEIGHTS:
        known = ", ".join(_WEIGHTS)
        raise PhotoFinderError(f"method {name!r} takes no weights file; importable: {known}")
    require_torch_extra("importing weights")
    return _WEIGHTS[name]


def weights_methods() -> list[str]:
    return list(_WEIGHTS)


def method_info(name: str, folder: Path | None = None) -> MethodInfo:
    if name in _FACTORIES:
        return _FACTORIES[name][0]
    if name in _SPECS:
        return _spec_info(_SPECS[name], folder or default_models_dir())
    for info in _UNAVAILABLE:
        if info.name == name:
            raise MethodUnavailableError(f"method {name!r} is not available: {info.reason}")
    known = ", ".join([*_FACTORIES, *_SPECS])
    raise MethodUnavailableError(f"unknown method {name!r}; available: {known}")


def load_embedder(
    name: str, device: str, cache_dir: Path, folder: Path | None = None
) -> Embedder:
    """Load a method on a device ("auto" picks CUDA, then MPS, then CPU). `folder` is the
    models folder (`<data_dir>/models`) of methods with learned or imported state."""
    info = method_info(name, folder)
    if name in _NEEDS_TORCH and not info.available:
        raise MethodUnavailableError(f"method {name!r} is not available: {info.reason}")
    concrete = resolve_device(device)
    if name in _SPECS:
        return _SPECS[name].load(concrete, cache_dir, folder or default_models_dir())
    return _FACTORIES[name][1](concrete, cache_dir)


__all__ = ["DEFAULT_METHOD", "Embedder", "MethodInfo", "MethodSpec", "default_models_dir",
           "list_methods", "load_embedder", "method_info", "method_names", "method_spec",
           "weights_methods", "weights_source"]
