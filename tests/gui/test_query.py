"""Queries by drop, image data, paste and File → Open fill the results grid."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from photofinder.core.embedders import method_info
from photofinder.gui.drop import DropError, query_from_mime
from photofinder.gui.main_window import MainWindow
from tests.gui.conftest import COLOURS, OFFSCREEN_NOISE, FakeEmbedder


def drop(window: MainWindow, mime: QMimeData) -> None:
    """What a drag from a file manager or a browser delivers: drag-enter, then drop."""
    where = QPointF(window.width() / 2, window.height() / 2)
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where.toPoint(), action, mime, button, modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(where, action, mime, button, modifiers))


def first_names(window: MainWindow, n: int = 1) -> list[str]:
    return [Path(hit.path).name for hit in window.model.hits()[:n]]


def wait_results(qtbot: QtBot, window: MainWindow, label: str) -> None:
    qtbot.waitUntil(
        lambda: re.fullmatch(rf"\d+ photos like {re.escape(label)}",
                             window.statusBar().currentMessage()) is not None
    )


def test_drop_file_url_fills_results(qtbot: QtBot, indexed: MainWindow, photos: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos / "red.jpg"))])
    drop(indexed, mime)
    wait_results(qtbot, indexed, "red.jpg")
    assert indexed.model.rowCount() == 5  # the query photo itself is left out
    assert first_names(indexed) == ["red2.jpg"]
    assert indexed.query_panel.label.text() == "red.jpg"
    qtbot.waitUntil(lambda: not indexed.query_panel.view.image().isNull())


def test_drop_image_data_fills_results(qtbot: QtBot, indexed: MainWindow) -> None:
    image = QImage(200, 150, QImage.Format.Format_RGB32)
    image.fill(QColor(*COLOURS["blue"]))
    mime = QMimeData()
    mime.setImageData(image)
    drop(indexed, mime)
    wait_results(qtbot, indexed, "dropped image")
    assert first_names(indexed) == ["blue.jpg"]
    assert not indexed.query_panel.view.image().isNull()


def test_browser_drop_with_png_bytes(qtbot: QtBot, indexed: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "web.png"
    Image.new("RGB", (64, 64), COLOURS["green"]).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/web.png")])
    mime.setData("image/png", path.read_bytes())
    drop(indexed, mime)
    wait_results(qtbot, indexed, "dropped image")
    assert first_names(indexed) == ["green.jpg"]


def test_paste_searches(qtbot: QtBot, indexed: MainWindow) -> None:
    image = QImage(80, 60, QImage.Format.Format_RGB32)
    image.fill(QColor(*COLOURS["yellow"]))
    mime = QMimeData()
    mime.setImageData(image)
    clipboard = QGuiApplication.clipboard()
    clipboard.setMimeData(mime)
    try:
        indexed.paste()
        wait_results(qtbot, indexed, "dropped image")
        assert first_names(indexed) == ["yellow.jpg"]
    finally:
        # The clipboard owns `mime`: left there, Qt frees it at process exit, after Python
        # has finalised, and PySide crashes on its wrapper.
        clipboard.clear()


def test_dropped_non_image_gets_a_message(
    qtbot: QtBot, indexed: MainWindow, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    before = indexed.model.hits()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(text))])
    drop(indexed, mime)
    assert "notes.txt is not a photo" in indexed.last_error
    assert indexed.model.hits() == before


@pytest.mark.qt_log_ignore("JPEG datastream contains no image", OFFSCREEN_NOISE)
def test_corrupt_photo_reports_read_error(
    qtbot: QtBot, indexed: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bad))])
    drop(indexed, mime)
    qtbot.waitUntil(lambda: "broken.jpg" in indexed.last_error)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda m, p: m.setUrls([QUrl("https://example.com/a.jpg")]), "web address"),
        (lambda m, p: m.setUrls([QUrl.fromLocalFile(str(p))]), "is a folder"),
        (lambda m, p: m.setText("just some words"), "not a photo"),
    ],
)
def test_drop_refusals(setup: object, message: str, tmp_path: Path) -> None:
    mime = QMimeData()
    setup(mime, tmp_path)  # type: ignore[operator]
    with pytest.raises(DropError, match=message):
        query_from_mime(mime)


def test_back_and_forward(qtbot: QtBot, indexed: MainWindow, photos: Path) -> None:
    for name in ("red.jpg", "blue.jpg"):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(photos / name))])
        drop(indexed, mime)
        wait_results(qtbot, indexed, name)
    assert indexed.back_action.isEnabled() and not indexed.forward_action.isEnabled()
    indexed.back_action.trigger()
    wait_results(qtbot, indexed, "red.jpg")
    assert first_names(indexed) == ["red2.jpg"]
    assert indexed.forward_action.isEnabled()
    indexed.forward_action.trigger()
    wait_results(qtbot, indexed, "blue.jpg")


def test_first_search_shows_busy_state_while_the_model_loads(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    photos: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = make_window()
    first.add_folder(photos)
    qtbot.waitUntil(lambda: not first.session.indexer.running, timeout=15000)
    first.close()
    slow_load = []

    def load(name: str, device: str, cache: Path) -> FakeEmbedder:
        slow_load.append(name)
        time.sleep(0.5)
        return FakeEmbedder(method_info(name))

    monkeypatch.setattr("photofinder.core.library.load_embedder", load)
    window = make_window()
    window.session.indexer.cancel()  # the start-up reconcile: not what this test is about
    qtbot.waitUntil(lambda: not window.session.indexer.running)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    image = QImage(80, 60, QImage.Format.Format_RGB32)
    image.fill(QColor(*COLOURS["purple"]))
    mime = QMimeData()
    mime.setImageData(image)
    drop(window, mime)
    assert QGuiApplication.overrideCursor() is not None  # busy at once
    wait_results(qtbot, window, "dropped image")
    assert "Loading the model…" in messages
    assert slow_load == ["efficientnet-lite0"]
    assert QGuiApplication.overrideCursor() is None
    assert first_names(window) == ["purple.jpg"]


def test_an_unexpected_search_error_is_a_plain_sentence(
    qtbot: QtBot, indexed: MainWindow, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("internal-state")

    monkeypatch.setattr(indexed.session.library, "search_files", broken)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos / "red.jpg"))])
    drop(indexed, mime)
    qtbot.waitUntil(lambda: indexed.last_error != "")
    assert indexed.last_error.startswith("The search failed: an unexpected error (KeyError)")
    assert "internal-state" not in indexed.last_error and "KeyError(" not in indexed.last_error
    assert QGuiApplication.overrideCursor() is None  # not left busy
