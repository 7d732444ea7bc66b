"""Keypoints over the preview: on/off (K), SIFT or ORB, the count; drawn off the GUI thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QImage, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from photofinder.core.lru import LRUCache
from photofinder.core.matching.keypoints import DEFAULT_KEYPOINT_TYPE, KEYPOINT_TYPES
from photofinder.gui.jobs import JobQueue

OVERLAY_SIDE = 1024  # longer side of the drawn overlay (the preview scales it down to fit)
CACHE_SIZE = 24  # drawn overlays kept, so toggling back (or revisiting a photo) is instant

Key = tuple[str, int, int, str]  # path, mtime_ns, size, keypoint type


def pil_to_qimage(image: Image.Image) -> QImage:
    """An RGB copy of a PIL image as a QImage that owns its pixels."""
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return qimage.copy()


def fill_kinds(combo: QComboBox, current: str = DEFAULT_KEYPOINT_TYPE) -> None:
    """Every keypoint type; unavailable ones (SURF) disabled, with the reason as tooltip."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    for info in KEYPOINT_TYPES:
        label = info.name if info.available else f"{info.name} (unavailable)"
        combo.addItem(label, info.name)
        item = model.item(combo.count() - 1)
        item.setEnabled(info.available)
        item.setToolTip(info.description if info.available else info.reason)
    combo.setCurrentIndex(max(0, combo.findData(current)))


@dataclass(frozen=True)
class DrawnOverlay:
    key: Key
    image: QImage
    count: int


def draw_overlay(key: Key, side: int = OVERLAY_SIDE) -> DrawnOverlay:
    """Runs on a worker thread: detect (cached in the core) and draw the keypoints."""
    from photofinder.core.matching.keypoints import (
        render_overlay,  # cv2 only here, never at start-up
    )

    overlay = render_overlay(key[0], key[3], side)
    return DrawnOverlay(key, pil_to_qimage(overlay.image), overlay.keypoints.count)


class KeypointOverlay(QWidget):
    """A bar over the preview. `show` puts an image on the preview; the plain photo comes in
    through `set_photo` / `set_plain` and is shown whenever the overlay is off."""

    matches_clicked = Signal()

    def __init__(self, show: Callable[[QImage | None], None], parent: QWidget | None = None):
        super().__init__(parent)
        self._show = show
        self._path: str | None = None
        self._plain: QImage | None = None
        self._shown: Key | None = None  # the overlay on screen, if any
        self._cache: LRUCache[Key, DrawnOverlay] = LRUCache(CACHE_SIZE)
        self.jobs = JobQueue("photofinder-keypoints", self, latest_wins=True)
        self.toggle = QAction("Keypoints", self)
        self.toggle.setCheckable(True)
        self.toggle.setShortcut(QKeySequence(Qt.Key.Key_K))
        self.toggle.setToolTip("Show the photo's local keypoints (K)")
        self.toggle.toggled.connect(self._refresh)
        button = QToolButton()
        button.setDefaultAction(self.toggle)
        self.kind = QComboBox()
        fill_kinds(self.kind)
        self.kind.setToolTip("Keypoint detector")
        self.kind.currentIndexChanged.connect(self._refresh)
        self.count = QLabel()
        self.matches = QPushButton("Matches…")
        self.matches.setToolTip("Keypoint matches between the query and this photo")
        self.matches.setEnabled(False)
        self.matches.clicked.connect(self.matches_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(button)
        layout.addWidget(self.kind)
        layout.addWidget(self.count, 1)
        layout.addWidget(self.matches)

    @property
    def active(self) -> bool:
        return self.toggle.isChecked()

    def kind_name(self) -> str:
        return str(self.kind.currentData())

    def set_photo(self, path: str | None, plain: QImage | None) -> None:
        """A new photo is previewed (`plain`: what to show without the overlay, for now)."""
        self._path, self._plain, self._shown = path, plain, None
        self.matches.setEnabled(path is not None)
        self._refresh()

    def set_plain(self, image: QImage) -> None:
        """A better plain image arrived (the full-size decode)."""
        self._plain = image
        if self._shown is None:
            self._show(image)

    def _key(self) -> Key | None:
        if self._path is None:
            return None
        try:
            stat = os.stat(self._path)
        except OSError:
            return None
        return (self._path, stat.st_mtime_ns, stat.st_size, self.kind_name())

    @Slot()
    def _refresh(self) -> None:
        key = self._key() if self.active else None
        if key is None:
            self.jobs.discard_all()
            self._shown = None
            self._show(self._plain)
            self.count.setText("" if self._path is None or not self.active else "unreadable")
            return
        drawn = self._cache.get(key)
        if drawn is not None:
            self._display(drawn)
            return
        self._shown = None
        self._show(self._plain)
        self.count.setText(f"finding {key[3]} keypoints…")
        self.jobs.submit(lambda _: draw_overlay(key), self._on_drawn, failed=self._on_failed)

    def _display(self, drawn: DrawnOverlay) -> None:
        self._shown = drawn.key
        self._show(drawn.image)
        self.count.setText(f"{drawn.count} {drawn.key[3]} keypoints")

    def _on_drawn(self, drawn: DrawnOverlay) -> None:
        self._cache.put(drawn.key, drawn)
        if self.active and drawn.key == self._key():
            self._display(drawn)

    def _on_failed(self, message: str) -> None:
        self.count.setText(f"keypoints failed: {message}")

    def shutdown(self) -> None:
        self.jobs.shutdown()
