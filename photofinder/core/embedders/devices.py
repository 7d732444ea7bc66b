"""Which compute device runs the models: auto, cpu, cuda or mps, chosen by capability checks."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from photofinder.core.errors import DeviceUnavailableError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


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
        if not torch_cuda_available():
            return DeviceStatus("cuda", False, "PyTorch cannot use the NVIDIA GPU")
        return DeviceStatus("cuda", True, "NVIDIA GPU")
    if name == "mps":
        if not _apple_silicon():
            return DeviceStatus("mps", False, "Apple MPS needs a Mac with Apple silicon")
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
