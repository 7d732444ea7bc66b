"""Context-menu and keyboard actions act on the right photo; trash is safe and updates the model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from photofinder.gui.main_window import MainWindow
from tests.gui.test_query import wait_results


def recorder(calls: list[Path]) -> Callable[[Path], bool]:
    def record(path: Path) -> bool:
        calls.append(path)
        return True

    return record


def select(window: MainWindow, name: str) -> int:
    row = next(i for i, h in enumerate(window.model.hits()) if Path(h.path).name == name)
    window.view.setCurrentIndex(window.model.index(row))
    return row


def test_context_menu_lists_the_actions(indexed: MainWindow) -> None:
    select(indexed, "green.jpg")
    menu = indexed.result_actions.build_menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Find similar", "Show matches…", "Open", "Show in folder", "Copy path",
                     "Move to trash…"]
    menu.deleteLater()


def test_actions_act_on_the_current_photo(indexed: MainWindow) -> None:
    opened: list[Path] = []
    revealed: list[Path] = []
    indexed.result_actions.open_file = recorder(opened)
    indexed.result_actions.reveal = revealed.append
    select(indexed, "purple.jpg")
    path = Path(indexed.result_actions.current().path)  # type: ignore[union-attr]
    assert path.name == "purple.jpg"
    indexed.result_actions.actions["open"].trigger()
    indexed.result_actions.actions["reveal"].trigger()
    indexed.result_actions.actions["copy"].trigger()
    assert opened == [path]
    assert revealed == [path]
    assert QGuiApplication.clipboard().text() == str(path)


def test_keyboard_shortcuts(qtbot: QtBot, indexed: MainWindow) -> None:
    opened: list[Path] = []
    indexed.result_actions.open_file = recorder(opened)
    select(indexed, "red.jpg")
    indexed.view.setFocus()
    QTest.keyClick(indexed.view, Qt.Key.Key_Return)
    assert [p.name for p in opened] == ["red.jpg"]
    QTest.keyClick(indexed.view, Qt.Key.Key_Space)
    assert indexed.preview.record is not None
    assert Path(indexed.preview.record.path).name == "red.jpg"
    assert "320 × 240 px" in indexed.preview.details.text()
    QTest.keyClick(indexed.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    wait_results(qtbot, indexed, "red.jpg")
    assert Path(indexed.model.hits()[0].path).name == "red2.jpg"


def test_find_similar_walks_from_result_to_result(qtbot: QtBot, indexed: MainWindow) -> None:
    select(indexed, "red2.jpg")
    indexed.result_actions.actions["similar"].trigger()
    wait_results(qtbot, indexed, "red2.jpg")
    assert Path(indexed.model.hits()[0].path).name == "red.jpg"
    assert indexed.query_panel.label.text() == "red2.jpg"


@pytest.fixture
def trash_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """send2trash replaced by a move into a folder the test can look in."""
    trash = tmp_path / "trash"
    trash.mkdir()

    def fake_send2trash(path: str) -> None:
        shutil.move(path, trash / Path(path).name)

    monkeypatch.setattr("send2trash.send2trash", fake_send2trash)
    return trash


def test_move_to_trash(qtbot: QtBot, indexed: MainWindow, trash_folder: Path) -> None:
    asked: list[Path] = []
    indexed.result_actions.confirm_trash = recorder(asked)
    select(indexed, "yellow.jpg")
    hit = indexed.result_actions.current()
    assert hit is not None
    QTest.keyClick(indexed.view, Qt.Key.Key_Delete)
    assert [p.name for p in asked] == ["yellow.jpg"]
    assert (trash_folder / "yellow.jpg").exists()
    assert not Path(hit.path).exists()
    assert indexed.model.row_of(hit.file_id) is None
    assert indexed.model.rowCount() == 5
    assert indexed.session.library.catalog.file_by_id(hit.file_id) is None
    assert hit.file_id not in indexed.session.library.index


def test_trash_cancelled_keeps_the_file(indexed: MainWindow, trash_folder: Path) -> None:
    indexed.result_actions.confirm_trash = lambda p: False
    select(indexed, "blue.jpg")
    hit = indexed.result_actions.current()
    assert hit is not None
    indexed.result_actions.actions["trash"].trigger()
    assert Path(hit.path).exists()
    assert not list(trash_folder.iterdir())
    assert indexed.model.row_of(hit.file_id) is not None
