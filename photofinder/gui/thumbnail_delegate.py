"""Paints one result: a crisp high-DPI thumbnail, its similarity score and its file name."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photofinder.gui.results_model import FILE_ID_ROLE, SCORE_ROLE, THUMBNAIL_ROLE

MARGIN = 6
SCALED_CACHE = 600


class ThumbnailDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None, side: int = 160) -> None:
        super().__init__(parent)
        self.side = side
        self._scaled: OrderedDict[tuple[int, int, int], QImage] = OrderedDict()

    def set_side(self, side: int) -> None:
        self.side = side
        self._scaled.clear()

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        line = option.fontMetrics.height()  # type: ignore[attr-defined]
        return QSize(self.side + 2 * MARGIN, self.side + 2 * MARGIN + 2 * line + 4)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else None
        painter.save()
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        box = QRect(rect.x() + MARGIN, rect.y() + MARGIN, self.side, self.side)
        image = index.data(THUMBNAIL_ROLE)
        if isinstance(image, QImage) and not image.isNull():
            dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
            scaled = self._fit(int(index.data(FILE_ID_ROLE)), image, dpr)
            w = round(scaled.width() / dpr)
            h = round(scaled.height() / dpr)
            target = QRect(box.x() + (self.side - w) // 2, box.y() + (self.side - h) // 2, w, h)
            painter.drawImage(target, scaled)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
            painter.drawRoundedRect(box.adjusted(8, 8, -8, -8), 6, 6)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        line = option.fontMetrics.height()  # type: ignore[attr-defined]
        text_rect = QRect(rect.x() + MARGIN, box.bottom() + 4, self.side, line)
        score = index.data(SCORE_ROLE)
        if isinstance(score, float):
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, f"{score:.1%}")
            font.setBold(False)
            painter.setFont(font)
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        elided = option.fontMetrics.elidedText(  # type: ignore[attr-defined]
            name, Qt.TextElideMode.ElideMiddle, self.side
        )
        painter.drawText(text_rect.translated(0, line), Qt.AlignmentFlag.AlignHCenter, elided)
        painter.restore()

    def _fit(self, file_id: int, image: QImage, dpr: float) -> QImage:
        """The thumbnail scaled to the cell in device pixels, so it stays sharp on high DPI."""
        pixels = max(1, round(self.side * dpr))
        key = (file_id, pixels, image.cacheKey() & 0x7FFFFFFF)
        scaled = self._scaled.get(key)
        if scaled is None:
            scaled = image.scaled(
                pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            scaled.setDevicePixelRatio(dpr)
            self._scaled[key] = scaled
            while len(self._scaled) > SCALED_CACHE:
                self._scaled.popitem(last=False)
        else:
            self._scaled.move_to_end(key)
        return scaled
