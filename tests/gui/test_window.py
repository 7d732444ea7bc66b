"""Start-up without heavy imports, settings across restarts, folders, devices, icon."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from photofinder.gui.drop import query_from_path
from photofinder.gui.folders_dialog import FoldersDialog
from photofinder.gui.main_window import MainWindow
from photofinder.gui.query import Query
from tests.gui.conftest import wait_indexed

STARTUP_PROBE = """
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from photofinder.gui.app import make_application
from photofinder.gui.main_window import MainWindow
from photofinder.gui.query import Query
app = make_application(["probe"])
window = MainWindow(sys.argv[1])
window.show()
app.processEvents()
heavy = sorted(m for m in ("torch", "cv2", "onnxruntime", "torchvision") if m in sys.modules)
window.close()
print(json.dumps(heavy))
"""


def test_start_up_imports_no_torch_cv2_or_onnxruntime(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_settings_survive_a_restart(
    qtbot: QtBot, make_window: Callable[..., MainWindow], photos: Path
) -> None:
    window = make_window()
    window.add_folder(photos)
    wait_indexed(qtbot, window)
    window.resize(700, 500)  # the offscreen screen is 800 × 600
    window.size_slider.setValue(220)
    window.run_query(_query(photos / "red.jpg"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 5)
    window.close()
    again = make_window()
    assert again.size_slider.value() == 220
    assert again.delegate.side == 220
    assert (again.width(), again.height()) == (700, 500)
    assert again.pages.currentWidget() is again.splitter  # not the welcome page
    qtbot.waitUntil(lambda: again.query_panel.label.text() == "red.jpg")  # last view restored
    wait_indexed(qtbot, again)


def _query(path: Path) -> Query:
    return query_from_path(path)


def test_folders_dialog_adds_excludes_and_removes(
    qtbot: QtBot, make_window: Callable[..., MainWindow], photos: Path
) -> None:
    window = make_window()
    dialog = FoldersDialog(window.session.library, window)
    dialog.changed.connect(window.folders_changed)
    dialog.add_folder(photos)
    wait_indexed(qtbot, window)
    dialog.refresh()
    assert dialog.model.data(dialog.model.index(0, 2)) == "6"
    sub = photos / "private"
    sub.mkdir()
    dialog.exclude_folder(sub)
    assert dialog.model.data(dialog.model.index(1, 1)) == "excluded"
    wait_indexed(qtbot, window)
    dialog.table.selectRow(0)
    dialog.remove_selected()
    assert [r.path for r in window.session.library.roots()] == [str(sub.resolve())]
    wait_indexed(qtbot, window)
    dialog.deleteLater()


def test_device_choices_show_why_gpus_are_unavailable(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    combo = window.device_combo
    assert combo.is_enabled("cpu") and combo.is_enabled("auto")
    qtbot.waitUntil(lambda: combo.itemData(combo.findData("cuda"), 3) != "checking…")
    assert not combo.is_enabled("cuda")  # no GPU on the test machines
    assert "NVIDIA" in combo.itemText(combo.findData("cuda"))
    assert not combo.is_enabled("mps")
    methods = window.method_combo
    assert methods.count() == 1  # the full list is fetched (off the GUI thread) when needed
    methods.wanted.emit()  # what opening the popup does
    qtbot.waitUntil(lambda: methods.findData("surf") >= 0, timeout=30000)
    assert methods.itemText(methods.findData("surf")).endswith("(unavailable)")
    assert methods.value() == "efficientnet-lite0"


def test_window_has_icon_and_name(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    assert window.windowTitle() == "PhotoFinder"
    assert not window.windowIcon().isNull()


def test_switching_device_reopens_the_library_cleanly(
    qtbot: QtBot, make_window: Callable[..., MainWindow], photos: Path
) -> None:
    window = make_window()
    window.add_folder(photos)
    wait_indexed(qtbot, window)
    old = window.session
    window.reopen("efficientnet-lite0", "cpu")
    assert window.session is not old
    assert window.session.library.device == "cpu"
    assert window.settings.value("device") == "cpu"
    wait_indexed(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 6)
