"""What can be done to a result: find similar, open, show in folder, copy path, trash."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QListView, QMenu, QMessageBox, QWidget

from photofinder.core.duplicates.trash import trash_file
from photofinder.core.errors import PhotoFinderError
from photofinder.core.names import shown_name
from photofinder.core.search.knn import SearchHit
from photofinder.gui.results_model import ResultsModel
from photofinder.gui.session import Session


def reveal_in_file_manager(path: Path) -> None:
    """Select the file in the platform file manager (its folder where that is not possible)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", str(path)])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", str(path)])
    else:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


class ResultActions(QObject):
    """Context menu and keyboard actions on the results view; they act on the current item."""

    find_similar = Signal(object)  # SearchHit
    preview = Signal(object)  # SearchHit
    show_matches = Signal(object)  # SearchHit: keypoint matches with the query
    message = Signal(str)
    trashed = Signal(int)

    def __init__(
        self,
        view: QListView,
        model: ResultsModel,
        session: Callable[[], Session],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._model = model
        self._session = session
        self._parent = parent
        self.open_file: Callable[[Path], bool] = lambda p: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(p))
        )
        self.reveal: Callable[[Path], None] = reveal_in_file_manager
        self.confirm_trash: Callable[[Path], bool] = self._ask_trash
        shortcut = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.actions: dict[str, QAction] = {}
        for key, text, keys, slot in (
            ("similar", "Find similar", QKeySequence("Ctrl+F"), self.do_find_similar),
            ("open", "Open", QKeySequence(Qt.Key.Key_Return), self.do_open),
            ("preview", "Preview", QKeySequence(Qt.Key.Key_Space), self.do_preview),
            ("reveal", "Show in folder", QKeySequence(), self.do_reveal),
            ("copy", "Copy path", QKeySequence(), self.do_copy_path),
            ("matches", "Show matches…", QKeySequence(), self.do_show_matches),
            ("trash", "Move to trash…", QKeySequence(QKeySequence.StandardKey.Delete),
             self.do_trash),
        ):
            action = QAction(text, view)
            if not keys.isEmpty():
                action.setShortcut(keys)
                action.setShortcutContext(shortcut)
            action.triggered.connect(slot)
            view.addAction(action)
            self.actions[key] = action
        enter = QAction("Open (Enter)", view)
        enter.setShortcut(QKeySequence(Qt.Key.Key_Enter))
        enter.setShortcutContext(shortcut)
        enter.triggered.connect(self.do_open)
        view.addAction(enter)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self.show_menu)

    def current(self) -> SearchHit | None:
        index = self._view.currentIndex()
        return self._model.hit(index.row()) if index.isValid() else None

    def build_menu(self) -> QMenu:
        menu = QMenu(self._parent)
        for key in ("similar", "matches", "open", "reveal", "copy"):
            menu.addAction(self.actions[key])
        menu.addSeparator()
        menu.addAction(self.actions["trash"])
        return menu

    def show_menu(self, position: QPoint) -> None:
        index = self._view.indexAt(position)
        if not index.isValid():
            return
        self._view.setCurrentIndex(index)
        menu = self.build_menu()
        menu.exec(self._view.viewport().mapToGlobal(position))
        menu.deleteLater()

    def do_find_similar(self) -> None:
        hit = self.current()
        if hit is not None:
            self.find_similar.emit(hit)

    def do_preview(self) -> None:
        hit = self.current()
        if hit is not None:
            self.preview.emit(hit)

    def do_show_matches(self) -> None:
        hit = self.current()
        if hit is not None:
            self.show_matches.emit(hit)

    def do_open(self) -> None:
        hit = self.current()
        if hit is not None and not self.open_file(Path(hit.path)):
            self.message.emit(f"No application could open {hit.path}")

    def do_reveal(self) -> None:
        hit = self.current()
        if hit is not None:
            self.reveal(Path(hit.path))

    def do_copy_path(self) -> None:
        hit = self.current()
        if hit is not None:
            QGuiApplication.clipboard().setText(hit.path)
            self.message.emit(f"Copied {hit.path}")

    def do_trash(self) -> None:
        hit = self.current()
        if hit is None or not self.confirm_trash(Path(hit.path)):
            return
        try:
            trash_file(self._session().library, hit.file_id)
        except PhotoFinderError as exc:
            QMessageBox.warning(self._parent, "Move to trash", str(exc))
            return
        row = self._model.row_of(hit.file_id)
        self._model.remove_file(hit.file_id)
        if row is not None and self._model.rowCount() > 0:
            self._view.setCurrentIndex(self._model.index(min(row, self._model.rowCount() - 1)))
        self.message.emit(f"Moved {shown_name(hit.path)} to the trash")
        self.trashed.emit(hit.file_id)

    def _ask_trash(self, path: Path) -> bool:
        answer = QMessageBox.question(
            self._parent,
            "Move to trash",
            f"Move {path.name} to the trash?\n\n{path}\n\nYou can restore it from the trash.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
