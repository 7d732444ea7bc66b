"""Models of the duplicate review: the groups (with the user's marks) and one group's photos."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage

from photofinder.core.duplicates.grouping import DuplicateGroup, Strictness
from photofinder.core.duplicates.marks import GroupState
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.core.names import shown, shown_name
from photofinder.core.storage.catalog import FileRecord
from photofinder.gui.thumbnail_cache import ThumbnailCache

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
KEEPER_ROLE = Qt.ItemDataRole.UserRole + 2
REFERENCE_ROLE = Qt.ItemDataRole.UserRole + 3
STATE_ROLE = Qt.ItemDataRole.UserRole + 4
Index = QModelIndex | QPersistentModelIndex
ICON = QSize(72, 54)  # a group's keeper in the groups list, 4:3
# Thumbnails the review keeps decoded: every group's keeper icon and the photos of the group
# open; about 250 KB each, ≈ 250 MB at most.
REVIEW_THUMBNAILS = 1000


class StrictnessChoice(NamedTuple):
    """One entry of the strictness menu: the value, its label and what it finds."""

    value: Strictness
    label: str
    explanation: str


STRICTNESS = [
    StrictnessChoice(Strictness.EXACT, "Exact copies",
                     "Byte-identical files only: always safe to clean up."),
    StrictnessChoice(Strictness.NEAR, "Near-duplicates",
                     "The same photo resized, re-encoded, cropped, rotated or lightly edited."),
    StrictnessChoice(Strictness.SIMILAR, "Similar shots",
                     "Also different shots of one scene (bursts, series): look before you remove."),
]
# Found first: what people mean by "duplicates" (exact copies alone miss the resized and
# re-encoded ones; similar shots need a closer look before anything is removed).
DEFAULT_STRICTNESS = Strictness.NEAR

Found = tuple[list[DuplicateGroup], ReviewSettings]


class GroupsModel(QAbstractListModel):
    """The groups, largest reclaimable space first; shows each keeper's thumbnail."""

    def __init__(self, thumbnail: Callable[[int], QImage | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: list[GroupState] = []
        self._thumbnail = thumbnail

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._groups)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._groups):
            return None
        group = self._groups[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{shown_name(group.record(group.keeper_id).path)}\n{group.summary()}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(r.path for r in group.records)
        if role == Qt.ItemDataRole.DecorationRole:
            image = self._thumbnail(group.keeper_id)
            return image.scaled(ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation) if image else None
        if role == STATE_ROLE:
            return group
        return None

    def set_groups(self, groups: Iterable[GroupState]) -> None:
        self.beginResetModel()
        self._groups = sorted(groups, key=lambda g: (-g.reclaimable, g.records[0].path))
        self.endResetModel()

    def groups(self) -> list[GroupState]:
        return list(self._groups)

    def group(self, row: int) -> GroupState | None:
        return self._groups[row] if 0 <= row < len(self._groups) else None

    def row_of(self, group: GroupState) -> int | None:
        return next((i for i, g in enumerate(self._groups) if g is group), None)

    def changed(self, group: GroupState) -> None:
        row = self.row_of(group)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))

    def remove(self, group: GroupState) -> None:
        row = self.row_of(group)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._groups[row]
            self.endRemoveRows()

    def forget_files(self, file_ids: set[int]) -> None:
        """Photos that left the library leave their groups; a group of one is no group."""
        for group in [g for g in self._groups if g.ids & file_ids]:
            if group.forget(file_ids):
                self.changed(group)
            else:
                self.remove(group)

    def thumbnails_loaded(self, ids: set[int]) -> None:
        for row, group in enumerate(self._groups):
            if group.keeper_id in ids:
                self.dataChanged.emit(self.index(row), self.index(row),
                                      [Qt.ItemDataRole.DecorationRole])


class PhotosModel(QAbstractListModel):
    """One group's photos; the check state is "marked for removal" (the keeper has none)."""

    marks_changed = Signal(object)  # GroupState

    def __init__(self, thumbnail: Callable[[int], QImage | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._group: GroupState | None = None
        self._thumbnail = thumbnail

    @property
    def group(self) -> GroupState | None:
        return self._group

    def set_group(self, group: GroupState | None) -> None:
        self.beginResetModel()
        self._group = group
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() or self._group is None else len(self._group.records)

    def record(self, row: int) -> FileRecord | None:
        if self._group is None or not 0 <= row < len(self._group.records):
            return None
        return self._group.records[row]

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        record = self.record(index.row()) if index.isValid() else None
        if record is not None and self._group is not None and self._group.can_mark(record.id):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        record = self.record(index.row()) if index.isValid() else None
        group = self._group
        if record is None or group is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return shown_name(record.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return shown(record.path)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(record.id)
        if role == Qt.ItemDataRole.CheckStateRole:
            marked = record.id in group.marked
            return Qt.CheckState.Checked if marked else Qt.CheckState.Unchecked
        if role == RECORD_ROLE:
            return record
        if role == KEEPER_ROLE:
            return record.id == group.keeper_id
        if role == REFERENCE_ROLE:
            return record.id in group.reference
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        record = self.record(index.row()) if index.isValid() else None
        if record is None or self._group is None or role != Qt.ItemDataRole.CheckStateRole:
            return False
        on = Qt.CheckState(value) == Qt.CheckState.Checked
        if not self._group.set_marked(record.id, on):
            return False
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.marks_changed.emit(self._group)
        return True

    def toggle(self, row: int) -> bool:
        record = self.record(row)
        if record is None or self._group is None:
            return False
        marked = record.id in self._group.marked
        value = Qt.CheckState.Unchecked if marked else Qt.CheckState.Checked
        return self.setData(self.index(row), value, Qt.ItemDataRole.CheckStateRole)

    def set_keeper(self, row: int) -> None:
        record = self.record(row)
        if record is None or self._group is None:
            return
        self._group.set_keeper(record.id)
        self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))
        self.marks_changed.emit(self._group)

    def thumbnails_loaded(self, ids: set[int]) -> None:
        for row in range(self.rowCount()):
            record = self.record(row)
            if record is not None and record.id in ids:
                self.dataChanged.emit(self.index(row), self.index(row),
                                      [Qt.ItemDataRole.DecorationRole])


class Thumbnails:
    """Thumbnail look-up for the review models: cached, or requested from the image loader."""

    def __init__(self, request: Callable[[int], None]) -> None:
        self.cache = ThumbnailCache(REVIEW_THUMBNAILS)
        self.request = request

    def __call__(self, file_id: int) -> QImage | None:
        image = self.cache.get(file_id)
        if image is None:
            self.request(file_id)
        return image

    def loaded(self, batch: dict[int, QImage]) -> set[int]:
        for file_id, image in batch.items():
            self.cache.put(file_id, image)
        return set(batch)
