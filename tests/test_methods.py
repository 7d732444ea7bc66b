"""The article's embedding methods: classical (HOG, SIFT-VLAD, ORB-BoW), torchvision CNNs and
ViT, MoCo v2 import; weights import/validation and the offline errors. Weights are random
(made here): nothing is downloaded."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from photofinder.cli import main
from photofinder.core.embedders import (
    list_methods,
    load_embedder,
    method_info,
    sift_vlad,
    torchvision_models,
)
from photofinder.core.embedders import orb_bow as orb_bow_module
from photofinder.core.embedders.base import FloatArray, embed_images
from photofinder.core.embedders.codebook import sample_photos
from photofinder.core.embedders.runtime import TorchRunner
from photofinder.core.embedders.weights import OFFLINE_ENV
from photofinder.core.errors import MethodUnavailableError
from photofinder.core.library import Library
from photofinder.core.photos.imageio import DecodedPhoto, decode_file


def textured(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A picture with corners and edges (keypoint methods need texture), unique per seed."""
    rng = np.random.default_rng(seed)
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(40):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(8, w // 3)), y0 + int(rng.integers(8, h // 3))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.line((x0, y0, x1, y1), fill=fill, width=3)
    return image


def write_textured(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"t_{start + i:03d}.jpg"
        textured(start + i).save(path, "JPEG", quality=92)
        paths.append(path)
    return paths


def assert_good_vectors(vectors: FloatArray, dim: int) -> None:
    assert vectors.shape[1] == dim
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def assert_tells_apart(embedder: Any, count: int = 4) -> None:
    """A resized copy of each picture is nearer to it than any other picture."""
    originals = [textured(100 + i) for i in range(count)]
    copies = [im.resize((256, 192), Image.Resampling.BILINEAR) for im in originals]
    a = embed_images(embedder, originals)
    b = embed_images(embedder, copies)
    assert_good_vectors(a, embedder.info.dim)
    similarity = b @ a.T
    assert list(similarity.argmax(axis=1)) == list(range(count))
    assert float(np.abs(a[0] - a[1]).max()) > 1e-4


@pytest.fixture
def tiny_codebooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sift_vlad, "WORDS", 4)
    monkeypatch.setattr(orb_bow_module, "WORDS", 16)


@pytest.fixture
def eager_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch eager instead of the ONNX export (the export path has its own test)."""
    monkeypatch.setattr(torchvision_models, "ONNX_ON_CPU", False)


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []

    def refuse(source: Any) -> Any:
        calls.append(source.method)
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr("photofinder.core.embedders.weights.download_state_dict", refuse)
    monkeypatch.setattr("torch.hub.get_dir", lambda: "/nonexistent-torch-hub")
    yield calls


# --- classical ---------------------------------------------------------------------------------
def test_hog_embeds_to_unit_vectors_and_tells_photos_apart(tmp_path: Path) -> None:
    embedder = load_embedder("hog", "cpu", tmp_path)
    assert embedder.info.dim == 512
    assert_tells_apart(embedder)
    flat = embed_images(embedder, [Image.new("RGB", (64, 64), "grey")])
    assert_good_vectors(flat, 512)  # no gradients at all still gives a unit vector


@pytest.mark.parametrize("name", ["sift-vlad", "orb-bow"])
def test_codebook_is_learned_on_first_index_then_reused(
    name: str, tiny_codebooks: None, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_textured(photos, 6)
    data = tmp_path / "data"
    with Library(data, method=name, device="cpu") as lib:
        assert lib.info.version.endswith("-unfitted")
        lib.add_roots([photos])
        report = lib.update()
        assert report.embedded == 6 and report.failed == 0
        codebook = data / "models" / f"{name}-codebook.npz"
        assert codebook.is_file()
        version = lib.info.version
        assert not version.endswith("-unfitted")
        assert lib.status().counts.indexed == 6
        hits = lib.search_image(textured(3).resize((240, 180)), k=3)
        assert Path(hits[0].path).name == "t_003.jpg"
        assert_good_vectors(lib.catalog.vector(1, name, version)[None, :], lib.info.dim)  # type: ignore[index]
    stamp = codebook.stat().st_mtime_ns
    write_textured(photos, 1, start=50)
    with Library(data, method=name, device="cpu") as lib:
        assert lib.info.version == version  # the saved codebook, not a new one
        lib.update()
        assert lib.status().counts.indexed == 7
    assert codebook.stat().st_mtime_ns == stamp
    assert method_info(name, data / "models").version == version


def test_a_codebook_for_an_indexed_library_is_learned_from_its_catalogue(
    tiny_codebooks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = tmp_path / "photos"
    catalogued = write_textured(photos, 6)
    private = write_textured(photos / "private", 2, start=20)
    data = tmp_path / "data"
    with Library(data, method="hog", device="cpu") as lib:
        lib.add_roots([photos])
        lib.update()
        lib.exclude_folder(photos / "private")
    write_textured(photos, 1, start=50)  # on disk, not catalogued yet
    decoded: list[Path] = []

    def recording_decode(path: Path) -> DecodedPhoto:
        decoded.append(Path(path))
        return decode_file(path)

    monkeypatch.setattr("photofinder.core.library.decode_file", recording_decode)
    with Library(data, method="orb-bow", device="cpu") as lib:
        lib.update()
        assert not lib.info.version.endswith("-unfitted")
    assert sorted(decoded) == sorted(catalogued)  # not the new photo, not the excluded ones
    assert not set(decoded) & set(private)


def test_a_codebook_sample_leaves_out_excluded_folders_and_is_seeded(tmp_path: Path) -> None:
    photos = [tmp_path / "a" / f"{n}.jpg" for n in range(10)]
    photos += [tmp_path / "a" / "skip" / f"{n}.jpg" for n in range(5)]
    sample = sample_photos(reversed(photos), [tmp_path / "a" / "skip"], limit=4, seed=1)
    assert len(sample) == 4 and sample == sorted(sample)
    assert all(p.parent == tmp_path / "a" for p in sample)
    assert sample == sample_photos(photos, [tmp_path / "a" / "skip"], limit=4, seed=1)
    assert sample_photos(photos[:3], limit=4) == sorted(photos[:3])


def test_codebook_methods_tell_photos_apart(tiny_codebooks: None, tmp_path: Path) -> None:
    for name in ("sift-vlad", "orb-bow"):
        spec_images = [textured(200 + i) for i in range(6)]
        from photofinder.core.embedders import method_spec

        spec = method_spec(name)
        assert spec is not None and spec.fit is not None
        spec.fit(spec_images, tmp_path / name)
        embedder = load_embedder(name, "cpu", tmp_path, tmp_path / name)
        assert_tells_apart(embedder)


def test_codebook_method_without_codebook_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(MethodUnavailableError, match="photofinder index --method sift-vlad"):
        load_embedder("sift-vlad", "cpu", tmp_path, tmp_path / "models")


# --- torchvision weights -----------------------------------------------------------------------
def save_random(model: torch.nn.Module, path: Path) -> Path:
    torch.save(model.state_dict(), path)
    return path


@pytest.mark.slow
def test_models_import_validates_and_copies_then_resnet50_embeds_via_onnx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_download: list[str]
) -> None:
    from torchvision.models import resnet50

    data = tmp_path / "data"
    weights = save_random(resnet50(weights=None), tmp_path / "r50.pth")
    assert main(["--data-dir", str(data), "models", "import", "resnet50", str(weights)]) == 0
    assert "imported" in capsys.readouterr().out
    stored = data / "models" / "resnet50.pt"
    assert stored.is_file()
    info = method_info("resnet50", data / "models")
    assert info.version.startswith("1-imp-") and info.reason == ""
    assert main(["--data-dir", str(data), "models", "list", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)["methods"]}
    assert listed["resnet50"]["ready"] is True
    assert listed["vit-b16"]["ready"] is False
    embedder = load_embedder("resnet50", "cpu", tmp_path / "cache", data / "models")
    assert embedder.info.dim == 2048
    assert_tells_apart(embedder, count=3)
    assert list((tmp_path / "cache").glob("resnet50-1-imp-*.onnx"))  # ran through ONNX
    assert no_download == []


@pytest.mark.slow
def test_models_import_rejects_a_wrong_file_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from torchvision.models import mobilenet_v3_large

    data = tmp_path / "data"
    other = save_random(mobilenet_v3_large(weights=None), tmp_path / "mnv3.pth")
    assert main(["--data-dir", str(data), "models", "import", "resnet50", str(other)]) == 1
    err = capsys.readouterr().err
    assert "does not fit the resnet50 architecture" in err and "missing" in err
    text = tmp_path / "notes.txt"
    text.write_text("not weights")
    assert main(["--data-dir", str(data), "models", "import", "resnet50", str(text)]) == 1
    assert "is not a PyTorch state_dict file" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "models", "import", "hog", str(text)]) == 1
    assert "takes no weights file" in capsys.readouterr().err
    assert not (data / "models" / "resnet50.pt").exists()


@pytest.mark.slow
def test_mobilenet_v3_from_imported_weights(tmp_path: Path, eager_cpu: None) -> None:
    from torchvision.models import mobilenet_v3_large

    from photofinder.core.embedders.weights import import_weights

    folder = tmp_path / "models"
    import_weights(torchvision_models.SOURCES["mobilenet-v3"],
                   save_random(mobilenet_v3_large(weights=None), tmp_path / "m.pth"), folder)
    embedder = load_embedder("mobilenet-v3", "cpu", tmp_path, folder)
    assert embedder.info.dim == 960
    assert_tells_apart(embedder, count=3)


@pytest.mark.slow
def test_vit_b16_from_a_download_averages_tokens(
    tmp_path: Path, eager_cpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchvision.models import vit_b_16

    state = vit_b_16(weights=None).state_dict()
    monkeypatch.setattr("photofinder.core.embedders.weights.download_state_dict", lambda _s: state)
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
    embedder = load_embedder("vit-b16", "cpu", tmp_path, tmp_path / "models")
    assert embedder.info.dim == 768 and embedder.info.version == "1-imagenet1k-v1"
    assert_tells_apart(embedder, count=2)


def test_missing_weights_give_a_clear_error_naming_models_import(
    no_download: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Library(tmp_path / "data", method="resnet50", device="cpu") as lib:
        assert "photofinder models import resnet50" in lib.info.reason
        with pytest.raises(MethodUnavailableError, match="photofinder models import resnet50"):
            lib.embedder()
    assert no_download == ["resnet50"]
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(MethodUnavailableError, match="downloads are off"):
        load_embedder("vit-b16", "cpu", tmp_path, tmp_path / "models")
    assert no_download == ["resnet50"]  # offline: not even tried
    with pytest.raises(MethodUnavailableError, match="photofinder models import moco-v2"):
        load_embedder("moco-v2", "cpu", tmp_path, tmp_path / "models")


def test_methods_lists_every_method_with_its_state(
    no_download: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["--data-dir", str(tmp_path / "d"), "methods", "--json"]) == 0
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)["methods"]}
    expected = {"efficientnet-lite0", "hog", "sift-vlad", "orb-bow", "resnet50",
                "mobilenet-v3", "vit-b16", "moco-v2", "surf"}
    assert expected <= set(methods)
    assert methods["resnet50"]["available"] and "downloaded" in methods["resnet50"]["reason"]
    assert not methods["moco-v2"]["available"] and "models import" in methods["moco-v2"]["reason"]
    assert methods["vit-b16"]["dim"] == 768
    assert main(["--data-dir", str(tmp_path / "d"), "methods"]) == 0
    assert "note: weights not on this machine" in capsys.readouterr().out
    assert {m.name for m in list_methods(tmp_path / "d" / "models")} == set(methods)


# --- MoCo v2 -----------------------------------------------------------------------------------
def moco_checkpoint(path: Path) -> Path:
    """A checkpoint shaped like moco_v2_800ep_pretrain.pth.tar (random weights)."""
    from torchvision.models import resnet50

    model = resnet50(weights=None)
    model.fc = torch.nn.Sequential(
        torch.nn.Linear(2048, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 128)
    )
    state = {f"module.encoder_q.{k}": v for k, v in model.state_dict().items()}
    state["module.queue"] = torch.zeros(128, 16)
    torch.save({"epoch": 800, "arch": "resnet50", "state_dict": state}, path)
    return path


@pytest.mark.slow
def test_moco_v2_checkpoint_import_strips_prefix_and_head(
    tmp_path: Path, eager_cpu: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    checkpoint = moco_checkpoint(tmp_path / "moco_v2_800ep_pretrain.pth.tar")
    assert main(["--data-dir", str(data), "models", "import", "moco-v2", str(checkpoint)]) == 0
    stored = torch.load(data / "models" / "moco-v2.pt", weights_only=True)
    assert "conv1.weight" in stored and not any(k.startswith(("fc.", "module")) for k in stored)
    info = method_info("moco-v2", data / "models")
    assert info.available and info.version.startswith("1-imp-")
    embedder = load_embedder("moco-v2", "cpu", tmp_path, data / "models")
    assert embedder.info.dim == 2048
    assert_tells_apart(embedder, count=3)


def test_a_failed_onnx_export_is_not_tried_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    attempts: list[str] = []

    def failing_export(*args: Any) -> Any:
        attempts.append("export")
        raise RuntimeError("unsupported operator: scaled_dot_product_attention")

    monkeypatch.setattr(torchvision_models, "make_runner", failing_export)
    runners = [
        torchvision_models.make_torch_runner(
            "vit-b16", lambda: torch.nn.Flatten(), "cpu", tmp_path, "v1"
        )
        for _ in range(2)
    ]
    assert attempts == ["export"]
    assert all(isinstance(r, TorchRunner) for r in runners)
    assert "unsupported operator" in next(tmp_path.glob("vit-b16-v1-*.no-onnx")).read_text()
