"""Two photos side by side, zoom and pan synchronized; a flicker toggle and a difference view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QImage, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.errors import PhotoReadError
from photofinder.core.photos.imageio import decode_file
from photofinder.gui.image_files import read_image

MAX_SIDE = 6000  # larger photos are scaled down on load (memory)
FLICKER_MS = 500
DIFF_GAIN = 4  # small differences would be invisible at 1×
MODES = ("Side by side", "Flicker", "Difference")


@dataclass(frozen=True)
class ComparePair:
    a: QImage
    b: QImage
    difference: QImage


def load_image(path: Path) -> QImage:
    """A photo at full size (EXIF-oriented); formats Qt cannot read go through the core."""
    image = read_image(path, MAX_SIDE)
    if image.isNull():
        pil = decode_file(path).image.convert("RGB")
        data = pil.tobytes()
        image = QImage(data, pil.width, pil.height, 3 * pil.width,
                       QImage.Format.Format_RGB888).copy()
    if image.isNull():
        raise PhotoReadError(f"{path}: cannot be read")
    return image


def _pixels(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return rows[:, : 3 * rgb.width()].reshape(rgb.height(), rgb.width(), 3).astype(np.int16)


def difference(a: QImage, b: QImage, gain: int = DIFF_GAIN) -> QImage:
    """|a − b| per channel after scaling b to a's size, brightened `gain` times."""
    scaled = b.scaled(a.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                      Qt.TransformationMode.SmoothTransformation)
    diff = np.clip(np.abs(_pixels(a) - _pixels(scaled)) * gain, 0, 255).astype(np.uint8)
    diff = np.ascontiguousarray(diff)
    height, width = diff.shape[:2]
    return QImage(diff.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def load_pair(a: Path, b: Path) -> ComparePair:
    """Both photos and their difference: slow for large photos, so never on the GUI thread."""
    first, second = load_image(a), load_image(b)
    return ComparePair(first, second, difference(first, second))


class PhotoView(QGraphicsView):
    """One zoomable, draggable photo; wheel turns become zoom requests to the owner."""

    zoom_requested = Signal(object, float)  # this view, factor

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(240, 200)

    def set_image(self, image: QImage, width: int) -> None:
        """Show `image` scaled to `width` scene units, so both sides share coordinates."""
        self.item.setPixmap(QPixmap.fromImage(image))
        self.item.setScale(width / max(1, image.width()))
        self.scene().setSceneRect(self.item.sceneBoundingRect())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_requested.emit(self, 1.25 ** steps)
        event.accept()


class CompareView(QDialog):
    """Compare two photos of a group; "Not duplicates" tells the review to split them."""

    not_duplicates = Signal()

    def __init__(self, names: tuple[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {names[0]} and {names[1]}")
        self.names = names
        self.pair: ComparePair | None = None
        self.left, self.right = PhotoView(), PhotoView()
        self.left_label, self.right_label = QLabel(names[0]), QLabel(names[1])
        self.status = QLabel("Loading…")
        self.timer = QTimer(self)
        self.timer.setInterval(FLICKER_MS)
        self.timer.timeout.connect(self.flicker_step)
        self.showing_b = False
        self.modes = QButtonGroup(self)
        buttons = QHBoxLayout()
        for number, text in enumerate(MODES):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setChecked(number == 0)
            self.modes.addButton(button, number)
            buttons.addWidget(button)
        self.modes.idClicked.connect(self.set_mode)
        fit = QPushButton("Fit")
        fit.clicked.connect(self.fit)
        split = QPushButton("Not duplicates")
        split.setToolTip("These two are different photos: never group them again")
        split.clicked.connect(self.not_duplicates)
        buttons.addStretch()
        buttons.addWidget(self.status)
        buttons.addStretch()
        buttons.addWidget(fit)
        buttons.addWidget(split)
        sides = QHBoxLayout()
        for view, label in ((self.left, self.left_label), (self.right, self.right_label)):
            column = QVBoxLayout()
            column.addWidget(view, 1)
            column.addWidget(label)
            sides.addLayout(column)
            view.zoom_requested.connect(self.zoom_from)
            for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
                bar.valueChanged.connect(lambda _value, v=view: self.sync_scroll(v))
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(sides, 1)
        self.resize(1100, 640)

    @property
    def zoom(self) -> float:
        return self.left.transform().m11()

    def set_pair(self, pair: ComparePair) -> None:
        self.pair = pair
        width = pair.a.width()
        self.left.set_image(pair.a, width)
        self.right.set_image(pair.b, width)
        self.status.setText(
            f"{pair.a.width()}×{pair.a.height()} vs {pair.b.width()}×{pair.b.height()}")
        self.set_mode(self.modes.checkedId())
        self.fit()

    def set_error(self, message: str) -> None:
        self.status.setText(message)

    def fit(self) -> None:
        self.left.fitInView(self.left.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.right.setTransform(self.left.transform())

    def zoom_from(self, source: PhotoView, factor: float) -> None:
        """Zoom the view under the mouse, then give the other the same transform and scroll."""
        zoom = source.transform().m11() * factor
        if not 0.02 <= zoom <= 40:
            return
        source.scale(factor, factor)
        other = self.right if source is self.left else self.left
        other.setTransform(source.transform())
        self.sync_scroll(source)

    def sync_scroll(self, source: PhotoView) -> None:
        other = self.right if source is self.left else self.left
        other.horizontalScrollBar().setValue(source.horizontalScrollBar().value())
        other.verticalScrollBar().setValue(source.verticalScrollBar().value())

    def set_mode(self, mode: int) -> None:
        """0: side by side; 1: flicker (alternate both in one view); 2: the difference."""
        self.modes.button(mode).setChecked(True)
        self.timer.stop()
        self.right.setVisible(mode == 0)
        self.right_label.setVisible(mode == 0)
        pair = self.pair
        if pair is None:
            return
        width = pair.a.width()
        if mode == 2:
            self.left.set_image(pair.difference, width)
            self.left_label.setText(f"|A − B| ×{DIFF_GAIN} (black: identical)")
        else:
            self.showing_b = False
            self.left.set_image(pair.a, width)
            self.left_label.setText(f"A: {self.names[0]}")
            self.right_label.setText(f"B: {self.names[1]}")
        if mode == 1:
            self.timer.start()

    def flicker_step(self) -> None:
        if self.pair is None:
            return
        self.showing_b = not self.showing_b
        image = self.pair.b if self.showing_b else self.pair.a
        self.left.set_image(image, self.pair.a.width())
        self.left_label.setText(f"{'B' if self.showing_b else 'A'}: "
                                f"{self.names[int(self.showing_b)]}")

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self.timer.stop()
        super().hideEvent(event)
