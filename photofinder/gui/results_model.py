"""The ranked results as a list model; thumbnails load lazily through a bounded cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QImage

from photofinder.core.names import shown, shown_name
from photofinder.core.search.knn import SearchHit
from photofinder.gui.thumbnail_cache import ThumbnailCache

FILE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
SCORE_ROLE = Qt.ItemDataRole.UserRole + 3
THUMBNAIL_ROLE = Qt.ItemDataRole.UserRole + 4

AnyIndex = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    def __init__(
        self,
        request_thumbnail: Callable[[int], None] | None = None,
        cache: ThumbnailCache | None = None,
    ) -> None:
        super().__init__()
        self._hits: list[SearchHit] = []
        self._rows: dict[int, int] = {}
        self._request = request_thumbnail
        self.cache = cache if cache is not None else ThumbnailCache()
        self._failed: set[int] = set()

    # --- the Qt model interface ----------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._hits) or index.column() != 0:
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return shown_name(hit.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{shown(hit.path)}\nsimilarity {hit.score:.3f}"
        if role == FILE_ID_ROLE:
            return hit.file_id
        if role == PATH_ROLE:
            return hit.path
        if role == SCORE_ROLE:
            return hit.score
        if role == THUMBNAIL_ROLE:
            return self._thumbnail(hit.file_id)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flag = Qt.ItemFlag
        return flag.ItemIsEnabled | flag.ItemIsSelectable | flag.ItemNeverHasChildren

    def roleNames(self) -> dict[int, QByteArray]:  # noqa: N802
        names = super().roleNames()
        names.update({
            FILE_ID_ROLE: QByteArray(b"fileId"), PATH_ROLE: QByteArray(b"path"),
            SCORE_ROLE: QByteArray(b"score"), THUMBNAIL_ROLE: QByteArray(b"thumbnail"),
        })
        return names

    # --- contents ------------------------------------------------------------------------------
    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self._rows = {hit.file_id: row for row, hit in enumerate(self._hits)}
        self.endResetModel()

    def extend_or_set(self, hits: Sequence[SearchHit]) -> None:
        """Append when the current rows are a prefix of `hits` (the growing library grid keeps
        its scroll position and selection); otherwise reset."""
        count = len(self._hits)
        same = [h.file_id for h in hits[:count]] == [h.file_id for h in self._hits]
        if count == 0 or len(hits) < count or not same:
            self.set_hits(hits)
            return
        if len(hits) == count:
            return
        self.beginInsertRows(QModelIndex(), count, len(hits) - 1)
        self._hits.extend(hits[count:])
        self._rows.update({hit.file_id: row for row, hit in enumerate(hits) if row >= count})
        self.endInsertRows()

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def hit(self, row: int) -> SearchHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def row_of(self, file_id: int) -> int | None:
        return self._rows.get(file_id)

    def remove_file(self, file_id: int) -> bool:
        row = self._rows.get(file_id)
        if row is None:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._hits[row]
        self._rows = {hit.file_id: r for r, hit in enumerate(self._hits)}
        self.endRemoveRows()
        self.cache.discard(file_id)
        return True

    # --- thumbnails ----------------------------------------------------------------------------
    def _thumbnail(self, file_id: int) -> QImage | None:
        image = self.cache.get(file_id)
        if image is None and self._request is not None and file_id not in self._failed:
            self._request(file_id)
        return image

    @Slot(object)
    def thumbnails_loaded(self, batch: dict[int, QImage]) -> None:
        """A batch from the loader thread: cache it and repaint the rows it shows."""
        rows: list[int] = []
        for file_id, image in batch.items():
            if image.isNull():
                self._failed.add(file_id)
                continue
            self.cache.put(file_id, image)
            row = self._rows.get(file_id)
            if row is not None:
                rows.append(row)
        if rows:
            top, bottom = self.index(min(rows)), self.index(max(rows))
            self.dataChanged.emit(top, bottom, [THUMBNAIL_ROLE])
