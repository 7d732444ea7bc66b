"""Paints a photo of a duplicate group: thumbnail, removal check box, keeper badge, details."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photofinder.core.duplicates.keepers import human_size
from photofinder.core.names import shown_folder, shown_name
from photofinder.core.storage.catalog import FileRecord
from photofinder.gui.duplicates_model import KEEPER_ROLE, RECORD_ROLE, REFERENCE_ROLE
from photofinder.gui.thumbnail_delegate import (
    BOX_ASPECT,
    PLACEHOLDER_INSET,
    PLACEHOLDER_RADIUS,
    TEXT_GAP,
)

SIDE = 208  # thumbnail width: large enough to tell near-duplicates apart by eye
MARGIN = 6
CHECK = 22  # the removal check box, drawn over the thumbnail's corner
CHECK_INSET = 6  # from the thumbnail's top-left corner
CHECK_SLOP = 4  # a click this close to the check box still toggles it
KEEP_COLOUR = QColor(46, 150, 80)
REMOVE_COLOUR = QColor(200, 60, 50)
BORDER_WIDTH = 3  # the keeper's and the marked photos' coloured frame
SELECTED_TINT_ALPHA = 50  # a light tint keeps the green and red labels readable
MARKED_DIM = QColor(0, 0, 0, 90)  # laid over a photo marked for removal: what will go
LINES = 1 + 5  # the status line, then the five lines of `details`
BOTTOM_PADDING = 8  # below the last detail line
Index = QModelIndex | QPersistentModelIndex


def details(record: FileRecord) -> list[str]:
    """Pixel size, file size and format; capture date; camera; folder."""
    pixels = f"{record.width}×{record.height}" if record.width and record.height else "? px"
    return [
        shown_name(record.path),
        f"{pixels} · {human_size(record.size)} · {record.format or '?'}",
        (record.captured_at or "no capture date").replace("T", " "),
        record.camera or "no camera",
        shown_folder(record.path),
    ]


class DuplicatePhotoDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    @staticmethod
    def box(rect: QRect) -> QRect:
        return QRect(rect.x() + MARGIN, rect.y() + MARGIN, SIDE, round(SIDE * BOX_ASPECT))

    @classmethod
    def check_rect(cls, rect: QRect) -> QRect:
        box = cls.box(rect)
        return QRect(box.x() + CHECK_INSET, box.y() + CHECK_INSET, CHECK, CHECK)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        line = option.fontMetrics.height()
        height = round(SIDE * BOX_ASPECT) + 2 * MARGIN + LINES * line + BOTTOM_PADDING
        return QSize(SIDE + 2 * MARGIN, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        record = index.data(RECORD_ROLE)
        if not isinstance(record, FileRecord):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        widget = option.widget
        style = widget.style() if widget is not None else None
        keeper = bool(index.data(KEEPER_ROLE))
        reference = bool(index.data(REFERENCE_ROLE))
        marked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            tint = palette.color(QPalette.ColorRole.Highlight)
            tint.setAlpha(SELECTED_TINT_ALPHA)
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.setBrush(tint)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        box = self.box(rect)
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            scaled = image.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(box.center())
            painter.drawImage(target, image)
            if marked:
                painter.fillRect(target, MARKED_DIM)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Midlight))
            inset = PLACEHOLDER_INSET
            painter.drawRoundedRect(box.adjusted(inset, inset, -inset, -inset),
                                    PLACEHOLDER_RADIUS, PLACEHOLDER_RADIUS)
        colour = KEEP_COLOUR if keeper else REMOVE_COLOUR if marked else None
        if colour is not None:
            pen = painter.pen()
            pen.setColor(colour)
            pen.setWidth(BORDER_WIDTH)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box.adjusted(1, 1, -1, -1))
        if not keeper and not reference and style is not None:
            check = QStyleOptionViewItem(option)
            check.rect = self.check_rect(rect)
            check.state = QStyle.StateFlag.State_Enabled | (
                QStyle.StateFlag.State_On if marked else QStyle.StateFlag.State_Off)
            base = palette.color(QPalette.ColorRole.Base)
            painter.fillRect(check.rect.adjusted(-2, -2, 2, 2), base)
            style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck, check,
                                painter, widget)
        line = option.fontMetrics.height()
        text = QRect(rect.x() + MARGIN, box.bottom() + TEXT_GAP, SIDE, line)
        status, status_colour = (
            ("★ Keep", KEEP_COLOUR) if keeper
            else ("Marked for removal", REMOVE_COLOUR) if marked
            else ("Kept (reference folder)", KEEP_COLOUR) if reference
            else ("Kept", palette.color(QPalette.ColorRole.Text))
        )
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(status_colour)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft, status)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        for number, value in enumerate(details(record), start=1):
            elided = option.fontMetrics.elidedText(value, Qt.TextElideMode.ElideMiddle, SIDE)
            painter.drawText(text.translated(0, number * line), Qt.AlignmentFlag.AlignLeft, elided)
        painter.restore()

    def editorEvent(  # noqa: N802
        self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        """A click on the check box marks or unmarks the photo."""
        if event.type() != QEvent.Type.MouseButtonRelease or not isinstance(event, QMouseEvent):
            return False
        if not index.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return False
        slop = CHECK_SLOP
        target = self.check_rect(option.rect).adjusted(-slop, -slop, slop, slop)
        if not target.contains(event.position().toPoint()):
            return False
        marked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        value = Qt.CheckState.Unchecked if marked else Qt.CheckState.Checked
        return model.setData(index, value, Qt.ItemDataRole.CheckStateRole)

