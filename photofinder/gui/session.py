"""One open library with its background workers: indexing, search, image loading, watching."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.library import Library
from photofinder.core.search import SearchHit
from photofinder.core.watcher import DEFAULT_DEBOUNCE_S, FolderWatcher
from photofinder.gui.image_loader import ImageLoader
from photofinder.gui.search_worker import SearchController
from photofinder.gui.workers import IndexController

BROWSE_LIMIT = 5000


class Session(QObject):
    """Everything that must be stopped together before the library is closed."""

    _watch_event = Signal(object)  # set[str], emitted on the watcher's thread
    files_changed = Signal(object)  # set[str]: the watcher saw these paths change

    def __init__(
        self,
        data_dir: Path | None,
        method: str,
        device: str,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = Library(data_dir, method, device)
        self.indexer = IndexController(self.library, self)
        self.search = SearchController(self.library, self)
        self.images = ImageLoader(self.library, self)
        self.watcher = FolderWatcher(self._watch_event.emit, debounce_s)
        self._watch_event.connect(self._on_watch_event)
        self._closed = False

    def watched_folders(self) -> list[Path]:
        return [Path(r.path) for r in self.library.roots() if not r.excluded]

    def restart_watching(self) -> None:
        """Watch the current folders (called after start-up and after folder changes)."""
        if not self._closed:
            self.watcher.start(self.watched_folders())

    def browse_hits(self) -> list[SearchHit]:
        """The indexed photos in path order (what the grid shows before any query)."""
        catalog = self.library.catalog
        ids: list[int] = []
        for root in catalog.roots():
            if not root.excluded:
                ids.extend(file_id for file_id, _, _ in catalog.files_under(root.id).values())
        records = catalog.files_by_ids(ids)
        ok = sorted((r for r in records.values() if r.status == "ok"), key=lambda r: r.path)
        return [SearchHit(r.id, r.path, math.nan) for r in ok[:BROWSE_LIMIT]]

    @Slot(object)
    def _on_watch_event(self, paths: set[str]) -> None:
        if self._closed:
            return
        self.files_changed.emit(paths)
        self.indexer.start()

    def shutdown(self) -> None:
        """Stop watching, cancel indexing (its progress is kept), join every thread, close."""
        if self._closed:
            return
        self._closed = True
        self.watcher.stop()
        self.indexer.shutdown()
        self.search.shutdown()
        self.images.shutdown()
        self.library.close()
