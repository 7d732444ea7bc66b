"""Precise search switch, background method switching, method tooltips, Compare methods."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QAbstractItemModelTester
from pytestqt.qtbot import QtBot

from photofinder.core import embedders
from photofinder.core.embedders import list_methods, method_info
from photofinder.gui.main_window import MainWindow
from photofinder.gui.method_switch import PRECISE_KEY, hit_tooltip
from photofinder.gui.query import Query
from tests.gui.conftest import OFFSCREEN_NOISE, FakeEmbedder, wait_indexed
from tests.gui.test_keypoints_view import textured, textured_window

__all__ = ["textured", "textured_window"]  # fixtures shared with the keypoint view tests


def test_precise_search_passes_verify_and_shows_inliers(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path],
    make_window: Callable[..., MainWindow], settings: QSettings,
) -> None:
    window = textured_window
    library = window.session.library
    calls: list[bool] = []
    real = library.search_files

    def spy(paths: Any, k: int = 20, verify: bool = False) -> Any:
        calls.append(verify)
        return real(paths, k, verify=verify)

    library.search_files = spy  # type: ignore[method-assign]
    query = Query(label="astronaut", path=textured["astronaut"])
    with qtbot.waitSignal(window.session.search.results, timeout=10000):
        window.run_query(query)
    assert calls == [False]
    assert all(h.inliers is None for h in window.model.hits())
    with qtbot.waitSignal(window.session.search.results, timeout=20000):
        window.tools.precise.trigger()  # re-runs the current query, precisely
    assert calls == [False, True]
    assert settings.value(PRECISE_KEY) == "true"
    hits = window.model.hits()
    first = hits[0]
    assert Path(first.path).name == "astronaut-crop.jpg"  # the verified copy comes first
    assert (first.inliers or 0) >= 12
    assert "keypoint inliers: verified near-duplicate" in hit_tooltip(first)
    assert "1 verified near-duplicate first" in window.statusBar().currentMessage()
    window.close()
    again = make_window()  # the switch is remembered
    assert again.tools.precise.isChecked()


class GatedEmbedder:
    """The real `hog` embedder, held at its first batch until the test opens the gate."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate
        self.info, self.device = inner.info, inner.device

    def prepare(self, image: Image.Image) -> Any:
        return self.inner.prepare(image)

    def embed_prepared(self, batch: np.ndarray) -> Any:
        self.gate.wait(20)
        return self.inner.embed_prepared(batch)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Any:
    gate = threading.Event()
    real = embedders.load_embedder

    def load(name: str, device: str, cache_dir: Path, *rest: Any) -> Any:
        if name == "hog":
            return GatedEmbedder(real(name, device, cache_dir, *rest), gate)
        return FakeEmbedder(method_info(name))

    monkeypatch.setattr("photofinder.core.library.load_embedder", load)
    yield gate
    gate.set()


def test_method_switch_keeps_the_old_index_answering_until_the_new_one_is_ready(
    qtbot: QtBot, textured_window: MainWindow, textured: dict[str, Path],
    gate: threading.Event,
) -> None:
    window = textured_window
    old = window.session
    window.method_combo.apply_methods(list_methods())
    window.method_combo.setCurrentIndex(window.method_combo.findData("hog"))
    window.method_combo.activated.emit(window.method_combo.currentIndex())  # a user's choice
    pending = window.switch.pending
    assert pending is not None and pending.library.info.name == "hog"
    assert window.session is old and old.library.info.name == "efficientnet-lite0"
    qtbot.waitUntil(lambda: "Switching to hog" in window.indexing.label.text(), timeout=10000)
    with qtbot.waitSignal(old.search.results, timeout=10000):  # the old index still answers
        window.run_query(Query(label="coffee", path=textured["coffee"]))
    assert window.model.rowCount() == 2 and window.session is old
    assert window.switch.pending is pending
    with qtbot.waitSignal(window.switch.switched, timeout=20000) as switched:
        gate.set()
    assert switched.args == ["hog"]
    assert window.session is pending and window.switch.pending is None
    assert window.settings.value("method") == "hog"
    assert window.method_combo.value() == "hog"
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10000)  # query re-run
    wait_indexed(qtbot, window)


def test_choosing_the_current_method_again_abandons_the_switch(
    qtbot: QtBot, textured_window: MainWindow, gate: threading.Event
) -> None:
    window = textured_window
    old = window.session
    window.reopen("hog", "auto")
    assert window.switch.pending is not None
    gate.set()  # let the pending run reach a checkpoint, so cancelling is quick
    combo = window.method_combo
    combo.setCurrentIndex(combo.findData("efficientnet-lite0"))
    combo.activated.emit(combo.currentIndex())
    assert window.switch.pending is None and window.session is old
    assert combo.value() == "efficientnet-lite0"


def test_method_tooltips_show_family_description_and_reason(
    make_window: Callable[..., MainWindow],
) -> None:
    combo = make_window().method_combo
    combo.apply_methods(list_methods())
    model = combo.model()
    for info in list_methods():
        row = combo.findData(info.name)
        tip = str(combo.itemData(row, Qt.ItemDataRole.ToolTipRole))
        assert tip.startswith(f"{info.family}: {info.description}")
        enabled = bool(model.flags(model.index(row, 0)) & Qt.ItemFlag.ItemIsEnabled)
        assert enabled == info.available
        if not info.available:
            assert info.reason in tip


def labelled_folder(root: Path) -> Path:
    """2 classes × 3 generated photos: striped reds and checkered blues, varied."""
    rng = np.random.default_rng(0)
    for cls, colour in (("reds", (200, 40, 40)), ("blues", (40, 60, 210))):
        for number in range(3):
            pixels = np.full((180, 240, 3), colour, np.uint8)
            if cls == "reds":
                pixels[:, :: 12 + 4 * number] = 255
            else:
                pixels[:: 16 + 4 * number, :] = 0
            noise = rng.integers(0, 40, pixels.shape, dtype=np.uint8)
            path = root / cls / f"{cls}-{number}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels // 2 + noise + pixels // 4).save(path, quality=90)
    return root


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, "does not support raise")
@pytest.mark.slow
def test_compare_methods_dialog_fills_the_table_and_shows_the_plot(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    dialog = window.tools.show_compare()
    qtbot.waitUntil(lambda: "hog" in dialog.boxes, timeout=30000)
    assert not dialog.boxes["surf"].isEnabled()
    assert "patented" in dialog.boxes["surf"].toolTip()
    dialog.run()  # no folder yet
    assert "Choose a folder" in dialog.status.text()
    dialog.folder.setText(str(labelled_folder(tmp_path / "labelled")))
    dialog.boxes["hog"].setChecked(True)
    dialog.run()
    assert dialog.running and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)
    assert not dialog.running and dialog.run_button.isEnabled()
    QAbstractItemModelTester(dialog.model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 0).data() == "hog"
    assert float(dialog.model.index(0, 3).data()) > 0  # photos/s
    assert not dialog.plot.image().isNull()
    assert "hog: embedding 6 photos" in dialog.log.toPlainText()
    dialog.run()  # again, stopped: it ends within the batch it is in
    dialog.stop()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60000)
    assert dialog.status.text() in ("Stopped.", "Done: 6 photos.")
    dialog.close()
