"""Bundled assets and text a person reads: the app icon through `resources`, the comparison
plot as a PNG, and no machine-specific paths in the tree."""

from __future__ import annotations

import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from photofinder.core.evaluation.compare import CompareReport, MethodResult, plot_speed_accuracy
from photofinder.core.storage import resources
from photofinder.gui import chrome

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_icon() -> Iterator[None]:
    chrome.app_icon.cache_clear()
    yield
    chrome.app_icon.cache_clear()


def test_every_app_icon_file_is_bundled_and_loads() -> None:
    for relative in resources.APP_ICON_FILES:
        path = resources.resource_path(relative)
        assert path.is_file(), relative
        assert not QImage(str(path)).isNull(), relative
    assert len(resources.app_icon_files()) == len(resources.APP_ICON_FILES)


def test_the_app_icon_loads(qapp: QApplication, fresh_icon: None) -> None:
    icon = chrome.app_icon()
    assert not icon.isNull()
    assert not icon.pixmap(64, 64).toImage().isNull()


def test_an_installed_copy_shows_the_icon_it_installed(
    qapp: QApplication, fresh_icon: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "site-packages" / "photofinder" / "resources"
    (installed / "icons").mkdir(parents=True)
    Image.new("RGB", (256, 256), (200, 0, 0)).save(installed / "icons" / "photofinder-256.png")
    monkeypatch.setattr(resources, "RESOURCE_DIRS", (tmp_path / "no-checkout", installed))
    icon = chrome.app_icon()
    assert not icon.isNull()
    assert icon.pixmap(64, 64).toImage().pixelColor(32, 32) == QColor(200, 0, 0)


def test_the_wheel_ships_every_resource_where_resources_looks() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert setuptools["package-dir"]["photofinder.resources"] == "resources"
    patterns = setuptools["package-data"]["photofinder.resources"]
    wanted = [*resources.APP_ICON_FILES, "models/efficientnet_lite0_pca256.npz"]
    for relative in wanted:
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def report(*methods: MethodResult) -> CompareReport:
    return CompareReport("labelled", 60, 3, 16, ["crop"], "cpu", list(methods))


def test_the_plot_is_a_png_with_every_measured_method(tmp_path: Path) -> None:
    target = plot_speed_accuracy(report(
        MethodResult("hog", photos_per_s=380.0, class_map=0.11, neardup_recall_at_1=0.57),
        MethodResult("efficientnet-lite0", photos_per_s=50.0, class_map=0.8,
                     neardup_recall_at_1=0.97),
        MethodResult("surf", available=False, reason="patented"),
    ), tmp_path / "new folder" / "plot.png")
    assert target == tmp_path / "new folder" / "plot.png"
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (900, 560)
        colours = image.convert("RGB").getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 50  # axes, text, markers: not a blank sheet


def test_the_plot_says_so_when_nothing_was_measured(tmp_path: Path) -> None:
    target = plot_speed_accuracy(report(MethodResult("surf", available=False)), tmp_path / "p.png")
    with Image.open(target) as image:
        assert image.format == "PNG"


def test_a_method_too_fast_to_time_is_left_out_of_the_plot(tmp_path: Path) -> None:
    target = plot_speed_accuracy(report(
        MethodResult("hog", photos_per_s=math.inf, class_map=0.1),
        MethodResult("orb-bow", photos_per_s=80.0, class_map=0.1),
    ), tmp_path / "p.png")
    with Image.open(target) as image:
        assert image.format == "PNG"


MACHINE_PATHS = ("/" + "work/", "/" + "root/")  # split so this file does not match itself
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".desktop", ".cfg", ".ini", ".yml", ".yaml"}


def tree_text_files() -> Iterator[Path]:
    """The project's own text files (hidden folders, build metadata and shared/ data left out)."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")
                         and not name.endswith(".egg-info") and name != "shared"]
        for name in files:
            if Path(name).suffix in TEXT_SUFFIXES:
                yield Path(folder) / name
    yield ROOT / ".ci" / "run"


def test_no_machine_paths_in_the_tree() -> None:
    found = [str(path.relative_to(ROOT)) for path in tree_text_files()
             if any(marker in path.read_text("utf-8", "replace") for marker in MACHINE_PATHS)]
    assert found == []
