"""The preview pane (selected photo, large, with its details) and the query photo panel."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from photofinder.core.duplicates.keepers import human_size
from photofinder.core.names import shown_folder, shown_name
from photofinder.core.storage.catalog import FileRecord
from photofinder.gui.keypoint_overlay import KeypointOverlay


class ImageView(QWidget):
    """Paints an image scaled to fit, sharp at any device pixel ratio."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    def set_image(self, image: QImage | None) -> None:
        self._image = image if image is not None else QImage()
        self.update()

    def image(self) -> QImage:
        return self._image

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 260)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self._image.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
            return
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if self._image.width() <= self.width() and self._image.height() <= self.height():
            size = self._image.size()  # never blow a small image up
        x = (self.width() - size.width()) // 2
        y = (self.height() - size.height()) // 2
        painter.drawImage(QRect(x, y, size.width(), size.height()), self._image)


def describe(record: FileRecord) -> str:
    """Path, file size, pixel size and capture date, as rich text lines."""
    pixels = f"{record.width} × {record.height} px" if record.width and record.height else "?"
    captured = (record.captured_at or "unknown").replace("T", " ")
    name = shown_name(record.path)
    return (
        f"<b>{_escape(name)}</b><br>{_escape(shown_folder(record.path))}<br>"
        f"{human_size(record.size)} · {pixels} · {record.format or ''}<br>"
        f"Taken: {_escape(captured)}"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PreviewPane(QWidget):
    """Shows the selected photo large, with its path, size, pixel size and capture date."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageView("Select a photo to preview it")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.keypoints = KeypointOverlay(self.view.set_image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.keypoints)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        self.record: FileRecord | None = None

    def show_record(self, record: FileRecord | None, thumbnail: QImage | None) -> None:
        self.record = record
        self.keypoints.set_photo(record.path if record else None, thumbnail)
        self.details.setText(describe(record) if record else "")

    def show_image(self, path: str, image: QImage) -> None:
        """The full-size image arrived from the loader thread."""
        if self.record is not None and self.record.path == path and not image.isNull():
            self.keypoints.set_plain(image)


class QueryPanel(QWidget):
    """The photo being searched for, beside the results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Query</b>")
        self.view = ImageView("Drop a photo here, paste one (Ctrl+V), or use File → Open")
        self.view.setMinimumSize(160, 160)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.label)

    def show_query(self, label: str, image: QImage | None) -> None:
        self.label.setText(label)
        self.view.set_image(image)
