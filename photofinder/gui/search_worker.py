"""Search in a worker thread, latest query wins; also probes compute devices off the GUI thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.devices import DEVICE_CHOICES, device_status
from photofinder.core.embedders import list_methods
from photofinder.core.errors import PhotoFinderError
from photofinder.core.library import Library
from photofinder.core.search import SearchHit
from photofinder.gui.threads import new_thread

log = logging.getLogger(__name__)
DEFAULT_K = 60


@dataclass(frozen=True)
class Query:
    """One search: by a file, by encoded image data, or by a catalogued photo."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    file_id: int | None = None
    verify: bool = False  # precise search: query variants and keypoint verification


class SearchWorker(QObject):
    results = Signal(int, object, object)  # generation, Query, list[SearchHit]
    error = Signal(int, object, str)  # generation, Query, message
    busy = Signal(int, str)  # generation, what is slow (the first search loads the model)
    devices = Signal(object)  # list[DeviceStatus]
    methods = Signal(object)  # list[MethodInfo]

    def __init__(self, library: Library, controller: SearchController) -> None:
        super().__init__()
        self._library = library
        self._controller = controller

    @Slot(int, object, int)
    def search(self, generation: int, query: Query, k: int) -> None:
        if generation != self._controller.generation:
            return  # superseded while queued: the latest query wins
        try:
            # This thread's catalogue first: Library.index takes the library lock and then
            # asks for the calling thread's catalogue, which takes the same lock.
            self._library.catalog  # noqa: B018
            if not self._library.model_loaded and self._needs_model(query):
                self.busy.emit(generation, "Loading the model…")
            hits = self._run(query, k)
        except PhotoFinderError as exc:
            self.error.emit(generation, query, str(exc))
        except Exception as exc:  # a bug: report it, keep the app alive
            log.exception("search failed")
            self.error.emit(generation, query, f"search failed unexpectedly: {exc!r}")
        else:
            self.results.emit(generation, query, hits)

    def _needs_model(self, query: Query) -> bool:
        if query.file_id is not None:
            return False
        if query.path is not None:
            record = self._library.catalog.file_by_path(str(query.path.resolve()))
            return record is None or record.status != "ok"
        return True

    def _run(self, query: Query, k: int) -> list[SearchHit]:
        verify = query.verify
        if query.file_id is not None:
            return self._library.search_file_id(query.file_id, k, verify=verify)
        if query.path is not None:
            return self._library.search_files([query.path], k, verify=verify)[0]
        if query.data is not None:
            return self._library.search_bytes(query.data, k, verify=verify)
        return []

    @Slot()
    def list_methods(self) -> None:
        """May inspect weight files and import torchvision: never on the GUI thread."""
        try:
            self.methods.emit(list_methods())
        except Exception:  # a broken optional method must not take the app down
            log.exception("listing methods failed")

    @Slot()
    def probe_devices(self) -> None:
        """May import torch (only when a GPU driver is present): never on the GUI thread."""
        statuses = [device_status(name) for name in DEVICE_CHOICES if name != "auto"]
        self.devices.emit(statuses)


class SearchController(QObject):
    """Owns the search thread; `submit` supersedes every earlier query."""

    results = Signal(object, object)  # Query, list[SearchHit]
    error = Signal(object, str)
    busy = Signal(str)
    devices = Signal(object)
    methods = Signal(object)
    _request = Signal(int, object, int)
    _probe = Signal()
    _list_methods = Signal()

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generation = 0
        self._thread = new_thread("photofinder-search")
        self._worker = SearchWorker(library, self)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.search)
        self._probe.connect(self._worker.probe_devices)
        self._list_methods.connect(self._worker.list_methods)
        self._worker.results.connect(self._on_results)
        self._worker.error.connect(self._on_error)
        self._worker.busy.connect(self._on_busy)
        self._worker.devices.connect(self.devices)
        self._worker.methods.connect(self.methods)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()

    def submit(self, query: Query, k: int = DEFAULT_K) -> int:
        self.generation += 1
        self._request.emit(self.generation, query, k)
        return self.generation

    def probe_devices(self) -> None:
        self._probe.emit()

    def request_methods(self) -> None:
        self._list_methods.emit()

    def shutdown(self) -> None:
        self.generation += 1  # drop anything still queued
        self._thread.quit()
        self._thread.wait()

    @Slot(int, object, object)
    def _on_results(self, generation: int, query: Query, hits: list[SearchHit]) -> None:
        if generation == self.generation:
            self.results.emit(query, hits)

    @Slot(int, object, str)
    def _on_error(self, generation: int, query: Query, message: str) -> None:
        if generation == self.generation:
            self.error.emit(query, message)

    @Slot(int, str)
    def _on_busy(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.busy.emit(message)
