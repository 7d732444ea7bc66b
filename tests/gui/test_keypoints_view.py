"""The keypoint overlay on the preview: toggled (button or K), SIFT/ORB, count, cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from photofinder.gui.main_window import MainWindow
from tests.gui.conftest import wait_indexed


def save_textured(folder: Path) -> dict[str, Path]:
    """Real textured photos: the astronaut, a rotated crop of it, and an unrelated coffee cup."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = Image.fromarray(getattr(data, "astronaut")())  # noqa: B009 (untyped)
    crop = astronaut.crop((90, 40, 430, 400)).rotate(15, expand=True, fillcolor=(0, 0, 0))
    photos = {
        "astronaut": (astronaut, folder / "astronaut.jpg"),
        "crop": (crop, folder / "astronaut-crop.jpg"),
        "coffee": (Image.fromarray(getattr(data, "coffee")()), folder / "coffee.jpg"),  # noqa: B009
    }
    for image, path in photos.values():
        image.save(path, quality=90)
    return {name: path for name, (_, path) in photos.items()}


@pytest.fixture
def textured(tmp_path: Path) -> dict[str, Path]:
    return save_textured(tmp_path / "textured")


@pytest.fixture
def textured_window(
    make_window: Callable[..., MainWindow], textured: dict[str, Path], qtbot: QtBot
) -> MainWindow:
    window = make_window()
    window.add_folder(textured["astronaut"].parent)
    wait_indexed(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == len(textured))
    return window


def preview(window: MainWindow, path: Path) -> None:
    row = next(i for i, h in enumerate(window.model.hits()) if Path(h.path) == path.resolve())
    window.view.setCurrentIndex(window.model.index(row))
    assert window.preview.record is not None


def test_overlay_toggles_shows_a_count_and_reuses_the_cache(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path]
) -> None:
    window = textured_window
    bar = window.preview.keypoints
    preview(window, textured["astronaut"])
    assert not bar.active and bar.count.text() == ""
    bar.toggle.trigger()
    qtbot.waitUntil(lambda: bar.count.text().endswith("SIFT keypoints"), timeout=10000)
    count = int(bar.count.text().split()[0])
    assert count > 100  # a textured photo
    overlay = window.preview.view.image()
    assert max(overlay.width(), overlay.height()) == 1024  # the drawn overlay, not the photo
    assert bar.jobs.submitted == 1
    bar.toggle.trigger()  # off: the plain photo is back
    assert bar.count.text() == ""
    assert window.preview.view.image() is not overlay
    bar.toggle.trigger()  # on again: from the cache, at once, no worker run
    assert bar.count.text() == f"{count} SIFT keypoints"
    assert window.preview.view.image() is overlay
    assert bar.jobs.submitted == 1


def test_keypoint_types_orb_and_disabled_surf(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path]
) -> None:
    window = textured_window
    bar = window.preview.keypoints
    model = bar.kind.model()
    surf = bar.kind.findData("SURF")
    assert surf >= 0 and not model.flags(model.index(surf, 0)) & Qt.ItemFlag.ItemIsEnabled
    assert "patented" in str(bar.kind.itemData(surf, Qt.ItemDataRole.ToolTipRole))
    preview(window, textured["coffee"])
    QTest.keyClick(window.view, Qt.Key.Key_K)  # the shortcut
    assert bar.active
    qtbot.waitUntil(lambda: bar.count.text().endswith("SIFT keypoints"), timeout=10000)
    bar.kind.setCurrentIndex(bar.kind.findData("ORB"))
    qtbot.waitUntil(lambda: bar.count.text().endswith("ORB keypoints"), timeout=10000)
    assert bar.jobs.submitted == 2
    preview(window, textured["crop"])  # another photo while on: drawn for it
    qtbot.waitUntil(lambda: bar.jobs.submitted == 3 and "finding" not in bar.count.text(),
                    timeout=10000)
    assert bar.count.text().endswith("ORB keypoints")
