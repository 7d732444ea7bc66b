"""Thumbnails and previews decoded off the GUI thread, delivered in batches."""

from __future__ import annotations

import math
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from photofinder.core.library import Library
from photofinder.core.search import SearchHit
from photofinder.gui.image_files import read_image
from photofinder.gui.threads import new_thread

BATCH = 24
BROWSE_LIMIT = 5000
BATCH_INTERVAL_S = 0.1  # deliver at least this often while busy
PREVIEW_SIDE = 1600


def browse_hits(library: Library, limit: int = BROWSE_LIMIT) -> list[SearchHit]:
    """The indexed photos in path order (what the grid shows before any query)."""
    catalog = library.catalog
    ids: list[int] = []
    for root in catalog.roots():
        if not root.excluded:
            ids.extend(file_id for file_id, _, _ in catalog.files_under(root.id).values())
    records = catalog.files_by_ids(ids)
    ok = sorted((r for r in records.values() if r.status == "ok"), key=lambda r: r.path)
    return [SearchHit(r.id, r.path, math.nan) for r in ok[:limit]]


class ImageWorker(QObject):
    thumbnails = Signal(object)  # dict[int, QImage]
    listed = Signal(object)  # list[SearchHit]
    image = Signal(str, object, object)  # tag, path (a str, never a QString), QImage or null

    def __init__(self, library: Library, loader: ImageLoader) -> None:
        super().__init__()
        self._library = library
        self._loader = loader

    @Slot()
    def drain(self) -> None:
        batch: dict[int, QImage] = {}
        started = time.monotonic()
        while (file_id := self._loader.next_request()) is not None:
            data = self._library.catalog.thumbnail(file_id)
            image = QImage.fromData(data) if data else QImage()
            batch[file_id] = image
            if len(batch) >= BATCH or time.monotonic() - started > BATCH_INTERVAL_S:
                self.thumbnails.emit(batch)
                batch = {}
                started = time.monotonic()
        if batch:
            self.thumbnails.emit(batch)

    @Slot()
    def list_library(self) -> None:
        self.listed.emit(browse_hits(self._library))

    @Slot(str, object, int)
    def load_image(self, tag: str, path: str, side: int) -> None:
        if self._loader.image_generation(tag) != path:
            return  # a newer image was asked for under this tag
        self.image.emit(tag, path, read_image(path, side))


class ImageLoader(QObject):
    """Owns the loader thread. Thumbnail requests are served newest first (what is on screen)."""

    thumbnails = Signal(object)  # dict[int, QImage]
    image = Signal(str, object, object)  # tag, path, QImage
    listed = Signal(object)  # list[SearchHit]
    _wake = Signal()
    _list = Signal()
    _load = Signal(str, object, int)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: list[int] = []
        self._queued: set[int] = set()
        self._wanted: dict[str, str] = {}
        self._thread = new_thread("photofinder-images")
        self._worker = ImageWorker(library, self)
        self._worker.moveToThread(self._thread)
        self._wake.connect(self._worker.drain)
        self._load.connect(self._worker.load_image)
        self._list.connect(self._worker.list_library)
        self._worker.listed.connect(self.listed)
        self._worker.thumbnails.connect(self.thumbnails)
        self._worker.image.connect(self._on_image)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()

    def request_thumbnail(self, file_id: int) -> None:
        with self._lock:
            if file_id in self._queued:
                return
            idle = not self._queue
            self._queue.append(file_id)
            self._queued.add(file_id)
        if idle:
            self._wake.emit()

    def next_request(self) -> int | None:
        with self._lock:
            if not self._queue:
                return None
            file_id = self._queue.pop()
            self._queued.discard(file_id)
            return file_id

    def request_library(self) -> None:
        """List the indexed photos (answered by `listed`)."""
        self._list.emit()

    def request_image(self, tag: str, path: str, side: int = PREVIEW_SIDE) -> None:
        with self._lock:
            self._wanted[tag] = path
        self._load.emit(tag, path, side)

    def image_generation(self, tag: str) -> str | None:
        with self._lock:
            return self._wanted.get(tag)

    @Slot(str, object, object)
    def _on_image(self, tag: str, path: str, image: QImage) -> None:
        if self.image_generation(tag) == path:
            self.image.emit(tag, path, image)

    def shutdown(self) -> None:
        with self._lock:
            self._queue.clear()
            self._queued.clear()
            self._wanted.clear()
        self._thread.quit()
        self._thread.wait()
