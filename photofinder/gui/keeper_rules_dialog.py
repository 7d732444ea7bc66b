"""Keeper rules in the user's order, preferred folders and reference folders (never trashed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.duplicates.keepers import RULES
from photofinder.core.duplicates.review import ReviewSettings

NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class FolderList(QGroupBox):
    """A titled list of folders with Add…/Remove buttons."""

    def __init__(self, title: str, hint: str, folders: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.list = QListWidget()
        self.list.addItems(folders)
        self.list.setMaximumHeight(90)
        add, remove = QPushButton("Add…"), QPushButton("Remove")
        add.clicked.connect(self.ask_add)
        remove.clicked.connect(lambda: self.list.takeItem(self.list.currentRow()))
        label = QLabel(hint)
        label.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(label, 0, 0, 1, 2)
        grid.addWidget(self.list, 1, 0, 2, 1)
        grid.addWidget(add, 1, 1)
        grid.addWidget(remove, 2, 1, Qt.AlignmentFlag.AlignTop)

    def ask_add(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.title())
        if folder:
            self.add(folder)

    def add(self, folder: str) -> None:
        if folder not in self.folders():
            self.list.addItem(folder)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]


class KeeperRulesDialog(QDialog):
    """Which copy to keep: rules applied top to bottom (drag or Up/Down), and folders."""

    def __init__(self, settings: ReviewSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keeper rules")
        self.rules = QListWidget()
        self.rules.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.rules.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.rules.setMaximumHeight(130)
        names = settings.rules + [n for n in RULES if n not in settings.rules]
        for name in names:
            item = QListWidgetItem(RULES[name].label.capitalize())
            item.setData(NAME_ROLE, name)
            self.rules.addItem(item)
        self.rules.setCurrentRow(0)
        up, down = QPushButton("Up"), QPushButton("Down")
        up.clicked.connect(lambda: self.move_rule(-1))
        down.clicked.connect(lambda: self.move_rule(1))
        buttons = QVBoxLayout()
        buttons.addWidget(up)
        buttons.addWidget(down)
        buttons.addStretch()
        rules_box = QGroupBox("Keep the copy with…")
        rules_layout = QHBoxLayout(rules_box)
        rules_layout.addWidget(self.rules)
        rules_layout.addLayout(buttons)
        self.preferred = FolderList(
            "Preferred folders", "Copies here are kept before any rule applies.",
            settings.preferred_folders)
        self.reference = FolderList(
            "Reference folders", "Photos here are never marked for removal.",
            settings.reference_folders)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (rules_box, self.preferred, self.reference, box):
            layout.addWidget(widget)

    def move_rule(self, step: int) -> None:
        """Move the current rule up (-1) or down (+1)."""
        row = self.rules.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.rules.count():
            return
        item = self.rules.takeItem(row)
        self.rules.insertItem(target, item)
        self.rules.setCurrentRow(target)

    def rule_names(self) -> list[str]:
        return [str(self.rules.item(i).data(NAME_ROLE)) for i in range(self.rules.count())]

    def settings(self) -> ReviewSettings:
        return ReviewSettings(self.rule_names(), self.preferred.folders(),
                              self.reference.folders())
