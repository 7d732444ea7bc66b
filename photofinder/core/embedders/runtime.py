"""Run a feature extractor: ONNX Runtime on CPU (a shipped file, or exported once and cached),
torch on GPUs. The default model's backbone ships as ONNX, so a CPU never imports torch."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from photofinder.core.embedders.base import FloatArray
from photofinder.core.errors import MethodUnavailableError
from photofinder.core.storage.atomic import atomic_path
from photofinder.core.storage.resources import resource_path

if TYPE_CHECKING:
    import torch


class Runner(Protocol):
    def __call__(self, batch: FloatArray) -> FloatArray: ...


ModuleFactory = Callable[[], "torch.nn.Module"]

# The default method's backbone + GeM pooling, (N, 3, 224, 224) in [-1, 1] -> (N, 1280), as
# shipped in resources/; made by `python packaging/export_default_model.py` (re-run it after
# changing `efficientnet_lite0.build_feature_module`).
DEFAULT_BACKBONE_ONNX = "models/efficientnet_lite0_gem3.onnx"


class OnnxRunner:
    """ONNX Runtime on the CPU with all cores; the session is thread-affine to its caller."""

    def __init__(self, model_path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def __call__(self, batch: FloatArray) -> FloatArray:
        (output,) = self._session.run(None, {self._input: np.ascontiguousarray(batch)})
        return np.asarray(output, np.float32)


class TorchRunner:
    """PyTorch eager on a device (CUDA, MPS, or CPU as a fallback), channels-last, no grad."""

    def __init__(self, module: torch.nn.Module, device: str) -> None:
        import torch

        self._torch = torch
        self._device = torch.device(device)
        module = module.eval().to(self._device)
        self._module = module.to(memory_format=torch.channels_last)

    def __call__(self, batch: FloatArray) -> FloatArray:
        torch = self._torch
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(self._device)
            tensor = tensor.contiguous(memory_format=torch.channels_last)
            return np.asarray(self._module(tensor).float().cpu().numpy(), np.float32)


def export_onnx(factory: ModuleFactory, target: Path, input_size: int) -> Path:
    """Export the module to ONNX with a dynamic batch axis, written atomically."""
    import torch

    module = factory().eval()
    example = torch.zeros(1, 3, input_size, input_size)
    with atomic_path(target) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on constant folding
        torch.onnx.export(
            module,
            (example,),
            str(tmp),
            input_names=["pixels"],
            output_names=["features"],
            dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return target


def make_runner(
    factory: ModuleFactory, device: str, cache_dir: Path, cache_key: str, input_size: int
) -> Runner:
    """CPU: the cached ONNX export (exported now when missing); otherwise torch on the device."""
    if device != "cpu":
        return TorchRunner(factory(), device)
    model_path = cache_dir / f"{cache_key}.onnx"
    if not model_path.exists():
        export_onnx(factory, model_path, input_size)
    try:
        return OnnxRunner(model_path)
    except Exception:  # a damaged cache file: export again once
        model_path.unlink(missing_ok=True)
        export_onnx(factory, model_path, input_size)
        return OnnxRunner(model_path)


def shipped_runner(relative: str, factory: ModuleFactory, device: str) -> Runner:
    """CPU: the ONNX file shipped in resources/ (torch is never imported); otherwise torch."""
    if device != "cpu":
        return TorchRunner(factory(), device)
    model_path = resource_path(relative)
    if not model_path.is_file():
        raise MethodUnavailableError(
            f"the shipped model file {model_path} is missing: reinstall PhotoFinder"
        )
    return OnnxRunner(model_path)
