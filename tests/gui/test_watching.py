"""Photos written into a watched folder are picked up and become searchable."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from pytestqt.qtbot import QtBot

from photofinder.gui.main_window import MainWindow
from tests.gui.conftest import make_photo
from tests.gui.test_query import drop, wait_results


def test_new_photo_in_watched_folder_becomes_searchable(
    qtbot: QtBot, indexed: MainWindow, photos: Path
) -> None:
    new = make_photo(photos / "later" / "orange.jpg", (240, 130, 20))
    qtbot.waitUntil(lambda: indexed.model.rowCount() == 7, timeout=30000)  # browse grid grew
    record = indexed.session.library.catalog.file_by_path(str(new.resolve()))
    assert record is not None and record.status == "ok"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos / "yellow.jpg"))])
    drop(indexed, mime)
    wait_results(qtbot, indexed, "yellow.jpg")
    assert record.id in {hit.file_id for hit in indexed.model.hits()}


def test_deleted_photo_is_forgotten(qtbot: QtBot, indexed: MainWindow, photos: Path) -> None:
    record = indexed.session.library.catalog.file_by_path(str((photos / "green.jpg").resolve()))
    assert record is not None
    (photos / "green.jpg").unlink()
    qtbot.waitUntil(
        lambda: indexed.session.library.catalog.file_by_id(record.id) is None, timeout=30000
    )
    qtbot.waitUntil(lambda: indexed.model.rowCount() == 5, timeout=15000)
    qtbot.waitUntil(lambda: not indexed.session.indexer.running)
