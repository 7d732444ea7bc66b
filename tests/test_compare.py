"""`photofinder compare` on a tiny folder-labelled set: table, JSON, plot, skipped methods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofinder.cli import main
from photofinder.core.embedders import orb_bow
from photofinder.core.evaluation.metrics import class_map_and_precision, neardup_recall_at_1
from tests.test_methods import textured


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """3 classes × 4 photos: each class is crops of one textured picture (so classes differ)."""
    root = tmp_path / "labelled"
    for number, cls in enumerate(("cats", "dogs", "boats")):
        folder = root / cls
        folder.mkdir(parents=True)
        base = textured(500 + number, (480, 360))
        for i in range(4):
            base.crop((i * 20, i * 15, 400 + i * 20, 300 + i * 15)).save(
                folder / f"{cls}_{i}.jpg", "JPEG", quality=92
            )
    (root / "cats" / "notes.txt").write_text("not a photo")
    return root


@pytest.fixture(autouse=True)
def small_vocabulary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orb_bow, "WORDS", 16)


@pytest.mark.slow
def test_compare_prints_a_table_and_writes_a_plot(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "out" / "speed.png"
    argv = ["compare", str(labelled), "--methods", "hog", "orb-bow", "surf",
            "--neardup-originals", "2", "--plot", str(plot)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("method", "photos/s", "mAP", "P@10", "dup R@1", "bytes/photo", "pros", "cons"):
        assert column in header
    assert any(line.startswith("hog ") for line in out.splitlines())
    assert "not measured: surf: patented" in out
    assert "orb-bow: codebook learned" in out
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_compare_json_has_measurements_and_reasons(
    labelled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOTOFINDER_OFFLINE", "1")
    argv = ["compare", str(labelled), "--methods", "hog", "resnet50", "moco-v2",
            "--limit-per-class", "3", "--neardup-originals", "2", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["photos"] == 9 and report["classes"] == 3
    assert report["neardup_queries"] == 2 * len(report["kinds"])
    methods = {m["name"]: m for m in report["methods"]}
    hog = methods["hog"]
    assert hog["available"] and hog["dim"] == 512 and hog["photos_per_s"] > 0
    assert 0.0 <= hog["class_map"] <= 1.0 and 0.0 <= hog["neardup_recall_at_1"] <= 1.0
    assert hog["class_map"] > 0.5  # crops of one picture per class: easy
    assert set(hog["neardup_by_kind"]) == set(report["kinds"])
    assert hog["bytes_per_photo"] > 512 * 4
    assert not methods["resnet50"]["available"]
    assert "photofinder models import resnet50" in methods["resnet50"]["reason"]
    assert "photofinder models import moco-v2" in methods["moco-v2"]["reason"]


def test_compare_rejects_unknown_methods_and_unlabelled_folders(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(labelled), "--methods", "nope"]) == 1
    assert "unknown method 'nope'" in capsys.readouterr().err
    flat = tmp_path / "flat" / "only"
    flat.mkdir(parents=True)
    textured(1).save(flat / "a.jpg")
    assert main(["compare", str(tmp_path / "flat"), "--methods", "hog"]) == 1
    assert "at least two class folders" in capsys.readouterr().err


def test_metrics_live_in_core_and_benchmarks_reuse_them() -> None:
    import benchmarks.neardup
    import benchmarks.retrieval_metrics
    import photofinder.core.evaluation.neardup

    assert benchmarks.retrieval_metrics.class_map_and_precision is class_map_and_precision
    neardup = photofinder.core.evaluation.neardup
    assert benchmarks.neardup.make_neardup_set is neardup.make_neardup_set
    vectors = np.eye(4, dtype=np.float32) + np.array([[0, 1, 0, 0]] * 2 + [[0, 0, 0, 1]] * 2,
                                                     dtype=np.float32)
    assert class_map_and_precision(vectors, ["a", "a", "b", "b"], 1) == (1.0, 1.0)
    recall = neardup_recall_at_1(vectors[:2], ["crop", "jpeg"], [0, 2], vectors)
    assert recall == {"crop": 1.0, "jpeg": 0.0, "all": 0.5}


def test_a_comparison_stops_inside_an_embedding_run(labelled: Path, tmp_path: Path) -> None:
    from photofinder.core.evaluation.compare import run_compare
    from photofinder.core.progress import Cancelled, CancelToken

    token = CancelToken()
    messages: list[str] = []

    def log(message: str) -> None:
        messages.append(message)
        if message.endswith("photos") and ": embedding" in message:
            token.cancel()  # the user presses Stop while the first method embeds

    with pytest.raises(Cancelled):  # one method: only a check inside its run can stop it
        run_compare(labelled, ["hog"], neardup_originals=2,
                    data_dir=tmp_path / "data", log=log, cancel=token)
    assert messages[-1] == "hog: embedding 12 photos"
