"""The Qt binding keeps Python's reference counts right (PySide6 6.12.0 on Python 3.11 does not)."""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage, QPainter


class _Empty(QAbstractListModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 1

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        return None


def test_void_calls_do_not_drain_none_refcount() -> None:
    """PySide6 6.12.0 built for immortal None (Python ≥ 3.12) drops one reference to None per
    void call on Python 3.11; a running window then dies with "deallocating None" within
    minutes. Use PySide6 < 6.12 on Python 3.11, or Python ≥ 3.12."""
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    model = _Empty()
    index = model.index(0)
    before = sys.getrefcount(None)
    for _ in range(200):
        painter.save()
        painter.restore()
        index.data(Qt.ItemDataRole.ToolTipRole)
    painter.end()
    drift = sys.getrefcount(None) - before
    assert drift > -100, (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} leaks references to "
        f"None ({drift} after 600 calls): pin PySide6-Essentials<6.12 for Python 3.11"
    )
