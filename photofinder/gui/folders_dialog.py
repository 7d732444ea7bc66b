"""Watched folders: add, exclude and remove them, with per-folder photo counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.library import Library, folder_state
from photofinder.core.storage.catalog import Root

AnyIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("Folder", "Status", "Photos")
MISSING = "not found"
MISSING_TIP = ("The folder is not there: renamed, moved, or its drive is not connected. Its "
               "photos stay in the library (but are never shown or offered as duplicates) until "
               "it is back, a folder it became is added, or you remove it here.")


class FoldersModel(QAbstractTableModel):
    def __init__(self, roots: Sequence[Root] = ()) -> None:
        super().__init__()
        self._roots = list(roots)

    def set_roots(self, roots: Sequence[Root]) -> None:
        self.beginResetModel()
        self._roots = list(roots)
        self.endResetModel()

    def root(self, row: int) -> Root | None:
        return self._roots[row] if 0 <= row < len(self._roots) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._roots)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._roots):
            return None
        root = self._roots[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return root.path
            if column == 1:
                return folder_state(root)
            if column == 2:
                return "" if root.excluded else f"{root.photo_count:,}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return root.path
        if role == Qt.ItemDataRole.ToolTipRole and column == 1 and folder_state(root) == MISSING:
            return MISSING_TIP
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None


class FoldersDialog(QDialog):
    """Changes go straight to the library; `changed` asks the window to re-index."""

    changed = Signal()

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Folders")
        self.resize(640, 320)
        self._library = library
        self.model = FoldersModel(library.roots())
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        add = QPushButton("Add folder…")
        exclude = QPushButton("Exclude subfolder…")
        remove = QPushButton("Remove")
        add.clicked.connect(self._ask_add)
        exclude.clicked.connect(self._ask_exclude)
        remove.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        for button in (add, exclude, remove):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(close)

    def refresh(self) -> None:
        self.model.set_roots(self._library.roots())

    def add_folder(self, folder: Path) -> None:
        self._library.add_roots([folder])
        self.refresh()
        self.changed.emit()

    def exclude_folder(self, folder: Path) -> None:
        self._library.exclude_folder(folder)
        self.refresh()
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        root = self.model.root(rows[0].row()) if rows else None
        if root is not None:
            self._library.remove_root(Path(root.path))
            self.refresh()
            self.changed.emit()

    def _ask_add(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a photo folder")
        if folder:
            self.add_folder(Path(folder))

    def _ask_exclude(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Exclude a folder from indexing")
        if folder:
            self.exclude_folder(Path(folder))
