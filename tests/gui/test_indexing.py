"""Background indexing: progress, pause, resume, cancel, and a clean quit that loses nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from photofinder.core.embedders import method_info
from photofinder.core.indexing.pipeline import IndexReport
from photofinder.core.library import Library
from photofinder.core.progress import CancelToken, Progress
from photofinder.gui.main_window import MainWindow
from tests.gui.conftest import FakeEmbedder, make_photo, wait_indexed


class SlowEmbedder(FakeEmbedder):
    def prepare(self, image: Image.Image) -> np.ndarray:
        time.sleep(0.04)
        return super().prepare(image)


@pytest.fixture
def many_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        "photofinder.core.library.load_embedder",
        lambda name, device, cache: SlowEmbedder(method_info(name)),
    )
    folder = tmp_path / "many"
    for i in range(120):
        make_photo(folder / f"p{i:03d}.jpg", (i * 2 % 256, i * 5 % 256, i * 7 % 256), (96, 64))
    return folder


def start_indexing(qtbot: QtBot, window: MainWindow, folder: Path) -> list[Progress]:
    seen: list[Progress] = []
    window.session.indexer.progress.connect(seen.append)
    window.add_folder(folder)
    qtbot.waitUntil(lambda: any(p.stage == "indexing" and p.done > 40 for p in seen), timeout=10000)
    return seen


def test_welcome_then_add_folder_shows_thumbnails(
    qtbot: QtBot, make_window: Callable[..., MainWindow], photos: Path
) -> None:
    window = make_window()
    assert window.pages.currentWidget() is window.welcome
    window.add_folder(photos)
    assert window.pages.currentWidget() is window.splitter
    wait_indexed(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 6)
    qtbot.waitUntil(lambda: len(window.model.cache) == 6)  # thumbnails loaded lazily
    assert "Up to date: 6 photos indexed" in window.indexing.label.text()


@pytest.mark.slow
def test_progress_shows_rate_and_time_left(
    qtbot: QtBot, make_window: Callable[..., MainWindow], many_photos: Path
) -> None:
    window = make_window()
    start_indexing(qtbot, window, many_photos)
    qtbot.waitUntil(lambda: "photos/s" in window.indexing.label.text())
    text = window.indexing.label.text()
    assert "Indexing" in text and "/ 120" in text and "left" in text
    assert window.indexing.cancel_button.isVisible()
    window.indexing.cancel_button.click()
    wait_indexed(qtbot, window)


@pytest.mark.slow
def test_cancel_stops_the_worker(
    qtbot: QtBot, make_window: Callable[..., MainWindow], many_photos: Path
) -> None:
    window = make_window()
    start_indexing(qtbot, window, many_photos)
    with qtbot.waitSignal(window.session.indexer.finished) as blocker:
        window.indexing.cancel_button.click()
    report = blocker.args[0]
    assert isinstance(report, IndexReport) and report.cancelled
    assert not window.session.indexer.running
    assert 0 < report.embedded < 120
    assert "Indexing stopped" in window.indexing.label.text()
    assert not window.indexing.cancel_button.isVisible()


class ParkedToken(CancelToken):
    """A cancel token that says when the worker is parked in a checkpoint while paused."""

    parked = threading.Event()

    def checkpoint(self) -> None:
        if self.paused:
            ParkedToken.parked.set()
        super().checkpoint()


@pytest.mark.slow
def test_pause_and_resume(
    qtbot: QtBot, make_window: Callable[..., MainWindow], many_photos: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("photofinder.gui.indexer.CancelToken", ParkedToken)
    ParkedToken.parked.clear()
    window = make_window()
    seen = start_indexing(qtbot, window, many_photos)
    window.indexing.pause_button.click()
    assert window.session.indexer.paused
    assert window.indexing.pause_button.text() == "Resume"
    qtbot.waitUntil(ParkedToken.parked.is_set)  # the worker waits at its next checkpoint
    count = len(seen)
    assert seen[-1].done < 120 and window.session.indexer.running
    window.indexing.pause_button.click()
    assert not window.session.indexer.paused
    qtbot.waitUntil(lambda: len(seen) > count + 1)
    window.indexing.cancel_button.click()
    wait_indexed(qtbot, window)


@pytest.mark.slow
def test_quit_during_indexing_is_quick_and_loses_nothing(
    qtbot: QtBot, make_window: Callable[..., MainWindow], many_photos: Path, tmp_path: Path
) -> None:
    window = make_window()
    start_indexing(qtbot, window, many_photos)
    window.close()  # cancels the run: it stops at its next batch instead of finishing
    assert not window.session.indexer.running
    with Library(tmp_path / "data", device="cpu") as library:
        counts = library.status().counts
        assert counts.total == 120
        assert 0 < counts.indexed < 120
        assert len(library.index) == counts.indexed  # the index was saved with the catalogue
        report = library.update()
        assert report.embedded == 120 - counts.indexed  # resumes, nothing redone
