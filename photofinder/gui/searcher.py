"""Search off the GUI thread, the latest query wins; also probes compute devices and lists the
methods (both may import heavy modules, so never on the GUI thread)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from photofinder.core.embedders import list_methods
from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.devices import DEVICE_CHOICES, DeviceStatus, device_status
from photofinder.core.library import Library
from photofinder.core.progress import Progress
from photofinder.core.search.knn import SearchHit
from photofinder.gui.jobs import Job, JobContext, JobQueue
from photofinder.gui.query import Query

DEFAULT_K = 60
LOADING_MODEL = "Loading the model…"


def needs_model(library: Library, query: Query) -> bool:
    """Whether answering `query` embeds a photo (the first time, that loads the model)."""
    if library.model_loaded or query.file_id is not None:
        return False
    if query.path is not None:
        record = library.catalog.file_by_path(str(query.path.resolve()))
        return record is None or record.status != "ok"
    return True


def run_search(library: Library, query: Query, k: int) -> list[SearchHit]:
    verify = query.verify
    if query.file_id is not None:
        return library.search_file_id(query.file_id, k, verify=verify)
    if query.path is not None:
        return library.search_files([query.path], k, verify=verify)[0]
    if query.data is not None:
        return library.search_bytes(query.data, k, verify=verify)
    return []


def probe_devices() -> list[DeviceStatus]:
    """May import torch (only when a GPU driver is present)."""
    return [device_status(name) for name in DEVICE_CHOICES if name != "auto"]


class SearchController(QObject):
    """`submit` discards every earlier query; its answer comes as `results` or `error`."""

    results = Signal(object, object)  # Query, list[SearchHit]
    error = Signal(object, str)  # Query, message
    busy = Signal(str)  # what is slow (the first search loads the model)
    devices = Signal(object)  # list[DeviceStatus]
    methods = Signal(object)  # list[MethodInfo]

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._searches = JobQueue("photofinder-search", self, latest_wins=True)
        self._lookups = JobQueue("photofinder-lookups", self)

    def submit(self, query: Query, k: int = DEFAULT_K) -> Job[list[SearchHit]]:
        library = self._library

        def search(context: JobContext) -> list[SearchHit]:
            if needs_model(library, query):
                context.progress(Progress("loading", 0, 0, message=LOADING_MODEL))
            return run_search(library, query, k)

        def found(hits: list[SearchHit]) -> None:
            self.results.emit(query, hits)

        def failed(message: str) -> None:
            self.error.emit(query, message)

        def slow(progress: Progress) -> None:
            self.busy.emit(progress.message)

        return self._searches.submit(search, found, failed=failed, progress=slow,
                                     what="The search")

    def probe_devices(self) -> None:
        self._lookups.submit(lambda _: probe_devices(), self._devices_found,
                             what="Checking the devices")

    def request_methods(self) -> None:
        self._lookups.submit(lambda _: list_methods(), self._methods_listed,
                             what="Listing the methods")

    def _devices_found(self, statuses: list[DeviceStatus]) -> None:
        self.devices.emit(statuses)

    def _methods_listed(self, methods: list[MethodInfo]) -> None:
        self.methods.emit(methods)

    def shutdown(self) -> None:
        self._searches.shutdown()
        self._lookups.shutdown()

