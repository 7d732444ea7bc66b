"""The trained methods of issue 6 (fine-tuned on albums, SimCLR): training, saving, loading,
versions, resume, cancel and the `train` command, on a handful of tiny generated photos."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from photofinder.cli import main
from photofinder.core.embedders import load_embedder, method_info, training
from photofinder.core.embedders.base import embed_images
from photofinder.core.errors import PhotoFinderError
from photofinder.core.progress import CancelToken, Progress
from tests.support.photos import scene, write_jpeg

SMALL = (96, 72)
FAST = training.TrainConfig(epochs=2, batch_size=4, lr=1e-3, head_lr=1e-2)


def albums(root: Path, count: int = 3, per_album: int = 4) -> Path:
    for album in range(count):
        for i in range(per_album):
            # photos of an album share a base scene (plus a per-photo variation)
            write_jpeg(root / f"album{album}" / f"p{i}.jpg", 100 * album + (i % 2), SMALL)
    return root


@pytest.fixture
def dirs(tmp_path: Path, model_cache: Path) -> tuple[Path, Path]:
    return tmp_path / "data" / "models", model_cache


@pytest.mark.slow
def test_finetune_trains_saves_and_embeds(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    models, cache = dirs
    assert not method_info("efficientnet-lite0-ft", models).available
    samples = training.labelled_photos(albums(tmp_path / "photos"))
    report = training.train_finetune(samples, models, cache, FAST)
    assert not report.cancelled and report.epochs_done == 2
    assert report.photos == 12 and report.classes == 3
    assert report.losses[1] < report.losses[0]
    info = method_info("efficientnet-lite0-ft", models)
    assert info.available and info.version == report.version and info.dim == 256
    assert not (models / "efficientnet-lite0-ft.checkpoint.pt").exists()

    embedder = load_embedder("efficientnet-lite0-ft", "cpu", cache, models)
    vectors = embed_images(embedder, [scene(1, SMALL), scene(7, SMALL)])
    assert vectors.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    again = training.train_finetune(samples, models, cache,
                                    training.TrainConfig(epochs=1, batch_size=4, seed=1))
    assert again.version != report.version  # other weights, other version
    assert method_info("efficientnet-lite0-ft", models).version == again.version


@pytest.mark.slow
def test_cancel_stops_and_resume_continues(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    models, cache = dirs
    samples = training.labelled_photos(albums(tmp_path / "photos"))
    token = CancelToken()

    def cancel_after_first_epoch(p: Progress) -> None:
        if p.stage == "epoch" and p.done == 1:
            token.cancel()

    first = training.train_finetune(samples, models, cache, FAST,
                                    progress=cancel_after_first_epoch, cancel=token)
    assert first.cancelled and first.epochs_done == 1 and not first.weights
    assert (models / "efficientnet-lite0-ft.checkpoint.pt").is_file()
    assert not method_info("efficientnet-lite0-ft", models).available

    resumed = training.train_finetune(samples, models, cache, FAST)
    assert not resumed.cancelled and resumed.resumed_from == 1 and resumed.epochs_done == 2
    assert resumed.losses[0] == pytest.approx(first.losses[0])
    assert method_info("efficientnet-lite0-ft", models).available
    assert not (models / "efficientnet-lite0-ft.checkpoint.pt").exists()


@pytest.mark.slow
def test_cancel_mid_epoch_saves_nothing(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    models, cache = dirs
    token = CancelToken()

    def cancel_at_first_step(p: Progress) -> None:
        if p.stage == "training":
            token.cancel()

    report = training.train_finetune(training.labelled_photos(albums(tmp_path / "photos")),
                                     models, cache, FAST, progress=cancel_at_first_step,
                                     cancel=token)
    assert report.cancelled and report.epochs_done == 0 and not report.losses
    assert not (models / "efficientnet-lite0-ft.npz").exists()


@pytest.mark.slow
def test_simclr_runs_an_epoch_and_saves(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    models, cache = dirs
    photos = training.find_photos(albums(tmp_path / "photos", count=2, per_album=3))
    config = training.TrainConfig(epochs=1, batch_size=4, temperature=0.2)
    report = training.train_simclr(photos, models, cache, config)
    assert not report.cancelled and report.epochs_done == 1 and report.photos == 6
    assert len(report.losses) == 1 and np.isfinite(report.losses[0])
    info = method_info("efficientnet-lite0-simclr", models)
    assert info.available and info.version == report.version and info.version.startswith("1-")


def test_labels_are_the_photos_own_folders_walked_by_the_indexers_rules(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    loose = write_jpeg(root / "loose.jpg", 1, SMALL)  # in no album
    trip = write_jpeg(root / "trip" / "a.jpg", 2, SMALL)
    day = write_jpeg(root / "trip" / "day2" / "b.jpg", 3, SMALL)  # a nested album: its folder
    cat = write_jpeg(root / "cats" / "c.jpg", 4, SMALL)
    write_jpeg(root / ".thumbnails" / "d.jpg", 5, SMALL)  # hidden folder
    write_jpeg(root / "@eaDir" / "e.jpg", 6, SMALL)  # system folder
    write_jpeg(root / "cats" / ".f.jpg", 7, SMALL)  # hidden file
    (root / "cats" / "link.jpg").symlink_to(cat)  # a photo is only read at its own path
    (root / "cats" / "notes.txt").write_text("not a photo")
    assert training.find_photos(root) == [cat, loose, trip, day]
    assert training.labelled_photos(root) == [(cat, "cats"), (trip, "trip"), (day, "day2")]


def test_a_labelled_sample_is_seeded_per_label(tmp_path: Path) -> None:
    root = albums(tmp_path / "photos", count=2, per_album=4)
    sample = training.labelled_photos(root, limit_per_class=3, seed=5)
    assert sample == sorted(sample)
    assert sorted(Counter(label for _, label in sample).values()) == [3, 3]
    assert sample == training.labelled_photos(root, limit_per_class=3, seed=5)
    assert len(training.labelled_photos(root, limit_per_class=4)) == 8


def test_augment_makes_square_views(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    views = [training.augment(scene(3, (200, 120)), rng) for _ in range(5)]
    assert all(v.size == (224, 224) and v.mode == "RGB" for v in views)


@pytest.mark.slow
def test_cli_train_prints_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = albums(tmp_path / "photos", count=2, per_album=2)
    assert main(["train", "finetune", str(folder), "--epochs", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["method"] == "efficientnet-lite0-ft" and payload["epochs_done"] == 1
    assert payload["version"] == method_info("efficientnet-lite0-ft").version
    assert main(["methods"]) == 0
    assert payload["version"] in capsys.readouterr().out


def test_fewer_than_two_albums_is_rejected(
    tmp_path: Path, dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    models, cache = dirs
    folder = tmp_path / "photos"
    for i in range(3):
        write_jpeg(folder / "only" / f"p{i}.jpg", i, SMALL)
    with pytest.raises(PhotoFinderError, match="at least 2 albums"):
        training.train_finetune(training.labelled_photos(folder), models, cache, FAST)
    assert main(["train", "finetune", str(folder)]) == 1
    assert "at least 2 albums" in capsys.readouterr().err
    assert main(["train", "finetune", str(tmp_path / "missing")]) == 1
