"""The bundled default model: real weights, ONNX matches PyTorch, and device selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from photofinder.core.embedders import devices, efficientnet_lite0, load_embedder
from photofinder.core.embedders.base import embed_images
from photofinder.core.errors import DeviceUnavailableError

ESPRESSO = 967
TABBY, TIGER_CAT, EGYPTIAN_CAT = 281, 282, 285


def skimage_photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage_data, name)()).convert("RGB")


@pytest.mark.slow
def test_bundled_weights_classify_real_photos() -> None:
    import torch

    model = efficientnet_lite0.load_classifier()
    batch = np.stack([efficientnet_lite0.prepare(skimage_photo(n)) for n in ("coffee", "chelsea")])
    with torch.no_grad():
        probabilities = model(torch.from_numpy(batch)).softmax(-1).numpy()
    assert probabilities[0].argmax() == ESPRESSO and probabilities[0].max() > 0.8
    assert probabilities[1].argmax() in {TABBY, TIGER_CAT, EGYPTIAN_CAT}


@pytest.mark.slow
def test_onnx_runtime_matches_pytorch(model_cache: Path) -> None:
    embedder = load_embedder("efficientnet-lite0", "cpu", model_cache)
    assert not list(model_cache.glob("efficientnet-lite0-*.onnx"))  # runs the shipped file
    photos = [skimage_photo(n) for n in ("coffee", "chelsea", "astronaut")]
    onnx_vectors = embed_images(embedder, photos)
    module = efficientnet_lite0.build_feature_module()
    import torch

    with torch.no_grad():
        pooled = module(torch.from_numpy(np.stack([embedder.prepare(p) for p in photos])))
    torch_vectors = efficientnet_lite0.Projection()(pooled.numpy())
    assert onnx_vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-3
    similarity = onnx_vectors @ onnx_vectors.T
    assert similarity[0, 1] < 0.9  # different photos are told apart


@pytest.mark.slow
def test_embedding_is_stable_under_re_encoding(model_cache: Path) -> None:
    import io

    embedder = load_embedder("efficientnet-lite0", "cpu", model_cache)
    original = skimage_photo("coffee")
    buffer = io.BytesIO()
    original.resize((200, 133)).save(buffer, "JPEG", quality=30)
    copy = Image.open(buffer).convert("RGB")
    other = skimage_photo("chelsea")
    vectors = embed_images(embedder, [original, copy, other])
    assert vectors[0] @ vectors[1] > 0.75 and vectors[0] @ vectors[2] < 0.3


def test_auto_device_prefers_cuda_then_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_nvidia_driver_present", lambda: True)
    monkeypatch.setattr(devices, "torch_cuda_available", lambda: True)
    assert devices.resolve_device("auto") == "cuda"
    monkeypatch.setattr(devices, "torch_cuda_available", lambda: False)
    monkeypatch.setattr(devices, "_apple_silicon", lambda: True)
    monkeypatch.setattr(devices, "torch_mps_available", lambda: True)
    assert devices.resolve_device("auto") == "mps"
    assert devices.resolve_device("MPS") == "mps"


def test_cpu_only_machine_never_imports_torch_for_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run() -> bool:
        raise AssertionError("torch probed without a GPU driver hint")

    monkeypatch.setattr(devices, "_nvidia_driver_present", lambda: False)
    monkeypatch.setattr(devices, "_apple_silicon", lambda: False)
    monkeypatch.setattr(devices, "torch_cuda_available", must_not_run)
    monkeypatch.setattr(devices, "torch_mps_available", must_not_run)
    assert devices.resolve_device("auto") == "cpu"


def test_absent_device_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_nvidia_driver_present", lambda: False)
    monkeypatch.setattr(devices, "_apple_silicon", lambda: False)
    with pytest.raises(DeviceUnavailableError, match="'cuda' is not available: no NVIDIA"):
        devices.resolve_device("cuda")
    with pytest.raises(DeviceUnavailableError, match="Apple silicon"):
        devices.resolve_device("mps")
    with pytest.raises(DeviceUnavailableError, match="unknown device"):
        devices.resolve_device("tpu")


def test_gpu_devices_run_torch_not_onnx(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from photofinder.core.embedders import runtime

    chosen: list[str] = []

    class RecordingRunner:
        def __init__(self, module: object, device: str) -> None:
            chosen.append(device)

    monkeypatch.setattr(runtime, "TorchRunner", RecordingRunner)
    monkeypatch.setattr(runtime, "export_onnx", lambda *a: pytest.fail("exported for a GPU"))
    runtime.make_runner(lambda: None, "cuda", tmp_path, "k", 224)  # type: ignore[arg-type, return-value]
    assert chosen == ["cuda"]
