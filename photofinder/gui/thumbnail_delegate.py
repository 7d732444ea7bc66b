"""Paints one result: a crisp high-DPI thumbnail, its similarity score and its file name."""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photofinder.core.lru import LRUCache
from photofinder.gui.results_model import FILE_ID_ROLE, SCORE_ROLE, THUMBNAIL_ROLE

MARGIN = 6
TEXT_GAP = 4  # between the image area and the score line
BOX_ASPECT = 3 / 4  # the image area's height to width: 4:3, the shape of most photos
PLACEHOLDER_INSET = 8  # the grey box shown while a thumbnail loads sits this far inside
PLACEHOLDER_RADIUS = 6
SCALED_CACHE = 600  # scaled thumbnails kept: a few screens of cells, so scrolling back is cheap

ScaledKey = tuple[int, int, int]  # file id, width in device pixels, the source image's cache key


class ThumbnailDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None, side: int = 160) -> None:
        super().__init__(parent)
        self.side = side
        self._scaled: LRUCache[ScaledKey, QImage] = LRUCache(SCALED_CACHE)

    def set_side(self, side: int) -> None:
        self.side = side
        self._scaled.clear()

    def cell_size(self, metrics: QFontMetrics) -> QSize:
        text = 2 * metrics.height() + TEXT_GAP
        return QSize(self.side + 2 * MARGIN, self.box_height + 2 * MARGIN + text)

    @property
    def box_height(self) -> int:
        """Image area: 4:3, the shape of most photos (portrait ones fit its height)."""
        return round(self.side * BOX_ASPECT)

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return self.cell_size(option.fontMetrics)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        rect: QRect = option.rect
        palette: QPalette = option.palette
        widget = option.widget
        style = widget.style() if widget is not None else None
        painter.save()
        if style is not None:
            panel = QStyle.PrimitiveElement.PE_PanelItemViewItem
            style.drawPrimitive(panel, option, painter, widget)
        box = QRect(rect.x() + MARGIN, rect.y() + MARGIN, self.side, self.box_height)
        image = index.data(THUMBNAIL_ROLE)
        if isinstance(image, QImage) and not image.isNull():
            dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
            scaled = self._fit(int(index.data(FILE_ID_ROLE)), image, dpr)
            w = round(scaled.width() / dpr)
            h = round(scaled.height() / dpr)
            x = box.x() + (box.width() - w) // 2
            target = QRect(x, box.y() + (box.height() - h) // 2, w, h)
            painter.drawImage(target, scaled)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
            inset = PLACEHOLDER_INSET
            painter.drawRoundedRect(box.adjusted(inset, inset, -inset, -inset),
                                    PLACEHOLDER_RADIUS, PLACEHOLDER_RADIUS)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        line = option.fontMetrics.height()
        text_rect = QRect(rect.x() + MARGIN, box.bottom() + TEXT_GAP, self.side, line)
        score = index.data(SCORE_ROLE)
        if isinstance(score, float) and not math.isnan(score):
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, f"{score:.1%}")
            font.setBold(False)
            painter.setFont(font)
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        elided = option.fontMetrics.elidedText(
            name, Qt.TextElideMode.ElideMiddle, self.side
        )
        painter.drawText(text_rect.translated(0, line), Qt.AlignmentFlag.AlignHCenter, elided)
        painter.restore()

    def _fit(self, file_id: int, image: QImage, dpr: float) -> QImage:
        """The thumbnail scaled to the cell in device pixels, so it stays sharp on high DPI."""
        width = max(1, round(self.side * dpr))
        height = max(1, round(self.box_height * dpr))
        key = (file_id, width, image.cacheKey())
        scaled = self._scaled.get(key)
        if scaled is None:
            scaled = image.scaled(
                width, height, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            scaled.setDevicePixelRatio(dpr)
            self._scaled.put(key, scaled)
        return scaled
