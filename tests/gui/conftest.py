"""GUI test fixtures: offscreen Qt, a fast fake embedder, sample photos, no leaked threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from photofinder.core.embedders import method_info
from photofinder.core.embedders.base import MethodInfo, l2_normalise
from photofinder.gui.main_window import MainWindow
from photofinder.gui.threads import running_threads

COLOURS = {
    "red": (220, 30, 30), "red2": (200, 40, 35), "green": (30, 200, 40),
    "blue": (30, 40, 220), "yellow": (230, 220, 40), "purple": (140, 40, 170),
}


class FakeEmbedder:
    """A colour histogram (8×8×4 bins = 256-d), L2-normalised: deterministic and instant."""

    def __init__(self, info: MethodInfo) -> None:
        self.info = info
        self.device = "cpu"

    def prepare(self, image: Image.Image) -> np.ndarray:
        pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int64)
        bins = (pixels[..., 0] // 32) * 32 + (pixels[..., 1] // 32) * 4 + pixels[..., 2] // 64
        return np.bincount(bins.ravel(), minlength=256).astype(np.float32)

    def embed_prepared(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(np.asarray(batch, np.float32))


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(name: str, device: str, cache_dir: Path) -> FakeEmbedder:
        return FakeEmbedder(method_info(name))

    monkeypatch.setattr("photofinder.core.library.load_embedder", load)


def make_photo(
    path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):  # a little texture so thumbnails are not flat
        image.paste(tuple(min(255, c + 25) for c in colour), (x, 0, x + 8, size[1]))
    image.save(path, quality=90)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for name, colour in COLOURS.items():
        make_photo(folder / f"{name}.jpg", colour)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(
    qtbot: QtBot, tmp_path: Path, settings: QSettings
) -> Iterator[Callable[..., MainWindow]]:
    """Windows on a private library and settings file; closed (threads joined) after the test."""
    windows: list[MainWindow] = []

    def make(debounce_s: float = 0.2) -> MainWindow:
        window = MainWindow(tmp_path / "data", settings, debounce_s=debounce_s)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def wait_indexed(qtbot: QtBot, window: MainWindow, timeout: int = 15000) -> None:
    qtbot.waitUntil(lambda: not window.session.indexer.running, timeout=timeout)


@pytest.fixture
def indexed(make_window: Callable[..., MainWindow], photos: Path, qtbot: QtBot) -> MainWindow:
    window = make_window()
    window.add_folder(photos)
    wait_indexed(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == len(COLOURS))
    return window


@pytest.fixture(autouse=True)
def no_leaks(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a thread, a pool task or an active timer behind."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        extra = [
            t for t in threading.enumerate()
            if t.ident not in before and t.is_alive()
            and not isinstance(t, threading._DummyThread)  # QThreads: checked below
        ]
        if not extra:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
    assert not running_threads(), f"QThreads left running: {running_threads()}"
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    timers = [
        t for w in QApplication.topLevelWidgets() if w.isVisible()
        for t in w.findChildren(QTimer) if t.isActive()
    ]
    assert not timers, f"timers left running: {timers}"


OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The offscreen platform plugin warns about size hints it cannot pass on: not our bug."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and not item.get_closest_marker("qt_log_ignore"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))

