"""Models of the duplicate review: the groups (with the user's marks) and one group's photos."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from photofinder.core.duplicates.keepers import KeeperChoice, human_size
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.core.names import shown, shown_name
from photofinder.core.storage.catalog import FileRecord
from photofinder.gui.thumbnail_cache import ThumbnailCache

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
KEEPER_ROLE = Qt.ItemDataRole.UserRole + 2
REFERENCE_ROLE = Qt.ItemDataRole.UserRole + 3
STATE_ROLE = Qt.ItemDataRole.UserRole + 4
Index = QModelIndex | QPersistentModelIndex
CHOSEN = "chosen by you"
ICON = QSize(72, 54)
STRICTNESS = [
    (Strictness.EXACT, "Exact copies", "Byte-identical files only: always safe to clean up."),
    (Strictness.NEAR, "Near-duplicates",
     "The same photo resized, re-encoded, cropped, rotated or lightly edited."),
    (Strictness.SIMILAR, "Similar shots",
     "Also different shots of one scene (bursts, series): look before you remove."),
]
Found = tuple[list[DuplicateGroup], ReviewSettings]


def as_group(state: GroupState) -> DuplicateGroup:
    """The core's view of a group as the user left it."""
    removable = sorted(state.marked)
    choice = KeeperChoice(state.keeper_id, state.reason, removable)
    return DuplicateGroup(state.records, 0.0, choice)


def inside(path: str, folders: Sequence[str]) -> bool:
    return any(Path(path).is_relative_to(folder) for folder in folders)


@dataclass
class GroupState:
    """A group as the user sees it: the keeper, the photos marked for removal."""

    records: list[FileRecord]
    keeper_id: int
    reason: str
    marked: set[int]
    reference: set[int] = field(default_factory=set)  # in a reference folder: never marked

    @classmethod
    def of(cls, group: DuplicateGroup, reference_folders: Sequence[str] = ()) -> GroupState:
        reference = {r.id for r in group.records if inside(r.path, reference_folders)}
        return cls(list(group.records), group.keeper.keeper_id, group.keeper.reason,
                   set(group.keeper.removable), reference)

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(r.id for r in self.records)

    @property
    def reclaimable(self) -> int:
        return sum(r.size for r in self.records if r.id in self.marked)

    def record(self, file_id: int) -> FileRecord:
        return next(r for r in self.records if r.id == file_id)

    def set_keeper(self, file_id: int) -> None:
        """The user's choice: keep this one, mark every other (outside reference folders)."""
        self.keeper_id, self.reason = file_id, CHOSEN
        self.marked = {r.id for r in self.records} - {file_id} - self.reference

    def can_mark(self, file_id: int) -> bool:
        return file_id != self.keeper_id and file_id not in self.reference

    def set_marked(self, file_id: int, on: bool) -> bool:
        if on and not self.can_mark(file_id):
            return False
        (self.marked.add if on else self.marked.discard)(file_id)
        return True

    def summary(self) -> str:
        return f"{len(self.records)} photos · {human_size(self.reclaimable)} to free"


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
            group.records = [r for r in group.records if r.id not in file_ids]
            group.marked -= file_ids
            if len(group.records) < 2:
                self.remove(group)
                continue
            if group.keeper_id in file_ids:
                group.set_keeper(group.records[0].id)
            self.changed(group)

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
        self.cache = ThumbnailCache(1000)
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
