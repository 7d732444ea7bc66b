"""Thumbnails and previews decoded off the GUI thread, delivered in batches."""

from __future__ import annotations

import math
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from photofinder.core.library import Library
from photofinder.core.search.knn import SearchHit
from photofinder.gui.image_files import read_image
from photofinder.gui.jobs import JobContext, JobQueue, StreamContext

BATCH = 24  # thumbnails per delivery (they also go at least every jobs.BATCH_INTERVAL_S)
BROWSE_LIMIT = 5000
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


class ImageLoader(QObject):
    """Decodes on its own queue. Thumbnail requests are served newest first (what is on
    screen) and delivered in batches; a newer image under a tag replaces the one asked for."""

    thumbnails = Signal(object)  # dict[int, QImage]
    image = Signal(str, object, object)  # tag, path (a str, never a QString), QImage or null
    listed = Signal(object)  # list[SearchHit]

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._lock = threading.Lock()
        self._queue: list[int] = []
        self._queued: set[int] = set()
        self._wanted: dict[str, str] = {}
        self._jobs = JobQueue("photofinder-images", self)

    def request_thumbnail(self, file_id: int) -> None:
        with self._lock:
            if file_id in self._queued:
                return
            idle = not self._queue
            self._queue.append(file_id)
            self._queued.add(file_id)
        if idle:
            self._jobs.stream(self._drain, self._thumbnails_loaded, batch_size=BATCH,
                              what="Loading thumbnails")

    def _next_request(self) -> int | None:
        with self._lock:
            if not self._queue:
                return None
            file_id = self._queue.pop()
            self._queued.discard(file_id)
            return file_id

    def _drain(self, context: StreamContext[tuple[int, QImage]]) -> None:
        """On the queue's thread: every thumbnail asked for, until none is left."""
        catalog = self._library.catalog
        while (file_id := self._next_request()) is not None:
            data = catalog.thumbnail(file_id)
            context.put((file_id, QImage.fromData(data) if data else QImage()))

    def _thumbnails_loaded(self, batch: list[tuple[int, QImage]]) -> None:
        self.thumbnails.emit(dict(batch))

    def request_library(self) -> None:
        """List the indexed photos (answered by `listed`)."""
        library = self._library
        self._jobs.submit(lambda _: browse_hits(library), self.listed.emit,
                          what="Listing the photos")

    def request_image(self, tag: str, path: str, side: int = PREVIEW_SIDE) -> None:
        with self._lock:
            self._wanted[tag] = path

        def load(_context: JobContext) -> QImage | None:
            if not self._still_wanted(tag, path):
                return None  # a newer image was asked for under this tag
            return read_image(path, side)

        def loaded(image: QImage | None) -> None:
            if image is not None and self._still_wanted(tag, path):
                self.image.emit(tag, path, image)

        self._jobs.submit(load, loaded, what="Loading the photo")

    def _still_wanted(self, tag: str, path: str) -> bool:
        with self._lock:
            return self._wanted.get(tag) == path

    def shutdown(self) -> None:
        with self._lock:
            self._queue.clear()
            self._queued.clear()
            self._wanted.clear()
        self._jobs.shutdown()
