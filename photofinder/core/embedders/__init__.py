"""Embedding methods: a registry of what exists, what can run here, and how to load it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from photofinder.core.devices import resolve_device
from photofinder.core.embedders import efficientnet_lite0
from photofinder.core.embedders.base import Embedder, MethodInfo
from photofinder.core.errors import MethodUnavailableError

DEFAULT_METHOD = efficientnet_lite0.INFO.name

Factory = Callable[[str, Path], Embedder]

_FACTORIES: dict[str, tuple[MethodInfo, Factory]] = {
    efficientnet_lite0.INFO.name: (efficientnet_lite0.INFO, efficientnet_lite0.EfficientNetLite0),
}

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


def list_methods() -> list[MethodInfo]:
    return [info for info, _ in _FACTORIES.values()] + _UNAVAILABLE


def method_info(name: str) -> MethodInfo:
    if name in _FACTORIES:
        return _FACTORIES[name][0]
    for info in _UNAVAILABLE:
        if info.name == name:
            raise MethodUnavailableError(f"method {name!r} is not available: {info.reason}")
    known = ", ".join(_FACTORIES)
    raise MethodUnavailableError(f"unknown method {name!r}; available: {known}")


def load_embedder(name: str, device: str, cache_dir: Path) -> Embedder:
    """Load a method on a device ("auto" picks CUDA, then MPS, then CPU)."""
    method_info(name)
    concrete = resolve_device(device)
    return _FACTORIES[name][1](concrete, cache_dir)


__all__ = ["DEFAULT_METHOD", "Embedder", "MethodInfo", "list_methods", "load_embedder",
           "method_info"]
